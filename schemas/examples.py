"""Realistic example claims (synthetic, no real patient): for docs, demo, tests and benchmarks.

``example_claim(n)`` is deterministic in ``n``: the same number always gives the
same claim, with 1 to 12 MAR entries drawn from a small oncology formulary.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from typing import Any

# name, HCPCS, dose, unit, route, minutes (None: injection), purpose
_FORMULARY: list[tuple[str, str | None, str, str, str, int | None, str]] = [
    ("ondansetron", "J2405", "8", "mg", "IV", 3, "TREATMENT"),
    ("dexamethasone", "J1100", "12", "mg", "IV", 15, "TREATMENT"),
    ("famotidine", "J3490", "20", "mg", "IV", 2, "TREATMENT"),
    ("paclitaxel", "J9267", "300", "mg", "IV", 180, "TREATMENT"),
    ("carboplatin", "J9045", "600", "mg", "IV", 30, "TREATMENT"),
    ("oxaliplatin", "J9263", "150", "mg", "IV", 120, "TREATMENT"),
    ("leucovorin", "J0640", "700", "mg", "IV", 120, "TREATMENT"),
    ("gemcitabine", "J9201", "1000", "mg", "IV", 30, "TREATMENT"),
    ("normal saline", "J7030", "1000", "mL", "IV", 60, "TREATMENT"),
    ("iron sucrose", "J1756", "200", "mg", "IV", 30, "TREATMENT"),
    ("leuprolide depot", "J9217", "7.5", "mg", "IM", None, "TREATMENT"),
    ("denosumab", "J0897", "120", "mg", "SQ", None, "TREATMENT"),
    ("normal saline flush", None, "10", "mL", "IV", 1, "FLUSH"),
]

_DIAGNOSES = [("Z51.11", "C50.911"), ("Z51.11", "C18.7"), ("Z51.11", "C34.90"), ("D50.0", "C61")]
_TZ = timezone(timedelta(hours=-5))


def example_claim(n: int, administrations: int | None = None) -> dict[str, Any]:
    """A schema-valid submitted claim as a JSON-ready dict."""
    rnd = random.Random(n)
    count = administrations if administrations is not None else rnd.randint(1, 12)
    facility = rnd.random() < 0.6
    day = date(2026, 3, 2) + timedelta(days=n % 200)
    clock = datetime(day.year, day.month, day.day, 8, 30, tzinfo=_TZ)
    encounter = f"E{n}"
    admins: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    for i in range(count):
        name, hcpcs, dose, unit, route, minutes, purpose = rnd.choice(_FORMULARY)
        start = clock + timedelta(minutes=rnd.randint(1, 10))
        stop = start + timedelta(minutes=minutes) if minutes is not None else start
        clock = stop
        drug: dict[str, Any] = {"name": name, "dose": dose, "dose_unit": unit}
        if hcpcs:
            drug["hcpcs"] = hcpcs
        admins.append(
            {
                "admin_id": f"A{n}-{i + 1}",
                "encounter_id": encounter,
                "drug": drug,
                "route": route,
                "documented_technique": "INJECTION"
                if minutes is None
                else ("PUSH" if minutes <= 15 else "INFUSION"),
                "access_site_id": "port-1" if route == "IV" else None,
                "start": start.isoformat(),
                "stop": stop.isoformat(),
                "purpose": purpose,
                "order_present": True,
                "indication_present": True,
            }
        )
        if hcpcs:
            lines.append(
                {
                    "line_number": len(lines) + 1,
                    "code": hcpcs,
                    "units": "1",
                    "revenue_code": "0636" if facility else None,
                    "date_of_service": day.isoformat(),
                }
            )
    first, second = _DIAGNOSES[n % len(_DIAGNOSES)]
    return {
        "schema_version": "1",
        "claim_id": f"CLM-{n:08d}",
        "claim_version": 1,
        "claim_type": "institutional" if facility else "professional",
        "bill_type": "0131" if facility else None,
        "place_of_service": "22" if facility else "11",
        "setting": "hospital_outpatient" if facility else "physician_office",
        "payer": {"payer_id": "MEDICARE", "name": "Medicare Part B", "plan": "FFS"},
        "patient_ref": f"PSN-{rnd.getrandbits(48):012x}",
        "statement_from": day.isoformat(),
        "statement_to": day.isoformat(),
        "diagnoses": [first, second],
        "service_lines": lines,
        "encounters": [{"encounter_id": encounter, "start": admins[0]["start"]}] if admins else [],
        "administrations": admins,
    }
