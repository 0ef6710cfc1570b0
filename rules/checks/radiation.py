"""Radiation oncology within one claim (spec §6.3, §7): G-codes for freestanding Medicare,
the IMRT planning bundle, delivery exclusions, per-course limits, treatment management
units, chronology and high-scrutiny flags.

Across claims (a course billed over several claims) waits for the per-course state store.
"""

from __future__ import annotations

from datetime import date

from rules.checks.check import claim_check, date_check, line_check
from rules.claim_view import ClaimView, Line
from rules.codegroups import (
    BRACHYTHERAPY,
    CLINICAL_PLANNING,
    DOSIMETRIC_PLANNING,
    EBRT_DELIVERY,
    EM_VISITS,
    HIGH_SCRUTINY,
    IMRT_DELIVERY,
    ISODOSE_BRACHY,
    ISODOSE_TELETHERAPY,
    RADIATION,
    SIMULATION,
    SRS_SBRT,
)
from rules.rule import ERR, NC, WARN, H, M, Parameter, ParameterKind, PayerAction, Rule
from rules.sources import authority
from schemas.claim import Setting

RB7_EXCLUDED = frozenset({"77385", "77386", "77401", "77402", "77407", "77412"})
RB8_EXCLUDED = (
    CLINICAL_PLANNING | {"77332", "77333", "77334", "77336"} | ISODOSE_TELETHERAPY
    | ISODOSE_BRACHY | {"77427", "77431", "77432", "77435", "77469", "77470", "77499"}
)  # fmt: skip


_RADIATION_OR_SCRUTINY = RADIATION | HIGH_SCRUTINY


def radiation_billed(v: ClaimView) -> bool:
    # Asked by every radiation check of every claim: one precomputed set, no intersection.
    return not v.codes.isdisjoint(_RADIATION_OR_SCRUTINY)


def delivered_fractions(v: ClaimView) -> int:
    return v.units(EBRT_DELIVERY - BRACHYTHERAPY)


def weekly_units(fractions: int) -> int:
    """77427 units for a course of ``fractions`` (spec 7.2, CMS manual): one per five, plus one
    for 3-4 leftover fractions; 1-2 leftover fractions are not billed."""
    return fractions // 5 + (1 if fractions % 5 in (3, 4) else 0)


RO_G1 = Rule(
    id="RO-G1",
    title="Freestanding Medicare delivery uses the G-codes while they exist",
    checks=(
        "On a professional claim from a freestanding centre for a Medicare payer, flags a "
        "hospital delivery or guidance code (77402, 77407, 77412, 77385, 77386, 77387) on a "
        "date its G-code replacement is in force."
    ),
    why="Medicare PFS pays freestanding delivery under G6001-G6017, not the OPPS CPT codes.",
    confidence=M,
    section="7.4",
    sources=("S46", "S49", "S55"),
    severity=ERR,
    authority=(
        authority(
            "HCPCS",
            "G6001-G6017 radiation treatment delivery (freestanding, physician fee schedule)",
        ),
        authority("NCCI-POLICY-MANUAL", "chapter IX Radiology: radiation oncology"),
    ),
    action="Report the G-code that matches the energy and fields documented",
)


@line_check(RO_G1)
def freestanding_g_codes(v: ClaimView, x: Line) -> None:
    hcpcs = v.pack.hcpcs
    if not (
        not v.facility and v.claim.setting is Setting.FREESTANDING_RADIATION and v.medicare
    ) or not hcpcs.known(x.code):
        return
    g = sorted(gc for gc, cs in v.pack.g_codes.items()
               if x.code in cs and hcpcs.status(gc, x.dos) is not None)  # fmt: skip
    if g:
        v.report(
            RO_G1,
            f"{x.code} on a freestanding Medicare claim on {x.dos}: "
            f"the PFS pays {g[0]}-{g[-1]} instead.",
            [x],
            suggested_correction=f"report the G-code ({', '.join(g)}) that matches "
            "the energy and fields documented",
        )


