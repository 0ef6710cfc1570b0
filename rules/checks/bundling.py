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
from rules.cms_tables import PtpEdit
from rules.codegroups import (
    CHEMO_ADMIN,
    DEVICE_BLOOD_DRAW,
    DRUG_ADMIN,
    EM_VISITS,
    HYDRATION,
    IV_INFUSION_OR_PUSH,
    OTHER_INFUSION,
    PERIPHERAL_IV_START,
    PUMP_INITIATION,
    PUMP_REFILL,
    is_lab,
)
from rules.rule import ERR, NC, WARN, H, M, Parameter, ParameterKind, PayerAction, Rule
from rules.sources import authority
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
    authority=(
        authority(
            "IOM-12",
            (
                "§30.5 Chemotherapy administration and nonchemotherapy injections and infusions:"
                " 96523 only when it is the only service that day"
            ),
        ),
        authority("NCCI-PTP-EDITS"),
    ),
    action="Nothing to do: the line is removed from the claim sent",
)


@date_check(BND_B2)
def port_irrigation_with_other_services(v: ClaimView, day: date, lines: tuple[Line, ...]) -> None:
    if "96523" not in v.codes_on[day]:
        return
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
    authority=(
        authority("CPT-VASCULAR", "36591, 36592: reported only with laboratory services that day"),
        authority("NCCI-PTP-EDITS"),
    ),
    action=(
        "Remove the blood draw, or the other non-laboratory service, whichever was not performed"
    ),
)


@date_check(BND_B3)
def device_blood_draw(v: ClaimView, day: date, lines: tuple[Line, ...]) -> None:
    if v.codes_on[day].isdisjoint(DEVICE_BLOOD_DRAW):
        return
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


_ADMINISTRATION = DRUG_ADMIN - {"96523"}


def _administration(lines: tuple[Line, ...]) -> list[Line]:
    return [x for x in lines if x.code in _ADMINISTRATION]


BND_B7 = Rule(
    id="BND-B7",
    title="99211 is never billed with drug administration",
    checks="Removes 99211 on a date with drug administration (with or without modifier 25).",
    why="CMS: the nurse visit is part of the administration service.",
    confidence=H,
    section="6.1 B7, 2.10 V8",
    sources=("S6", "S7"),
    severity=WARN,
    authority=(
        authority("CMS-EM-2005"),
        authority(
            "NCCI-POLICY-MANUAL",
            (
                "chapter XI Medicine: drug administration (hydration, injections, infusions, "
                "chemotherapy); evaluation and management with drug administration"
            ),
        ),
    ),
    action="Nothing to do: the line is removed from the claim sent",
)


@date_check(BND_B7)
def nurse_visit_with_administration(v: ClaimView, day: date, lines: tuple[Line, ...]) -> None:
    if "99211" not in v.codes_on[day]:
        return
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
    authority=(
        authority("CPT-EM", "modifier 25: significant, separately identifiable E/M service"),
        authority(
            "NCCI-POLICY-MANUAL",
            (
                "chapter XI Medicine: drug administration (hydration, injections, infusions, "
                "chemotherapy); evaluation and management with drug administration"
            ),
        ),
    ),
    action=(
        "Append 25 if a significant, separately identifiable E/M is documented; otherwise remove"
        " the visit"
    ),
)


@date_check(BND_B7E)
def visit_without_modifier_25(v: ClaimView, day: date, lines: tuple[Line, ...]) -> None:
    if v.codes_on[day].isdisjoint(EM_VISITS):
        return
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
    checks=(
        "Removes 36000 or 36410 on a date with an IV infusion, push or hydration code "
        "(96360-96368, 96374-96376, 96409-96417, C8957, G0498); an SQ/IM injection alone "
        "does not absorb it."
    ),
    why="Access to the vein is included in drug administration (NCCI, IOM 100-04 ch.12).",
    confidence=H,
    section="6.1 B8",
    sources=("S29",),
    severity=WARN,
    authority=(
        authority(
            "NCCI-POLICY-MANUAL",
            (
                "chapter XI Medicine: drug administration (hydration, injections, infusions, "
                "chemotherapy): establishing IV access is included"
            ),
        ),
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Introduction: initial, sequential and concurrent services; time-based codes; "
                "included services: included services"
            ),
        ),
    ),
    action="Nothing to do: the line is removed from the claim sent",
)


@date_check(BND_B8)
def iv_start_with_infusion(v: ClaimView, day: date, lines: tuple[Line, ...]) -> None:
    if v.codes_on[day].isdisjoint(PERIPHERAL_IV_START):
        return
    infusions = [x for x in lines if x.code in IV_INFUSION_OR_PUSH]
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
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Chemotherapy and other highly complex drug or biologic administration "
                "(96401-96549): 96521, 96522 with 96416, 96425"
            ),
        ),
        authority("NCCI-PTP-EDITS"),
    ),
    action="Report the initiation only",
)


