"""Every rule the engine applies, by id, gathered from the modules that declare them.

A rule lives in its family's module, next to its logic: the drug-administration steps in
``rules/administration/`` and the claim checks in ``rules/checks/``. Each of those modules
lists its own rules in ``RULES`` (as pylint keeps ``msgs`` on its checker); ``FAMILIES``
lists the modules. ``module_of`` says which file holds a rule.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from types import ModuleType

from rules.administration import (
    addons,
    groups,
    hydration,
    initial,
    normalise,
    place_of_service,
    pumps,
    sequential,
    standalone,
    supply,
)
from rules.checks import (
    bundling,
    codes,
    courses,
    coverage,
    diagnoses,
    mar,
    radiation,
    releases,
)
from rules.payer_policies import PayerPolicy, PolicyError
from rules.rule import Parameter, ParameterKind, Rule

FAMILIES: tuple[ModuleType, ...] = (
    normalise,
    place_of_service,
    groups,
    initial,
    addons,
    hydration,
    sequential,
    pumps,
    standalone,
    supply,
    releases,
    diagnoses,
    bundling,
    codes,
    radiation,
    coverage,
    courses,
    mar,
)

_MODULE: dict[str, ModuleType] = {r.id: m for m in FAMILIES for r in m.RULES}
RULES: dict[str, Rule] = {r.id: r for m in FAMILIES for r in m.RULES}


def module_of(rule_id: str) -> str:
    """The source file, relative to the repository, that declares the rule."""
    return _MODULE[rule_id].__name__.replace(".", "/") + ".py"


def case_file(rule_id: str) -> str:
    """The test file that holds the rule's positive and negative cases: the source file's
    path mirrored under ``tests/``."""
    head, _, name = module_of(rule_id).rpartition("/")
    return f"tests/{head}/test_{name}"


_CODE = re.compile(r"[A-Z0-9]{5}")
_MODIFIER = re.compile(r"[A-Z0-9]{2}")
_DX_PREFIX = re.compile(r"[A-Z][0-9A-Z]{1,2}(\.[0-9A-Z]{0,4})?")


def _parameter_error(p: Parameter, raw: str) -> str | None:
    items = raw.split("|")
    if p.kind is ParameterKind.INTEGER:
        return None if raw.isdigit() else "a whole number"
    if p.kind is ParameterKind.DECIMAL:
        try:
            return None if Decimal(raw) >= 0 else "a number of at least 0"
        except InvalidOperation:
            return "a number"
    if p.kind is ParameterKind.MODIFIER:
        return None if _MODIFIER.fullmatch(raw) else "a two-character modifier"
    if p.kind is ParameterKind.CODES:
        ok = all(_CODE.fullmatch(x) for x in items)
        return None if ok else "HCPCS/CPT codes separated by |"
    ok = all(_DX_PREFIX.fullmatch(x) for x in items)
    return None if ok else "ICD-10-CM codes or prefixes separated by |"


def checked_policies(policies: tuple[PayerPolicy, ...]) -> tuple[PayerPolicy, ...]:
    """Payer policy rows checked against the rules they name, their parameters completed with
    the rule's defaults. A row that would silently do nothing (an unknown rule or action, a
    missing or mistyped parameter) refuses the whole pack with a located error."""
    out = []
    ids: set[str] = set()
    for policy in policies:
        where = f"payer_policies.csv row {policy.row} (policy {policy.policy_id})"
        if policy.policy_id in ids:
            raise PolicyError(f"{where}: policy_id repeats an earlier row's")
        ids.add(policy.policy_id)
        rule = RULES.get(policy.rule_id)
        if rule is None:
            raise PolicyError(
                f"{where}: rule_id {policy.rule_id!r} is not a rule of this engine "
                "(see docs/rules.md)"
            )
        actions = {a.action: a for a in rule.payer_actions}
        if not actions:
            raise PolicyError(f"{where}: rule {rule.id} takes no payer policy rows")
        action = actions.get(policy.action)
        if action is None:
            raise PolicyError(
                f"{where}: action {policy.action!r} is not one rule {rule.id} takes "
                f"({', '.join(sorted(actions))})"
            )
        declared = {p.name: p for p in action.parameters}
        unknown = sorted(set(policy.parameters) - set(declared))
        if unknown:
            raise PolicyError(
                f"{where}: parameter {unknown[0]!r} is not one {rule.id} {action.action} takes"
                + (f" ({', '.join(declared)})" if declared else " (it takes none)")
            )
        values: dict[str, str] = {}
        for p in action.parameters:
            raw = policy.parameters.get(p.name, p.default)
            if raw is None:
                raise PolicyError(f"{where}: parameter {p.name!r} is required")
            problem = _parameter_error(p, raw)
            if problem:
                raise PolicyError(f"{where}: parameter {p.name!r} must be {problem}")
            values[p.name] = raw
        out.append(replace(policy, parameters=values))
    return tuple(out)
