"""Drug supply lines (spec 2.10 V13): units billed against the dose given. Pure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from decimal import ROUND_CEILING, Decimal

from rules.drug_catalogue import DrugInfo
from rules.rule import ERR, WARN, M, Rule
from rules.sources import authority
from schemas.claim import Purpose, SubmittedClaim
from schemas.decision import Finding

# Dose units to a base unit per dimension; a pair that does not convert is not compared.
_UNITS: dict[str, tuple[str, Decimal]] = {
    "mg": ("mass", Decimal(1)),
    "g": ("mass", Decimal(1000)),
    "mcg": ("mass", Decimal("0.001")),
    "ug": ("mass", Decimal("0.001")),
    "ml": ("volume", Decimal(1)),
    "cc": ("volume", Decimal(1)),
    "l": ("volume", Decimal(1000)),
    "units": ("units", Decimal(1)),
    "unit": ("units", Decimal(1)),
    "u": ("units", Decimal(1)),
    "meq": ("meq", Decimal(1)),
}


ADM_S1 = Rule(
    id="ADM-S1",
    title="Drug supply units match the dose",
    checks=(
        "Compares the submitted units of each drug's HCPCS line with ceil(dose / billing unit) "
        "for the date."
    ),
    why="Units billed must match the dose administered.",
    confidence=M,
    section="2.10 V13",
    sources=("DRUGS",),
    severity=ERR,
    authority=(
        authority("HCPCS", "billing unit in the code descriptor"),
        authority("IOM-17", "units of service for drugs"),
    ),
    action="Bill the units the dose and the code's billing unit give",
)

ADM_S2 = Rule(
    id="ADM-S2",
    title="An administered drug has a supply line",
    checks="Warns when a drug given with a HCPCS code has no line on the claim for the date.",
    why="The drug itself is billed separately from its administration.",
    confidence=M,
    section="2.10 V13",
    sources=("DRUGS",),
    severity=WARN,
    authority=(
        authority("IOM-17", "drugs are billed on their own HCPCS lines"),
        authority("HCPCS"),
    ),
    action=(
        "Add the drug's HCPCS line with the units its dose gives, unless the drug is packaged or"
        " was supplied free"
    ),
)


def _plain(amount: Decimal) -> str:
    return format(amount.normalize(), "f")


def _in_base(amount: Decimal, unit: str) -> tuple[str, Decimal] | None:
    known = _UNITS.get(unit.strip().lower())
    return None if known is None else (known[0], amount * known[1])


def expected_units(dose: Decimal, dose_unit: str, unit_amount: Decimal, unit: str) -> int | None:
    """ceil(dose / billing unit), or None when the units do not convert."""
    given, billed = _in_base(dose, dose_unit), _in_base(unit_amount, unit)
    if given is None or billed is None or given[0] != billed[0]:
        return None
    return int((given[1] / billed[1]).to_integral_value(rounding=ROUND_CEILING))


def check_supply(claim: SubmittedClaim, drugs: Mapping[str, DrugInfo]) -> list[Finding]:
    """``drugs``: each MAR entry's drug as normalisation classified it (by admin id)."""
    doses: dict[tuple[str, date], list[tuple[Decimal, str, str]]] = defaultdict(list)
    for a in sorted(claim.administrations, key=lambda x: (x.start, x.admin_id)):
        if a.purpose is not Purpose.TREATMENT:
            continue
        drug = drugs.get(a.admin_id)
        if drug is None or not drug.hcpcs or drug.unit_amount is None:
            continue
        doses[(drug.hcpcs, a.start.date())].append((a.drug.dose, a.drug.dose_unit, a.admin_id))
    if not doses:
        return []
    # Only the lines of a drug given that day are compared.
    billed: dict[tuple[str, date], tuple[Decimal, list[int]]] = {}
    for line in claim.service_lines:
        key = (line.code, line.date_of_service)
        if key in doses:
            units, numbers = billed.get(key, (Decimal(0), []))
            billed[key] = (units + line.units, [*numbers, line.line_number])

    findings: list[Finding] = []
    for (hcpcs, on), given in sorted(doses.items()):
        drug = next(drugs[d[2]] for d in given)
        assert drug.unit_amount is not None
        dose_units = {d[1].strip().lower() for d in given}
        total = sum((d[0] for d in given), Decimal(0))
        admin_ids = [d[2] for d in given]
        expected = (
            expected_units(total, given[0][1], drug.unit_amount, drug.unit)
            if len(dose_units) == 1
            else None
        )
        if expected is None:
            continue  # doses in units that do not convert: nothing to compare, no guess
        submitted, line_numbers = billed.get((hcpcs, on), (Decimal(0), []))
        if not line_numbers:
            findings.append(
                ADM_S2.finding(
                    f"{hcpcs} given on {on} ({_plain(total)} {given[0][1]}) has no line on "
                    f"the claim; expected {expected} unit(s).",
                    admin_ids,
                )
            )
        elif submitted != expected:
            findings.append(
                ADM_S1.finding(
                    f"{hcpcs} on {on}: {_plain(submitted)} unit(s) billed, {_plain(total)} "
                    f"{given[0][1]} given = {expected} unit(s) of {_plain(drug.unit_amount)} "
                    f"{drug.unit}.",
                    admin_ids,
                    line_numbers,
                    suggested_correction=f"bill {hcpcs} x {expected} on {on}",
                )
            )
    return findings


# The rules this module declares, for the catalogue.
RULES: tuple[Rule, ...] = (ADM_S1, ADM_S2)
