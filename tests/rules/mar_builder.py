"""A compact way to write MAR scenarios as the coding specification does."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rules import Assessment
from rules.pack import current_pack
from schemas import SubmittedClaim

DAY = "2026-05-04"
OFFSET = "-05:00"


def at(clock: str, day: str = DAY) -> str:
    return f"{day}T{clock}:00{OFFSET}"


def admin(
    drug: str,
    start: str,
    stop: str | None = "same",
    *,
    hcpcs: str | None = None,
    dose: str = "1",
    unit: str = "mg",
    route: str = "IV",
    technique: str | None = None,
    purpose: str = "TREATMENT",
    site: str | None = "A",
    bag: str | None = None,
    pump: dict[str, Any] | None = None,
    order: bool = True,
    indication: bool = True,
    encounter: str = "E1",
    primary: bool = False,
    separate_site: str | None = None,
    day: str = DAY,
    holds: tuple[tuple[str, str], ...] = (),
    lesions: int | None = None,
    admin_id: str | None = None,
) -> dict[str, Any]:
    """One MAR entry. ``stop="same"`` means stop == start (an injection or a short push)."""
    if hcpcs is None and purpose == "TREATMENT":
        found = current_pack().catalogue.by_name.get(drug)
        hcpcs = found.hcpcs if found and found.hcpcs else None
    entry: dict[str, Any] = {
        "admin_id": admin_id or f"{drug.split()[0]}-{start.replace(':', '')}",
        "encounter_id": encounter,
        "drug": {
            "name": drug,
            "dose": dose,
            "dose_unit": unit,
            **({"hcpcs": hcpcs} if hcpcs else {}),
        },
        "route": route,
        "documented_technique": technique,
        "access_site_id": site,
        "start": at(start, day),
        "stop": at(start if stop == "same" else stop, day) if stop is not None else None,
        "holds": [{"start": at(a, day), "stop": at(b, day)} for a, b in holds],
        "purpose": purpose,
        "order_present": order,
        "indication_present": indication,
        "bag_id": bag,
        "pump": pump,
        "separate_site_reason": separate_site,
        "primary_reason": primary,
        "lesion_count": lesions,
    }
    return entry


def claim(
    *admins: dict[str, Any],
    setting: str = "F",
    payer: str = "MEDICARE",
    lines: tuple[tuple[str, ...], ...] = (),
    pos: str | None = None,
    day: str = DAY,
    dx: tuple[str, ...] = ("Z51.11", "C50.911"),
    plan: str | None = None,
) -> SubmittedClaim:
    """F: hospital outpatient (institutional, POS 22); P: physician office (POS 11);
    R: freestanding radiation centre (professional, POS 11).

    ``lines``: (code, units[, modifiers separated by "+"[, date]]) per submitted line."""
    facility = setting == "F"
    dates = sorted({day, *(line[3] for line in lines if len(line) > 3)})
    encounters = sorted({a["encounter_id"] for a in admins})
    return SubmittedClaim.model_validate(
        {
            "claim_id": "CLM-TEST",
            "claim_type": "institutional" if facility else "professional",
            "bill_type": "0131" if facility else None,
            "place_of_service": pos or ("22" if facility else "11"),
            "setting": {
                "F": "hospital_outpatient",
                "P": "physician_office",
                "R": "freestanding_radiation",
            }[setting],
            "payer": {"payer_id": payer, "name": payer, "plan": plan},
            "patient_ref": "PSN-TEST",
            "statement_from": dates[0],
            "statement_to": dates[-1],
            "diagnoses": list(dx),
            "service_lines": [
                {
                    "line_number": n,
                    "code": line[0],
                    "units": line[1],
                    "modifiers": [m for m in (line[2] if len(line) > 2 else "").split("+") if m],
                    "date_of_service": line[3] if len(line) > 3 else day,
                }
                for n, line in enumerate(lines, start=1)
            ],
            "encounters": [{"encounter_id": e, "start": at("00:01", day)} for e in encounters],
            "administrations": list(admins),
        }
    )


def codes(result: Assessment) -> dict[str, int]:
    """Computed administration codes with their total units."""
    totals: Counter[str] = Counter()
    for line in result.computed_lines:
        totals[line.code] += int(line.units)
    return dict(totals)


def fired(result: Assessment, rule_id: str) -> bool:
    """A rule fires when a finding carries its id or a computed line cites it."""
    return any(f.rule_id == rule_id for f in result.findings) or any(
        rule_id in line.rule_ids for line in result.computed_lines
    )


def rule_ids(result: Assessment) -> set[str]:
    return {f.rule_id for f in result.findings}
