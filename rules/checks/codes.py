"""Code validity by quarter and setting (CMS I/OCE HCPCS table): every line's code exists in
the quarter of its date, and a hospital claim does not carry a code OPPS does not recognise."""

from __future__ import annotations

from rules.checks.check import line_check
from rules.claim_view import ClaimView, Line
from rules.rule import ERR, H, Rule

CODE_Q1 = Rule(
    id="CODE-Q1",
    title="A code valid in the quarter of its date of service",
    checks=(
        "Flags a code that the CMS HCPCS table of the pack carries, but not for the quarter of "
        "the line's date of service."
    ),
    why=(
        "Codes are added and deleted quarterly; radiation delivery codes changed in 2015 and 2026."
    ),
    confidence=H,
    section="6.3, 7.4",
    sources=("HCPCS-Q",),
    severity=ERR,
    example="G6015 billed for a 2026-02-10 session.",
)


@line_check(CODE_Q1)
def valid_in_quarter(v: ClaimView, x: Line) -> None:
    if v.pack.hcpcs.known(x.code) and v.pack.hcpcs.status(x.code, x.dos) is None:
        v.report(
            CODE_Q1,
            f"{x.code} is not in the CMS HCPCS table for the quarter of {x.dos}.",
            [x],
        )


CODE_B1 = Rule(
    id="CODE-B1",
    title="No code OPPS does not recognise on a hospital claim",
    checks=(
        "On an institutional claim, flags a code with OPPS status indicator B for the date "
        "(e.g. the freestanding G6001-G6017) and names the hospital code."
    ),
    why=(
        "Status B codes are not recognised on outpatient hospital bill types; hospitals report "
        "77xxx."
    ),
    confidence=H,
    section="1.3a, 7.4",
    sources=("HCPCS-Q", "S46", "S49"),
    severity=ERR,
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
