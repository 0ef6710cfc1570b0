"""Claim-level checks: the pack's data releases, diagnosis sequencing, bundling and unit
limits, radiation oncology. Pure: the claim view in, findings and corrections out."""

from __future__ import annotations

from rules.bundling import check_bundling
from rules.claim_view import ClaimView
from rules.radiation import check_radiation
from rules.registry import rule
from rules.sequencing import check_sequencing


def check_releases(v: ClaimView) -> None:
    """PACK-Q1: a date of service outside a release's dates is decided with it, visibly."""
    for release in v.pack.releases:
        outside = [d for d in v.dates if not release.covers(d)]
        if outside:
            side = "after" if outside[-1] > (release.covers_through or outside[-1]) else "before"
            v.report(
                rule("PACK-Q1"),
                f"{release.description} covers {release.covers_from} to "
                f"{release.covers_through}; it was applied to {outside[-1]}, {side} that range, "
                "as the nearest data this pack holds.",
            )


def run_checks(v: ClaimView) -> ClaimView:
    check_releases(v)
    check_sequencing(v)
    check_bundling(v)
    # Radiation checks judge the lines that will be sent: a same-date NCCI removal (77290
    # beside 77301, say) is certain, so the IMRT bundle rule does not report it again.
    v = v.without_removed()
    check_radiation(v)
    return v
