"""claims_of_record: one record in any form -> its claims as v1 JSON, or a whole-record failure."""

from __future__ import annotations

import json

from schemas.claim import SubmittedClaim
from schemas.decision import ReasonCode
from tests.ingest.conftest import ALIASES, KEY, sample
from tests.ingest.fhir_builder import claim_bundle
from tests.ingest.x12_builder import interchange
from worker.ingest.record import (
    ClaimInput,
    IngestOptions,
    RecordFailure,
    claims_of_record,
    one_claim_source,
)
from worker.ingest.sniff import InputFormat
from worker.ingest.x12 import X12Options, parse_837

OPTIONS = IngestOptions(KEY, ALIASES)


def test_a_json_v1_claim_is_left_to_the_decide_core() -> None:
    raw = json.dumps(sample("02-office-visit.json")).encode()
    assert claims_of_record(raw, None, OPTIONS) is None
    assert claims_of_record(raw, b"application/json", OPTIONS) is None


def test_every_claim_of_an_interchange_in_order_as_the_parser_reads_it() -> None:
    docs = [sample("02-office-visit.json"), sample("13-nurse-visit-with-chemo.json")]
    text = interchange(docs, "P")
    found = claims_of_record(text.encode(), b"application/edi-x12", OPTIONS)
    assert isinstance(found, tuple)
    assert [c.claim_id for c in found] == [d["claim_id"] for d in docs]
    parsed = parse_837(text, X12Options(KEY, ALIASES))
    for c, read in zip(found, parsed, strict=True):
        assert c.form is InputFormat.X12 and c.reasons == ()
        assert c.decided is not None and read.claim is not None
        assert SubmittedClaim.model_validate_json(c.decided) == read.claim
        # the original is the claim alone, its segments untouched, envelopes as received
        source = one_claim_source(c.original)
        assert [s.elements for s in source.claim] == [s.elements for s in read.source.claim]
        assert source.isa.elements == read.source.isa.elements
        assert source.gs.elements == read.source.gs.elements


def test_a_bad_claim_is_read_alone_with_its_reasons() -> None:
    docs = [sample("02-office-visit.json"), sample("04-no-diagnoses.json")]
    found = claims_of_record(interchange(docs, "P").encode(), None, OPTIONS)
    assert isinstance(found, tuple)
    good, bad = found
    assert good.decided is not None
    assert bad.decided is None and bad.claim_id == docs[1]["claim_id"]
    # located in the one-claim interchange the audit keeps (its segment 21 is the CLM)
    assert [r.location for r in bad.reasons] == ["ST 0001 claim 1 (segments 21-28) loop 2300 HI"]
    assert one_claim_source(bad.original).claim[0].position == 21


def test_a_malformed_interchange_fails_whole_with_located_reasons() -> None:
    text = interchange([sample("02-office-visit.json")], "P")
    broken = text.replace("\nSE*", "\nSE*9", 1)
    failure = claims_of_record(broken.encode(), None, OPTIONS)
    assert isinstance(failure, RecordFailure)
    assert failure.code is ReasonCode.X12_ENVELOPE
    (reason,) = failure.reasons
    assert reason.location.endswith("(SE) SE01")


def test_a_fhir_bundle_is_one_claim_with_its_mar() -> None:
    doc = sample("01-facility-chemo.json")
    bundle = claim_bundle(doc).encode()
    found = claims_of_record(bundle, b"application/fhir+json", OPTIONS)
    assert isinstance(found, tuple)
    (claim,) = found
    assert claim == ClaimInput(claim.decided, bundle, (), doc["claim_id"], InputFormat.FHIR)
    assert claim.decided is not None
    decided = SubmittedClaim.model_validate_json(claim.decided)
    assert len(decided.administrations) == len(doc["administrations"]) > 0


def test_an_invalid_bundle_fails_whole_with_located_reasons() -> None:
    bundle = json.loads(claim_bundle(sample("01-facility-chemo.json")))
    claim = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Claim")
    claim["billablePeriod"] = {"start": "2026-13-45"}
    failure = claims_of_record(json.dumps(bundle).encode(), None, OPTIONS)
    assert isinstance(failure, RecordFailure) and failure.code is ReasonCode.FHIR_INVALID
    assert failure.reasons and all(r.location.startswith("Bundle.entry[") for r in failure.reasons)


def test_unknown_forms_and_a_missing_key_fail_whole() -> None:
    unknown = claims_of_record(b"<claim/>", "application/xml", OPTIONS)
    assert isinstance(unknown, RecordFailure) and unknown.code is ReasonCode.UNKNOWN_FORMAT
    # Unnamed, it is read as JSON, whose reader says what is wrong (not_json).
    assert claims_of_record(b"<claim/>", None, OPTIONS) is None
    keyless = IngestOptions(None)
    text = interchange([sample("02-office-visit.json")], "P").encode()
    bundle = claim_bundle(sample("01-facility-chemo.json")).encode()
    for raw in (text, bundle):
        failure = claims_of_record(raw, None, keyless)
        assert isinstance(failure, RecordFailure)
        assert failure.code is ReasonCode.PATIENT_KEY_UNSET
