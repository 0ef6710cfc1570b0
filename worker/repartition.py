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

from collections.abc import Sequence

import jiter

from worker.topology import BY_PATIENT_KEY, BY_PATIENT_SOURCE, Headers, OutRecord, Topology

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
    topology: Topology,
    value: bytes | None,
    key: bytes | None,
    headers: Sequence[tuple[str, bytes]],
    source: str,
) -> OutRecord:
    """The copy of a submitted record on the by-patient topic."""
    kept: Headers = tuple(
        (k, v) for k, v in headers if k not in (BY_PATIENT_SOURCE, BY_PATIENT_KEY)
    )
    kept += ((BY_PATIENT_SOURCE, source.encode()),)
    if key is not None:
        kept += ((BY_PATIENT_KEY, key),)
    return OutRecord(
        topology.by_patient.name, patient_key(value) or key, value or b"", kept, partition=None
    )


def submitted_key(headers: Sequence[tuple[str, bytes]]) -> bytes | None:
    """The key a by-patient record had when it was submitted: its decision takes that one."""
    for name, value in headers:
        if name == BY_PATIENT_KEY:
            return value
    return None
