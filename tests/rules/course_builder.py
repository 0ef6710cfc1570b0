"""Courses billed over several claims, written as a coder reads them: who bills what on which
day, the claims arriving one after another with the course state carried between them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from rules import assess
from rules.checks.courses import REPLACED_IN_CLAIM
from rules.courses import InCourse, assess_in_course
from rules.pack import RulePack, current_pack
from schemas import SubmittedClaim
from schemas.course import PatientCourses
from schemas.decision import Finding
from tests.rules.checks.builders import rt

START = date(2025, 6, 2)  # a Monday; 77385/77386 and the G-codes were in force
BONE = ("Z51.0", "C79.51")


def days(first: date, n: int) -> list[date]:
    """``n`` treatment days from ``first``, Monday to Friday."""
    out: list[date] = []
    day = first
    while len(out) < n:
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return out


def fx(code: str, first: date, n: int, mods: str = "") -> tuple[tuple[str, ...], ...]:
    """One fraction a day for ``n`` treatment days."""
    return tuple((code, "1", mods, d.isoformat()) for d in days(first, n))


def on(code: str, day: date, units: str = "1", mods: str = "") -> tuple[str, ...]:
    return (code, units, mods, day.isoformat())


def claim(
    claim_id: str,
    *lines: tuple[str, ...],
    party: str = "hospital",
    version: int = 1,
    **kw: Any,
) -> SubmittedClaim:
    """``party``: "hospital" (institutional, technical), "physician" (professional claim in
    the hospital, POS 22), "freestanding" (global billing)."""
    setting, pos = {"hospital": ("F", None), "physician": ("P", "22"),
                    "freestanding": ("R", None)}[party]  # fmt: skip
    made = rt(*lines, setting=setting, pos=pos, day=lines[0][3], **kw)
    return made.model_copy(update={"claim_id": claim_id, "claim_version": version})


def is_course(f: Finding) -> bool:
    """A finding the course store answers for: a course finding, or an in-claim finding it
    drops once the claim's course has other claims. RO-CC0 and RO-CC16 are notes about the
    decision itself."""
    if f.rule_id in ("RO-CC0", "RO-CC16"):
        return False
    return f.rule_id.startswith("RO-CC") or f.rule_id in REPLACED_IN_CLAIM


@dataclass(frozen=True)
class Step:
    assessment_claim: str
    result: InCourse


def run(
    claims: Sequence[SubmittedClaim],
    pack: RulePack | None = None,
    state: PatientCourses | None = None,
) -> History:
    pack = pack or current_pack()
    steps = []
    for c in claims:
        result = assess_in_course(c, assess(c, pack), pack, state)
        state = result.state
        steps.append(Step(c.claim_id, result))
    return History(steps, state)


@dataclass(frozen=True)
class History:
    steps: list[Step]
    state: PatientCourses | None

    @property
    def last(self) -> InCourse:
        return self.steps[-1].result

    def reported(self) -> dict[str, tuple[Finding, ...]]:
        """Each claim's course findings as last reported (its decision, then corrections)."""
        out: dict[str, tuple[Finding, ...]] = {}
        for s in self.steps:
            if any(f.rule_id == "RO-CC0" for f in s.result.assessment.findings):
                continue  # an older version's decision: the claim's course findings stand
            own = tuple(f for f in s.result.assessment.findings if is_course(f))
            out[s.assessment_claim] = own
            for c in s.result.corrections:
                out[c.claim_id] = c.after
        return out

    def ever(self, rule_id: str) -> list[Finding]:
        """Every finding of the rule any claim was ever given."""
        out = []
        for s in self.steps:
            out += [f for f in s.result.assessment.findings if f.rule_id == rule_id]
            for c in s.result.corrections:
                out += [f for f in c.after if f.rule_id == rule_id]
        return out
