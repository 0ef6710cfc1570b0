"""The engine's entry point: a claim in, computed lines and findings out. Pure."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from rules.administration.algorithm import code_events
from rules.administration.coding import CodingOptions
from rules.administration.normalise import mark_excluded, normalise
from rules.administration.supply import check_supply
from rules.claim_view import claim_view
from rules.pack import RULE_PACK_VERSION, RulePack, current_pack
from rules.pipeline import run_checks
from schemas.claim import ClaimType, SubmittedClaim
from schemas.decision import ComputedLine, Correction, Finding, RulePackRef, Severity

ENGINE_VERSION = "0.5.0"

__all__ = ["ENGINE_VERSION", "RULE_PACK_VERSION", "Assessment", "assess", "rule_pack"]


def rule_pack() -> RulePackRef:
    """The pack in force: its version and the hash of its data, recorded in every decision."""
    return current_pack().ref


@dataclass(frozen=True, slots=True)
class Assessment:
    computed_lines: tuple[ComputedLine, ...]
    findings: tuple[Finding, ...]
    rule_pack: RulePackRef
    corrections: tuple[Correction, ...] = ()

    @property
    def needs_review(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.findings)


def options_for(pack: RulePack, payer_id: str) -> CodingOptions:
    known = pack.payer_options.get(payer_id)
    if known is None:
        return CodingOptions()
    return CodingOptions(
        medicare=known.medicare,
        combine_hydration_intervals=known.combine_hydration_intervals,
        g0498_for_provider_pumps=known.g0498_for_provider_pumps,
    )


def _other_services(claim: SubmittedClaim, pack: RulePack) -> dict[date, set[str]]:
    """Submitted codes by date that are services, not drug supplies or port irrigation."""
    out: dict[date, set[str]] = defaultdict(set)
    for line in claim.service_lines:
        if not pack.catalogue.is_drug(line.code) and line.code != "96523":
            out[line.date_of_service].add(line.code)
    return out


def assess(
    claim: SubmittedClaim,
    pack: RulePack | None = None,
    options: CodingOptions | None = None,
) -> Assessment:
    """Decide a schema-valid claim with a rule pack (the current one by default).

    Pure: the same claim and pack always give the same result.
    """
    pack = pack or current_pack()
    options = options or options_for(pack, claim.payer.payer_id)
    normalised = normalise(claim, pack.catalogue)
    lines, findings = code_events(
        normalised.events,
        facility=claim.claim_type is ClaimType.INSTITUTIONAL,
        place_of_service=claim.place_of_service,
        options=options,
        addon_primaries=pack.addon_primaries,
        other_services=_other_services(claim, pack),
    )
    lines = mark_excluded(lines, normalised.excluded)
    checked = run_checks(claim_view(claim, lines, pack, medicare=options.medicare))
    all_findings = (
        *normalised.findings,
        *findings,
        *check_supply(claim, normalised.drugs),
        *checked.findings,
    )
    return Assessment(tuple(lines), all_findings, pack.ref, tuple(checked.corrections))
