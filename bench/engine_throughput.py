"""Throughput of the rule engine on one core. Prints figures; asserts nothing.

    python -m bench.engine_throughput [--claims 20000]

A realistic mix (1-12 MAR entries per claim, the example formulary, facility and
office claims), measured three ways:

* engine only: ``assess(claim)`` on parsed claims;
* engine with validation and serialization: JSON bytes -> validated claim ->
  assess -> scrubbed-claim JSON bytes (what the worker does per claim, minus Kafka);
* the full decision step (adds routing and the audit event).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime

from rules import ENGINE_VERSION, assess
from schemas import ScrubbedClaim, SourceRef, SubmittedClaim
from schemas.examples import example_claim
from worker.decide import DecisionContext, decide
from worker.topology import declare


def _rate(label: str, n: int, seconds: list[float]) -> None:
    best = min(seconds)
    print(
        f"{label:<52} {n / best:>9,.0f} claims/s  (best of {len(seconds)}, "
        f"median {n / statistics.median(seconds):,.0f})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    raws = [json.dumps(example_claim(n)).encode() for n in range(args.claims)]
    claims = [SubmittedClaim.model_validate_json(r) for r in raws]
    admins = Counter(len(c.administrations) for c in claims)
    print(
        f"{args.claims} claims, {sum(len(r) for r in raws) / len(raws) / 1024:.1f} KiB "
        f"average, MAR entries per claim {min(admins)}-{max(admins)} "
        f"(mean {sum(k * v for k, v in admins.items()) / args.claims:.1f})"
    )
    lines = sum(len(assess(c).computed_lines) for c in claims)
    print(f"computed lines: {lines} ({lines / args.claims:.1f} per claim)")

    def engine_only() -> None:
        for c in claims:
            assess(c)

    def with_io() -> None:
        for r in raws:
            c = SubmittedClaim.model_validate_json(r)
            a = assess(c)
            ScrubbedClaim(
                claim_id=c.claim_id,
                claim_version=c.claim_version,
                claim=c,
                computed_lines=a.computed_lines,
                findings=a.findings,
                rule_pack=a.rule_pack,
                engine_version=ENGINE_VERSION,
            ).model_dump_json()

    ctx = DecisionContext(topology=declare(), worker_id="bench", max_claim_bytes=1_000_000)
    now = datetime.now(UTC)

    def decision_step() -> None:
        for offset, r in enumerate(raws):
            decide(r, None, SourceRef(topic="t", partition=0, offset=offset), ctx, now)

    for label, fn in [
        ("engine only (assess)", engine_only),
        ("validate + assess + serialize scrubbed claim", with_io),
        ("full decision step (+ routing, audit event)", decision_step),
    ]:
        timings = []
        for _ in range(args.repeat):
            began = time.perf_counter()
            fn()
            timings.append(time.perf_counter() - began)
        _rate(label, args.claims, timings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
