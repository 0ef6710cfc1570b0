"""The pack's own data: a decision made with data that does not cover a date of service, or
with the hospital PTP table on a professional claim, says so."""

from __future__ import annotations

from rules.checks.check import claim_check
from rules.claim_view import ClaimView
from rules.rule import INFO, H, M, Rule
from rules.sources import authority

PACK_Q1 = Rule(
    id="PACK-Q1",
    title="A date of service outside the data's quarters falls back visibly",
    checks=(
        "Notes each data release (I/OCE quarter, ICD-10-CM release) that does not cover a date "
        "of service on the claim, and which release was applied instead."
    ),
    why=(
        "Code sets and edits change quarterly; a decision made with older data must say so, "
        "never silently."
    ),
    confidence=H,
    section="pack",
    sources=("PACK",),
    severity=INFO,
    example="A 2026-11-03 claim is checked with I/OCE 27.1, whose quarter ends 2026-06-30.",
    authority=(
        authority("IOCE", "quarterly releases"),
        authority("HCPCS"),
    ),
    action=(
        "Nothing to do unless newer data would decide differently: load the current quarter's "
        "CMS files into the pack (oncoscrub pack init)"
    ),
)


@claim_check(PACK_Q1)
def release_covers_dates(v: ClaimView) -> None:
    for release in v.pack.releases:
        outside = [d for d in v.dates if not release.covers(d)]
        if outside:
            side = "after" if outside[-1] > (release.covers_through or outside[-1]) else "before"
            v.report(
                PACK_Q1,
                f"{release.description} covers {release.covers_from} to "
                f"{release.covers_through}; it was applied to {outside[-1]}, {side} that range, "
                "as the nearest data this pack holds.",
            )


PACK_Q2 = Rule(
    id="PACK-Q2",
    title="Professional claims fall back to the hospital PTP table visibly",
    checks=(
        "Notes that a professional claim was checked against the hospital outpatient NCCI PTP "
        "edits because the pack carries no practitioner table."
    ),
    why=(
        "Practitioner and hospital outpatient PTP edits are different CMS files; a "
        "professional claim checked with the hospital edits may miss an edit or meet one that "
        "does not apply to it."
    ),
    confidence=M,
    section="6.1",
    sources=("PTP",),
    severity=INFO,
    authority=(
        authority(
            "NCCI-PTP-EDITS", "practitioner and hospital outpatient edits are separate files"
        ),
    ),
    action=(
        "Load the CMS practitioner PTP file into the pack (oncoscrub pack init "
        "--ptp-practitioner) to check physician claims exactly"
    ),
)


@claim_check(PACK_Q2)
def practitioner_ptp_fallback(v: ClaimView) -> None:
    if (
        not v.facility
        and not len(v.pack.ptp_practitioner)
        and any(
            len({x.code for x in lines if not x.code.startswith(("J", "Q", "A"))}) > 1
            for lines in v.by_date.values()
        )
    ):
        v.report(
            PACK_Q2,
            "No practitioner PTP table in this pack: the hospital "
            "outpatient edits were applied to this professional claim.",
        )


# The rules this module declares, for the catalogue.
RULES: tuple[Rule, ...] = (PACK_Q1, PACK_Q2)
