"""Which of the three input forms a record holds: our JSON v1, an X12 837 or a FHIR Bundle.

The ``content-type`` header decides when it names a form; without one (or with one that
names none of them) the bytes decide: an interchange starts with ``ISA`` (after an
optional byte order mark and white space), a FHIR resource is a JSON object with a
``resourceType``, any other JSON object is taken for a v1 claim. A recognised header is
trusted: bytes that do not match it fail in the parser of the form it names.
"""

from __future__ import annotations

import json
from enum import StrEnum


class InputFormat(StrEnum):
    JSON_V1 = "json"
    X12 = "x12"
    FHIR = "fhir"
    UNKNOWN = "unknown"  # not one of the three: the worker dead-letters it


CONTENT_TYPES = {
    "application/json": InputFormat.JSON_V1,
    "application/edi-x12": InputFormat.X12,  # RFC 1767
    "application/x12": InputFormat.X12,
    "application/fhir+json": InputFormat.FHIR,  # FHIR R4
    "application/json+fhir": InputFormat.FHIR,  # FHIR DSTU2's name, still sent
}
_BLANK = b"\xef\xbb\xbf \t\r\n"


def from_content_type(value: str | bytes | None) -> InputFormat | None:
    """The form a ``content-type`` value names (parameters such as ``charset`` ignored),
    or None when it is absent or names none of the three."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    return CONTENT_TYPES.get(text.split(";", 1)[0].strip().lower())


def sniff(data: bytes) -> InputFormat:
    head = data.lstrip(_BLANK)
    if head.startswith(b"ISA"):
        return InputFormat.X12
    if not head.startswith(b"{"):
        return InputFormat.UNKNOWN
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        return InputFormat.UNKNOWN
    if not isinstance(doc, dict):
        return InputFormat.UNKNOWN
    return InputFormat.FHIR if "resourceType" in doc else InputFormat.JSON_V1


def detect(content_type: str | bytes | None, data: bytes) -> InputFormat:
    """The header's form when it names one, else the sniffed form."""
    return from_content_type(content_type) or sniff(data)


def read_as_json_claim(content_type: str | bytes | None, data: bytes) -> bool:
    """Whether the record goes to the JSON claim reader: named so, or unnamed and not X12 or
    a FHIR resource. Decided without parsing a JSON object that never says ``resourceType``
    (every JSON claim): the reader that follows parses it once, not twice."""
    named = from_content_type(content_type)
    if named is None and data.lstrip(_BLANK).startswith(b"{") and b'"resourceType"' not in data:
        return True
    form = named or sniff(data)
    return form is InputFormat.JSON_V1 or (form is InputFormat.UNKNOWN and not content_type)
