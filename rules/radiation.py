"""Radiation oncology within one claim (spec §6.3, §7): code validity by quarter and setting,
the IMRT planning bundle, delivery exclusions, per-course limits, treatment management units,
chronology, high-scrutiny flags and payer coverage rows.

Across claims (a course billed over several claims) waits for the per-course state store.
"""

from __future__ import annotations

from rules.claim_view import ClaimView
from rules.codegroups import (
    BRACHYTHERAPY,
    CLINICAL_PLANNING,
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
from rules.registry import rule
from schemas.claim import Setting

RB7_EXCLUDED = frozenset({"77385", "77386", "77401", "77402", "77407", "77412"})
RB8_EXCLUDED = (
    CLINICAL_PLANNING | {"77332", "77333", "77334", "77336"} | ISODOSE_TELETHERAPY
    | ISODOSE_BRACHY | {"77427", "77431", "77432", "77435", "77469", "77470", "77499"}
)  # fmt: skip


def weekly_units(fractions: int) -> int:
    """77427 units for a course of ``fractions`` (spec 7.2, CMS manual): one per five, plus one
    for 3-4 leftover fractions; 1-2 leftover fractions are not billed."""
    return fractions // 5 + (1 if fractions % 5 in (3, 4) else 0)


def check_radiation(v: ClaimView) -> None:
    _validity(v)
    if not v.codes & (RADIATION | HIGH_SCRUTINY):
        return
    fractions = v.units(EBRT_DELIVERY - BRACHYTHERAPY)
    _imrt_bundle(v)
    _same_day(v)
    _per_course(v, fractions)
    _management(v, fractions)
    _chronology(v)
    _scrutiny_and_coverage(v, fractions)


def _validity(v: ClaimView) -> None:
    hcpcs = v.pack.hcpcs
    freestanding_medicare = (
        not v.facility and v.claim.setting is Setting.FREESTANDING_RADIATION and v.medicare
    )
    for x in v.lines:
        if not hcpcs.known(x.code):
            continue
        status = hcpcs.status(x.code, x.dos)
        if status is None:
            v.report(
                rule("CODE-Q1"),
                f"{x.code} is not in the CMS HCPCS table for the quarter of {x.dos}.",
                [x],
            )
        elif status == "B" and v.facility:
            hospital = sorted(v.pack.g_codes.get(x.code, ()))
            v.report(
                rule("CODE-B1"),
                f"{x.code} (OPPS status B) is not recognised on a hospital "
                f"outpatient claim on {x.dos}"
                + (f"; hospitals report {' or '.join(hospital)}." if hospital else "."),
                [x],
                suggested_correction=f"report {' or '.join(hospital)}"
                if len(hospital) == 1
                else None,
            )
        if freestanding_medicare:
            g = sorted(gc for gc, cs in v.pack.g_codes.items()
                       if x.code in cs and hcpcs.status(gc, x.dos) is not None)  # fmt: skip
            if g:
                v.report(
                    rule("RO-G1"),
                    f"{x.code} on a freestanding Medicare claim on {x.dos}: "
                    f"the PFS pays {g[0]}-{g[-1]} instead.",
                    [x],
                    suggested_correction=f"report the G-code ({', '.join(g)}) that matches "
                    "the energy and fields documented",
                )


def _imrt_bundle(v: ClaimView) -> None:
    plans = v.having({"77301"})
    if not plans:
        return
    included = v.pack.imrt_conflicts.values("77301", plans[0].dos)
    bundled = [x for x in v.lines if x.code in included]
    if bundled:
        v.report(
            rule("RO-RB1"),
            f"{', '.join(sorted({x.code for x in bundled}))} billed with "
            "IMRT planning 77301 on this claim: included when furnished to develop the "
            "IMRT plan.",
            [plans[0], *bundled],
            suggested_correction="remove them, unless furnished for a different treatment",
        )
    for policy in v.policies("RO-RB2"):
        days = int(policy.parameters.get("days", "30"))
        near = [x for x in v.lines if x.code in policy.codes()
                and any(abs((x.dos - p.dos).days) <= days for p in plans)]  # fmt: skip
        if near:
            v.report_policy(
                rule("RO-RB2"),
                policy,
                f"{', '.join(sorted({x.code for x in near}))} within "
                f"{days} days of 77301: not payable under payer policy {policy.policy_id}.",
                near,
            )
    if v.having({"77780"}):
        v.report(
            rule("RO-RB9"),
            "77780 billed with 77301: a bundle no retrieved source supports; confirm.",
            v.having({"77780", "77301"}),
        )


def _same_day(v: ClaimView) -> None:
    for day, lines in v.by_date.items():
        codes = {x.code for x in lines}
        if "77300" in codes and codes & (ISODOSE_TELETHERAPY | ISODOSE_BRACHY):
            v.report(
                rule("RO-RB4"),
                f"77300 on {day} with an isodose plan that includes it.",
                v.having({"77300"} | ISODOSE_TELETHERAPY | ISODOSE_BRACHY, on=day),
                suggested_correction="remove 77300",
            )
        if codes & IMRT_DELIVERY and codes & SRS_SBRT:
            v.report(
                rule("RO-RB6"),
                f"IMRT delivery and SRS/SBRT on {day}.",
                v.having(IMRT_DELIVERY | SRS_SBRT, on=day),
            )
        if "77373" in codes and codes & RB7_EXCLUDED:
            v.report(
                rule("RO-RB7"),
                f"SBRT delivery 77373 on {day} with another delivery.",
                v.having(RB7_EXCLUDED | {"77373"}, on=day),
            )
        sims = v.having(SIMULATION, on=day)
        if sum(x.units for x in sims) > 1:
            v.report(
                rule("RO-RB10"),
                f"More than one simulation on {day}.",
                sims,
                suggested_correction="one simulation charge for the day",
            )
    tc = [x for x in v.lines if x.code in IMRT_DELIVERY | SRS_SBRT and "TC" in x.modifiers]
    if tc:
        v.report(
            rule("RO-RB6"),
            "Modifier TC on a technical-only delivery code.",
            tc,
            suggested_correction="remove modifier TC",
        )
    if "77401" in v.codes:
        excluded = [x for x in v.lines if x.code in RB8_EXCLUDED]
        visits = [x for x in v.lines if x.code in EM_VISITS]
        alone = not (v.codes & RADIATION - {"77401"})
        if excluded or (visits and not alone):
            v.report(
                rule("RO-RB8"),
                "Superficial radiation 77401 billed with "
                f"{', '.join(sorted({x.code for x in excluded + visits}))}.",
                excluded + visits,
            )


def _per_course(v: ClaimView, fractions: int) -> None:
    rb11 = rule("RO-RB11")
    for code in ("77470", "77435"):
        if v.units({code}) > 1:
            v.report(
                rb11,
                f"{code} is once per course; {v.units({code})} units billed.",
                v.having({code}),
            )
    if v.units(ISODOSE_TELETHERAPY) > 1:
        v.report(
            rule("RO-RB5"),
            f"{v.units(ISODOSE_TELETHERAPY)} teletherapy isodose plans on "
            "one claim: one per course and treatment area.",
            v.having(ISODOSE_TELETHERAPY),
            suggested_correction="one plan unless distinct treatment areas are documented",
        )
    if v.units({"77373"}) > 5:
        v.report(
            rb11, f"SBRT is at most 5 fractions; {v.units({'77373'})} billed.", v.having({"77373"})
        )
    physics = v.units({"77336"})
    if physics > fractions // 5 and fractions:
        if physics == weekly_units(fractions) and fractions % 5 in (3, 4):
            v.report(
                rule("RO-Q14"),
                f"77336 x{physics} for {fractions} fractions counts "
                "3-4 leftover fractions as a week; the leftover rule for 77336 is "
                "unconfirmed.",
                v.having({"77336"}),
            )
        else:
            v.report(
                rb11,
                f"77336 x{physics} for {fractions} fractions: at most one per five fractions.",
                v.having({"77336"}),
            )
    for policy in v.policies("RO-RB12"):
        limit = int(policy.parameters.get("max", "0"))
        codes = policy.codes()
        if v.units(codes) > limit:
            v.report_policy(
                rule("RO-RB12"),
                policy,
                f"{', '.join(sorted(codes))}: {v.units(codes)} units; "
                f"payer policy {policy.policy_id} allows {limit}.",
                v.having(codes),
            )


def _management(v: ClaimView, fractions: int) -> None:
    # Without delivery lines (a physician's claim while the hospital bills delivery) the
    # fractions are on another claim: checking them waits for the course state store.
    if not fractions:
        return
    weekly = v.units({"77427"})
    if weekly and fractions <= 2:
        v.report(
            rule("RO-W2"),
            f"77427 billed for {fractions} fraction(s); a 1-2 fraction course is 77431.",
            v.having({"77427"}),
            suggested_correction="report 77431",
        )
    elif weekly > weekly_units(fractions):
        v.report(
            rule("RO-W1"),
            f"77427 x{weekly} for {fractions} fractions: at most {weekly_units(fractions)}.",
            v.having({"77427"}),
            suggested_correction=f"bill 77427 x{weekly_units(fractions)}",
        )
    if v.units({"77431"}) and fractions > 2:
        v.report(
            rule("RO-W2"),
            f"77431 is for a course of 1-2 fractions; {fractions} delivered.",
            v.having({"77431"}),
        )


def _chronology(v: ClaimView) -> None:
    planning = [x.dos for x in v.lines if x.code in CLINICAL_PLANNING]
    delivery = [x for x in v.lines if x.code in EBRT_DELIVERY]
    if planning and delivery and min(x.dos for x in delivery) < min(planning):
        early = [x for x in delivery if x.dos < min(planning)]
        v.report(
            rule("RO-C1"),
            f"Delivery on {early[0].dos} precedes clinical treatment planning on {min(planning)}.",
            early,
        )


def _scrutiny_and_coverage(v: ClaimView, fractions: int) -> None:
    scrutiny = [x for x in v.lines if x.code in HIGH_SCRUTINY]
    if scrutiny:
        v.report(
            rule("RO-HS1"),
            f"High-scrutiny services "
            f"({', '.join(sorted({x.code for x in scrutiny}))}): documentation must be "
            "complete.",
            scrutiny,
        )
    for rule_id in ("COV-PROTON", "COV-IMRT"):
        for policy in v.policies(rule_id):
            hit = [x for x in v.lines if x.code in policy.codes()]
            if hit:
                v.report_policy(
                    rule(rule_id),
                    policy,
                    f"{', '.join(sorted({x.code for x in hit}))}: payer "
                    f"policy {policy.policy_id} requires documented medical necessity "
                    f"({policy.description[:200]})",
                    hit,
                )
    dx = v.diagnoses
    for policy in v.policies("COV-FX"):
        prefixes = tuple(policy.parameters.get("dx", "").split("|"))
        limit = int(policy.parameters.get("max", "0"))
        if any(d.startswith(prefixes) for d in dx) and fractions > limit:
            v.report_policy(
                rule("COV-FX"),
                policy,
                f"{fractions} fractions; payer policy {policy.policy_id} "
                f"allows {limit} for this diagnosis.",
            )
    if any(d.startswith("C79.5") for d in dx) and fractions > 1:
        v.report(
            rule("COV-CW"),
            f"Bone metastasis treated in {fractions} fractions: consider "
            "whether a single 8 Gy fraction was appropriate.",
        )
