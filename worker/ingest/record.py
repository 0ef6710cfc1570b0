"""One input record -> the claims it holds, each as the v1 JSON the decide core reads.

The decide core stays "v1 JSON claim bytes -> decision" (``worker.decide``). An X12
interchange holds any number of claims and a FHIR claim Bundle one; each becomes a
``ClaimInput``: the v1 JSON to decide (or why the claim could not be read) and the claim as
it came, which the audit event keeps beside it. A record whose envelope, syntax or Bundle
fails is one ``RecordFailure``: it is dead-lettered whole.

An 837 claim's ``original`` is a one-claim interchange written from its own segments with
the envelopes as received (``x12_out.source_interchange``). Everything located in that claim
(its reasons, where its findings point, the corrected 837) is read from that one-claim
interchange, not from the whole one: the audit event keeps only the one-claim interchange,
and replay must find the same positions in it. Pure: no Kafka, no clock, no environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from schemas.decision import ReasonCode
from worker.ingest.patient_ref import MIN_KEY_BYTES
from worker.ingest.reasons import LocatedReason
from worker.ingest.sniff import InputFormat, detect, read_as_json_claim

if TYPE_CHECKING:  # the X12 and FHIR readers load their models on first use, not at import
    from worker.ingest.x12 import X12Options
    from worker.ingest.x12_split import ClaimSource

__all__ = [
    "ClaimInput",
    "IngestOptions",
    "RecordFailure",
    "claims_of_record",
    "one_claim_source",
    "x12_claim_input",
]

_UNKNOWN = LocatedReason(
    "<record>", "neither a v1 JSON claim, an X12 837 interchange nor a FHIR R4 Bundle"
)
_NO_KEY = LocatedReason(
    "<worker>",
    "X12 and FHIR input need the patient reference key (ONCOSCRUB_PATIENT_REF_KEY, "
    f"at least {MIN_KEY_BYTES} bytes); it is not set",
)


@dataclass(frozen=True, slots=True)
class IngestOptions:
    """What reading X12 and FHIR needs from settings (``patient_ref_key``, ``payer_aliases``).
    Pickles: it crosses to the pool processes."""

    patient_key: bytes | None  # None: X12/FHIR records are dead-lettered (patient_key_unset)
    payer_aliases: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.patient_key is not None and len(self.patient_key) < MIN_KEY_BYTES:
            raise ValueError(f"the patient reference key must be at least {MIN_KEY_BYTES} bytes")


@dataclass(frozen=True, slots=True)
class ClaimInput:
    """One claim of a record."""

    decided: bytes | None  # the v1 JSON decided (None: the claim could not be read)
    original: bytes  # a one-claim 837 interchange, or the FHIR Bundle
    reasons: tuple[LocatedReason, ...]  # why it could not be read (``decided`` None)
    claim_id: str | None
    form: InputFormat


@dataclass(frozen=True, slots=True)
class RecordFailure:
    """The whole record is dead-lettered: its form, envelope or syntax fails."""

    code: ReasonCode
    reasons: tuple[LocatedReason, ...]


def one_claim_source(original: bytes | str) -> ClaimSource:
    """The ``ClaimSource`` of a one-claim interchange (``ClaimInput.original``); raises
    ``X12EnvelopeError`` if it is not one."""
    from worker.ingest.x12 import segment_ids
    from worker.ingest.x12_envelope import X12EnvelopeError, read_interchange
    from worker.ingest.x12_split import split

    sources = split(read_interchange(original, segment_ids))
    if len(sources) != 1:
        raise X12EnvelopeError(
            "not a one-claim interchange",
            [LocatedReason("<interchange>", "a one-claim interchange holds exactly one claim")],
        )
    return sources[0]


def x12_claim_input(source: ClaimSource, options: X12Options) -> ClaimInput:
    """One claim of an interchange: its one-claim interchange, read again from those bytes
    so that every position is one in what the audit keeps."""
    from worker.ingest.x12 import read_claim
    from worker.ingest.x12_out import source_interchange

    text = source_interchange(source)
    read = read_claim(one_claim_source(text), options)
    decided = None if read.claim is None else read.claim.model_dump_json().encode()
    return ClaimInput(decided, text.encode(), read.reasons, read.claim_id, InputFormat.X12)


def claims_of_record(
    raw: bytes, content_type: bytes | str | None, options: IngestOptions
) -> tuple[ClaimInput, ...] | RecordFailure | None:
    """The claims of one record, in order. None: a v1 JSON claim, decided as it is.
    ``RecordFailure``: the whole record is dead-lettered, with located reasons."""
    # Unnamed and of no known form, a record is read as JSON, whose reader says precisely
    # what is wrong (not_json, not_an_object); named as a form not read here, it is refused.
    if read_as_json_claim(content_type, raw):
        return None
    form = detect(content_type, raw)
    if form is InputFormat.UNKNOWN:
        return RecordFailure(ReasonCode.UNKNOWN_FORMAT, (_UNKNOWN,))
    if form is InputFormat.X12:
        from worker.ingest.x12 import X12Options, segment_ids
        from worker.ingest.x12_envelope import X12EnvelopeError, read_interchange
        from worker.ingest.x12_split import split

        try:
            sources = split(read_interchange(raw, segment_ids))
        except X12EnvelopeError as exc:
            return RecordFailure(ReasonCode.X12_ENVELOPE, exc.reasons)
        if options.patient_key is None:
            return RecordFailure(ReasonCode.PATIENT_KEY_UNSET, (_NO_KEY,))
        x12 = X12Options(options.patient_key, options.payer_aliases)
        return tuple(x12_claim_input(source, x12) for source in sources)
    if options.patient_key is None:
        return RecordFailure(ReasonCode.PATIENT_KEY_UNSET, (_NO_KEY,))
    from worker.ingest.fhir import FhirBundleError, FhirOptions, parse_claim_bundle

    try:
        claim = parse_claim_bundle(raw, FhirOptions(options.patient_key, options.payer_aliases))
    except FhirBundleError as exc:
        return RecordFailure(ReasonCode.FHIR_INVALID, exc.reasons)
    return (
        ClaimInput(claim.model_dump_json().encode(), raw, (), claim.claim_id, InputFormat.FHIR),
    )
