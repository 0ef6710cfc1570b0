"""Shared options and claims for the ingest tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from worker.ingest.fhir import FhirOptions
from worker.ingest.x12 import X12Options

KEY = b"test-only patient reference key, 32+ bytes long"
ALIASES = {"68069": "HEALTHNET-CA", "01112": "MEDICARE"}
SAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "samples"


def sample(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((SAMPLES / name).read_text())
    return doc


@pytest.fixture
def options() -> X12Options:
    return X12Options(patient_key=KEY, payer_aliases=ALIASES)


@pytest.fixture
def fhir_options() -> FhirOptions:
    return FhirOptions(patient_key=KEY, payer_aliases=ALIASES)
