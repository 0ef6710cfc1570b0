"""Golden decisions: the bytes the engine must keep producing.

``inputs.jsonl`` holds 451 inputs, one per line: the demo samples, the specification's worked
examples (facility and professional), the claim-rule cases that use the shipped pack and 300
generated claims (``example_claim(n)``), as they were when the set was recorded (commit
b355490); they are fixtures now and never regenerated, so a change to a test cannot move them.
``python -m tests.golden.record`` decides them with batch mode at a fixed time and writes the
decisions and the hash-chained audit events; ``test_golden`` decides them again and compares
byte for byte. Re-record only when a decision is meant to change, and say which in the change.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
INPUTS = HERE / "inputs.jsonl"
DECISIONS = HERE / "decisions.jsonl"
AUDIT = HERE / "audit.jsonl"
DECIDED_AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def decide_all(lines: list[bytes]) -> tuple[bytes, bytes]:
    from worker.batch import scrub

    decisions, audit = io.BytesIO(), io.BytesIO()
    scrub(lines, "golden", decisions, audit, decided_at=DECIDED_AT)
    return decisions.getvalue(), audit.getvalue()


def main() -> None:
    lines = INPUTS.read_bytes().splitlines()
    decisions, audit = decide_all(lines)
    DECISIONS.write_bytes(decisions)
    AUDIT.write_bytes(audit)
    print(f"{len(lines)} inputs, {len(decisions)} bytes of decisions, {len(audit)} of audit")


if __name__ == "__main__":
    main()
