"""The claim as the claim rules see it: every line to be billed, diagnoses, payer policies.

The lines are the codes computed from the MAR plus the submitted lines the MAR does not
replace: when a claim carries a MAR, its submitted drug-administration codes are superseded
by the computed ones, so each service is checked once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Final

from rules.cms_tables import Icd10Set, PtpTable
from rules.codegroups import DRUG_ADMIN
from rules.pack import RulePack
from rules.payer_policies import PayerPolicy
from rules.rule import Rule
from schemas.claim import ClaimType, SubmittedClaim
from schemas.decision import (
    Citation,
    ComputedLine,
    Correction,
    CorrectionAction,
    Finding,
    Severity,
)


class Line:
    """A service line as the checks read it: billed (with its number) or computed from the
    MAR. Equal when every field is. A plain class with ``Final`` attributes, not a frozen
    dataclass, for the reason ``rules.administration.events.Event`` gives."""

    __slots__ = ("admin_ids", "code", "dos", "line_number", "modifiers", "units")

    def __init__(
        self,
        code: str,
        units: Decimal,
        modifiers: frozenset[str],
        dos: date,
        line_number: int | None,  # None: computed from the MAR
        admin_ids: tuple[str, ...] = (),
    ) -> None:
        self.code: Final = code
        self.units: Final = units
        self.modifiers: Final = modifiers
        self.dos: Final = dos
        self.line_number: Final = line_number
        self.admin_ids: Final = admin_ids

    def _fields(self) -> tuple[object, ...]:
        return (self.code, self.units, self.modifiers, self.dos, self.line_number, self.admin_ids)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Line) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return (
            f"Line(code={self.code!r}, units={self.units}, dos={self.dos}, "
            f"line_number={self.line_number})"
        )

    @property
    def billed(self) -> bool:
        return self.line_number is not None


@dataclass
class ClaimView:
    claim: SubmittedClaim
    lines: tuple[Line, ...]
    pack: RulePack
    medicare: bool
    findings: list[Finding] = field(default_factory=list)
    corrections: list[Correction] = field(default_factory=list)
    # (code, code, date) pairs a specific rule already decided; NCCI-PTP leaves them alone
    handled: set[tuple[str, str, date]] = field(default_factory=set)
    # What nearly every check asks, derived once when the view is made (not on each access).
    facility: bool = field(init=False)
    diagnoses: tuple[str, ...] = field(init=False)
    by_date: dict[date, tuple[Line, ...]] = field(init=False)
    codes: frozenset[str] = field(init=False)
    codes_on: dict[date, frozenset[str]] = field(init=False)  # by date of service
    dates: tuple[date, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.facility = self.claim.claim_type is ClaimType.INSTITUTIONAL
        self.diagnoses = tuple(Icd10Set.dotted(d) for d in self.claim.diagnoses)
        days: dict[date, list[Line]] = defaultdict(list)
        for line in self.lines:
            days[line.dos].append(line)
        self.by_date = {d: tuple(v) for d, v in sorted(days.items())}
        self.codes = frozenset(line.code for line in self.lines)
        self.codes_on = {d: frozenset(x.code for x in v) for d, v in self.by_date.items()}
        self.dates = tuple(sorted(set(self.by_date) | {self.claim.statement_from}))

    def having(
        self, codes: Iterable[str] | None = None, on: date | None = None
    ) -> tuple[Line, ...]:
        wanted = frozenset(codes) if codes is not None else None
        pool = self.by_date.get(on, ()) if on is not None else self.lines
        return tuple(x for x in pool if wanted is None or x.code in wanted)

    def units(self, codes: Iterable[str]) -> int:
        wanted = frozenset(codes)
        return int(sum((x.units for x in self.lines if x.code in wanted), Decimal(0)))

    def without_removed(self) -> ClaimView:
        """The same view without the submitted lines a correction removed, so later checks
        judge the claim as it will be sent."""
        gone = {
            n
            for c in self.corrections
            if c.action is CorrectionAction.REMOVE_LINE
            for n in c.line_numbers
        }
        if not gone:
            return self
        kept = tuple(x for x in self.lines if x.line_number not in gone)
        return ClaimView(self.claim, kept, self.pack, self.medicare, self.findings,
                         self.corrections, self.handled)  # fmt: skip

    def policies(self, rule: Rule) -> tuple[PayerPolicy, ...]:
        """Payer policy rows for this rule, payer and plan in force on the claim's first date."""
        payer = self.claim.payer
        return tuple(
            p
            for p in self.pack.payer_policies
            if p.rule_id == rule.id and p.applies(payer.payer_id, payer.plan, self.dates[0])
        )

    @property
    def ptp_table(self) -> PtpTable:
        """The NCCI PTP edits for this claim: hospital outpatient for an institutional claim,
        practitioner for a professional one when the pack has them (else hospital, PACK-Q2)."""
        if not self.facility and len(self.pack.ptp_practitioner):
            return self.pack.ptp_practitioner
        return self.pack.ptp_hospital

    def decided(self, line: Line, others: Iterable[Line]) -> None:
        """A specific rule has judged these pairs of codes on the line's date: NCCI-PTP leaves
        them alone, so one pair is never reported twice."""
        for o in others:
            self.handled |= {(line.code, o.code, line.dos), (o.code, line.code, line.dos)}

    def report(
        self,
        rule: Rule,
        message: str,
        lines: Sequence[Line] = (),
        severity: Severity | None = None,
        suggested_correction: str | None = None,
        cite: Sequence[Citation] = (),
    ) -> None:
        self.findings.append(
            rule.finding(
                message,
                line_numbers=sorted({x.line_number for x in lines if x.line_number is not None}),
                admin_ids=sorted({a for x in lines for a in x.admin_ids}),
                codes=sorted({x.code for x in lines}),
                severity=severity,
                suggested_correction=suggested_correction,
                cite=cite,
            )
        )

    def report_policy(
        self, rule: Rule, policy: PayerPolicy, message: str, lines: Sequence[Line] = ()
    ) -> None:
        """A finding a payer policy row drives: the row's severity, the row's document cited."""
        self.report(rule, message, lines, severity=policy.severity, cite=(policy_citation(policy),))


def policy_citation(policy: PayerPolicy) -> Citation:
    return Citation(
        source=f"{policy.document} (payer policy {policy.policy_id}, "
        f"captured {policy.captured_on})",
        section=policy.section or None,
        url=policy.url,
    )


def claim_view(
    claim: SubmittedClaim, computed: Sequence[ComputedLine], pack: RulePack, medicare: bool
) -> ClaimView:
    has_mar = bool(claim.administrations)
    lines = [
        Line(c.code, c.units, frozenset(c.modifiers), date.fromisoformat(c.date_of_service),
             None, c.admin_ids)
        for c in computed
    ]  # fmt: skip
    lines += [
        Line(s.code, s.units, frozenset(s.modifiers), s.date_of_service, s.line_number)
        for s in claim.service_lines
        if not (has_mar and s.code in DRUG_ADMIN)
    ]
    return ClaimView(claim, tuple(lines), pack, medicare)
