"""Bundling and unit limits on the lines to be billed (spec §6.1, §6.2, §2.10).

The specific rules run first and mark the code pairs they decide, so the generic NCCI PTP
check does not report the same pair twice. Certain fixes (an H rule removing a submitted
line) are applied as corrections; everything else goes to review with a suggestion.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

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
from rules.registry import rule
from rules.rule import Rule
from schemas.decision import CorrectionAction, Severity


def check_bundling(v: ClaimView) -> None:
    for day, lines in v.by_date.items():
        _port_irrigation(v, day, lines)
        _device_draw(v, day, lines)
        _visits(v, day, lines)
        _iv_start(v, day, lines)
        _pumps(v, day, lines)
        _payer_hydration(v, day, lines)
    _ptp(v)
    _addons(v)
    _mue(v)


def _remove(v: ClaimView, r: Rule, line: Line, beside: list[Line], message: str) -> None:
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


def _port_irrigation(v: ClaimView, day: date, lines: tuple[Line, ...]) -> None:
    others = [x for x in lines if x.code != "96523"]
    for x in lines:
        if x.code == "96523" and x.billed and others:
            _remove(
                v,
                rule("BND-B2"),
                x,
                others,
                f"96523 on {day} beside {', '.join(sorted({o.code for o in others}))}.",
            )


def _device_draw(v: ClaimView, day: date, lines: tuple[Line, ...]) -> None:
    others = [x for x in lines if x.code not in DEVICE_BLOOD_DRAW and not is_lab(x.code)
              and not x.code.startswith(("J", "Q"))]  # fmt: skip
    for x in lines:
        if x.code in DEVICE_BLOOD_DRAW and others:
            v.decided(x, others)
            v.report(
                rule("BND-B3"),
                f"{x.code} on {day} with other non-laboratory services "
                f"({', '.join(sorted({o.code for o in others}))}).",
                [x, *others],
                suggested_correction=f"remove {x.code}",
            )


def _visits(v: ClaimView, day: date, lines: tuple[Line, ...]) -> None:
    admin = [x for x in lines if x.code in DRUG_ADMIN - {"96523"}]
    if not admin:
        return
    for x in lines:
        if x.code == "99211":
            _remove(v, rule("BND-B7"), x, admin, f"99211 on {day} with drug administration.")
        elif x.code in EM_VISITS and "25" not in x.modifiers:
            v.decided(x, admin)
            v.report(
                rule("BND-B7E"),
                f"{x.code} on {day} with drug administration has no modifier 25.",
                [x],
                suggested_correction="append 25 if a significant, separately identifiable "
                "E/M is documented; otherwise remove the visit",
            )


def _iv_start(v: ClaimView, day: date, lines: tuple[Line, ...]) -> None:
    infusions = [x for x in lines if x.code in INFUSION_OR_PUSH]
    for x in lines:
        if x.code in PERIPHERAL_IV_START and infusions:
            _remove(
                v,
                rule("BND-B8"),
                x,
                infusions,
                f"{x.code} on {day} is part of the drug administration.",
            )


def _pumps(v: ClaimView, day: date, lines: tuple[Line, ...]) -> None:
    init = [x for x in lines if x.code in PUMP_INITIATION]
    refill = [x for x in lines if x.code in PUMP_REFILL]
    for r in refill:
        v.decided(r, init)
    if init and refill:
        v.report(
            rule("BND-B9"),
            f"Pump initiation and refill on {day}.",
            [*init, *refill],
            suggested_correction="report the initiation only",
        )
    chemo = [
        x for x in lines if x.code in CHEMO_ADMIN and x.code not in PUMP_REFILL | PUMP_INITIATION
    ]
    if v.medicare and refill and chemo:
        for r in refill:
            v.decided(r, chemo)
        v.report(
            rule("BND-B9M"),
            f"Pump refill and chemotherapy administration on {day} (Medicare).",
            [*chemo, *refill],
        )


def _payer_hydration(v: ClaimView, day: date, lines: tuple[Line, ...]) -> None:
    hydration = [x for x in lines if x.code in HYDRATION]
    if not hydration:
        return
    others = [x for x in lines if x.code in OTHER_INFUSION]
    for policy in v.policies("BND-B11"):
        modifier = policy.parameters.get("modifier", "59")
        lacking = [x for x in hydration if modifier not in x.modifiers]
        if others and lacking:
            v.report_policy(
                rule("BND-B11"),
                policy,
                f"Hydration on {day} beside another infusion: payer policy {policy.policy_id} "
                f"requires modifier {modifier} and a separate diagnosis.",
                lacking,
            )
    for policy in v.policies("BND-B12"):
        limit = Decimal(policy.parameters.get("max_ml", "500"))
        ids = {a for x in hydration for a in x.admin_ids}
        volume = sum(
            (a.drug.dose for a in v.claim.administrations
             if a.admin_id in ids and a.drug.dose_unit.lower() in ("ml", "cc")),
            Decimal(0),
        )  # fmt: skip
        if ids and volume <= limit:
            v.report_policy(
                rule("BND-B12"),
                policy,
                f"Hydration of {volume} mL on {day}: payer policy "
                f"{policy.policy_id} questions {limit} mL or less.",
                hydration,
            )


def _ptp(v: ClaimView) -> None:
    table = v.pack.ptp_hospital
    if not v.facility:
        if len(v.pack.ptp_practitioner):
            table = v.pack.ptp_practitioner
        elif any(
            len({x.code for x in lines if not x.code.startswith(("J", "Q", "A"))}) > 1
            for lines in v.by_date.values()
        ):
            v.report(
                rule("PACK-Q2"),
                "No practitioner PTP table in this pack: the hospital "
                "outpatient edits were applied to this professional claim.",
            )
    ptp = rule("NCCI-PTP")
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
                    _remove(
                        v,
                        ptp,
                        col2,
                        [col1],
                        f"NCCI PTP edit {edit.column1}/"
                        f"{edit.column2} (modifier indicator 0) on {day}: {edit.column2} is "
                        "not payable beside it.",
                    )
                else:
                    v.report(
                        ptp,
                        f"NCCI PTP edit {edit.column1}/{edit.column2} (modifier "
                        f"indicator 1) on {day} and no NCCI-bypass modifier.",
                        [col1, col2],
                        suggested_correction=f"append 59, XS, XU or XE to {edit.column2} "
                        f"if it was distinct and documented; otherwise remove it",
                    )


def _addons(v: ClaimView) -> None:
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
                        rule("NCCI-ADDON"),
                        f"Add-on {x.code} on {day} without an allowed "
                        f"primary ({', '.join(sorted(allowed)[:6])}"
                        f"{', ...' if len(allowed) > 6 else ''}).",
                        [x],
                    )


def _mue(v: ClaimView) -> None:
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
                rule("NCCI-MUE"),
                f"{code} on {day}: {total} units exceed the MUE of {mue.value} ({kind}).",
                over,
                suggested_correction=f"bill at most {mue.value} units of {code} on {day}",
            )
