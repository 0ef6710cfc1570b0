"""judge_record: a record in any form -> one judgement per claim, as the worker and batch mode
decide; replay decides them again from their audit events alone."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from x12sdk.generate import generate_837i, generate_837p

from rules import assess
from schemas.audit import AuditEvent, Outcome, SourceRef
from schemas.claim import SubmittedClaim
from schemas.decision import ReasonCode, ReviewRequest, ScrubbedClaim
from schemas.examples import example_claim
from tests.ingest.conftest import ALIASES, KEY, sample
from tests.ingest.fhir_builder import claim_bundle
from tests.ingest.x12_builder import interchange, phi_strings
from worker.audit.chain import GENESIS, AuditRecord
from worker.audit.replay import replay
from worker.decide import Judging, judge, link
from worker.ingest.record import IngestOptions, one_claim_source
from worker.ingest.x12 import X12Options, parse_837
from worker.ingest.x12_out import corrected_claim, finding_locations
from worker.ingest_judge import ClaimJudgement, judge_record
from worker.topology import declare

OPTIONS = IngestOptions(KEY, ALIASES)
JUDGING = Judging(max_claim_bytes=1_000_000)
AT = datetime(2026, 6, 3, 10, 0, tzinfo=UTC)


def _judged(text: str, content_type: str | None = None) -> tuple[ClaimJudgement, ...]:
    return judge_record(text.encode(), b"partition-key", content_type, JUDGING, OPTIONS)


def _mixed(kind: str) -> list[dict[str, Any]]:
    """Sample and generated claims of one kind: scrubbed ones, corrected ones, reviewed ones."""
    docs = [d for n in range(80) if (d := example_claim(n))["service_lines"]]
    names = ["10-health-net-z51-resequenced.json", "12-malignancy-first-no-policy.json"]
    names += ["01-facility-chemo.json"] if kind == "I" else ["02-office-visit.json"]
    mine = [d for d in docs if (d["claim_type"] == "professional") == (kind == "P")]
    return mine + [sample(n) for n in names]


@pytest.mark.parametrize("kind", ["P", "I"])
def test_an_837_round_trips_through_its_decisions(kind: str) -> None:
    """837 -> decide -> corrected 837 -> read: the same claim, the decision's corrections
    applied; a review names where each finding points in the 837."""
    docs = _mixed(kind)
    text = interchange(docs, kind)
    judged = _judged(text, "application/edi-x12")
    reads = parse_837(text, X12Options(KEY, ALIASES))
    assert [c.judgement.claim_id for c in judged] == [d["claim_id"] for d in docs]
    outcomes = {c.judgement.outcome for c in judged}
    assert outcomes == {Outcome.SCRUBBED, Outcome.NEEDS_REVIEW}
    corrected = 0
    for claim, read in zip(judged, reads, strict=True):
        assert read.claim is not None and claim.original is not None
        assert SubmittedClaim.model_validate_json(claim.decided) == read.claim
        source = one_claim_source(claim.original)
        if claim.judgement.outcome is Outcome.SCRUBBED:
            body = ScrubbedClaim.model_validate_json(claim.judgement.body)
            assert body.corrected_x12 is not None
            (again,) = parse_837(body.corrected_x12, X12Options(KEY, ALIASES))
            assert again.reasons == ()
            want = corrected_claim(read.claim, body.computed_lines, body.corrections)
            assert again.claim == want
            corrected += bool(body.corrections)
            # the decision without the 837 is the JSON decision, byte for byte
            plain = judge(claim.decided, b"partition-key", JUDGING).body
            assert body.model_copy(update={"corrected_x12": None}).model_dump_json() == (
                plain.decode()
            )
        else:
            request = ReviewRequest.model_validate_json(claim.judgement.body)
            assert request.x12_locations is not None
            assert len(request.x12_locations) == len(request.findings) > 0
            expected = finding_locations(source, request.findings)
            for where, finding, want_at in zip(
                request.x12_locations, request.findings, expected, strict=True
            ):
                assert where.rule_id == finding.rule_id
                assert (where.loop, where.segment, where.position) == (
                    want_at.loop,
                    want_at.segment,
                    want_at.position,
                )
                # the position names that segment in the one-claim interchange kept
                segment = next(s for s in source.claim if s.position == where.position)
                assert segment.id == where.segment
    assert corrected > 0


def test_the_corrected_837_is_the_same_on_every_run_and_differs_per_claim() -> None:
    text = interchange([sample("01-facility-chemo.json")] * 1 + _mixed("I")[:3], "I")
    first, second = _judged(text), _judged(text)
    assert [c.judgement.body for c in first] == [c.judgement.body for c in second]
    controls = {
        ScrubbedClaim.model_validate_json(c.judgement.body).corrected_x12.split("*")[13]  # type: ignore[union-attr]
        for c in first
        if c.judgement.outcome is Outcome.SCRUBBED
    }
    assert len(controls) == sum(c.judgement.outcome is Outcome.SCRUBBED for c in first) > 1


@pytest.mark.parametrize(("kind", "make"), [("P", generate_837p), ("I", generate_837i)])
def test_a_generated_interchange_of_many_claims_gives_one_judgement_per_claim(
    kind: str, make: Any
) -> None:
    # x12sdk 2.2.0 writes the ICD-9 qualifier BK beside ICD-10 codes (tests/ingest notes it)
    text = make(seed=7, claims=120, dependent_rate=0.4).replace("HI*BK:", "HI*ABK:")
    clm = [s.split("*")[1] for s in text.split("~") if s.strip().startswith("CLM*")]
    judged = _judged(text)
    assert [c.judgement.claim_id for c in judged] == clm and len(clm) == 120
    assert all(c.judgement.outcome is not Outcome.DEAD_LETTER for c in judged)
    assert all(c.original is not None and c.original.startswith(b"ISA") for c in judged)


def test_a_bad_claim_in_a_good_interchange_is_reviewed_alone() -> None:
    docs = [sample("02-office-visit.json"), sample("04-no-diagnoses.json")]
    docs.append(sample("13-nurse-visit-with-chemo.json"))
    good1, bad, good2 = _judged(interchange(docs, "P"))
    assert good1.judgement.outcome is good2.judgement.outcome is Outcome.SCRUBBED
    j = bad.judgement
    assert j.outcome is Outcome.NEEDS_REVIEW and j.reasons == (ReasonCode.X12_CLAIM_INVALID,)
    assert j.claim_id == docs[1]["claim_id"]
    request = ReviewRequest.model_validate_json(j.body)
    assert request.claim is None and request.original_b64 is not None
    assert base64.b64decode(request.original_b64) == bad.original == bad.decided
    (reason,) = request.reasons
    assert reason.location == "ST 0001 claim 1 (segments 21-28) loop 2300 HI"


def test_a_malformed_interchange_is_one_dead_letter_with_located_reasons() -> None:
    text = interchange([sample("02-office-visit.json")] * 2, "P")
    broken = text.replace("\nSE*", "\nSE*9", 1).replace("IEA*1", "IEA*3")
    (dead,) = _judged(broken)
    j = dead.judgement
    assert j.outcome is Outcome.DEAD_LETTER and j.reasons == (ReasonCode.X12_ENVELOPE,)
    assert j.body == broken.encode() and dead.original is None
    assert "(SE) SE01" in j.detail and "(IEA) IEA01" in j.detail
    assert j.key == b"partition-key"


def test_an_invalid_bundle_is_one_dead_letter_with_located_reasons() -> None:
    bundle = json.loads(claim_bundle(sample("01-facility-chemo.json")))
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "Claim":
            entry["resource"]["billablePeriod"] = {"start": "2026-13-45"}
    raw = json.dumps(bundle)
    (dead,) = _judged(raw, "application/fhir+json")
    j = dead.judgement
    assert j.outcome is Outcome.DEAD_LETTER and j.reasons == (ReasonCode.FHIR_INVALID,)
    assert j.detail.startswith("Bundle.entry[") and "2026-13-45" not in j.detail


def test_a_fhir_bundle_is_decided_with_its_mar_and_kept_as_it_came() -> None:
    doc = sample("01-facility-chemo.json")
    raw = claim_bundle(doc)
    (claim,) = _judged(raw)
    assert claim.original == raw.encode()
    decided = SubmittedClaim.model_validate_json(claim.decided)
    assert decided.administrations and decided.claim_id == doc["claim_id"]
    assert claim.judgement.body == judge(claim.decided, b"partition-key", JUDGING).body
    assert claim.judgement.rule_ids == tuple(sorted({f.rule_id for f in assess(decided).findings}))


def test_json_v1_is_decided_exactly_as_judge_decides_it() -> None:
    for name in ("01-facility-chemo.json", "06-unexpected-field.json", "07-not-json.txt"):
        raw = (SAMPLES_DIR / name).read_bytes()
        # 07 is an 837 fragment: sniffed, it is X12; with the JSON header, not JSON
        for content_type in (
            (b"application/json", None)
            if name.endswith("json")
            else (b"application/json; charset=utf-8",)
        ):
            (claim,) = judge_record(raw, b"k", content_type, JUDGING, OPTIONS)
            assert claim.judgement == judge(raw, b"k", JUDGING)
            assert (claim.decided, claim.original) == (raw, None)


def test_without_the_patient_key_x12_and_fhir_are_dead_lettered() -> None:
    keyless = IngestOptions(None)
    for raw in (
        interchange([sample("02-office-visit.json")], "P"),
        claim_bundle(sample("01-facility-chemo.json")),
    ):
        (dead,) = judge_record(raw.encode(), None, None, JUDGING, keyless)
        assert dead.judgement.reasons == (ReasonCode.PATIENT_KEY_UNSET,)
        assert "ONCOSCRUB_PATIENT_REF_KEY" in dead.judgement.detail


def _audit(claims: list[tuple[int, ClaimJudgement]]) -> list[AuditRecord]:
    topology = declare()
    head = GENESIS
    out = []
    for offset, (n, claim) in enumerate(claims):
        source = SourceRef(topic="claims.submitted", partition=0, offset=offset)
        d = link(
            claim.judgement, claim.decided, source, topology, "w1", AT, head,
            original=claim.original, claim_index=n,
        )  # fmt: skip
        head = d.chain_after
        out.append(AuditRecord(partition=0, offset=offset, value=d.audit.value))
    return out


def test_replay_gives_the_same_corrected_837s_and_locations() -> None:
    mixed = _mixed("P")
    docs = [*mixed[:3], *mixed[-3:], sample("04-no-diagnoses.json")]
    judged = _judged(interchange(docs, "P"))
    reviewed = [c for c in judged if c.judgement.outcome is Outcome.NEEDS_REVIEW]
    located = [ReviewRequest.model_validate_json(c.judgement.body).x12_locations for c in reviewed]
    assert any(located) and None in located  # findings located; the unreadable claim has none
    judged += _judged(claim_bundle(sample("01-facility-chemo.json")))
    assert {c.judgement.outcome for c in judged} == {Outcome.SCRUBBED, Outcome.NEEDS_REVIEW}
    records = _audit(list(enumerate(judged, start=1)))
    events = [AuditEvent.model_validate_json(r.value) for r in records]
    assert all(e.source_b64 is not None for e in events)
    assert len({e.event_id for e in events}) == len(events)
    report = replay(records)
    assert (report.replayed, report.identical, report.differing) == (len(judged), len(judged), [])


def test_replay_tells_a_forged_original_837() -> None:
    (claim,) = _judged(interchange([sample("02-office-visit.json")], "P"))
    assert claim.judgement.outcome is Outcome.SCRUBBED and claim.original is not None
    (record,) = _audit([(1, claim)])
    event = json.loads(record.value)
    forged = claim.original.replace(b"*100.00*UN", b"*900.00*UN")
    assert forged != claim.original
    event["source_b64"] = base64.b64encode(forged).decode()
    tampered = AuditRecord(partition=0, offset=0, value=json.dumps(event).encode())
    assert replay([tampered]).differing == [event["event_id"]]


def test_no_name_member_id_or_birth_date_reaches_a_reason_or_a_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    docs = [sample("02-office-visit.json"), sample("04-no-diagnoses.json")]
    docs.append(sample("12-malignancy-first-no-policy.json"))
    text = interchange(docs, "P", dependents=(1,))
    said: list[str] = []
    for raw in (
        text,
        text.replace("\nSE*", "\nSE*9", 1),  # envelope failure
        text.replace("DMG*D8*20070511", "DMG*D8*20071399"),  # a bad birth date, in a claim
        text.replace("HL*1**20*1", "HL*1**99*1"),  # structure
        claim_bundle(sample("01-facility-chemo.json")).replace("2026-", "2026-13-"),
    ):
        for claim in _judged(raw):
            j = claim.judgement
            said.append(j.detail)
            if j.outcome is Outcome.NEEDS_REVIEW:
                request = ReviewRequest.model_validate_json(j.body)
                said += [f"{r.location} {r.message}" for r in request.reasons]
                said += [str(x.model_dump()) for x in request.x12_locations or ()]
    said += [r.getMessage() for r in caplog.records]
    assert any(said)
    text_said = "\n".join(said).upper()
    leaked = [v for v in phi_strings() if v.upper() in text_said]
    assert leaked == []


SAMPLES_DIR = __import__("pathlib").Path(__file__).resolve().parents[2] / "deploy" / "samples"
