"""PromQL read with promql-parser (the Rust parser Greptime maintains): the series a query
selects, and the labels its result keeps, which is what an alert's templates may use."""

from __future__ import annotations

import re
from dataclasses import dataclass

import promql_parser as pq

# Target labels Prometheus adds to every scraped series.
TARGET_LABELS = frozenset({"job", "instance"})
# Grafana's variables, replaced by what they stand for at query time.
GRAFANA_VARIABLES = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "1h",
    "$job": ".*",
}
SCALAR_FUNCTIONS = frozenset({"time", "scalar", "vector"})


@dataclass(frozen=True)
class Selected:
    metric: str
    matchers: tuple[tuple[str, str, str], ...]  # (label, operator, value)


def parse(expr: str) -> pq.Expr:
    return pq.parse(expr)


def grafana(expr: str) -> str:
    """A dashboard query as Prometheus receives it."""
    for variable, value in sorted(GRAFANA_VARIABLES.items(), key=lambda kv: -len(kv[0])):
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"unknown Grafana variable in {expr}"
    return expr


def selected(expr: pq.Expr) -> list[Selected]:
    found: list[Selected] = []

    def visit(node: pq.Expr) -> bool:
        if isinstance(node, pq.VectorSelector):
            assert node.name, f"a selector without a metric name: {node}"
            matchers = tuple(
                (m.name, str(m.op).removeprefix("MatchOp."), m.value)
                for m in node.matchers.matchers
            )
            found.append(Selected(node.name, matchers))
        return True

    pq.walk(expr, visit)
    return found


def grouping_labels(expr: pq.Expr) -> set[str]:
    """Every label named in a by/without/on/ignoring clause."""
    names: set[str] = set()

    def visit(node: pq.Expr) -> bool:
        if isinstance(node, pq.AggregateExpr) and node.modifier is not None:
            names.update(node.modifier.labels)
        if isinstance(node, pq.BinaryExpr) and node.modifier and node.modifier.matching:
            names.update(node.modifier.matching.labels)
        return True

    pq.walk(expr, visit)
    return names


def result_labels(expr: pq.Expr, labels_of: dict[str, set[str]]) -> set[str]:
    """The labels a query's result series carry (labels_of: each metric's own labels)."""
    if isinstance(expr, pq.VectorSelector):
        return labels_of[expr.name or ""] | TARGET_LABELS
    if isinstance(expr, pq.MatrixSelector):
        return result_labels(expr.vector_selector, labels_of)
    if isinstance(expr, (pq.ParenExpr, pq.UnaryExpr, pq.SubqueryExpr)):
        return result_labels(expr.expr, labels_of)
    if isinstance(expr, (pq.NumberLiteral, pq.StringLiteral)):
        return set()
    if isinstance(expr, pq.AggregateExpr):
        inner = result_labels(expr.expr, labels_of)
        if expr.modifier is None:
            return set()
        if expr.modifier.type == pq.AggModifierType.By:
            return set(expr.modifier.labels)
        return inner - set(expr.modifier.labels)
    if isinstance(expr, pq.Call):
        name = expr.func.name
        if name in SCALAR_FUNCTIONS:
            return set()
        if name == "absent":
            return {m[0] for s in selected(expr) for m in s.matchers if m[1] == "Equal"}
        vectors = [a for a in expr.args if isinstance(a, pq.Expr)]
        inner = result_labels(
            vectors[-1] if name == "histogram_quantile" else vectors[0], labels_of
        )
        return inner - {"le"} if name == "histogram_quantile" else inner
    if isinstance(expr, pq.BinaryExpr):
        lhs = result_labels(expr.lhs, labels_of)
        rhs = result_labels(expr.rhs, labels_of)
        if _is_scalar(expr.lhs):
            return rhs
        if _is_scalar(expr.rhs) or str(expr.op) in {"and", "unless"}:
            return lhs
        if str(expr.op) == "or":
            return lhs & rhs
        matching = expr.modifier.matching if expr.modifier else None
        if matching is not None and matching.type == pq.LabelModifierType.Include:
            return lhs if _card(expr) == "ManyToOne" else set(matching.labels)
        return lhs & rhs
    raise AssertionError(f"unhandled PromQL node {type(expr).__name__}: {expr}")


def _card(expr: pq.BinaryExpr) -> str:
    return str(expr.modifier.card).rsplit(".", 1)[-1] if expr.modifier else "OneToOne"


def _is_scalar(expr: pq.Expr) -> bool:
    if isinstance(expr, pq.NumberLiteral):
        return True
    if isinstance(expr, pq.ParenExpr):
        return _is_scalar(expr.expr)
    if isinstance(expr, pq.Call):
        return expr.func.name in {"time", "scalar"}
    return False


def template_labels(text: str) -> set[str]:
    """The labels an alert's annotation template reads: {{ $labels.name }}."""
    return set(re.findall(r"\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)", text))
