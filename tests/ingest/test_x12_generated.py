"""x12sdk's synthetic generator: large interchanges with claims under subscribers and
dependents, every claim read; the structure is what these files test."""

from __future__ import annotations

import pytest
from x12sdk.generate import generate_837i, generate_837p

from schemas.claim import ClaimType
from worker.ingest.x12 import X12Options, parse_837


def _generated(kind: str, seed: int, claims: int) -> str:
    make = generate_837p if kind == "P" else generate_837i
    # x12sdk 2.2.0 writes the ICD-9 qualifier BK beside ICD-10 codes; a 5010 claim since
    # 2015-10-01 says ABK. Restored here so the claims are readable.
    return make(seed=seed, claims=claims, dependent_rate=0.4).replace("HI*BK:", "HI*ABK:")


@pytest.mark.parametrize("kind", ["P", "I"])
def test_every_generated_claim_is_read_once_in_order(kind: str, options: X12Options) -> None:
    text = _generated(kind, seed=14, claims=150)
    clm = [s.split("*")[1] for s in text.split("~") if s.strip().startswith("CLM*")]
    hls = [s.strip().split("*") for s in text.split("~") if s.strip().startswith("HL*")]
    dependents = sum(1 for hl in hls if hl[3] == "23")
    reads = parse_837(text, options)
    assert [r.claim_id for r in reads] == clm and len(clm) == 150
    assert all(r.claim is not None for r in reads), [r.reasons for r in reads if r.reasons][:3]
    assert sum(r.source.dependent for r in reads) == dependents > 20
    kind_read = {r.claim.claim_type for r in reads if r.claim is not None}
    assert kind_read == {ClaimType.PROFESSIONAL if kind == "P" else ClaimType.INSTITUTIONAL}
    assert [r.source.index for r in reads] == list(range(1, 151))


def test_the_generators_icd9_qualifier_is_reported_per_claim(options: X12Options) -> None:
    text = generate_837p(seed=3, claims=5)
    reads = parse_837(text, options)
    assert len(reads) == 5
    for r in reads:
        assert r.claim is None
        assert [x.message for x in r.reasons] == [
            "ICD-9-CM qualifier (BK/BF): 5010 claims carry ICD-10-CM (ABK/ABF)"
        ]
