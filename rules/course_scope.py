"""One radiation-oncology course as the course checks see it: every service of every claim
that contributed to it, with the billing part each line bills, and the course findings each
claim is given. The counterpart of ``rules.claim_view`` for a course billed over many claims.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import NamedTuple

from rules.claim_view import policy_citation
from rules.cms_tables import Icd10Set
from rules.codegroups import BRACHYTHERAPY, EBRT_DELIVERY, is_neoplasm
from rules.pack import RulePack
from rules.payer_policies import PayerPolicy
from rules.rule import Rule
from schemas.claim import ClaimType, Setting
from schemas.course import BillingPart, CourseClaim
from schemas.decision import Citation, Finding, Severity

TECHNICAL, PROFESSIONAL = BillingPart.TECHNICAL, BillingPart.PROFESSIONAL
PARTS = (TECHNICAL, PROFESSIONAL)
BOTH = frozenset(PARTS)
FRACTION_CODES = EBRT_DELIVERY - BRACHYTHERAPY  # as the in-claim checks count fractions


# Places of service the physician fee schedule pays at the facility rate: a physician billing
# there bills the professional component; the facility bills the technical one.
FACILITY_POS = frozenset(
    {"19", "21", "22", "23", "24", "26", "31", "34", "41", "42", "51", "52", "53", "56", "61"}
)


def claim_parts(claim: CourseClaim) -> frozenset[BillingPart]:
    """The parts a claim's unmodified lines bill: a hospital claim the technical component, a
    physician's claim in a facility the professional one, a freestanding centre's or office's
    claim both (global billing under the physician fee schedule)."""
    if claim.claim_type is ClaimType.INSTITUTIONAL:
        return frozenset({TECHNICAL})
    if (
        claim.setting is Setting.FREESTANDING_RADIATION
        or claim.place_of_service not in FACILITY_POS
    ):
        return BOTH
    return frozenset({PROFESSIONAL})


def line_parts(modifiers: Iterable[str], default: frozenset[BillingPart]) -> frozenset[BillingPart]:
    mods = set(modifiers)
    if "26" in mods:
        return frozenset({PROFESSIONAL})
    if "TC" in mods:
        return frozenset({TECHNICAL})
    return default


def treatment_area(diagnoses: Sequence[str]) -> str:
    """The treatment area a claim's plan is for, approximated by its first neoplasm diagnosis
    down to the subcategory (C79.51 -> C79.5; C61 -> C61); the first diagnosis when none is
    a neoplasm. Claims carry no treatment-area field."""
    dotted = [Icd10Set.dotted(d) for d in diagnoses]
    first = next((d for d in dotted if is_neoplasm(d)), dotted[0])
    return first[:5]


class Service(NamedTuple):
    """One line of one claim in the course (a tuple: made by the thousand, on the hot path)."""

    claim_id: str
    line_number: int
    code: str
    units: int
    dos: date
    parts: frozenset[BillingPart]


@dataclass
class CourseScope:
    course_id: str
    claims: dict[str, CourseClaim]  # every claim with a service in the course
    services: tuple[Service, ...]  # in date order (then claim, line)
    pack: RulePack
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    _reported: set[tuple[str, str, tuple[int, ...]]] = field(default_factory=set)
    _policies: dict[tuple[str, str, str | None], tuple[PayerPolicy, ...]] = field(
        default_factory=dict
    )

    @property
    def first(self) -> date:
        return self.services[0].dos

    @property
    def last(self) -> date:
        return self.services[-1].dos

    @cached_property
    def by_code(self) -> dict[str, list[Service]]:
        out: dict[str, list[Service]] = defaultdict(list)
        for s in self.services:
            out[s.code].append(s)
        return out

    def having(self, codes: Iterable[str], part: BillingPart | None = None) -> list[Service]:
        """The course's services of these codes (billing this part), in course order."""
        index = self.by_code
        found = [s for code in codes if code in index for s in index[code]]
        if part is not None:
            found = [s for s in found if part in s.parts]
        found.sort(key=service_order)
        return found

    def units(self, codes: Iterable[str], part: BillingPart | None = None) -> int:
        return sum(s.units for s in self.having(codes, part))

    @cached_property
    def fractions_by_date(self) -> dict[date, int]:
        return fractions_by_date(self.services)

    @cached_property
    def fractions(self) -> int:
        return sum(self.fractions_by_date.values())

    def area(self, claim_id: str) -> str:
        return treatment_area(self.claims[claim_id].diagnoses)

    def policies(self, rule: Rule, claim_id: str) -> tuple[PayerPolicy, ...]:
        """Payer policy rows for this rule, the claim's payer and plan, in force on the course's
        first date."""
        c = self.claims[claim_id]
        key = (rule.id, c.payer_id, c.plan)
        found = self._policies.get(key)
        if found is None:
            found = self._policies[key] = tuple(
                p
                for p in self.pack.payer_policies
                if p.rule_id == rule.id and p.applies(c.payer_id, c.plan, self.first)
            )
        return found

    def report(
        self,
        rule: Rule,
        message: str,
        lines: Sequence[Service],
        involved: Sequence[Service] = (),
        severity: Severity | None = None,
        suggested_correction: str | None = None,
        policy: PayerPolicy | None = None,
    ) -> None:
        """A finding for each claim that has one of ``lines``; ``involved``: the lines of other
        claims it is about, whose codes it names. A claim is told once per rule and lines."""
        by_claim: dict[str, list[Service]] = defaultdict(list)
        for s in lines:
            by_claim[s.claim_id].append(s)
        cite: tuple[Citation, ...] = (policy_citation(policy),) if policy else ()
        for claim_id, own in by_claim.items():
            if self.claims[claim_id].compacted:
                continue  # a closed course's claims are never told again
            numbers = tuple(sorted({s.line_number for s in own}))
            key = (rule.id, claim_id, numbers)
            if key in self._reported:
                continue
            self._reported.add(key)
            self.findings.setdefault(claim_id, []).append(
                rule.finding(
                    message,
                    line_numbers=numbers,
                    codes=sorted({s.code for s in (*own, *involved)}),
                    severity=policy.severity if policy else severity,
                    suggested_correction=suggested_correction,
                    cite=cite,
                )
            )


def fractions_by_date(services: Iterable[Service]) -> dict[date, int]:
    """Fractions delivered each day, counted once: delivery codes are technical, and when
    two parties both bill a delivery for a day the larger count is the day's."""
    by_part: dict[tuple[date, BillingPart], int] = defaultdict(int)
    for s in services:
        if s.code in FRACTION_CODES:
            for p in s.parts:
                by_part[(s.dos, p)] += s.units
    out: dict[date, int] = {}
    for (day, _), n in sorted(by_part.items()):
        out[day] = max(out.get(day, 0), n)
    return out


def service_order(s: Service) -> tuple[date, str, int]:
    return (s.dos, s.claim_id, s.line_number)


def beyond(services: Sequence[Service], allowed: int) -> list[Service]:
    """The services, in course order, whose units take the running total past ``allowed``:
    the ones billed beyond what the course allows."""
    total = 0
    out = []
    for s in sorted(services, key=service_order):
        total += s.units
        if total > allowed:
            out.append(s)
    return out
