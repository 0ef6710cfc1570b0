"""Realistic example claims (synthetic, no real patient): for docs, demo, tests and benchmarks.

``example_claim(n)`` is deterministic in ``n``: the same number always gives the
same claim, with 1 to 12 MAR entries drawn from a small oncology formulary.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from typing import Any

# name, HCPCS, dose, unit, route, minutes (None: injection), purpose, billed units
# (units = dose / the HCPCS billing unit, so that a correct claim bills correctly)
_FORMULARY: list[tuple[str, str | None, str, str, str, int | None, str, str]] = [
    ("ondansetron", "J2405", "8", "mg", "IV", 3, "TREATMENT", "8"),
    ("dexamethasone", "J1100", "12", "mg", "IV", 15, "TREATMENT", "12"),
    ("diphenhydramine", "J1200", "50", "mg", "IV", 2, "TREATMENT", "1"),
    ("paclitaxel", "J9267", "300", "mg", "IV", 180, "TREATMENT", "300"),
    ("carboplatin", "J9045", "600", "mg", "IV", 30, "TREATMENT", "12"),
    ("oxaliplatin", "J9263", "150", "mg", "IV", 120, "TREATMENT", "300"),
    ("leucovorin", "J0640", "700", "mg", "IV", 120, "TREATMENT", "14"),
    ("gemcitabine", "J9201", "1000", "mg", "IV", 30, "TREATMENT", "5"),
    ("normal saline", "J7030", "1000", "mL", "IV", 60, "TREATMENT", "1"),
    ("iron sucrose", "J1756", "200", "mg", "IV", 30, "TREATMENT", "200"),
    ("leuprolide depot", "J9217", "7.5", "mg", "IM", None, "TREATMENT", "1"),
    ("filgrastim", "J1442", "480", "mcg", "SQ", None, "TREATMENT", "480"),
    ("normal saline flush", None, "10", "mL", "IV", 1, "FLUSH", "0"),
]

_CHEMO = frozenset({"paclitaxel", "carboplatin", "oxaliplatin", "gemcitabine", "leuprolide depot"})
_CANCERS = ("C50.911", "C18.7", "C34.90", "C61")
_TZ = timezone(timedelta(hours=-5))


def example_claim(n: int, administrations: int | None = None) -> dict[str, Any]:
    """A schema-valid submitted claim as a JSON-ready dict (at most 13 MAR entries).

    Coded as a careful coder would, so the scrubber passes nearly all of them.
    """
    rnd = random.Random(n)
    count = administrations if administrations is not None else rnd.randint(1, 12)
    facility = rnd.random() < 0.6
    day = date(2026, 4, 1) + timedelta(days=n % 180)
    clock = datetime(day.year, day.month, day.day, 8, 30, tzinfo=_TZ)
    encounter = f"E{n}"
    admins: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    # Each drug at most once per claim, in a random order. An SQ or IM injection is a visit
    # of its own: beside an IV chain its code needs a modifier that only documentation can
    # justify (NCCI PTP, modifier indicator 1), which would send the example to review.
    drawn = rnd.sample(_FORMULARY, min(count, len(_FORMULARY)))
    if any(d[4] == "IV" for d in drawn):
        drawn = [d for d in drawn if d[4] == "IV"]
    for i, (name, hcpcs, dose, unit, route, minutes, purpose, units) in enumerate(drawn):
        technique = "INJECTION" if minutes is None else ("PUSH" if minutes <= 15 else "INFUSION")
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
                "documented_technique": "FLUSH" if purpose == "FLUSH" else technique,
                "access_site_id": "port-1" if route == "IV" else None,
                "start": start.isoformat(),
                "stop": stop.isoformat(),
                "purpose": purpose,
                "order_present": True,
                "indication_present": True,
            }
        )
        if hcpcs and purpose == "TREATMENT":
            lines.append(
                {
                    "line_number": len(lines) + 1,
                    "code": hcpcs,
                    "units": units,
                    "revenue_code": "0636" if facility else None,
                    "date_of_service": day.isoformat(),
                }
            )
    # Coded as a careful coder would (spec 5.1): Z51.11 first for a chemotherapy encounter,
    # otherwise the malignancy first, then anemia in neoplastic disease.
    cancer = _CANCERS[n % len(_CANCERS)]
    chemo = any(a["drug"]["name"] in _CHEMO for a in admins)
    first, second = ("Z51.11", cancer) if chemo else (cancer, "D63.0")
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


def max_size_claim(n: int, administrations: int = 500, days: int = 100) -> dict[str, Any]:
    """A schema-valid claim at the schema's limits: ``administrations`` MAR entries (500 is
    the most a claim may carry) over ``days`` encounters, and as many service lines as the
    schema takes (450). A month of daily infusions billed on one claim is the real shape."""
    base = example_claim(n, administrations=12)
    per_day = [a for a in base["administrations"] if a["route"] == "IV"] or base["administrations"]
    start_day = date.fromisoformat(base["statement_from"])
    admins: list[dict[str, Any]] = []
    encounters: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    for d in range(days):
        day = start_day + timedelta(days=d)
        encounter = f"E{n}-{d}"
        clock = datetime(day.year, day.month, day.day, 8, 0, tzinfo=_TZ)
        encounters.append({"encounter_id": encounter, "start": clock.isoformat()})
        for i in range(administrations // days):
            a = per_day[i % len(per_day)]
            length = datetime.fromisoformat(a["stop"]) - datetime.fromisoformat(a["start"])
            begin = clock + timedelta(minutes=2)
            clock = begin + length
            admins.append({**a, "admin_id": f"A{n}-{d}-{i}", "encounter_id": encounter,
                           "start": begin.isoformat(), "stop": clock.isoformat()})  # fmt: skip
        for line in base["service_lines"]:
            if len(lines) < 450:
                lines.append({**line, "line_number": len(lines) + 1,
                              "date_of_service": day.isoformat()})  # fmt: skip
    return {
        **base,
        "statement_to": (start_day + timedelta(days=days - 1)).isoformat(),
        "encounters": encounters[:100],
        "administrations": admins,
        "service_lines": lines,
    }


def crowded_claim(n: int, administrations: int = 500, holds: int = 0) -> dict[str, Any]:
    """The slowest valid claim found to decide: ``administrations`` IV infusions in one
    encounter on one access site, overlapping. What a per-record time budget must allow.
    ``holds``: pauses in each infusion, evenly spread; each multiplies the running intervals
    the overlap arithmetic compares (3 holds: ~7 times the time of none)."""
    claim = example_claim(n, administrations=12)
    drugs = [a["drug"] for a in claim["administrations"]]
    start = datetime.fromisoformat(claim["administrations"][0]["start"])
    claim["encounters"] = [{"encounter_id": f"E{n}", "start": start.isoformat()}]
    claim["administrations"] = [
        {"admin_id": f"A{n}-{i}", "encounter_id": f"E{n}", "drug": drugs[i % len(drugs)],
         "route": "IV", "documented_technique": "INFUSION", "access_site_id": "s0",
         "start": (start + timedelta(minutes=i % 60)).isoformat(),
         "stop": (start + timedelta(minutes=60 + i % 120)).isoformat(),
         "order_present": True, "indication_present": True}
        for i in range(administrations)
    ]  # fmt: skip
    for a in claim["administrations"] if holds else ():
        began, ended = datetime.fromisoformat(a["start"]), datetime.fromisoformat(a["stop"])
        step = (ended - began) / (2 * holds + 1)
        a["holds"] = [
            {"start": (began + step * (2 * k + 1)).isoformat(),
             "stop": (began + step * (2 * k + 2)).isoformat()}
            for k in range(holds)
        ]  # fmt: skip
    return claim
