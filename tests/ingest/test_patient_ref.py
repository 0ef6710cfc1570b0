"""The pseudonymous patient reference: keyed, stable, normalised, and refusing weak keys."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

import pytest

from tests.ingest.conftest import KEY
from worker.ingest.patient_ref import (
    Dependent,
    PatientKeyError,
    normalise,
    patient_reference,
)


def test_the_reference_is_hmac_sha256_of_payer_and_member_id() -> None:
    ref = patient_reference(KEY, "01112", "ZQX4471902A")
    digest = hmac.new(KEY, b"01112|ZQX4471902A", hashlib.sha256).hexdigest()
    assert ref == "PR1-" + digest[:48]
    assert len(ref) <= 64  # a v1 Identifier


def test_spelling_of_the_member_id_does_not_matter_but_the_key_and_payer_do() -> None:
    ref = patient_reference(KEY, "01112", "ZQX4471902A")
    assert patient_reference(KEY, " 01112", "zqx-447 1902a") == ref
    assert patient_reference(KEY, "01113", "ZQX4471902A") != ref
    assert patient_reference(KEY + b"!", "01112", "ZQX4471902A") != ref
    assert normalise("Zoë-12 a") == "ZOE12A"


def test_a_dependent_is_not_the_subscriber() -> None:
    subscriber = patient_reference(KEY, "01112", "ZQX4471902A")
    child = patient_reference(KEY, "01112", "ZQX4471902A", Dependent(date(2007, 5, 11), "Odalys"))
    twin = patient_reference(KEY, "01112", "ZQX4471902A", Dependent(date(2007, 5, 11), "Orla"))
    assert len({subscriber, child, twin}) == 3


def test_weak_keys_and_empty_ids_are_refused_without_the_values() -> None:
    with pytest.raises(PatientKeyError, match="at least 32 bytes"):
        patient_reference(b"short", "01112", "ZQX4471902A")
    with pytest.raises(PatientKeyError) as caught:
        patient_reference(KEY, "01112", " - ")
    assert "member id is empty" in str(caught.value)
    with pytest.raises(PatientKeyError, match="payer id is empty"):
        patient_reference(KEY, "", "ZQX4471902A")
