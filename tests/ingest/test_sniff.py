"""Telling JSON v1, X12 and FHIR apart: by the content-type header, else by the bytes."""

from __future__ import annotations

import json

import pytest

from schemas.examples import example_claim
from tests.ingest.conftest import sample
from tests.ingest.fhir_builder import claim_bundle
from tests.ingest.x12_builder import interchange
from worker.ingest.sniff import InputFormat, detect, from_content_type, read_as_json_claim, sniff

X12 = interchange([sample("13-nurse-visit-with-chemo.json")], "P").encode()
FHIR = claim_bundle(sample("13-nurse-visit-with-chemo.json")).encode()
JSON = json.dumps(example_claim(1)).encode()


@pytest.mark.parametrize(
    ("value", "form"),
    [
        ("application/edi-x12", InputFormat.X12),
        ("Application/EDI-X12; charset=utf-8", InputFormat.X12),
        (b"application/x12", InputFormat.X12),
        ("application/fhir+json; fhirVersion=4.0", InputFormat.FHIR),
        ("application/json+fhir", InputFormat.FHIR),
        ("application/json", InputFormat.JSON_V1),
        ("text/plain", None),
        ("", None),
        (None, None),
    ],
)
def test_content_types(value: str | bytes | None, form: InputFormat | None) -> None:
    assert from_content_type(value) is form


@pytest.mark.parametrize(
    ("data", "form"),
    [
        (X12, InputFormat.X12),
        (b"\xef\xbb\xbf\r\n  " + X12, InputFormat.X12),
        (FHIR, InputFormat.FHIR),
        (JSON, InputFormat.JSON_V1),
        (b"  " + JSON, InputFormat.JSON_V1),
        (b"[1, 2]", InputFormat.UNKNOWN),
        (b"{not json", InputFormat.UNKNOWN),
        (b"\xff\xfe", InputFormat.UNKNOWN),
        (b"", InputFormat.UNKNOWN),
        (b"hello", InputFormat.UNKNOWN),
    ],
)
def test_sniffing_the_bytes(data: bytes, form: InputFormat) -> None:
    assert sniff(data) is form


def test_a_named_form_wins_over_the_bytes() -> None:
    assert detect("application/edi-x12", JSON) is InputFormat.X12
    assert detect("text/plain", X12) is InputFormat.X12
    assert detect(None, FHIR) is InputFormat.FHIR


@pytest.mark.parametrize(
    ("content_type", "data", "as_json"),
    [
        (None, b'{"claim_id": "C-1"}', True),
        (None, b"{not json", True),  # its reader says not_json
        (None, b'{"resourceType": "Bundle"}', False),
        (None, b"ISA*00*", False),
        ("application/json", b'{"resourceType": "Bundle"}', True),
        ("application/xml", b"<claim/>", False),
        (None, b"<claim/>", True),
    ],
)
def test_which_records_go_to_the_json_claim_reader(
    content_type: str | None, data: bytes, as_json: bool
) -> None:
    assert read_as_json_claim(content_type, data) is as_json