RO_RB1 = Rule(
    id="RO-RB1",
    title="IMRT planning 77301 includes these planning services",
    checks=(
        "Flags codes on the CMS IMRT list (77014, 77280-77290, 77295, 77306-77307, "
        "77316-77318, 77321, 77331, 77370) on the same claim as 77301, whatever their date. "
        "77300 is not on the list."
    ),
    why="IOM 100-04 ch.4 §200.3: services furnished to develop the IMRT plan are included.",
    confidence=H,
    section="6.3 RB1, RB3, RB4",
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


@claim_check(RO_RB1, when=radiation_billed)
def imrt_planning_bundle(v: ClaimView) -> None:
    plans = v.having({"77301"})
    if not plans:
        return
    included = v.pack.imrt_conflicts.values("77301", plans[0].dos)
    bundled = [x for x in v.lines if x.code in included]
    if bundled:
        v.report(
            RO_RB1,
            f"{', '.join(sorted({x.code for x in bundled}))} billed with "
            "IMRT planning 77301 on this claim: included when furnished to develop the "
            "IMRT plan.",
            [plans[0], *bundled],
            suggested_correction="remove them, unless furnished for a different treatment",
        )


RO_RB2 = Rule(
    id="RO-RB2",
    title="Payer rule: planning codes within a window of 77301",
    checks=(
        "With a payer policy row, flags the row's codes billed within its window of days of 77301."
    ),
    why="Commercial payers (BCBS NC, Premera) apply the IMRT bundle as a date window.",
    confidence=M,
    section="6.3 RB2",
    sources=("S50",),
    severity=ERR,
    payer_actions=(
        PayerAction(
            "window_days",
            (
                Parameter("codes", ParameterKind.CODES),
                Parameter("days", ParameterKind.INTEGER, "30"),
            ),
        ),
    ),
    authority=(authority("IOM-4", "§200.3.1-200.3.2 Billing for IMRT planning"),),
    action=(
        "Remove the codes, or append the modifier the payer's policy allows for a different "
        "tumour or date"
    ),
)


@claim_check(RO_RB2, when=radiation_billed)
def imrt_planning_window(v: ClaimView) -> None:
    plans = v.having({"77301"})
    if not plans:
        return
    for policy in v.policies(RO_RB2):
        days = policy.int_param("days")
        near = [x for x in v.lines if x.code in policy.codes()
                and any(abs((x.dos - p.dos).days) <= days for p in plans)]  # fmt: skip
        if near:
            v.report_policy(
                RO_RB2,
                policy,
                f"{', '.join(sorted({x.code for x in near}))} within "
                f"{days} days of 77301: not payable under payer policy {policy.policy_id}.",
                near,
            )


RO_RB9 = Rule(
    id="RO-RB9",
    title="77780 with 77301 needs confirmation",
    checks="Flags 77780 billed with 77301.",
    why="A bundle claimed by the product brief that no retrieved source supports (spec 8 Q12).",
    confidence=NC,
    section="6.3 RB9",
    sources=(),
    authority=(authority("CPT-RADIATION", "Treatment planning and brachytherapy"),),
    action="Confirm with the payer whether 77780 is payable with 77301",
)


@claim_check(RO_RB9, when=radiation_billed)
def brachytherapy_with_imrt_planning(v: ClaimView) -> None:
    if v.having({"77301"}) and v.having({"77780"}):
        v.report(
            RO_RB9,
            "77780 billed with 77301: a bundle no retrieved source supports; confirm.",
            v.having({"77780", "77301"}),
        )


RO_RB4 = Rule(
    id="RO-RB4",
    title="Basic dosimetry 77300 is included in isodose planning",
    checks="Flags 77300 on the same date as 77306, 77307 or 77316-77318.",
    why=(
        "CPT 2015: those isodose plans include basic dosimetry (77300 is not bundled into "
        "77301, 77295 or 77321)."
    ),
    confidence=M,
    section="6.3 RB4",
    sources=("S53", "S54"),
    severity=ERR,
    authority=(
        authority(
            "CPT-RADIATION",
            "Medical radiation physics, dosimetry: 77306, 77307, 77316-77318 include 77300",
        ),
        authority("NCCI-PTP-EDITS"),
    ),
    action="Remove 77300",
)


@date_check(RO_RB4)
def basic_dosimetry_in_isodose_plan(v: ClaimView, day: date, lines: tuple[Line, ...]) -> None:
    codes = {x.code for x in lines}
    if "77300" in codes and codes & (ISODOSE_TELETHERAPY | ISODOSE_BRACHY):
        v.report(
            RO_RB4,
            f"77300 on {day} with an isodose plan that includes it.",
            v.having({"77300"} | ISODOSE_TELETHERAPY | ISODOSE_BRACHY, on=day),
            suggested_correction="remove 77300",
        )


RO_RB6 = Rule(
    id="RO-RB6",
    title="IMRT delivery not with SRS/SBRT; no technical modifier",
    checks=(
        "Flags 77385/77386 with 77371-77373 on one date, and modifier TC on 77385, 77386 or "
        "77371-77373."
    ),
    why="The codes describe exclusive deliveries and are technical-only by definition.",
    confidence=H,
    section="6.3 RB6",
    sources=("S53",),
    severity=ERR,
    authority=(
        authority(
            "CPT-RADIATION",
            "Radiation treatment delivery: 77385, 77386, 77371-77373 are technical only",
        ),
        authority("NCCI-POLICY-MANUAL", "chapter IX Radiology: radiation oncology"),
    ),
    action="Report one delivery for the session; remove modifier TC from technical-only codes",
)


@date_check(RO_RB6)
def imrt_with_srs_sbrt(v: ClaimView, day: date, lines: tuple[Line, ...]) -> None:
    codes = {x.code for x in lines}
    if codes & IMRT_DELIVERY and codes & SRS_SBRT:
        v.report(
            RO_RB6,
            f"IMRT delivery and SRS/SBRT on {day}.",
            v.having(IMRT_DELIVERY | SRS_SBRT, on=day),
        )


@claim_check(RO_RB6, when=radiation_billed)
def technical_component_on_technical_code(v: ClaimView) -> None:
    tc = [x for x in v.lines if x.code in IMRT_DELIVERY | SRS_SBRT and "TC" in x.modifiers]
    if tc:
        v.report(
            RO_RB6,
            "Modifier TC on a technical-only delivery code.",
            tc,
            suggested_correction="remove modifier TC",
        )


RO_RB7 = Rule(
    id="RO-RB7",
    title="SBRT delivery 77373 excludes other deliveries that day",
    checks="Flags 77373 with 77385, 77386, 77401, 77402, 77407 or 77412 on one date.",
    why="SBRT delivery includes the other delivery services of the session.",
    confidence=M,
    section="6.3 RB7",
    sources=("S59",),
    severity=ERR,
    authority=(
        authority("CPT-RADIATION", "Stereotactic body radiation therapy delivery (77373)"),
        authority("NCCI-PTP-EDITS"),
    ),
    action="Report the SBRT delivery only for that session",
)


@date_check(RO_RB7)
def sbrt_with_other_delivery(v: ClaimView, day: date, lines: tuple[Line, ...]) -> None:
    codes = {x.code for x in lines}
    if "77373" in codes and codes & RB7_EXCLUDED:
        v.report(
            RO_RB7,
            f"SBRT delivery 77373 on {day} with another delivery.",
            v.having(RB7_EXCLUDED | {"77373"}, on=day),
        )


RO_RB10 = Rule(
    id="RO-RB10",
    title="One simulation per day",
    checks="Flags more than one unit of 77280, 77285 or 77290 on a date.",
    why="Several sites simulated the same day are one simulation charge.",
    confidence=M,
    section="6.3 RB10, 7.1",
    sources=("S47",),
    severity=ERR,
    authority=(
        authority("CPT-RADIATION", "Simulation (77280-77290)"),
        authority("NCCI-POLICY-MANUAL", "chapter IX Radiology: radiation oncology"),
    ),
    action="Report one simulation charge for the day",
)


@date_check(RO_RB10)
def one_simulation_a_day(v: ClaimView, day: date, lines: tuple[Line, ...]) -> None:
    sims = v.having(SIMULATION, on=day)
    if sum(x.units for x in sims) > 1:
        v.report(
            RO_RB10,
            f"More than one simulation on {day}.",
            sims,
            suggested_correction="one simulation charge for the day",
        )


RO_RB8 = Rule(
    id="RO-RB8",
    title="Superficial radiation 77401 excludes planning and management",
    checks=(
        "Flags 77401 with 77261-77263, 77332-77334, 77306/77307, 77316-77318, 77336, "
        "77427/77431/77432/77435/77469/77470/77499 on the claim, and an E/M billed with 77401 "
        "and other radiation codes."
    ),
    why="ASTRO: superficial radiation is billed alone; an E/M only when 77401 is alone.",
    confidence=M,
    section="6.3 RB8",
    sources=("S46",),
    severity=ERR,
    authority=(
        authority("CPT-RADIATION", "Superficial radiation (77401)"),
        authority("NCCI-PTP-EDITS"),
    ),
    action=(
        "Remove the planning and management codes billed with superficial radiation; an E/M only"
        " when 77401 is billed alone"
    ),
)


@claim_check(RO_RB8, when=radiation_billed)
def superficial_radiation_alone(v: ClaimView) -> None:
    if "77401" not in v.codes:
        return
    excluded = [x for x in v.lines if x.code in RB8_EXCLUDED]
    visits = [x for x in v.lines if x.code in EM_VISITS]
    alone = not (v.codes & RADIATION - {"77401"})
    if excluded or (visits and not alone):
        v.report(
            RO_RB8,
            "Superficial radiation 77401 billed with "
            f"{', '.join(sorted({x.code for x in excluded + visits}))}.",
            [*v.having({"77401"}), *excluded, *visits],
        )


RO_RB11 = Rule(
    id="RO-RB11",
    title="Once-per-course and per-week limits",
    checks=(
        "Flags more than one 77470 or 77435 on a claim, more than five SBRT fractions (77373), "
        "and more 77336 units than weeks of five fractions; a 77336 for 3-4 leftover fractions "
        "needs confirmation."
    ),
    why=(
        "77470 and 77435 are per course, SBRT is at most five fractions, 77336 is per five "
        "fractions."
    ),
    confidence=M,
    section="6.3 RB11, 7.3, 8 Q14",
    sources=("S56", "S59"),
    severity=ERR,
    authority=(
        authority(
            "CPT-RADIATION",
            (
                "Treatment management and physics: 77470, 77435 per course; 77336 per five "
                "fractions; SBRT at most five fractions"
            ),
        ),
    ),
    action="Bill within the per-course and per-week limits",
)


@claim_check(RO_RB11, when=radiation_billed)
def once_per_course(v: ClaimView) -> None:
    for code in ("77470", "77435"):
        if v.units({code}) > 1:
            v.report(
                RO_RB11,
                f"{code} is once per course; {v.units({code})} units billed.",
                v.having({code}),
            )


RO_RB5 = Rule(
    id="RO-RB5",
    title="One teletherapy isodose plan per course and area",
    checks="Flags more than one unit of 77306/77307 on a claim.",
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
    action="Report one plan unless distinct treatment areas are documented",
)


@claim_check(RO_RB5, when=radiation_billed)
def one_isodose_plan(v: ClaimView) -> None:
    if v.units(ISODOSE_TELETHERAPY) > 1:
        v.report(
            RO_RB5,
            f"{v.units(ISODOSE_TELETHERAPY)} teletherapy isodose plans on "
            "one claim: one per course and treatment area.",
            v.having(ISODOSE_TELETHERAPY),
            suggested_correction="one plan unless distinct treatment areas are documented",
        )


@claim_check(RO_RB11, when=radiation_billed)
def sbrt_at_most_five_fractions(v: ClaimView) -> None:
    if v.units({"77373"}) > 5:
        v.report(
            RO_RB11,
            f"SBRT is at most 5 fractions; {v.units({'77373'})} billed.",
            v.having({"77373"}),
        )


def _physics_over(v: ClaimView) -> tuple[int, int] | None:
    """(77336 units, fractions) when 77336 is billed more than once per five fractions."""
    fractions = delivered_fractions(v)
    physics = v.units({"77336"})
    return (physics, fractions) if physics > fractions // 5 and fractions else None


def _leftover_week(physics: int, fractions: int) -> bool:
    return physics == weekly_units(fractions) and fractions % 5 in (3, 4)


RO_Q14 = Rule(
    id="RO-Q14",
    title="77336 for 3-4 leftover fractions needs confirmation",
    checks="Flags a 77336 unit that only the leftover-fraction rule of 77427 would allow.",
    why="Only 'per week / per five fractions' was retrieved for 77336 (spec 8 Q14).",
    confidence=NC,
    section="7.1, 8 Q14",
    sources=("S56",),
    authority=(authority("CPT-RADIATION", "Continuing medical physics consultation (77336)"),),
    action="Confirm with the payer whether 77336 covers 3-4 leftover fractions",
)


@claim_check(RO_Q14, when=radiation_billed)
def physics_leftover_fractions(v: ClaimView) -> None:
    over = _physics_over(v)
    if over and _leftover_week(*over):
        physics, fractions = over
        v.report(
            RO_Q14,
            f"77336 x{physics} for {fractions} fractions counts "
            "3-4 leftover fractions as a week; the leftover rule for 77336 is "
            "unconfirmed.",
            v.having({"77336"}),
        )


@claim_check(RO_RB11, when=radiation_billed)
def physics_once_per_five_fractions(v: ClaimView) -> None:
    over = _physics_over(v)
    if over and not _leftover_week(*over):
        physics, fractions = over
        v.report(
            RO_RB11,
            f"77336 x{physics} for {fractions} fractions: at most one per five fractions.",
            v.having({"77336"}),
        )


RO_RB12 = Rule(
    id="RO-RB12",
    title="Payer rule: unit limits per course",
    checks=(
        "With a payer policy row, flags more units of the row's code on a claim than it allows."
    ),
    why="BCBS NC allows 77338 once per IMRT plan and three times per 60-day course.",
    confidence=M,
    section="6.3 RB12",
    sources=("S50",),
    severity=ERR,
    payer_actions=(
        PayerAction(
            "max_units",
            (Parameter("codes", ParameterKind.CODES), Parameter("max", ParameterKind.INTEGER)),
        ),
    ),
    authority=(authority("CPT-RADIATION", "Special treatment devices (77338)"),),
    action="Bill within the payer's unit limit, or attach the documentation its policy asks for",
)


@claim_check(RO_RB12, when=radiation_billed)
def payer_unit_limit(v: ClaimView) -> None:
    for policy in v.policies(RO_RB12):
        limit = policy.int_param("max")
        codes = policy.codes()
        if v.units(codes) > limit:
            v.report_policy(
                RO_RB12,
                policy,
                f"{', '.join(sorted(codes))}: {v.units(codes)} units; "
                f"payer policy {policy.policy_id} allows {limit}.",
                v.having(codes),
            )


RO_W2 = Rule(
    id="RO-W2",
    title="77431 for a course of one or two fractions",
    checks=(
        "Flags 77431 with more than two fractions on the claim, and 77427 when the claim has "
        "only one or two."
    ),
    why="A 1-2 fraction course is managed under 77431; 77427 needs at least three fractions.",
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


@claim_check(RO_W2, when=radiation_billed)
def weekly_management_for_a_short_course(v: ClaimView) -> None:
    # Without delivery lines (a physician's claim while the hospital bills delivery) the
    # fractions are on another claim: checking them waits for the course state store.
    fractions = delivered_fractions(v)
    if fractions and v.units({"77427"}) and fractions <= 2:
        v.report(
            RO_W2,
            f"77427 billed for {fractions} fraction(s); a 1-2 fraction course is 77431.",
            v.having({"77427"}),
            suggested_correction="report 77431",
        )


RO_W1 = Rule(
    id="RO-W1",
    title="Weekly management 77427 units from fractions",
    checks=(
        "Compares 77427 units with the fractions delivered on the claim: one per five, plus "
        "one for 3-4 leftover fractions; 1-2 leftover are not billed."
    ),
    why=(
        "Weekly treatment management is billed per five fractions, with one more unit for 3-4 "
        "fractions left at the end of a course; 1-2 leftover fractions are not billed."
    ),
    confidence=H,
    section="7.2",
    sources=("S52",),
    severity=ERR,
    example="28 fractions: 6 units, not 7.",
    authority=(
        authority(
            "CPT-RADIATION",
            "Radiation treatment management (77427): units of five fractions",
        ),
        authority("IOM-13", "§70 Radiation oncology (therapeutic radiology)"),
    ),
    action="Bill the 77427 units the fractions give",
)


@claim_check(RO_W1, when=radiation_billed)
def weekly_management_units(v: ClaimView) -> None:
    fractions = delivered_fractions(v)
    weekly = v.units({"77427"})
    if fractions > 2 and weekly > weekly_units(fractions):
        v.report(
            RO_W1,
            f"77427 x{weekly} for {fractions} fractions: at most {weekly_units(fractions)}.",
            v.having({"77427"}),
            suggested_correction=f"bill 77427 x{weekly_units(fractions)}",
        )


@claim_check(RO_W2, when=radiation_billed)
def short_course_management_for_a_long_course(v: ClaimView) -> None:
    fractions = delivered_fractions(v)
    if v.units({"77431"}) and fractions > 2:
        v.report(
            RO_W2,
            f"77431 is for a course of 1-2 fractions; {fractions} delivered.",
            v.having({"77431"}),
        )


RO_C1 = Rule(
    id="RO-C1",
    title="Planning precedes delivery",
    checks=(
        "Flags a delivery date earlier than the clinical planning, simulation or dosimetric "
        "planning billed on the same claim."
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
        "Check the dates of service and the codes: planning is billed on or before the first "
        "delivery of a course"
    ),
)


# The phases that precede delivery (spec 7.1), in course order. 77300 is left out: basic
# dosimetry is billed again during a course (spec R1, "77300 x n").
_BEFORE_DELIVERY = (
    ("clinical treatment planning", CLINICAL_PLANNING),
    ("simulation", SIMULATION),
    ("dosimetric planning", DOSIMETRIC_PLANNING),
)


@claim_check(RO_C1, when=radiation_billed)
def planning_before_delivery(v: ClaimView) -> None:
    delivery = sorted((x for x in v.lines if x.code in EBRT_DELIVERY), key=lambda x: x.dos)
    if not delivery:
        return
    for phase, codes in _BEFORE_DELIVERY:
        planned = sorted((x for x in v.lines if x.code in codes), key=lambda x: x.dos)
        if planned and delivery[0].dos < planned[0].dos:
            early = [x for x in delivery if x.dos < planned[0].dos]
            v.report(
                RO_C1,
                f"Delivery on {early[0].dos} precedes {phase} ({planned[0].code}) on "
                f"{planned[0].dos}.",
                [planned[0], *early],
            )


RO_HS1 = Rule(
    id="RO-HS1",
    title="High-scrutiny radiation services",
    checks="Notes SRS/SBRT (77371-77373), brachytherapy and proton delivery (77520-77525).",
    why="Payers audit these services most; documentation must be complete.",
    confidence=M,
    section="7.3",
    sources=("S58", "S59"),
    severity=WARN,
    authority=(
        authority("IOM-13", "§70 Radiation oncology (therapeutic radiology)"),
        authority("LCD-L33937"),
    ),
    action=(
        "Make sure the plan, prescription, treatment records and physics documentation are "
        "complete before the claim goes out"
    ),
)


@claim_check(RO_HS1, when=radiation_billed)
def high_scrutiny_services(v: ClaimView) -> None:
    scrutiny = [x for x in v.lines if x.code in HIGH_SCRUTINY]
    if scrutiny:
        v.report(
            RO_HS1,
            f"High-scrutiny services "
            f"({', '.join(sorted({x.code for x in scrutiny}))}): documentation must be "
            "complete.",
            scrutiny,
        )


# The rules this module declares, for the catalogue.
RULES: tuple[Rule, ...] = (
    RO_G1,
    RO_RB1,
    RO_RB2,
    RO_RB9,
    RO_RB4,
    RO_RB6,
    RO_RB7,
    RO_RB10,
    RO_RB8,
    RO_RB11,
    RO_RB5,
    RO_Q14,
    RO_RB12,
    RO_W2,
    RO_W1,
    RO_C1,
    RO_HS1,
)
