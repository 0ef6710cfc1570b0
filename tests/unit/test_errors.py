"""Schema errors in plain words (schemas/errors.py): the field as a coder reads it and what it
needs, the machine location kept, never the value nor an unexpected field's name."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from schemas import SubmittedClaim
from schemas.errors import review_reasons
from schemas.examples import example_claim

SECRET = "Doe^John 1962-04-01"


def _reasons(claim: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        SubmittedClaim.model_validate_json(json.dumps(claim))
    return {r.location or "": r.message for r in review_reasons(caught.value)}


def test_each_error_says_which_field_and_what_it_needs_in_plain_words() -> None:
    claim = example_claim(3)
    claim["diagnoses"] = []
    claim["service_lines"][0]["date_of_service"] = "2026-13-01"
    claim["service_lines"][0]["code"] = "9641"
    admin = claim["administrations"][0]
    admin["start"] = "2026-03-02T09:00:00"
    admin["route"] = "ORAL"
    admin["drug"]["dose"] = "-1"
    del admin["order_present"]
    claim["claim_version"] = "two"
    said = _reasons(claim)
    assert said == {
        "claim_version": "Claim version must be a whole number.",
        "diagnoses": "Diagnoses: the claim lists none; at least 1 is required.",
        "service_lines.0.code": "Service line 1, code is not a HCPCS/CPT code: 5 letters or "
        "digits, e.g. 96413 or J9201.",
        "service_lines.0.date_of_service": "Service line 1, date of service is not a valid "
        "date: write it as YYYY-MM-DD.",
        "administrations.0.drug.dose": "MAR entry 1, drug, dose must be greater than 0.",
        "administrations.0.route": "MAR entry 1, route must be one of 'IV', 'SQ', 'IM', 'IA', "
        "'INTRALESIONAL', 'INTRATHECAL_LP', 'INTRATHECAL_RESERVOIR', 'PLEURAL', 'PERITONEAL' "
        "or 'INTRAVESICAL'.",
        "administrations.0.start": "MAR entry 1, start has no UTC offset: write the time with "
        "its offset, e.g. 2026-05-04T09:00:00-05:00.",
        "administrations.0.order_present": "MAR entry 1, order present is required but missing.",
    }
    # No library internals: neither pydantic's error types nor its sentences.
    assert not any(t in m for m in said.values() for t in ("too_short", "Tuple should", "Input"))


def test_our_own_checks_read_as_sentences_on_the_item_they_concern() -> None:
    claim = example_claim(3)
    claim["administrations"][0]["stop"] = "2026-01-01T00:00:00-05:00"
    assert _reasons(claim) == {"administrations.0": "MAR entry 1: administration stop is "
                                                    "before its start."}  # fmt: skip


def test_no_value_and_no_unexpected_field_name_is_echoed() -> None:
    claim = example_claim(5)
    claim["patient_ref"] = SECRET
    claim["administrations"][0]["drug"][SECRET] = SECRET
    claim[SECRET] = 1
    said = _reasons(claim)
    assert SECRET not in json.dumps(said) and "1962" not in json.dumps(said)
    assert said["<unexpected field>"] == (
        "The claim holds a field the claim format does not define: remove it."
    )
    assert said["administrations.0.drug.<unexpected field>"] == (
        "MAR entry 1, drug holds a field the claim format does not define: remove it."
    )
    assert said["patient_ref"].startswith("Patient reference is not an identifier: letters")
