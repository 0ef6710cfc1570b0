"""deploy/observability: the metrics contract, the alert rules and the Grafana dashboard.

promtool is not on PyPI, so these check what `promtool check rules` checks (the rule file's
shape, PromQL that parses, durations, templates) with promql-parser, and more: every series
and label a query names is one the worker exports, every outcome value is a real one, and every
label an alert's text reads survives the query's aggregation."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import promql_parser
import pytest

from schemas.audit import Outcome
from schemas.decision import Severity
from tests.deploy import promql
from tests.deploy.kit import DEPLOY_DOC, OBSERVABILITY, Obj, load_yaml

CATALOGUE: list[Obj] = load_yaml(OBSERVABILITY / "metrics.yaml")["metrics"]
STANDARD: list[str] = load_yaml(OBSERVABILITY / "metrics.yaml")["standard"]
RULES: list[Obj] = [
    r for g in load_yaml(OBSERVABILITY / "alerts.yaml")["groups"] for r in g["rules"]
]
DASHBOARD: Obj = json.loads((OBSERVABILITY / "grafana-dashboard.json").read_text(encoding="utf-8"))
# What the labels may hold, where the project defines it.
LABEL_VALUES = {
    "outcome": {o.value for o in Outcome},
    "severity": {s.value for s in Severity},
    "reason": {"not_json", "not_an_object", "oversized"},
}
STANDARD_LABELS = {"python_info": {"implementation", "major", "minor", "patchlevel", "version"}}
# Labels that would put claim content or unbounded values into a time series.
FORBIDDEN_LABELS = {"claim_id", "patient", "member_id", "payer_claim_id", "key", "offset", "npi"}


def series_labels() -> dict[str, set[str]]:
    """Each series name a query may use, with its labels (histograms: their three series)."""
    out: dict[str, set[str]] = {}
    for metric in CATALOGUE:
        labels = set(metric["labels"])
        if metric["type"] == "histogram":
            out[metric["name"] + "_bucket"] = labels | {"le"}
            out[metric["name"] + "_sum"] = labels
            out[metric["name"] + "_count"] = labels
        else:
            out[metric["name"]] = labels
    for name in STANDARD:
        out[name] = STANDARD_LABELS.get(name, set())
    return out


def dashboard_queries() -> list[tuple[str, str]]:
    return [
        (panel["title"], target["expr"])
        for panel in DASHBOARD["panels"]
        for target in panel.get("targets", [])
    ]


def all_queries() -> list[tuple[str, str]]:
    alerts = [(rule["alert"], rule["expr"]) for rule in RULES]
    return alerts + [(title, promql.grafana(expr)) for title, expr in dashboard_queries()]


# -- the contract ------------------------------------------------------------------------------


def test_metric_names_follow_prometheus_conventions() -> None:
    names = [m["name"] for m in CATALOGUE]
    assert len(names) == len(set(names))
    for metric in CATALOGUE:
        name, kind = metric["name"], metric["type"]
        assert re.fullmatch(r"oncoscrub_[a-z][a-z0-9_]*", name), name
        assert kind in {"counter", "gauge", "histogram"}, name
        assert name.endswith("_total") == (kind == "counter"), f"{name}: counters end in _total"
        if kind == "histogram":
            assert name.endswith("_seconds"), f"{name}: histograms here measure time"
            assert metric["buckets"] == sorted(metric["buckets"])
        assert name.endswith("_info") == (name == "oncoscrub_build_info")
        assert metric["help"].strip()
        for label in metric["labels"]:
            assert re.fullmatch(r"[a-z][a-z0-9_]*", label) and label != "le", (name, label)
            assert label not in FORBIDDEN_LABELS, f"{name}: {label} would leak claim content"


def test_every_catalogued_metric_is_on_the_dashboard_or_in_an_alert() -> None:
    used = {s.metric for _, q in all_queries() for s in promql.selected(promql.parse(q))}
    unused = {
        m["name"]
        for m in CATALOGUE
        if not {m["name"], m["name"] + "_bucket", m["name"] + "_count"} & used
    }
    assert unused == set()


# -- every query -------------------------------------------------------------------------------


@pytest.mark.parametrize(("where", "query"), all_queries(), ids=[w for w, _ in all_queries()])
def test_query_parses_and_names_only_exported_series_and_labels(where: str, query: str) -> None:
    expr = promql.parse(query)
    known = series_labels()
    for sel in promql.selected(expr):
        assert sel.metric in known, f"{where}: {sel.metric} is not in metrics.yaml"
        allowed = known[sel.metric] | promql.TARGET_LABELS
        for label, op, value in sel.matchers:
            assert label in allowed, f"{where}: {sel.metric} has no label {label}"
            if label in LABEL_VALUES and value != ".*":
                wanted = set(value.split("|")) if op == "Re" else {value}
                assert wanted <= LABEL_VALUES[label], f"{where}: {label}={value}"
    every_label = set().union(*known.values()) | promql.TARGET_LABELS
    assert promql.grouping_labels(expr) <= every_label, where


def test_the_checks_catch_a_wrong_name_label_and_value() -> None:
    known = series_labels()
    [sel] = promql.selected(promql.parse('rate(oncoscrub_decision_total{result="ok"}[5m])'))
    assert sel.metric not in known
    [sel] = promql.selected(promql.parse('oncoscrub_decisions_total{outcome="rejected"}'))
    assert sel.matchers[0][2] not in LABEL_VALUES["outcome"]
    with pytest.raises(ValueError, match="parenthesis"):
        promql.parse("sum(rate(oncoscrub_decisions_total[5m])")


# -- the alert rules ---------------------------------------------------------------------------


def test_rule_file_shape_as_promtool_checks_it() -> None:
    groups = load_yaml(OBSERVABILITY / "alerts.yaml")["groups"]
    assert len({g["name"] for g in groups}) == len(groups)
    assert all(g["rules"] for g in groups)
    names = Counter(r["alert"] for r in RULES)
    assert [n for n, c in names.items() if c > 1] == []
    for rule in RULES:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations", "keep_firing_for"}
        assert re.fullmatch(r"Oncoscrub[A-Z][A-Za-z]+", rule["alert"])
        if "for" in rule:
            assert promql_parser.parse_duration(rule["for"]).total_seconds() > 0


@pytest.mark.parametrize("rule", RULES, ids=[r["alert"] for r in RULES])
def test_alert_is_actionable(rule: Obj) -> None:
    assert rule["labels"]["severity"] in {"critical", "warning"}
    notes = rule["annotations"]
    assert {"summary", "description", "runbook_url"} <= set(notes)
    doc, _, anchor = notes["runbook_url"].partition("#")
    assert doc == "docs/deploy.md"
    assert anchor in anchors(DEPLOY_DOC.read_text(encoding="utf-8")), anchor


@pytest.mark.parametrize("rule", RULES, ids=[r["alert"] for r in RULES])
def test_alert_text_reads_only_labels_the_query_keeps(rule: Obj) -> None:
    kept = promql.result_labels(promql.parse(rule["expr"]), series_labels())
    for text in rule["annotations"].values():
        assert promql.template_labels(text) <= kept, (rule["alert"], kept)
        assert text.count("{{") == text.count("}}")


def test_label_tracking_sees_an_aggregated_away_label() -> None:
    kept = promql.result_labels(
        promql.parse("sum by (job) (oncoscrub_consumer_lag) > 10"), series_labels()
    )
    assert kept == {"job"}
    assert "partition" not in kept


def test_the_six_situations_of_the_runbooks_have_alerts() -> None:
    runbooks = {r["annotations"]["runbook_url"].partition("#")[2] for r in RULES}
    assert runbooks >= {
        "runbook-stuck-partition",
        "runbook-rebalance-storm",
        "runbook-poison-flood",
        "runbook-broker-outage",
        "runbook-high-review-ratio",
        "runbook-lag",
    }


def anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    out = set()
    for line in markdown.splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            out.add(re.sub(r"[^a-z0-9 _-]", "", title).replace(" ", "-"))
    return out


# -- the dashboard -----------------------------------------------------------------------------


def test_dashboard_is_importable() -> None:
    assert DASHBOARD["uid"] and DASHBOARD["title"] and DASHBOARD["schemaVersion"] >= 36
    ids = [p["id"] for p in DASHBOARD["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"] for v in DASHBOARD["templating"]["list"]}
    assert variables == {"datasource", "job"}
    for panel in DASHBOARD["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        for target in panel["targets"]:
            assert target["datasource"] == panel["datasource"]
            assert '{job=~"$job"' in target["expr"], (panel["title"], "not filtered by job")


def test_dashboard_panels_do_not_overlap() -> None:
    taken: set[tuple[int, int]] = set()
    for panel in DASHBOARD["panels"]:
        pos: dict[str, Any] = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        cells = {
            (x, y)
            for x in range(pos["x"], pos["x"] + pos["w"])
            for y in range(pos["y"], pos["y"] + pos["h"])
        }
        assert not cells & taken, panel["title"]
        taken |= cells


# -- the docs ----------------------------------------------------------------------------------


def test_the_deploy_doc_lists_exactly_the_catalogued_metrics() -> None:
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(oncoscrub_[a-z0-9_]+)`", text, flags=re.MULTILINE))
    assert documented == {m["name"] for m in CATALOGUE}


# -- the promtool unit tests (make alerts-test) --------------------------------------------------

PROMTOOL_TESTS: Obj = load_yaml(OBSERVABILITY / "alerts.test.yaml")


def rendered(rule: Obj, labels: dict[str, str]) -> dict[str, str]:
    return {
        key: re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels[m.group(1)], text)
        for key, text in rule["annotations"].items()
    }


def test_every_alert_has_a_case_where_it_fires_and_one_where_it_stays_quiet() -> None:
    assert PROMTOOL_TESTS["rule_files"] == ["alerts.yaml"]
    cases = [case for test in PROMTOOL_TESTS["tests"] for case in test["alert_rule_test"]]
    by_alert = {r["alert"]: r for r in RULES}
    assert {c["alertname"] for c in cases} == set(by_alert)
    for name in by_alert:
        outcomes = {bool(c["exp_alerts"]) for c in cases if c["alertname"] == name}
        assert outcomes == {True, False}, f"{name}: needs a firing and a quiet case"


def test_promtool_cases_expect_the_alerts_labels_and_text() -> None:
    """What promtool compares, kept true here too: a changed summary or severity must be
    changed in alerts.test.yaml as well, or `make alerts-test` fails."""
    by_alert = {r["alert"]: r for r in RULES}
    for test in PROMTOOL_TESTS["tests"]:
        for case in test["alert_rule_test"]:
            rule = by_alert[case["alertname"]]
            for expected in case["exp_alerts"]:
                labels = expected["exp_labels"]
                assert labels["severity"] == rule["labels"]["severity"]
                assert expected["exp_annotations"] == rendered(rule, labels)


def test_promtool_input_series_are_exported_metrics() -> None:
    known = series_labels()
    for test in PROMTOOL_TESTS["tests"]:
        for series in test["input_series"]:
            expr = promql.parse(series["series"])
            [sel] = promql.selected(expr)
            if sel.metric == "up":  # Prometheus' own, standing for "something else is scraped"
                continue
            assert sel.metric in known, sel.metric
            assert {m[0] for m in sel.matchers} <= known[sel.metric] | promql.TARGET_LABELS
