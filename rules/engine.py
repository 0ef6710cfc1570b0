"""The engine's entry point: a claim in, computed lines and findings out. Pure."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from functools import cache

from rules.admin_codes import CodingOptions, code_events
from rules.mar import normalise
from rules.reference import (
    DrugCatalogue,
    data_sha256,
    load_addon_map,
    load_catalogue,
    load_payer_options,
)
from rules.supply import check_supply
from schemas.claim import ClaimType, SubmittedClaim
from schemas.decision import ComputedLine, Finding, RulePackRef, Severity

ENGINE_VERSION = "0.2.0"
RULE_PACK_VERSION = "2026.11.1"


@cache
def rule_pack() -> RulePackRef:
    """The pack in force: its version and the hash of its data, recorded in every decision."""
    return RulePackRef(name="core", version=RULE_PACK_VERSION, content_sha256=data_sha256())


@dataclass(frozen=True, slots=True)
class Assessment:
    computed_lines: tuple[ComputedLine, ...]
    findings: tuple[Finding, ...]
    rule_pack: RulePackRef

    @property
    def needs_review(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.findings)


def options_for(payer_id: str) -> CodingOptions:
    known = load_payer_options().get(payer_id)
    if known is None:
        return CodingOptions()
    return CodingOptions(
        medicare=known.medicare,
        combine_hydration_intervals=known.combine_hydration_intervals,
        g0498_for_provider_pumps=known.g0498_for_provider_pumps,
    )


def _other_services(claim: SubmittedClaim, catalogue: DrugCatalogue) -> dict[date, set[str]]:
    """Submitted codes by date that are services, not drug supplies or port irrigation."""
    out: dict[date, set[str]] = defaultdict(set)
    for line in claim.service_lines:
        if line.code not in catalogue.by_hcpcs and line.code != "96523":
            out[line.date_of_service].add(line.code)
    return out


def assess(
    claim: SubmittedClaim,
    catalogue: DrugCatalogue | None = None,
    options: CodingOptions | None = None,
) -> Assessment:
    """Decide a schema-valid claim. Pure: the same claim always gives the same result."""
    catalogue = catalogue or load_catalogue()
    normalised = normalise(claim, catalogue)
    lines, findings = code_events(
        normalised.events,
        facility=claim.claim_type is ClaimType.INSTITUTIONAL,
        place_of_service=claim.place_of_service,
        options=options or options_for(claim.payer.payer_id),
        addon_primaries=load_addon_map(),
        other_services=_other_services(claim, catalogue),
    )
    all_findings = [*normalised.findings, *findings, *check_supply(claim, normalised.drugs)]
    return Assessment(tuple(lines), tuple(all_findings), rule_pack())