@date_check(BND_B9)
def pump_initiation_with_refill(v: ClaimView, day: date, lines: tuple[Line, ...]) -> None:
    if v.codes_on[day].isdisjoint(PUMP_REFILL):
        return  # every step below starts from a refill
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
    authority=(
        authority(
            "IOM-12",
            "§30.5 Chemotherapy administration and nonchemotherapy injections and infusions",
        ),
    ),
    action=(
        "Confirm with the Medicare contractor whether the refill is payable beside chemotherapy "
        "administration that day"
    ),
)


@date_check(BND_B9M)
def medicare_pump_refill_with_chemotherapy(
    v: ClaimView, day: date, lines: tuple[Line, ...]
) -> None:
    if not v.medicare or v.codes_on[day].isdisjoint(PUMP_REFILL):
        return
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
    authority=(
        authority(
            "NCCI-POLICY-MANUAL",
            (
                "chapter I General Correct Coding Policies: modifiers and modifier indicators "
                "(59, XE, XP, XS, XU)"
            ),
        ),
    ),
    action=(
        "Append the modifier and a separate diagnosis to the hydration if they are documented, "
        "as the payer's policy requires"
    ),
)


@date_check(BND_B11)
def payer_hydration_modifier(v: ClaimView, day: date, lines: tuple[Line, ...]) -> None:
    if v.codes_on[day].isdisjoint(HYDRATION):
        return
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
    authority=(authority("CPT-DRUG-ADMIN", "Hydration (96360-96361)"),),
    action="Confirm the hydration's medical necessity under the payer's policy for small volumes",
)


@date_check(BND_B12)
def payer_small_volume_hydration(v: ClaimView, day: date, lines: tuple[Line, ...]) -> None:
    if v.codes_on[day].isdisjoint(HYDRATION):
        return
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
        "For every pair of lines on one date of service whose codes the CMS PTP table edits, "
        "the column-two line is not payable. Modifier indicator 0: it is removed (one "
        "correction per removed line). Indicator 1: allowed only with an NCCI-bypass "
        "modifier (59, XE, XP, XS, XU, ...) on either line of that pair, so the claim goes to "
        "review without one. Lines an earlier rule removed are not judged."
    ),
    why=(
        "CMS NCCI edits deny the column-two code billed with the column-one code on one date "
        "unless the edit allows a modifier and the services were distinct; the I/OCE applies "
        "them to hospital claims."
    ),
    confidence=H,
    section="6.1, 8 Q20",
    sources=("PTP", "S19"),
    severity=ERR,
    example="96413 and 96372 on one date with no modifier.",
    authority=(
        authority("NCCI-PTP-EDITS"),
        authority(
            "NCCI-POLICY-MANUAL",
            (
                "chapter I General Correct Coding Policies: modifiers and modifier indicators "
                "(59, XE, XP, XS, XU)"
            ),
        ),
    ),
    action=(
        "Append an NCCI-bypass modifier only when the services were distinct and documented; "
        "otherwise remove the column-two code"
    ),
)


@claim_check(NCCI_PTP)
def ncci_procedure_to_procedure(v: ClaimView) -> None:
    """Judged per pair of lines, as the I/OCE does (a column-two code on two lines needs the
    bypass modifier on each): certain removals (indicator 0) first, then the pairs left."""
    table = v.ptp_table
    for day, lines in v.by_date.items():
        codes = {x.code for x in lines}
        pairs: list[tuple[PtpEdit, Line, Line]] = []
        for i, a in enumerate(lines):
            partners = table.partners.get(a.code)
            if not partners or partners.isdisjoint(codes):
                continue
            for b in lines[i + 1 :]:
                if b.code not in partners or (a.code, b.code, day) in v.handled:
                    continue
                edit = table.edit(a.code, b.code, day)
                if edit is not None:
                    pairs.append((edit, a, b) if a.code == edit.column1 else (edit, b, a))
        # Lines are compared by identity: two lines of one code are two lines.
        gone: set[int] = set()
        for edit, col1, col2 in pairs:
            if edit.modifier_indicator != "0" or id(col1) in gone or id(col2) in gone:
                continue
            gone.add(id(col2))
            remove_line(
                v,
                NCCI_PTP,
                col2,
                [col1],
                f"NCCI PTP edit {edit.column1}/{edit.column2} (modifier indicator 0) on {day}: "
                f"{edit.column2} is not payable beside it.",
            )
        flagged: set[int] = set()
        for edit, col1, col2 in pairs:
            if edit.modifier_indicator != "1" or {id(col1), id(col2)} & (gone | flagged):
                continue
            if (col1.modifiers | col2.modifiers) & v.pack.bypass_modifiers.values("*", day):
                continue
            flagged.add(id(col2))
            where = f"line {col2.line_number}" if col2.billed else "the computed line"
            v.report(
                NCCI_PTP,
                f"NCCI PTP edit {edit.column1}/{edit.column2} (modifier indicator 1) on {day}: "
                f"{where} of {edit.column2} has no NCCI-bypass modifier.",
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
    authority=(
        authority("NCCI-ADDON-EDITS"),
        authority("NCCI-POLICY-MANUAL", "chapter I General Correct Coding Policies: add-on codes"),
    ),
    action="Add the primary service the add-on belongs to, or remove the add-on",
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
    authority=(authority("NCCI-MUE-EDITS"),),
    action="Bill at most the MUE's units, or document and appeal when the indicator allows it",
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
