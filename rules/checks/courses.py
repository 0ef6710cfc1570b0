"""Radiation oncology across the claims of a course (spec §6.3, §7; issue 13): chronology,
cumulative fractions for weekly management and physics, once-per-course codes, SBRT and SRS
limits, the IMRT planning bundle across dates, 77338 and isodose plans per course, and the
payer rows that limit a course.

Each check reads one ``CourseScope`` (every service of every claim of the course) and tells
the claims whose lines are at fault. A check that has an in-claim twin (``twin``) leaves a
claim alone when that claim by itself shows the fault: the in-claim rule reports it there.
A twin that counts a claim's fractions, units or phases as if the claim were the whole course
(``replaces``) is not trusted once the course has other claims: ``rules.courses`` then drops
its in-claim findings and this check judges the whole course (RO-CC16 says so).
The checks run through ``rules.courses.assess_in_course`` only, never in ``assess``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from rules.checks.coverage import COV_FX
from rules.checks.radiation import (
    RO_C1,
    RO_Q14,
    RO_RB5,
    RO_RB11,
    RO_RB12,
    RO_W1,
    RO_W2,
    weekly_units,
)
from rules.cms_tables import Icd10Set
from rules.codegroups import (
    CLINICAL_PLANNING,
    DOSIMETRIC_PLANNING,
    ISODOSE_TELETHERAPY,
    SIMULATION,
)
from rules.course_scope import (
    FRACTION_CODES,
    PROFESSIONAL,
    TECHNICAL,
    CourseScope,
    Service,
    beyond,
)
from rules.rule import ERR, INFO, NC, WARN, H, M, Rule
from rules.sources import authority
from schemas.course import BillingPart

CourseLogic = Callable[[CourseScope], None]


@dataclass(frozen=True, slots=True)
class CourseCheck:
    rule: Rule
    run: CourseLogic
    twin: Rule | None = None  # the in-claim rule that reports it when one claim shows it
    # The twin judges one claim's share of a course as the whole course: with other claims in
    # the course its in-claim findings are dropped and this check reports for the claim.
    replaces: bool = False


def course_check(
    rule: Rule, twin: Rule | None = None, replaces: bool = False
) -> Callable[[CourseLogic], CourseCheck]:
    def register(logic: CourseLogic) -> CourseCheck:
        return CourseCheck(rule, logic, twin, replaces)

    return register


# Professional codes are judged for the professional part first, technical ones for the
# technical part first, so a global (freestanding) line is named by the part it mostly is.
PRO_FIRST = (PROFESSIONAL, TECHNICAL)
TECH_FIRST = (TECHNICAL, PROFESSIONAL)
_PARTY = {PROFESSIONAL: "professional (physician)", TECHNICAL: "technical (facility)"}
ACROSS = "across the course's claims"


def party(part: BillingPart) -> str:
    return _PARTY[part]


RO_CC0 = Rule(
    id="RO-CC0",
    title="A claim version older than the one on record",
    checks=(
        "Notes a claim whose version is older than the version the course already counts; the "
        "course is left as it was."
    ),
    why=(
        "A course counts each claim once, by its latest version, so that no fraction or unit is "
        "counted twice."
    ),
    confidence=H,
    section="7.2",
    sources=("S52",),
    severity=WARN,
    authority=(authority("IOM-13", "§70 Radiation oncology (therapeutic radiology)"),),
    action=(
        "Check which version of the claim is current; the course counts the newer one already "
        "on record"
    ),
)

RO_CC1 = Rule(
    id="RO-CC1",
    title="Course chronology across claims",
    checks=(
        "Flags a delivery dated before the simulation, dosimetric planning or clinical planning "
        "billed on another claim of the same course."
    ),
    why=(
        "The phases of a course are ordered (spec 7.1); a delivery before its plan is a date "
        "or code error."
    ),
    confidence=M,
    section="7.1",
    sources=("S49", "S47"),
    severity=ERR,
    authority=(
        authority(
            "CPT-RADIATION",
            "Clinical treatment planning, simulation and dosimetry precede treatment delivery",
        ),
        authority("IOM-13", "§70 Radiation oncology (therapeutic radiology)"),
    ),
    action=(
        "Check the dates of service on the course's claims: planning is billed on or before the "
        "first delivery"
    ),
)

# The phases that precede delivery (spec 7.1), in course order.
_BEFORE_DELIVERY = (
    ("clinical treatment planning", CLINICAL_PLANNING),
    ("simulation", SIMULATION),
    ("dosimetric planning", DOSIMETRIC_PLANNING),
)


@course_check(RO_CC1, twin=RO_C1, replaces=True)
def chronology_across_claims(c: CourseScope) -> None:
    deliveries = c.having(FRACTION_CODES)
    if not deliveries:
        return
    for phase, codes in _BEFORE_DELIVERY:
        planned = c.having(codes)
        if not planned:
            continue
        first = planned[0]
        early = [s for s in deliveries if s.dos < first.dos]
        if early:
            c.report(
                RO_CC1,
                f"Delivery on {early[0].dos} precedes {phase} ({first.code}) on {first.dos}, "
                "billed on a claim of the same course.",
                early,
                involved=[first],
            )


RO_CC2 = Rule(
    id="RO-CC2",
    title="Delivery with no plan on record for the course",
    checks=(
        "Flags delivery when no claim of the course bills clinical treatment planning, "
        "simulation or dosimetric planning (superficial radiation 77401 excepted)."
    ),
    why=(
        "Delivery follows a plan (spec 7.1); the plan may be on a claim not yet received, so a "
        "person looks rather than the claim being denied."
    ),
    confidence=NC,
    section="7.1",
    sources=("S49", "S47"),
    authority=(
        authority(
            "CPT-RADIATION",
            "Clinical treatment planning, simulation and dosimetry precede treatment delivery",
        ),
    ),
    action=(
        "Confirm that the course's planning was billed (perhaps by the other party or on a "
        "claim still to come)"
    ),
)

_PLAN = CLINICAL_PLANNING | SIMULATION | DOSIMETRIC_PLANNING


@course_check(RO_CC2)
def delivery_without_plan(c: CourseScope) -> None:
    deliveries = c.having(FRACTION_CODES - {"77401"})
    if deliveries and not c.having(_PLAN):
        c.report(
            RO_CC2,
            f"Delivery from {deliveries[0].dos} with no clinical treatment planning, simulation "
            "or dosimetric planning on record for the course.",
            deliveries,
        )


RO_CC3 = Rule(
    id="RO-CC3",
    title="Weekly management 77427 across the course",
    checks=(
        "Compares the 77427 units each party billed across the course's claims with the "
        "course's fractions: one per five, one more for 3-4 leftover fractions; 1-2 fractions "
        "after the final billing get no additional payment. Judged once fractions are on record."
    ),
    why=(
        "Weekly treatment management is billed per five fractions of the whole course, with "
        "one more unit only for 3-4 fractions left at its end."
    ),
    confidence=H,
    section="7.2",
    sources=("S52", "S48"),
    severity=ERR,
    example="R6: a course of 28 fractions billed 77427 x5, then x1, then x1 for 2 more: "
    "30 fractions allow 6.",
    authority=(
        authority(
            "CPT-RADIATION", "Radiation treatment management (77427): units of five fractions"
        ),
        authority("IOM-13", "§70 Radiation oncology (therapeutic radiology)"),
    ),
    action="Bill the 77427 units the course's fractions give",
)


@course_check(RO_CC3, twin=RO_W1, replaces=True)
def weekly_management_across_claims(c: CourseScope) -> None:
    if not c.fractions:
        return
    allowed = weekly_units(c.fractions)
    for part in PRO_FIRST:
        billed = c.having({"77427"}, part)
        total = sum(s.units for s in billed)
        if total > allowed:
            extra = c.fractions % 5
            after = (
                f" ({extra} fraction(s) beyond a multiple of five are paid with the weeks before)"
                if extra in (1, 2)
                else ""
            )
            c.report(
                RO_CC3,
                f"77427 x{total} {ACROSS} ({party(part)} billing) for {c.fractions} fractions: "
                f"at most {allowed}{after}.",
                beyond(billed, allowed),
                suggested_correction=f"bill no more than 77427 x{allowed} for the course",
            )


RO_CC4 = Rule(
    id="RO-CC4",
    title="77431 in a course of more than two fractions",
    checks="Flags 77431 when the course's claims deliver more than two fractions.",
    why="77431 manages a course of one or two fractions; longer courses are managed under 77427.",
    confidence=H,
    section="7.1, 7.2",
    sources=("S52", "S59"),
    severity=ERR,
    authority=(
        authority("CPT-RADIATION", "Radiation treatment management (77427, 77431)"),
        authority("IOM-13", "§70 Radiation oncology (therapeutic radiology)"),
    ),
    action="Report 77431 for a course of one or two fractions and 77427 for longer courses",
)


@course_check(RO_CC4, twin=RO_W2, replaces=True)
def short_course_management_across_claims(c: CourseScope) -> None:
    short = c.having({"77431"})
    if short and c.fractions > 2:
        c.report(
            RO_CC4,
            f"77431 is for a course of 1-2 fractions; the course's claims deliver {c.fractions}.",
            short,
        )


RO_CC5 = Rule(
    id="RO-CC5",
    title="Physics 77336 once per five fractions across the course",
    checks=(
        "Flags 77336 units billed by a party across the course's claims beyond one per five "
        "fractions of the course (a unit for 3-4 leftover fractions: RO-CC6)."
    ),
    why="Continuing medical physics is billed per week of therapy, five fractions.",
    confidence=M,
    section="6.3 RB11, 7.1",
    sources=("S56",),
    severity=ERR,
    authority=(authority("CPT-RADIATION", "Continuing medical physics consultation (77336)"),),
    action="Bill 77336 once per five fractions of the course",
)

RO_CC6 = Rule(
    id="RO-CC6",
    title="77336 for 3-4 leftover fractions of a course needs confirmation",
    checks=(
        "Flags a 77336 unit across the course's claims that only the leftover-fraction rule "
        "of 77427 would allow."
    ),
    why="Only 'per week / per five fractions' was retrieved for 77336 (spec 8 Q14).",
    confidence=NC,
    section="7.1, 8 Q14",
    sources=("S56",),
    authority=(authority("CPT-RADIATION", "Continuing medical physics consultation (77336)"),),
    action="Confirm with the payer whether 77336 covers 3-4 leftover fractions",
)


def _physics_over(c: CourseScope, part: BillingPart) -> tuple[list[Service], int] | None:
    billed = c.having({"77336"}, part)
    total = sum(s.units for s in billed)
    return (billed, total) if c.fractions and total > c.fractions // 5 else None


def _leftover_week(total: int, fractions: int) -> bool:
    return total == weekly_units(fractions) and fractions % 5 in (3, 4)


@course_check(RO_CC5, twin=RO_RB11, replaces=True)
def physics_across_claims(c: CourseScope) -> None:
    for part in TECH_FIRST:
        over = _physics_over(c, part)
        if over and not _leftover_week(over[1], c.fractions):
            c.report(
                RO_CC5,
                f"77336 x{over[1]} {ACROSS} ({party(part)} billing) for {c.fractions} "
                "fractions: at most one per five fractions.",
                beyond(over[0], c.fractions // 5),
            )


@course_check(RO_CC6, twin=RO_Q14, replaces=True)
def physics_leftover_across_claims(c: CourseScope) -> None:
    for part in TECH_FIRST:
        over = _physics_over(c, part)
        if over and _leftover_week(over[1], c.fractions):
            c.report(
                RO_CC6,
                f"77336 x{over[1]} {ACROSS} for {c.fractions} fractions counts 3-4 leftover "
                "fractions as a week; the leftover rule for 77336 is unconfirmed.",
                beyond(over[0], c.fractions // 5),
            )


RO_CC7 = Rule(
    id="RO-CC7",
    title="Once-per-course codes across claims",
    checks=("Flags 77470 or 77435 billed more than once by a party across the course's claims."),
    why=(
        "Special treatment procedure 77470 and SBRT management 77435 are each billed once per "
        "course."
    ),
    confidence=M,
    section="6.3 RB11, 7.1",
    sources=("S56", "S59"),
    severity=ERR,
    authority=(
        authority(
            "CPT-RADIATION",
            "Treatment management and special procedures: 77435, 77470 per course",
        ),
    ),
    action="Bill the code once for the course",
)

ONCE_PER_COURSE = ("77470", "77435")  # the in-claim twin's codes; 77432: RO-CC10


@course_check(RO_CC7, twin=RO_RB11, replaces=True)
def once_per_course_across_claims(c: CourseScope) -> None:
    for code in ONCE_PER_COURSE:
        for part in PRO_FIRST:
            billed = c.having({code}, part)
            total = sum(s.units for s in billed)
            if total > 1:
                c.report(
                    RO_CC7,
                    f"{code} is once per course; {total} units billed {ACROSS} "
                    f"({party(part)} billing).",
                    beyond(billed, 1),
                )


RO_CC8 = Rule(
    id="RO-CC8",
    title="Clinical treatment planning more than once in a course",
    checks=(
        "Notes 77261-77263 billed more than once by a party before the course's first delivery "
        "(a plan after delivery opens a new course)."
    ),
    why="Clinical treatment planning is typically billed once per course.",
    confidence=M,
    section="7.1",
    sources=("S49",),
    severity=WARN,
    authority=(authority("CPT-RADIATION", "Clinical treatment planning (77261-77263)"),),
    action="Make sure the second plan is documented as a distinct plan, or remove it",
)


@course_check(RO_CC8)
def planning_once_per_course(c: CourseScope) -> None:
    for part in PRO_FIRST:
        billed = c.having(CLINICAL_PLANNING, part)
        total = sum(s.units for s in billed)
        if total > 1:
            c.report(
                RO_CC8,
                f"Clinical treatment planning billed {total} times in one course "
                f"({', '.join(sorted({s.code for s in billed}))}).",
                beyond(billed, 1),
                involved=billed,
            )


RO_CC9 = Rule(
    id="RO-CC9",
    title="SBRT at most five fractions across the course",
    checks="Flags SBRT delivery (77373) beyond five fractions across the course's claims.",
    why="SBRT is an entire course of at most five fractions.",
    confidence=M,
    section="6.3 RB11, 7.3",
    sources=("S59", "S56"),
    severity=ERR,
    authority=(authority("CPT-RADIATION", "Stereotactic body radiation therapy delivery (77373)"),),
    action="Bill at most five SBRT fractions for the course, or document a new course",
)


@course_check(RO_CC9, twin=RO_RB11, replaces=True)
def sbrt_fractions_across_claims(c: CourseScope) -> None:
    for part in TECH_FIRST:
        billed = c.having({"77373"}, part)
        total = sum(s.units for s in billed)
        if total > 5:
            c.report(
                RO_CC9,
                f"SBRT is at most 5 fractions; {total} billed {ACROSS}.",
                beyond(billed, 5),
            )


RO_CC10 = Rule(
    id="RO-CC10",
    title="SRS is one session and one management per course",
    checks=(
        "Flags SRS delivery (77371, 77372) or SRS management (77432) billed more than once by "
        "a party across the course's claims."
    ),
    why=(
        "SRS delivery codes describe a complete course of treatment in one session, managed "
        "once (77432)."
    ),
    confidence=M,
    section="1.4, 6.3 RB11",
    sources=("S59",),
    severity=ERR,
    authority=(
        authority(
            "CPT-RADIATION",
            "Stereotactic radiation treatment delivery (77371, 77372) and management (77432)",
        ),
    ),
    action="Bill one SRS session for the course, or document a separate course",
)


@course_check(RO_CC10)
def srs_one_session(c: CourseScope) -> None:
    for part in TECH_FIRST:
        billed = c.having({"77371", "77372"}, part)
        total = sum(s.units for s in billed)
        if total > 1:
            c.report(
                RO_CC10,
                f"SRS delivery is one session per course; {total} billed {ACROSS}.",
                beyond(billed, 1),
            )
    for part in PRO_FIRST:
        managed = c.having({"77432"}, part)
        total = sum(s.units for s in managed)
        if total > 1:
            c.report(
                RO_CC10,
                f"SRS management 77432 is once per course; {total} units billed {ACROSS} "
                f"({party(part)} billing).",
                beyond(managed, 1),
            )


RO_CC11 = Rule(
    id="RO-CC11",
    title="IMRT planning 77301 includes these services on other claims of the course",
    checks=(
        "Flags codes on the CMS IMRT list (77014, 77280-77290, 77295, 77306-77307, "
        "77316-77318, 77321, 77331, 77370) billed by the same party on another claim of the "
        "course than its 77301, whatever the date (the same claim: RO-RB1)."
    ),
    why=(
        "IOM 100-04 ch.4 §200.3: services furnished to develop the IMRT plan are included, "
        "whether on the same or a different date."
    ),
    confidence=H,
    section="6.3 RB1, RB3",
    sources=("IMRT", "S50", "S47"),
    severity=ERR,
    authority=(
        authority("IOM-4", "§200.3.1-200.3.2 Billing for IMRT planning"),
        authority("IOCE", "IMRT planning conflicts"),
    ),
    action=(
        "Remove the included planning codes, unless they were furnished for a different treatment"
    ),
)


@course_check(RO_CC11)
def imrt_bundle_across_claims(c: CourseScope) -> None:
    plans = c.having({"77301"})
    if not plans:
        return
    with_plan = {p.claim_id for p in plans}
    included = {p: c.pack.imrt_conflicts.values("77301", p.dos) for p in plans}
    bundled: list[Service] = []
    involved: list[Service] = []
    for s in c.services:
        if s.claim_id in with_plan:
            continue  # on the plan's own claim RO-RB1 judges it
        for p in plans:
            if p.parts & s.parts and s.code in included[p]:
                bundled.append(s)
                involved.append(p)
                break
    by_claim: dict[str, list[Service]] = defaultdict(list)
    for s in bundled:
        by_claim[s.claim_id].append(s)
    for lines in by_claim.values():
        c.report(
            RO_CC11,
            f"{', '.join(sorted({s.code for s in lines}))} billed while IMRT planning 77301 "
            f"is billed on another claim of the course ({plans[0].dos}): included when "
            "furnished to develop the IMRT plan.",
            lines,
            involved=involved[:1],
            suggested_correction="remove them, unless furnished for a different treatment",
        )


RO_CC12 = Rule(
    id="RO-CC12",
    title="MLC device 77338 once per IMRT plan, at most three per course",
    checks=(
        "Flags 77338 units billed by a party across the course's claims beyond one per IMRT "
        "plan (77301) on record, and beyond three per course."
    ),
    why=(
        "77338 is designed and built per IMRT plan; payers allow it at most three times per course."
    ),
    confidence=M,
    section="6.3 RB12",
    sources=("S50",),
    severity=ERR,
    authority=(authority("CPT-RADIATION", "Special treatment devices (77338): per IMRT plan"),),
    action="Bill 77338 once per IMRT plan of the course",
)


@course_check(RO_CC12)
def mlc_per_plan(c: CourseScope) -> None:
    for part in TECH_FIRST:
        billed = c.having({"77338"}, part)
        total = sum(s.units for s in billed)
        plans = c.units({"77301"}, part)
        allowed = min(3, max(1, plans))
        if total > allowed:
            c.report(
                RO_CC12,
                f"77338 x{total} {ACROSS} ({party(part)} billing) with {plans} IMRT plan(s) "
                f"on record: at most {allowed}.",
                beyond(billed, allowed),
            )


RO_CC13 = Rule(
    id="RO-CC13",
    title="One teletherapy isodose plan per course and area, across claims",
    checks=(
        "Flags a second teletherapy isodose plan (77306, 77307) billed by a party for the same "
        "treatment area in one course; the area is the claim's first neoplasm diagnosis to "
        "its subcategory."
    ),
    why=(
        "Only one isodose plan is reported per course per treatment area; more need distinct "
        "areas documented."
    ),
    confidence=H,
    section="6.3 RB5",
    sources=("S53",),
    severity=ERR,
    authority=(
        authority(
            "CPT-RADIATION",
            "Teletherapy isodose plan (77306, 77307): per course and treatment area",
        ),
    ),
    action="Report one plan per course and area unless distinct treatment areas are documented",
)


@course_check(RO_CC13, twin=RO_RB5)
def isodose_plan_per_area(c: CourseScope) -> None:
    for part in TECH_FIRST:
        by_area: dict[str, list[Service]] = defaultdict(list)
        for s in c.having(ISODOSE_TELETHERAPY, part):
            by_area[c.area(s.claim_id)].append(s)
        for area, plans in sorted(by_area.items()):
            total = sum(s.units for s in plans)
            if total > 1:
                c.report(
                    RO_CC13,
                    f"{total} teletherapy isodose plans {ACROSS} for one treatment area "
                    f"({area}) in one course.",
                    beyond(plans, 1),
                    involved=plans,
                    suggested_correction="one plan unless distinct treatment areas are documented",
                )


RO_CC14 = Rule(
    id="RO-CC14",
    title="Payer rule: fraction limit across the course",
    checks=(
        "With a payer's COV-FX row (max_fractions for diagnoses), flags the deliveries beyond "
        "the row's limit counted across the course's claims."
    ),
    why=(
        "Payer fractionation policies limit a course (e.g. at most 10 fractions for palliative "
        "bone metastases), however many claims bill it."
    ),
    confidence=M,
    section="7.3",
    sources=("S57",),
    severity=ERR,
    authority=(authority("CPT-RADIATION", "Radiation treatment delivery, per fraction"),),
    action=(
        "Check the course's fractions against the payer's policy; request authorization or "
        "document the exception"
    ),
)


@course_check(RO_CC14, twin=COV_FX)
def payer_fraction_limit_across_claims(c: CourseScope) -> None:
    for claim_id, claim in c.claims.items():
        for policy in c.policies(COV_FX, claim_id):
            limit = policy.int_param("max")
            prefixes = policy.list_param("dx")
            if c.fractions <= limit or not any(
                d.startswith(prefixes) for d in _dotted(claim.diagnoses)
            ):
                continue
            total, late = 0, set()
            for day, n in c.fractions_by_date.items():
                total += n
                if total > limit:
                    late.add(day)
            lines = [
                s for s in c.having(FRACTION_CODES) if s.claim_id == claim_id and s.dos in late
            ]
            c.report(
                RO_CC14,
                f"{c.fractions} fractions {ACROSS}; payer policy {policy.policy_id} allows "
                f"{limit} for this diagnosis.",
                lines,
                policy=policy,
            )


def _dotted(diagnoses: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(Icd10Set.dotted(d) for d in diagnoses)


RO_CC15 = Rule(
    id="RO-CC15",
    title="Payer rule: unit limits across the course",
    checks=(
        "With a payer's RO-RB12 row (max_units of codes), flags the units a party billed "
        "across the course's claims beyond the row's limit."
    ),
    why="BCBS NC allows 77338 three times per course, however many claims bill it.",
    confidence=M,
    section="6.3 RB12",
    sources=("S50",),
    severity=ERR,
    authority=(authority("CPT-RADIATION", "Special treatment devices (77338)"),),
    action="Bill within the payer's unit limit for the course",
)


@course_check(RO_CC15, twin=RO_RB12)
def payer_unit_limit_across_claims(c: CourseScope) -> None:
    for claim_id in c.claims:
        for policy in c.policies(RO_RB12, claim_id):
            limit = policy.int_param("max")
            codes = policy.codes()
            for part in TECH_FIRST:
                billed = c.having(codes, part)
                total = sum(s.units for s in billed)
                if total > limit:
                    c.report(
                        RO_CC15,
                        f"{', '.join(sorted(codes))}: {total} units {ACROSS}; payer policy "
                        f"{policy.policy_id} allows {limit}.",
                        [s for s in beyond(billed, limit) if s.claim_id == claim_id],
                        policy=policy,
                    )


# In the order they run; a claim's course findings follow this order.
COURSE_CHECKS: tuple[CourseCheck, ...] = (
    chronology_across_claims,
    delivery_without_plan,
    planning_once_per_course,
    imrt_bundle_across_claims,
    isodose_plan_per_area,
    mlc_per_plan,
    weekly_management_across_claims,
    short_course_management_across_claims,
    physics_across_claims,
    physics_leftover_across_claims,
    once_per_course_across_claims,
    sbrt_fractions_across_claims,
    srs_one_session,
    payer_fraction_limit_across_claims,
    payer_unit_limit_across_claims,
)


def run_course_checks(c: CourseScope, checks: tuple[CourseCheck, ...] = COURSE_CHECKS) -> None:
    for check in checks:
        check.run(c)


# The in-claim rules whose findings are dropped for a claim whose course has other claims.
REPLACED_IN_CLAIM: frozenset[str] = frozenset(
    c.twin.id for c in COURSE_CHECKS if c.replaces and c.twin is not None
)

RO_CC16 = Rule(
    id="RO-CC16",
    title="In-claim course counts left to the course",
    checks=(
        "Notes that the claim's own findings of RO-C1, RO-W1, RO-W2, RO-RB11 or RO-Q14 were "
        "dropped because its course has other claims on record; the course checks (RO-CC1, "
        "RO-CC3 to RO-CC7, RO-CC9) judge the whole course for it."
    ),
    why=(
        "Those rules count one claim's fractions, units and phases as if the claim were the "
        "whole course; a claim billing part of a course is judged on the course's totals."
    ),
    confidence=H,
    section="7.2",
    sources=("S52",),
    severity=INFO,
    authority=(authority("IOM-13", "§70 Radiation oncology (therapeutic radiology)"),),
    action=(
        "Nothing for these; the course findings on this claim, if any, say what the course allows"
    ),
)


# The rules this module declares, for the catalogue.
RULES: tuple[Rule, ...] = (
    RO_CC0,
    RO_CC1,
    RO_CC2,
    RO_CC3,
    RO_CC4,
    RO_CC5,
    RO_CC6,
    RO_CC7,
    RO_CC8,
    RO_CC9,
    RO_CC10,
    RO_CC11,
    RO_CC12,
    RO_CC13,
    RO_CC14,
    RO_CC15,
    RO_CC16,
)
