"""Golden decisions: the bytes the engine must keep producing.

``python -m tests.golden.record`` writes, from the demo samples, the specification's worked
examples (facility and professional), the claim-rule cases that use the shipped pack and a
seeded set of generated claims, the inputs (one per line), the decisions and the hash-chained
audit events batch mode makes of them at a fixed time. ``test_golden`` decides the inputs
again and compares byte for byte; a refactor must not move a byte. Re-record only when a
decision is meant to change, and say which in the change.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from schemas import SubmittedClaim
from schemas.examples import example_claim

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parents[1] / "deploy" / "samples"
INPUTS = HERE / "inputs.jsonl"
DECISIONS = HERE / "decisions.jsonl"
AUDIT = HERE / "audit.jsonl"
DECIDED_AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
GENERATED = 300


def _compact(claim: SubmittedClaim) -> bytes:
    return claim.model_dump_json(exclude_none=True).encode()


def inputs() -> Iterator[bytes]:
    """Every input, one line each (a sample that is not JSON stays as its own bytes)."""
    from tests.rules.mar_builder import claim
    from tests.rules.test_claim_rules import CASES
    from tests.rules.test_worked_examples import EXAMPLES

    for path in sorted(SAMPLES.iterdir()):
        raw = path.read_bytes()
        try:
            yield json.dumps(json.loads(raw), separators=(",", ":")).encode()
        except ValueError:
            yield raw.strip().replace(b"\n", b" ")
    for _number, mar, _facility, _professional, _nc in EXAMPLES:
        for setting in ("F", "P"):
            yield _compact(claim(*mar(), setting=setting))
    for positive, negative in CASES.values():
        for case in (positive, negative):
            made = case()
            if isinstance(made, SubmittedClaim):  # cases with their own pack are tested there
                yield _compact(made)
    for n in range(GENERATED):
        yield json.dumps(example_claim(n, administrations=1 + n % 13)).encode()


def decide_all(lines: list[bytes]) -> tuple[bytes, bytes]:
    from worker.batch import scrub

    decisions, audit = io.BytesIO(), io.BytesIO()
    scrub(lines, "golden", decisions, audit, decided_at=DECIDED_AT)
    return decisions.getvalue(), audit.getvalue()


def main() -> None:
    lines = list(inputs())
    INPUTS.write_bytes(b"".join(line + b"\n" for line in lines))
    decisions, audit = decide_all(lines)
    DECISIONS.write_bytes(decisions)
    AUDIT.write_bytes(audit)
    print(f"{len(lines)} inputs, {len(decisions)} bytes of decisions, {len(audit)} of audit")


if __name__ == "__main__":
    main()
