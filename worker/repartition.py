"""Claims repartitioned by patient, so that one partition holds all of a patient's claims.

Platforms key ``claims.submitted`` as they like (by claim id, usually), so a patient's
claims land on any partition. The course store needs every claim of a patient on one
partition, which is Kafka Streams' repartitioning: each submitted record is copied,
byte for byte, to ``oncoscrub.claims-by-patient`` keyed by the claim's pseudonymous
patient reference, in a transaction that also commits the submitted offset (so each
record is copied exactly once), and the records of that topic are what is decided.

The patient reference is read without validating the claim: a record that cannot be
read keeps its own key (it is dead-lettered or reviewed when decided, with no course).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import jiter

from worker.ingest.mar_state import mar_record
from worker.ingest.reasons import IngestError
from worker.ingest.record import IngestOptions, RecordFailure, claims_of_record
from worker.ingest.sniff import InputFormat, read_as_json_claim
from worker.topology import (
    BY_PATIENT_KEY,
    BY_PATIENT_SOURCE,
    MAR_KIND,
    RECORD_KIND,
    Headers,
    OutRecord,
)

# The patient reference is an Identifier (schemas.base): short. A longer or non-string
# value is not a patient reference; the claim fails validation when decided.
_MAX_REF = 128


def patient_key(value: bytes | None) -> bytes | None:
    """The claim's ``patient_ref`` as key bytes; None when the record is not a readable
    claim object with one."""
    if not value:
        return None
    try:
        doc = jiter.from_json(value, cache_mode="keys")
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    ref = doc.get("patient_ref")
    if not isinstance(ref, str) or not 0 < len(ref) <= _MAX_REF:
        return None
    return ref.encode()


def by_patient(
    topic: str,
    value: bytes | None,
    key: bytes | None,
    headers: Sequence[tuple[str, bytes]],
    source: str,
) -> OutRecord:
    """The copy of a submitted record on the by-patient topic (``topic``)."""
    kept: Headers = tuple(
        (k, v) for k, v in headers if k not in (BY_PATIENT_SOURCE, BY_PATIENT_KEY)
    )
    kept += ((BY_PATIENT_SOURCE, source.encode()),)
    if key is not None:
        kept += ((BY_PATIENT_KEY, key),)
    return OutRecord(topic, patient_key(value) or key, value or b"", kept, partition=None)


def submitted_key(headers: Sequence[tuple[str, bytes]]) -> bytes | None:
    """The key a by-patient record had when it was submitted: its decision takes that one."""
    for name, value in headers:
        if name == BY_PATIENT_KEY:
            return value
    return None


def content_type(headers: Sequence[tuple[str, bytes]]) -> bytes | None:
    for name, value in headers:
        if name.lower() == "content-type":
            return value
    return None


def needs_reading(value: bytes | None, headers: Sequence[tuple[str, bytes]], is_mar: bool) -> bool:
    """Whether copying the record takes parsing (X12, FHIR, a MAR Bundle: in the pool), or
    only its patient reference (a JSON v1 claim: on the loop)."""
    return is_mar or not read_as_json_claim(content_type(headers), value or b"")


@dataclass(frozen=True, slots=True)
class SplitItem:
    """A submitted record to copy to the by-patient topic, cut per patient."""

    value: bytes | None
    key: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    source: str
    is_mar: bool


def split(topic: str, item: SplitItem, options: IngestOptions) -> tuple[OutRecord, ...]:
    """The by-patient records of an X12 interchange (one per claim: its one-claim
    interchange, keyed by its patient reference), a FHIR claim Bundle, or a MAR Bundle (one
    ``schemas.mar.MarRecord`` per patient). A record that cannot be read is copied whole,
    under its own key: deciding it gives its located reasons (review or dead letter)."""
    raw = item.value or b""
    whole = by_patient(topic, item.value, item.key, item.headers, item.source)
    if item.is_mar:
        whole = marked(whole)
        if options.patient_key is None:
            return (whole,)
        from worker.ingest.fhir import FhirOptions, parse_mar_bundle  # loaded on the first MAR

        try:
            found = parse_mar_bundle(raw, FhirOptions(options.patient_key, options.payer_aliases))
        except (IngestError, ValueError):
            return (whole,)
        return tuple(
            marked(by_patient(topic, mar_record(m), item.key, item.headers, item.source))
            for m in found
        )
    try:
        claims = claims_of_record(raw, content_type(item.headers), options)
    except Exception:  # a parser bug: deciding the whole record says so
        return (whole,)
    if claims is None or isinstance(claims, RecordFailure):
        return (whole,)
    out = []
    for c in claims:
        kind = "application/edi-x12" if c.form is InputFormat.X12 else "application/fhir+json"
        headers = [(k, v) for k, v in item.headers if k.lower() != "content-type"]
        headers.append(("content-type", kind.encode()))
        copy = by_patient(topic, c.original, item.key, headers, item.source)
        ref = patient_key(c.decided)
        out.append(dataclasses.replace(copy, key=ref or item.key))
    return tuple(out)


def marked(record: OutRecord) -> OutRecord:
    """The copy marked as a patient's MAR."""
    return dataclasses.replace(record, headers=(*record.headers, (RECORD_KIND, MAR_KIND)))
