"""Throughput of ``audit verify``: events per second. Prints figures; asserts nothing.

    python -m bench.audit_verify [--events 20000]

Makes a hash-chained audit log with batch mode (realistic events of ~6 KiB, the
claim itself included for replay), exports it to a JSON Lines file, then times
the verifier over the records in memory and over the file (read included).
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from schemas.examples import example_claim
from worker.audit.chain import AuditRecord, verify
from worker.audit.log import records_from_files
from worker.batch import scrub


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    audit = io.BytesIO()
    began = time.perf_counter()
    scrub(
        (json.dumps(example_claim(n)).encode() for n in range(args.events)),
        "file:bench",
        io.BytesIO(),
        audit,
        decided_at=datetime.now(UTC),
    )
    print(f"made {args.events} chained events in {time.perf_counter() - began:.1f}s")
    values = audit.getvalue().splitlines()
    records = [AuditRecord(0, n, v) for n, v in enumerate(values)]
    size = sum(len(v) for v in values)
    print(f"average event {size / len(values) / 1024:.1f} KiB, log {size / 2**20:.0f} MiB")

    timings = []
    for _ in range(5):
        began = time.perf_counter()
        report = verify(records)
        timings.append(time.perf_counter() - began)
        assert report.ok
    best, median = min(timings), statistics.median(timings)
    print(
        f"verify, in memory: {args.events / best:,.0f} events/s "
        f"(median {args.events / median:,.0f}; {size / best / 2**20:,.0f} MiB/s)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit-p0.jsonl"
        path.write_bytes(audit.getvalue())
        began = time.perf_counter()
        report = verify(records_from_files([path]))
        took = time.perf_counter() - began
    print(f"verify, from an exported file (read included): {args.events / took:,.0f} events/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
