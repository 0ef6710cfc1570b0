"""Write the JSON Schema of every wire message to ``schemas/json/<name>.v<version>.json``.

Run ``python -m schemas.export`` after changing a model; a test fails while the
files are stale, so the published contracts never drift from the code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import BaseModel

from schemas.audit import AuditArchival, AuditCheckpoint, AuditEvent
from schemas.audit_seal import SignedCheckpoint
from schemas.base import SCHEMA_VERSION
from schemas.claim import SubmittedClaim
from schemas.decision import ReviewRequest, ScrubbedClaim

OUT_DIR = Path(__file__).with_name("json")

MESSAGES: dict[str, type[BaseModel]] = {
    "submitted-claim": SubmittedClaim,
    "scrubbed-claim": ScrubbedClaim,
    "review-request": ReviewRequest,
    "audit-event": AuditEvent,
    "audit-checkpoint": AuditCheckpoint,
    "audit-archival": AuditArchival,
    "audit-signed-checkpoint": SignedCheckpoint,
}


def rendered() -> dict[str, str]:
    """File name -> JSON text, for every message."""
    out = {}
    for name, model in MESSAGES.items():
        schema = model.model_json_schema(mode="validation")
        schema["$id"] = f"urn:oncoscrub:{name}:v{SCHEMA_VERSION}"
        out[f"{name}.v{SCHEMA_VERSION}.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out


def main() -> int:
    OUT_DIR.mkdir(exist_ok=True)
    for filename, text in rendered().items():
        (OUT_DIR / filename).write_text(text)
        print(OUT_DIR / filename)
    return 0


if __name__ == "__main__":
    sys.exit(main())
