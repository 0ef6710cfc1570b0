"""One positive and one negative case per rule, and what the positive one must say.

Each rule module's test file (``tests/`` + the module's path, ``test_`` + its name) holds
``CASES: dict[str, RuleCase]`` for the rules the module declares, and turns them into tests
with ``rule_case_tests(CASES)``. ``test_rule_index`` checks that every rule has its case.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from rules import Assessment, assess
from rules.pack import RulePack
from schemas import SubmittedClaim
from schemas.decision import CorrectionAction, Severity
from tests.rules.mar_builder import fired

Claim = Callable[[], SubmittedClaim | tuple[SubmittedClaim, RulePack]]


@dataclass(frozen=True)
class RuleCase:
    """``fires``: a claim the rule must fire on, saying what the fields below say.
    ``quiet``: a claim as close to it as possible on which the rule must stay silent.

    ``severity``, ``says``, ``codes``, ``correction`` describe the rule's first finding
    (``severity=None``: the rule makes no finding, it only cites computed lines). ``lines``:
    the computed lines citing the rule, code -> units (None: not checked)."""

    fires: Claim
    quiet: Claim
    severity: Severity | None
    says: str = ""
    codes: tuple[str, ...] | None = None
    correction: CorrectionAction | None = None
    lines: Mapping[str, int] | None = None


def decide(make: Claim) -> Assessment:
    made = make()
    if isinstance(made, tuple):
        return assess(made[0], pack=made[1])
    return assess(made)


def check_fires(rule_id: str, case: RuleCase) -> None:
    result = decide(case.fires)
    findings = [f for f in result.findings if f.rule_id == rule_id]
    if case.severity is None:
        assert not findings, [f.message for f in findings]
    else:
        assert findings, f"{rule_id} made no finding"
        first = findings[0]
        assert first.severity is case.severity, first
        assert case.says in first.message, first.message
        if case.codes is not None:
            assert first.codes == case.codes, first.codes
    corrections = [c.action for c in result.corrections if c.rule_id == rule_id]
    assert corrections[:1] == ([case.correction] if case.correction else []), corrections
    cited: Counter[str] = Counter()
    for line in result.computed_lines:
        if rule_id in line.rule_ids:
            cited[line.code] += int(line.units)
    if case.lines is not None:
        assert dict(cited) == dict(case.lines), dict(cited)
    assert findings or cited, f"{rule_id} did not fire"


def check_quiet(rule_id: str, case: RuleCase) -> None:
    assert not fired(decide(case.quiet), rule_id)


def rule_case_tests(cases: Mapping[str, RuleCase]) -> tuple[Any, Any]:
    """Two parametrised tests for a module's cases: each fires as described, each is quiet."""

    @pytest.mark.parametrize("rule_id", sorted(cases))
    def test_fires_and_says_what_it_should(rule_id: str) -> None:
        check_fires(rule_id, cases[rule_id])

    @pytest.mark.parametrize("rule_id", sorted(cases))
    def test_is_silent_on_its_negative_case(rule_id: str) -> None:
        check_quiet(rule_id, cases[rule_id])

    return test_fires_and_says_what_it_should, test_is_silent_on_its_negative_case
