"""The wire contracts: what they accept, what they refuse, and that errors never echo input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from schemas import SubmittedClaim
from schemas.base import CodeText, ShortText, is_short_text
from schemas.errors import review_reasons
from schemas.examples import example_claim
from schemas.export import OUT_DIR, rendered

SAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "samples"


def test_exported_json_schema_files_are_current() -> None:
    for filename, text in rendered().items():
        assert (OUT_DIR / filename).read_text() == text, f"run `make schemas`: {filename} is stale"


@given(st.integers(min_value=0, max_value=10**9))
@settings(max_examples=200)
def test_every_example_claim_is_schema_valid(n: int) -> None:
    claim = SubmittedClaim.model_validate_json(json.dumps(example_claim(n)))
    assert 1 <= len(claim.administrations) <= 12
    assert claim.claim_id == f"CLM-{n:08d}"


def test_bundled_samples_are_valid_or_invalid_as_their_names_say() -> None:
    valid = {"01-facility-chemo.json", "02-office-visit.json", "03-injection-only.json",
             "08-units-billed-as-mg.json", "09-denosumab-class-unconfirmed.json",
             "10-health-net-z51-resequenced.json", "11-radiation-imrt-plan.json",
             "12-malignancy-first-no-policy.json", "13-nurse-visit-with-chemo.json"}  # fmt: skip
    for sample in SAMPLES.iterdir():
        if sample.name in valid:
            SubmittedClaim.model_validate_json(sample.read_bytes())
        else:
            with pytest.raises(ValidationError):
                SubmittedClaim.model_validate_json(sample.read_bytes())


def test_institutional_claim_needs_a_bill_type() -> None:
    claim = example_claim(0)
    claim["claim_type"], claim["bill_type"] = "institutional", None
    with pytest.raises(ValidationError, match="bill_type"):
        SubmittedClaim.model_validate(claim)


def test_hold_outside_its_administration_is_refused() -> None:
    claim = example_claim(3, administrations=1)
    admin = claim["administrations"][0]
    admin["holds"] = [{"start": "2020-01-01T00:00:00+00:00", "stop": "2020-01-01T00:05:00+00:00"}]
    with pytest.raises(ValidationError, match="hold lies outside"):
        SubmittedClaim.model_validate(claim)


def test_mar_times_must_carry_a_utc_offset() -> None:
    claim = example_claim(4, administrations=1)
    claim["administrations"][0]["start"] = "2026-03-02T09:00:00"
    with pytest.raises(ValidationError, match="timezone"):
        SubmittedClaim.model_validate(claim)


SECRET = "Doe^John 1962-04-01 MRN 998877"


@pytest.mark.parametrize(
    "field",
    ["patient_ref", "claim_type", "place_of_service", "statement_from", "diagnoses", "payer"],
)
def test_validation_reasons_never_echo_the_input(field: str) -> None:
    claim = example_claim(5)
    claim[field] = SECRET
    claim[SECRET] = SECRET  # an unexpected field whose very name is patient data
    with pytest.raises(ValidationError) as caught:
        SubmittedClaim.model_validate_json(json.dumps(claim))
    reasons = review_reasons(caught.value)
    text = json.dumps([r.model_dump(mode="json") for r in reasons])
    assert SECRET not in text and "998877" not in text
    assert {r.location for r in reasons} >= {field, "<unexpected field>"}


def test_the_valid_samples_route_as_the_demo_shows() -> None:
    from rules import assess

    to_review = {"08", "09", "12"}
    corrected = {"10": "DX-S1", "11": "NCCI-PTP", "13": "BND-B7"}
    for sample in sorted(SAMPLES.glob("*.json")):
        try:
            claim = SubmittedClaim.model_validate_json(sample.read_bytes())
        except ValidationError:
            continue
        result = assess(claim)
        number = sample.name[:2]
        assert result.needs_review == (number in to_review), sample.name
        assert [c.rule_id for c in result.corrections] == (
            [corrected[number]] if number in corrected else []
        ), sample.name


def test_trusted_instances_serialise_and_compare_as_validated_ones() -> None:
    from decimal import Decimal

    from schemas.decision import Citation, ComputedLine, Confidence, Finding, Severity

    line = {
        "code": "96413",
        "units": Decimal(2),
        "date_of_service": "2026-04-13",
        "admin_ids": ("A1",),
        "rule_ids": ("ADM-D1",),
        "minutes": None,
        "reason": "initial: chemotherapy infusion, 60 min",
    }
    validated, trusted = ComputedLine(**line), ComputedLine.trusted(**line)
    assert trusted == validated
    assert trusted.model_dump_json() == validated.model_dump_json()
    assert trusted.model_fields_set == validated.model_fields_set
    finding = {
        "rule_id": "ADM-D1",
        "severity": Severity.INFO,
        "message": "m",
        "citations": (Citation(source="S1"),),
        "confidence": Confidence.HIGH,
    }
    assert Finding.trusted(**finding).model_dump_json() == Finding(**finding).model_dump_json()


def test_trusted_refuses_unknown_and_missing_fields() -> None:
    from schemas.decision import ComputedLine

    with pytest.raises(TypeError):
        ComputedLine.trusted(code="96413", units=1, date_of_service="2026-04-13")  # no reason
    with pytest.raises(TypeError):
        ComputedLine.trusted(
            code="96413", units=1, date_of_service="2026-04-13", reason="r", colour="red"
        )


def test_text_a_pack_brings_is_still_refused_when_it_is_not_valid_text() -> None:
    """Findings and computed lines skip validation only for valid text: a policy description
    or drug name with a bidirectional formatting character is refused as before (the claim
    then goes to review as an engine error), never written out."""
    from pydantic import ValidationError

    from rules.checks.bundling import BND_B11

    assert BND_B11.finding("Hydration beside another infusion.").message
    with pytest.raises(ValidationError):
        BND_B11.finding("policy text \u200f reordered")
    with pytest.raises(ValidationError):
        BND_B11.finding("m", suggested_correction="bill \x07 96360")
    assert is_short_text("initial: chemotherapy infusion, 60 min")
    assert not is_short_text("") and not is_short_text("x" * 501)
    assert not is_short_text("bell \x07")


def test_an_audit_event_needs_aware_times() -> None:
    from datetime import datetime

    from rules.pack import current_pack
    from schemas import SourceRef
    from schemas.examples import example_claim
    from worker.decide import Judging, judge, link
    from worker.topology import declare

    raw = json.dumps(example_claim(1)).encode()
    judgement = judge(raw, None, Judging(1_000_000, 2_000_000, current_pack()))
    source = SourceRef(topic="t", partition=0, offset=0)
    with pytest.raises(ValueError, match="UTC offset"):
        link(judgement, raw, source, declare(), "w", datetime(2026, 11, 30, 12, 0))


@pytest.mark.parametrize(
    ("text", "free", "code"),
    [
        ("plain ASCII", True, True),
        ("line one\nline two\ttabbed\r", True, False),  # free text keeps line breaks
        ("bell \x07", False, False),
        ("delete \x7f", False, False),
        ("next line \x85", False, False),  # a C1 control, not ASCII
        ("override \u202e", False, False),  # bidirectional formatting
        ("café 5 mg/m²", True, True),
    ],
)
def test_text_and_codes_refuse_controls_and_bidirectional_formatting(
    text: str, free: bool, code: bool
) -> None:
    assert is_short_text(text) is free
    for kind, value, ok in ((ShortText, text, free), (CodeText, text[:16], code)):
        adapter: TypeAdapter[str] = TypeAdapter(kind)
        if ok:
            assert adapter.validate_python(value) == value
        else:
            with pytest.raises(ValidationError, match="control or bidirectional formatting"):
                adapter.validate_python(value)
