"""Code validity by quarter and setting (CMS I/OCE HCPCS table, every code): every line's code
exists in the quarter of its date (a deleted drug code names its successor), and a hospital
claim does not carry a code OPPS does not recognise."""

from __future__ import annotations

from datetime import date

from rules.checks.check import line_check
from rules.claim_view import ClaimView, Line
from rules.rule import ERR, H, Rule
from rules.sources import authority

CODE_Q1 = Rule(
    id="CODE-Q1",
    title="A code valid in the quarter of its date of service",
    checks=(
        "Flags a code the CMS HCPCS table of the pack (every CPT/HCPCS code the I/OCE carries) "
        "does not carry for the quarter of the line's date of service: deleted before it (with "
        "the code CMS replaced a drug code with, where it has one), not yet in force, or not a "
        "code at all."
    ),
    why=(
        "Codes are added and deleted quarterly (radiation delivery codes changed in 2015 and "
        "2026, drug codes every quarter); a code not in force on the date of service is denied."
    ),
    confidence=H,
    section="6.3, 7.4",
    sources=("HCPCS-Q", "DRUGS"),
    severity=ERR,
    example="G6015 billed for a 2026-02-10 session; J9070 (cyclophosphamide) billed in 2026.",
    authority=(
        authority("HCPCS", "codes added and deleted by quarter"),
        authority("IOCE", "HCPCS table by quarter"),
    ),
    action="Bill the code in force on the date of service",
)


@line_check(CODE_Q1)
def valid_in_quarter(v: ClaimView, x: Line) -> None:
    hcpcs = v.pack.hcpcs
    ranges = hcpcs.rows.get(x.code)
    if not ranges:
        v.report(
            CODE_Q1,
            f"{x.code} on {x.dos} is not a CPT/HCPCS code of the CMS HCPCS table in this pack.",
            [x],
        )
        return
    if hcpcs.status(x.code, x.dos) is not None:
        return
    first, last = ranges[0][0][0], max(span[1] for span, _ in ranges)
    if x.dos > last:
        successor = v.pack.catalogue.successor(x.code)
        replaced = f"; CMS replaced it with {successor}" if successor else ""
        unit = _unit(v, successor, x.dos) if successor else ""
        v.report(
            CODE_Q1,
            f"{x.code} was deleted: its last day was {last}, before the date of service "
            f"{x.dos}{replaced}{unit}.",
            [x],
            suggested_correction=f"bill {successor}{unit} for this drug" if successor else None,
        )
    elif x.dos < first:
        v.report(CODE_Q1, f"{x.code} is not in force until {first}; billed for {x.dos}.", [x])
    else:
        v.report(
            CODE_Q1, f"{x.code} is not in the CMS HCPCS table for the quarter of {x.dos}.", [x]
        )


def _unit(v: ClaimView, code: str, on: date) -> str:
    """' (billed per 0.5 mg)': the successor's billing unit, when its descriptor gives one (a
    successor may bill in other units than the code it replaced)."""
    drug = v.pack.catalogue.on(code, on)
    if drug is None or drug.unit_amount is None:
        return ""
    return f" (billed per {format(drug.unit_amount.normalize(), 'f')} {drug.unit})"


CODE_B1 = Rule(
    id="CODE-B1",
    title="No code OPPS does not recognise on a hospital claim",
    checks=(
        "On an institutional claim, flags a code with OPPS status indicator B for the date "
        "(e.g. the freestanding G6001-G6017) and names the hospital code."
    ),
    why=(
        "Status B codes are not recognised on an outpatient hospital bill type; hospitals "
        "report the OPPS code for the service (radiation delivery: 77xxx, not G60xx)."
    ),
    confidence=H,
    section="1.3a, 7.4",
    sources=("HCPCS-Q", "S46", "S49"),
    severity=ERR,
    authority=(
        authority(
            "IOCE",
            "status indicator B: not recognised by OPPS on an outpatient hospital bill",
        ),
    ),
    action="Report the hospital code for the service",
)


@line_check(CODE_B1)
def status_b_on_hospital_claim(v: ClaimView, x: Line) -> None:
    hcpcs = v.pack.hcpcs
    if v.facility and hcpcs.known(x.code) and hcpcs.status(x.code, x.dos) == "B":
        hospital = sorted(v.pack.g_codes.get(x.code, ()))
        v.report(
            CODE_B1,
            f"{x.code} (OPPS status B) is not recognised on a hospital "
            f"outpatient claim on {x.dos}"
            + (f"; hospitals report {' or '.join(hospital)}." if hospital else "."),
            [x],
            suggested_correction=f"report {' or '.join(hospital)}" if len(hospital) == 1 else None,
        )


# The rules this module declares, for the catalogue.
RULES: tuple[Rule, ...] = (CODE_Q1, CODE_B1)
