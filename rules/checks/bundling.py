"""Bundling and unit limits on the lines to be billed (spec §6.1, §6.2, §2.10).

The specific rules run first and mark the code pairs they decide, so the generic NCCI PTP
check does not report the same pair twice. Certain fixes (an H rule removing a submitted
line) are applied as corrections; everything else goes to review with a suggestion.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from rules.checks.check import claim_check, date_check
from rules.claim_view import ClaimView, Line
from rules.codegroups import (
    CHEMO_ADMIN,
    DEVICE_BLOOD_DRAW,
    DRUG_ADMIN,
    EM_VISITS,
    HYDRATION,
    INFUSION_OR_PUSH,
    OTHER_INFUSION,
    PERIPHERAL_IV_START,
    PUMP_INITIATION,
    PUMP_REFILL,
    is_lab,
)
from rules.rule import ERR, NC, WARN, H, M, Parameter, ParameterKind, PayerAction, Rule
from schemas.decision import CorrectionAction, Severity


def remove_line(v: ClaimView, r: Rule, line: Line, beside: list[Line], message: str) -> None:
    """Remove a submitted line (certain: an H rule), or send a computed one to review."""
    v.decided(line, beside)
    if line.billed:
        fix = r.correction(
            CorrectionAction.REMOVE_LINE, message, line_numbers=(line.line_number or 0,),
            codes=(line.code,)
        )  # fmt: skip
        v.corrections.append(fix)
        v.report(
            r,
            f"{message} Line {line.line_number} removed.",
            [line, *beside],
            severity=Severity.WARNING,
        )
    else:
        v.report(
            r, f"{message} The MAR yields it; review.", [line, *beside], severity=Severity.ERROR
        )


BND_B2 = Rule(
    id="BND-B2",
    title="Port irrigation 96523 only as the sole service of the day",
    checks="Removes a billed 96523 when anything else is billed that day.",
    why="IOM 100-04 ch.12 §30.5: an E/M, injection or infusion that day absorbs it.",
    confidence=H,
    section="6.1 B1-B2, 2.10 V6",
    sources=("S29",),
    severity=WARN,
)


@date_check(BND_B2)
def port_irrigation_with_other_services(v: ClaimView, day: date, lines: tuple[Line, ...]) -> None:
    others = [x for x in lines if x.code != "96523"]
    for x in lines:
        if x.code == "96523" and x.billed and others:
            remove_line(
                v,
                BND_B2,
                x,
                others,
                f"96523 on {day} beside {', '.join(sorted({o.code for o in others}))}.",
            )


BND_B3 = Rule(
    id="BND-B3",
    title="36591/36592 only with laboratory services",
    checks="Flags 36591 or 36592 billed on a date with any other non-laboratory service.",
    why="Blood collection from a device is reported only when it is the only non-lab service.",
    confidence=M,
    section="6.1 B3, 2.10 V7",
    sources=("S30",),
    severity=ERR,
)


@date_check(BND_B3)
def device_blood_draw(v: ClaimView, day: date, lines: tuple[Line, ...]) -> None:
    others = [x for x in lines if x.code not in DEVICE_BLOOD_DRAW and not is_lab(x.code)
              and not x.code.startswith(("J", "Q"))]  # fmt: skip
    for x in lines:
        if x.code in DEVICE_BLOOD_DRAW and others:
            v.decided(x, others)
            v.report(
                BND_B3,
                f"{x.code} on {day} with other non-laboratory services "
                f"({', '.join(sorted({o.code for o in others}))}).",
                [x, *others],
                suggested_correction=f"remove {x.code}",
            )


def _administration(lines: tuple[Line, ...]) -> list[Line]:
    return [x for x in lines if x.code in DRUG_ADMIN - {"96523"}]


BND_B7 = Rule(
    id="BND-B7",
    title="99211 is never billed with drug administration",
    checks="Removes 99211 on a date with drug administration (with or without modifier 25).",
    why="CMS: the nurse visit is part of the administration service.",
    confidence=H,
    section="6.1 B7, 2.10 V8",
    sources=("S6", "S7"),
    severity=WARN,
)


@date_check(BND_B7)
def nurse_visit_with_administration(v: ClaimView, day: date, lines: tuple[Line, ...]) -> None:
    admin = _administration(lines)
    for x in lines:
        if admin and x.code == "99211":
            remove_line(v, BND_B7, x, admin, f"99211 on {day} with drug administration.")


BND_B7E = Rule(
    id="BND-B7E",
    title="An E/M with drug administration needs modifier 25",
    checks=(
        "Flags an E/M code (99202-99215, G0463) on a date with drug administration without "
        "modifier 25."
    ),
    why="Only a significant, separately identifiable E/M is paid beside an administration.",
    confidence=H,
    section="6.1 B7, 2.10 V8",
    sources=("S6", "S7"),
    severity=ERR,
)


@date_check(BND_B7E)
def visit_without_modifier_25(v: ClaimView, day: date, lines: tuple[Line, ...]) -> None:
    admin = _administration(lines)
    for x in lines:
        if admin and x.code != "99211" and x.code in EM_VISITS and "25" not in x.modifiers:
            v.decided(x, admin)
            v.report(
                BND_B7E,
                f"{x.code} on {day} with drug administration has no modifier 25.",
                [x],
                suggested_correction="append 25 if a significant, separately identifiable "
                "E/M is documented; otherwise remove the visit",
            )


BND_B8 = Rule(
    id="BND-B8",
    title="Peripheral IV start is part of the infusion",
    checks="Removes 36000 or 36410 on a date with an infusion, push or hydration code.",
    why="Access to the vein is included in drug administration (NCCI, IOM 100-04 ch.12).",
    confidence=H,
    section="6.1 B8",
    sources=("S29",),
    severity=WARN,
)


@date_check(BND_B8)
def iv_start_with_infusion(v: ClaimView, day: date, lines: tuple[Line, ...]) -> None:
    infusions = [x for x in lines if x.code in INFUSION_OR_PUSH]
    for x in lines:
        if x.code in PERIPHERAL_IV_START and infusions:
            remove_line(
                v, BND_B8, x, infusions, f"{x.code} on {day} is part of the drug administration."
            )


BND_B9 = Rule(
    id="BND-B9",
    title="Pump initiation and refill are not billed on one date",
    checks="Flags 96416 or 96425 with 96521 or 96522 on the same date.",
    why=(
        "Refill and maintenance are part of the initiation that day (older guidance; flag, do "
        "not auto-deny: spec 8 Q9)."
    ),
    confidence=M,
    section="6.1 B9, 2.10 V10",
    sources=("S26",),
    severity=ERR,
)


@date_check(BND_B9)
def pump_initiation_with_refill(v: ClaimView, day: date, lines: tuple[Line, ...]) -> None:
    init = [x for x in lines if x.code in PUMP_INITIATION]
    refill = [x for x in lines if x.code in PUMP_REFILL]
    for r in refill:
        v.decided(r, init)
    if init and refill:
        v.report(
            BND_B9,
            f"Pump initiation and refill on {day}.",
            [*init, *refill],
            suggested_correction="report the initiation only",
        )


BND_B9M = Rule(
    id="BND-B9M",
    title="Medicare: no pump refill with chemotherapy administration on one date",
    checks=(
        "For a Medicare payer, flags 96521 or 96522 with another chemotherapy administration "
        "code on the same date."
    ),
    why=(
        "Older Medicare guidance: refill/maintenance is not paid with chemotherapy "
        "administration the same day."
    ),
    confidence=M,
    section="6.1 B9",
    sources=("S26",),
    severity=ERR,
)


@date_check(BND_B9M)
def medicare_pump_refill_with_chemotherapy(
    v: ClaimView, day: date, lines: tuple[Line, ...]
) -> None:
    refill = [x for x in lines if x.code in PUMP_REFILL]
    chemo = [
        x for x in lines if x.code in CHEMO_ADMIN and x.code not in PUMP_REFILL | PUMP_INITIATION
    ]
    if v.medicare and refill and chemo:
        for r in refill:
            v.decided(r, chemo)
        v.report(
            BND_B9M,
            f"Pump refill and chemotherapy administration on {day} (Medicare).",
            [*chemo, *refill],
        )


BND_B11 = Rule(
    id="BND-B11",
    title="Payer rule: hydration beside another infusion needs modifier 59",
    checks=(
        "With a payer policy row, flags hydration billed on a date with another infusion "
        "without modifier 59."
    ),
    why="One payer requires a separate diagnosis and modifier 59 on such hydration.",
    confidence=M,
    section="6.1 B11",
    sources=("S29",),
    severity=ERR,
    payer_actions=(
        PayerAction("require_modifier", (Parameter("modifier", ParameterKind.MODIFIER, "59"),)),
    ),
)


@date_check(BND_B11)
def payer_hydration_modifier(v: ClaimView, day: date, lines: tuple[Line, ...]) -> None:
    hydration = [x for x in lines if x.code in HYDRATION]
    others = [x for x in lines if x.code in OTHER_INFUSION]
    if not hydration:
        return
    for policy in v.policies(BND_B11):
        modifier = policy.str_param("modifier")
        lacking = [x for x in hydration if modifier not in x.modifiers]
        if others and lacking:
            v.report_policy(
                BND_B11,
                policy,
                f"Hydration on {day} beside another infusion: payer policy {policy.policy_id} "
                f"requires modifier {modifier} and a separate diagnosis.",
                lacking,
            )


BND_B12 = Rule(
    id="BND-B12",
    title="Payer rule: hydration of 500 mL or less needs confirmation",
    checks="With a payer policy row, flags hydration whose volume is 500 mL or less.",
    why=(
        "Historic MAC LCD language judged small-volume hydration not reasonable; the current "
        "position was not retrieved."
    ),
    confidence=NC,
    section="6.1 B12",
    sources=("S10",),
    payer_actions=(PayerAction("review", (Parameter("max_ml", ParameterKind.DECIMAL, "500"),)),),
)


@date_check(BND_B12)
def payer_small_volume_hydration(v: ClaimView, day: date, lines: tuple[Line, ...]) -> None:
    hydration = [x for x in lines if x.code in HYDRATION]
    if not hydration:
        return
    for policy in v.policies(BND_B12):
        limit = policy.decimal_param("max_ml")
        ids = {a for x in hydration for a in x.admin_ids}
        volume = sum(
            (a.drug.dose for a in v.claim.administrations
             if a.admin_id in ids and a.drug.dose_unit.lower() in ("ml", "cc")),
            Decimal(0),
        )  # fmt: skip
        if ids and volume <= limit:
            v.report_policy(
                BND_B12,
                policy,
                f"Hydration of {volume} mL on {day}: payer "
                f"policy {policy.policy_id} questions {limit} mL or less.",
                hydration,
            )


NCCI_PTP = Rule(
    id="NCCI-PTP",
    title="NCCI procedure-to-procedure pairs on one date",
    checks=(
        "For every pair of codes on one date of service that the CMS PTP table edits, the "
        "column-two code is not payable. Modifier indicator 0: it is removed. Indicator 1: "
        "allowed only with an NCCI-bypass modifier (59, XE, XP, XS, XU, ...) on either line, "
        "so the claim goes to review without one."
    ),
    why="CMS NCCI edits; the I/OCE applies the same table to hospital outpatient claims.",
    confidence=H,
    section="6.1, 8 Q20",
    sources=("PTP", "S19"),
    severity=ERR,
    example="96413 and 96372 on one date with no modifier.",
)


@claim_check(NCCI_PTP)
def ncci_procedure_to_procedure(v: ClaimView) -> None:
    table = v.ptp_table
    for day, lines in v.by_date.items():
        codes = {x.code for x in lines}
        seen: set[tuple[str, str]] = set()
        for i, a in enumerate(lines):
            partners = table.partners.get(a.code)
            if not partners or partners.isdisjoint(codes):
                continue
            for b in lines[i + 1 :]:
                if b.code not in partners or (a.code, b.code, day) in v.handled:
                    continue
                edit = table.edit(a.code, b.code, day)
                if edit is None or (edit.column1, edit.column2) in seen:
                    continue
                seen.add((edit.column1, edit.column2))
                col1 = a if a.code == edit.column1 else b
                col2 = b if col1 is a else a
                if edit.modifier_indicator == "1" and (
                    (col1.modifiers | col2.modifiers) & v.pack.bypass_modifiers.values("*", day)
                ):
                    continue
                if edit.modifier_indicator == "0":
                    remove_line(
                        v,
                        NCCI_PTP,
                        col2,
                        [col1],
                        f"NCCI PTP edit {edit.column1}/"
                        f"{edit.column2} (modifier indicator 0) on {day}: {edit.column2} is "
                        "not payable beside it.",
                    )
                else:
                    v.report(
                        NCCI_PTP,
                        f"NCCI PTP edit {edit.column1}/{edit.column2} (modifier "
                        f"indicator 1) on {day} and no NCCI-bypass modifier.",
                        [col1, col2],
                        suggested_correction=f"append 59, XS, XU or XE to {edit.column2} "
                        f"if it was distinct and documented; otherwise remove it",
                    )


NCCI_ADDON = Rule(
    id="NCCI-ADDON",
    title="A billed add-on code needs its primary",
    checks=(
        "Flags a billed add-on code (drug-administration or type 1 map) without an allowed "
        "primary code on the same date."
    ),
    why="Add-on codes are never paid alone.",
    confidence=H,
    section="2.10 V1",
    sources=("ADDON",),
    severity=ERR,
)


@claim_check(NCCI_ADDON)
def addon_without_primary(v: ClaimView) -> None:
    table = v.pack.billed_addons
    addons = table.keys()
    for day, lines in v.by_date.items():
        codes = {x.code for x in lines}
        for x in lines:
            # Add-ons the engine computed were already checked against the MAR (ADM-D3).
            if x.billed and x.code in addons:
                allowed = table.values(x.code, day)
                if allowed and not (allowed & codes):
                    v.report(
                        NCCI_ADDON,
                        f"Add-on {x.code} on {day} without an allowed "
                        f"primary ({', '.join(sorted(allowed)[:6])}"
                        f"{', ...' if len(allowed) > 6 else ''}).",
                        [x],
                    )


NCCI_MUE = Rule(
    id="NCCI-MUE",
    title="Units within the medically unlikely edit",
    checks=(
        "Compares units per code with the MUE of the claim type: per line for adjudication "
        "indicator 1, per date of service for 2 (policy, absolute) and 3 (clinical, "
        "appealable)."
    ),
    why="Units above the MUE are denied; MAI 2 cannot be overridden, MAI 3 only on appeal.",
    confidence=M,
    section="6.2, 2.10 V3",
    sources=("MUE", "S23", "S67"),
    severity=ERR,
)


@claim_check(NCCI_MUE)
def medically_unlikely_units(v: ClaimView) -> None:
    table = v.pack.mue_facility if v.facility else v.pack.mue_practitioner
    per_day: dict[tuple[str, date], list[Line]] = defaultdict(list)
    for x in v.lines:
        if x.code in table:
            per_day[(x.code, x.dos)].append(x)
    for (code, day), lines in per_day.items():
        mue = table[code]
        if mue.adjudication == 1:
            over = [x for x in lines if x.units > mue.value]
            total = max((x.units for x in over), default=Decimal(0))
        else:
            over = lines if sum((x.units for x in lines), Decimal(0)) > mue.value else []
            total = sum((x.units for x in lines), Decimal(0))
        if over:
            kind = {1: "per line", 2: "per date, policy (no override)",
                    3: "per date, clinical (appealable)"}[mue.adjudication]  # fmt: skip
            v.report(
                NCCI_MUE,
                f"{code} on {day}: {total} units exceed the MUE of {mue.value} ({kind}).",
                over,
                suggested_correction=f"bill at most {mue.value} units of {code} on {day}",
            )


# The rules this module declares, for the catalogue.
RULES: tuple[Rule, ...] = (
    BND_B2,
    BND_B3,
    BND_B7,
    BND_B7E,
    BND_B8,
    BND_B9,
    BND_B9M,
    BND_B11,
    BND_B12,
    NCCI_PTP,
    NCCI_ADDON,
    NCCI_MUE,
)
