"""The engine's entry point: a claim in, computed lines and findings out."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from schemas.claim import SubmittedClaim
from schemas.decision import ComputedLine, Finding, RulePackRef, Severity

ENGINE_VERSION = "0.1.0"

# The rules in force, by id. Empty until the coding engine and rule packs land;
# the pack's hash is taken over this canonical content so that any change to the
# rules changes the hash recorded in every decision.
_RULES: dict[str, str] = {}


def _pack_ref() -> RulePackRef:
    content = json.dumps({"rules": _RULES}, sort_keys=True).encode()
    return RulePackRef(
        name="core", version="0.0.0", content_sha256=hashlib.sha256(content).hexdigest()
    )


RULE_PACK = _pack_ref()


@dataclass(frozen=True, slots=True)
class Assessment:
    computed_lines: tuple[ComputedLine, ...]
    findings: tuple[Finding, ...]
    rule_pack: RulePackRef

    @property
    def needs_review(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.findings)


def assess(claim: SubmittedClaim) -> Assessment:
    """Decide a schema-valid claim. Pure: the same claim always gives the same result."""
    del claim  # no rules yet: every schema-valid claim passes
    return Assessment(computed_lines=(), findings=(), rule_pack=RULE_PACK)
