"""837 -> v1 claim -> decision (rules.assess) -> corrected 837 -> read -> the same claim
with the decision applied, for 837I and 837P."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from rules import assess
from rules.codegroups import DRUG_ADMIN
from schemas.claim import SubmittedClaim
from schemas.decision import Correction, CorrectionAction
from schemas.examples import example_claim
from tests.ingest.conftest import sample
from tests.ingest.x12_builder import interchange
from worker.ingest.x12 import X12Claim, X12Options, parse_837, segment_ids
from worker.ingest.x12_envelope import read_interchange
from worker.ingest.x12_out import (
    OutEnvelope,
    corrected_837,
    corrected_claim,
    finding_locations,
)

ENVELOPE = OutEnvelope(control_number=4711, created=datetime(2026, 6, 2, 14, 5, tzinfo=UTC))


def _with_mar(read: X12Claim, doc: dict[str, Any]) -> SubmittedClaim:
    """The join the worker makes: the patient's MAR attached to the claim read from the 837."""
    assert read.claim is not None, read.reasons
    mar = SubmittedClaim.model_validate(doc)
    return read.claim.model_copy(
        update={"administrations": mar.administrations, "encounters": mar.encounters}
    )


def _round_trip(doc: dict[str, Any], kind: str, options: X12Options) -> tuple[Any, ...]:
    (read,) = parse_837(interchange([doc], kind), options)
    claim = _with_mar(read, doc)
    decision = assess(claim)
    text = corrected_837(
        read.source, claim, decision.computed_lines, decision.corrections, ENVELOPE
    )
    (again,) = parse_837(text, options)
    return claim, decision, text, again


CASES = [
    ("01-facility-chemo.json", "I"),
    ("02-office-visit.json", "P"),
    ("10-health-net-z51-resequenced.json", "I"),
    ("11-radiation-imrt-plan.json", "I"),
    ("13-nurse-visit-with-chemo.json", "P"),
]


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_the_corrected_837_reads_back_as_the_claim_with_its_decision(
    name: str, kind: str, options: X12Options
) -> None:
    claim, decision, _, again = _round_trip(sample(name), kind, options)
    assert again.reasons == ()
    assert again.claim == corrected_claim(claim, decision.computed_lines, decision.corrections)


def test_a_resequencing_is_written_in_the_new_order(options: X12Options) -> None:
    claim, decision, text, again = _round_trip(
        sample("10-health-net-z51-resequenced.json"), "I", options
    )
    (correction,) = decision.corrections
    assert correction.action is CorrectionAction.RESEQUENCE_DIAGNOSES
    assert claim.diagnoses == ("C61", "Z51.11")
    assert again.claim.diagnoses == ("Z51.11", "C61")
    assert "HI*ABK:Z5111~" in text and "HI*ABF:C61~" in text


def test_a_removed_line_is_left_out_and_computed_codes_are_added(options: X12Options) -> None:
    doc = sample("13-nurse-visit-with-chemo.json")
    for line in doc["service_lines"][:2]:  # the two drugs point at Z51.11 and C50.911
        line["diagnosis_pointers"] = [1, 2]
    _claim, decision, _text, again = _round_trip(doc, "P", options)
    (correction,) = decision.corrections
    assert correction.action is CorrectionAction.REMOVE_LINE and correction.codes == ("99211",)
    codes = [x.code for x in again.claim.service_lines]
    assert "99211" not in codes
    assert codes == ["J1200", "J9045", *(c.code for c in decision.computed_lines)]
    assert [x.line_number for x in again.claim.service_lines] == list(range(1, len(codes) + 1))
    # computed administration lines point at the diagnoses of the drugs they gave
    for line in again.claim.service_lines[2:]:
        assert line.diagnosis_pointers == (1, 2)


def test_the_envelope_counts_and_control_numbers_are_right(options: X12Options) -> None:
    _, decision, text, _ = _round_trip(sample("01-facility-chemo.json"), "I", options)
    parsed = read_interchange(text, segment_ids)  # raises on any count or control mismatch
    (tx,) = parsed.transactions
    assert parsed.isa.get(13) == "000004711" and parsed.groups[0].gs.get(6) == "4711"
    assert parsed.isa.get(9) == "260602" and parsed.isa.get(10) == "1405"
    assert tx.se.get(1) == str(len(tx.body) + 2)
    clm = next(s for s in tx.body if s.id == "CLM")
    charges = [Decimal(s.get(3)) for s in tx.body if s.id == "SV2"]
    assert Decimal(clm.get(2)) == sum(charges)
    # the submitted administration lines the MAR replaces are gone, the computed ones added
    sv2 = [s.get(2).split(":")[1] for s in tx.body if s.id == "SV2"]
    computed = [c.code for c in decision.computed_lines]
    assert sv2[-len(computed) :] == computed
    assert not any(code in DRUG_ADMIN for code in sv2[: -len(computed)])


def test_generated_claims_round_trip_in_one_interchange(options: X12Options) -> None:
    docs = [d for n in range(60) if (d := example_claim(n))["service_lines"]]
    for kind in ("P", "I"):
        mine = [d for d in docs if (d["claim_type"] == "professional") == (kind == "P")]
        reads = parse_837(interchange(mine, kind), options)
        assert len(reads) == len(mine) > 10
        for n, (read, doc) in enumerate(zip(reads, mine, strict=True), start=1):
            claim = _with_mar(read, doc)
            decision = assess(claim)
            envelope = OutEnvelope(control_number=n, created=ENVELOPE.created)
            text = corrected_837(
                read.source, claim, decision.computed_lines, decision.corrections, envelope
            )
            (again,) = parse_837(text, options)
            want = corrected_claim(claim, decision.computed_lines, decision.corrections)
            assert again.claim == want, again.reasons


def test_pointers_follow_a_resequencing_on_an_837p(options: X12Options) -> None:
    doc = sample("13-nurse-visit-with-chemo.json")
    doc["service_lines"][0]["diagnosis_pointers"] = [2]
    doc["service_lines"][1]["diagnosis_pointers"] = [1, 2]
    (read,) = parse_837(interchange([doc], "P"), options)
    assert read.claim is not None
    swap = Correction(
        rule_id="DX-S1",
        action=CorrectionAction.RESEQUENCE_DIAGNOSES,
        diagnoses=("C50.911", "Z51.11"),
        reason="test: the payer wants the malignancy first",
    )
    text = corrected_837(read.source, read.claim, (), (swap,), ENVELOPE)
    (again,) = parse_837(text, options)
    assert again.claim is not None
    assert again.claim.diagnoses == ("C50.911", "Z51.11")
    assert [x.diagnosis_pointers for x in again.claim.service_lines] == [(1,), (2, 1), (2,)]


def test_findings_point_at_their_837_location(options: X12Options) -> None:
    doc = sample("13-nurse-visit-with-chemo.json")
    (read,) = parse_837(interchange([doc], "P"), options)
    claim = _with_mar(read, doc)
    decision = assess(claim)
    locations = finding_locations(read.source, decision.findings)
    assert len(locations) == len(decision.findings)
    by_rule = dict(zip((f.rule_id for f in decision.findings), locations, strict=True))
    b7 = by_rule["BND-B7"]
    third_lx = [s for s in read.source.claim if s.id == "LX"][2]
    assert (b7.loop, b7.segment, b7.element) == ("2400", "SV1", "SV101")
    assert b7.position == third_lx.position + 1
    assert str(b7) == f"loop 2400 SV1 (segment {b7.position}) SV101"
