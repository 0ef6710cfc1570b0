"""837 (and FHIR) claims per second on one core, beside JSON v1 on the same claims.
Prints figures; asserts nothing.

    python -m bench.ingest_throughput [--claims 2000] [--per-interchange 100]

The claims are the example mix (schemas.examples: 1-12 MAR entries, facility and office).
Each is measured end to end as the worker would run it, minus Kafka:

* JSON v1: bytes -> validated claim -> ``assess`` -> scrubbed-claim JSON;
* 837: interchange bytes -> ``parse_837`` (envelopes, split, x12sdk validation, mapping)
  -> the MAR joined (the claim's own, as the worker's join would find it) -> ``assess``
  -> ``corrected_837`` for each claim; the interchanges hold ``--per-interchange`` claims;
* FHIR: claim Bundle bytes (claim, patient, coverage, MAR) -> ``parse_claim_bundle`` ->
  ``assess``.

Then the 837 steps alone, to show where the time goes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

from rules import ENGINE_VERSION, assess
from schemas import ScrubbedClaim, SubmittedClaim
from schemas.examples import example_claim
from tests.ingest.fhir_builder import claim_bundle
from tests.ingest.x12_builder import interchange
from worker.ingest.fhir import FhirOptions, parse_claim_bundle
from worker.ingest.x12 import X12Claim, X12Options, parse_837
from worker.ingest.x12_out import OutEnvelope, corrected_837

KEY = b"benchmark patient reference key, 32 bytes or more"
CREATED = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def _rate(label: str, n: int, seconds: list[float]) -> None:
    best = min(seconds)
    print(
        f"{label:<58} {n / best:>9,.0f} claims/s  (best of {len(seconds)}, "
        f"median {n / statistics.median(seconds):,.0f})"
    )


def _time(fn: Callable[[], None], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        began = time.process_time()
        fn()
        out.append(time.process_time() - began)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--claims", type=int, default=2000)
    parser.add_argument("--per-interchange", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    docs = [d for n in range(args.claims * 2) if (d := example_claim(n))["service_lines"]]
    docs = docs[: args.claims]
    mar = {d["claim_id"]: SubmittedClaim.model_validate(d) for d in docs}
    raws = [json.dumps(d).encode() for d in docs]
    x12: list[bytes] = []
    for kind, claim_type in (("P", "professional"), ("I", "institutional")):
        mine = [d for d in docs if d["claim_type"] == claim_type]
        for i in range(0, len(mine), args.per_interchange):
            chunk = mine[i : i + args.per_interchange]
            x12.append(interchange(chunk, kind, control=1 + len(x12)).encode())
    bundles = [claim_bundle(d).encode() for d in docs]
    x12_options = X12Options(patient_key=KEY)
    fhir_options = FhirOptions(patient_key=KEY, payer_aliases={"01112": "MEDICARE"})
    n = len(docs)
    print(
        f"{n} claims ({sum(d['claim_type'] == 'institutional' for d in docs)} 837I), "
        f"JSON {sum(map(len, raws)) / n / 1024:.1f} KiB, 837 {sum(map(len, x12)) / n / 1024:.1f} "
        f"KiB, FHIR {sum(map(len, bundles)) / n / 1024:.1f} KiB per claim; "
        f"{len(x12)} interchanges"
    )

    def json_v1() -> None:
        for raw in raws:
            c = SubmittedClaim.model_validate_json(raw)
            a = assess(c)
            ScrubbedClaim(
                claim_id=c.claim_id,
                claim_version=c.claim_version,
                claim=c,
                computed_lines=a.computed_lines,
                findings=a.findings,
                corrections=a.corrections,
                rule_pack=a.rule_pack,
                engine_version=ENGINE_VERSION,
            ).model_dump_json()

    def joined(read: X12Claim) -> SubmittedClaim:
        assert read.claim is not None, read.reasons
        m = mar[read.claim.claim_id]
        return read.claim.model_copy(
            update={"administrations": m.administrations, "encounters": m.encounters}
        )

    def x12_full() -> None:
        control = 0
        for data in x12:
            for read in parse_837(data, x12_options):
                claim = joined(read)
                a = assess(claim)
                control += 1
                corrected_837(
                    read.source,
                    claim,
                    a.computed_lines,
                    a.corrections,
                    OutEnvelope(control, CREATED),
                )

    def fhir_full() -> None:
        for data in bundles:
            assess(parse_claim_bundle(data, fhir_options))

    for label, fn in [
        ("JSON v1: validate + assess + serialize", json_v1),
        ("837: parse + join MAR + assess + corrected 837", x12_full),
        ("FHIR: parse claim Bundle + assess", fhir_full),
    ]:
        _rate(label, n, _time(fn, args.repeat))

    reads = [r for data in x12 for r in parse_837(data, x12_options)]
    claims = [joined(r) for r in reads]
    decisions = [assess(c) for c in claims]

    def parse_only() -> None:
        for data in x12:
            parse_837(data, x12_options)

    def write_only() -> None:
        for i, (r, c, a) in enumerate(zip(reads, claims, decisions, strict=True), start=1):
            corrected_837(r.source, c, a.computed_lines, a.corrections, OutEnvelope(i, CREATED))

    def assess_only() -> None:
        for c in claims:
            assess(c)

    print("837 steps alone:")
    for label, fn in [
        ("  parse_837 (envelopes, split, x12sdk, mapping)", parse_only),
        ("  assess", assess_only),
        ("  corrected_837", write_only),
    ]:
        _rate(label, n, _time(fn, args.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
