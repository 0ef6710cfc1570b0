"""The worker's Kafka topology, declared once: every topic and every state store.

As Faust declares ``app.topic`` and ``app.Table`` before its agents, ``declare()``
names each topic with its message schema, key, partitioning, configuration and
direction, and each store with its changelog. Topic creation
(``worker.topic_admin``), the AsyncAPI document (``worker.asyncapi``), routing
(``worker.decide``) and the processor (``worker.processor``) all read this one
declaration; configuration changes only the names (``Topics``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

from schemas.audit import AuditCheckpoint, AuditEvent, Outcome
from schemas.claim import SubmittedClaim
from schemas.decision import ReviewRequest, ScrubbedClaim
from worker import limits
from worker import record_headers as rh
from worker.audit.chain import ChainHead

# Every topic a decision or its evidence goes to accepts messages well above the
# worker's claim limit: a 1 MB claim becomes a review request carrying it in base64
# (+33%), and its audit event carries it too. Set per topic, so that routing never
# depends on the broker-wide default (1 MB), which would abort such a transaction
# again and again and stall the partition. The submitted topic takes more than the
# limit so that an oversized claim reaches the worker and is dead-lettered whole; the
# dead-letter topic takes that whole record plus the worker's headers
# (``worker.limits``: the arithmetic, checked against the brokers at start-up).
LARGE_MESSAGE_BYTES = 16 * 1024 * 1024
DEAD_LETTER_MESSAGE_BYTES = limits.dead_letter_topic_bytes(LARGE_MESSAGE_BYTES)
# The largest decision (scrubbed claim, review request) or audit event: what fits a
# topic of LARGE_MESSAGE_BYTES with its key and framing.
DEFAULT_MAX_DECISION_BYTES = LARGE_MESSAGE_BYTES - limits.RECORD_OVERHEAD
# Compliance logs are kept as long as the broker stands unless configured otherwise.
KEEP_FOREVER_MS = -1

Headers = tuple[tuple[str, bytes], ...]

# What a repartitioned record says of the submitted record it copies.
BY_PATIENT_SOURCE = "x-submitted-source"
BY_PATIENT_KEY = "x-submitted-key"
# A by-patient record holding a patient's MAR (schemas.mar.MarRecord), not a claim.
RECORD_KIND = "x-record-kind"
MAR_KIND = b"mar"


class Topics(BaseModel):
    """The topic names: the only part of the topology that configuration changes."""

    submitted: str = "claims.submitted"
    scrubbed: str = "claims.scrubbed"
    review: str = "claims.needs-review"
    dead_letter: str = "claims.dead-letter"
    audit: str = "claims.audit"
    audit_checkpoints: str = "claims.audit-checkpoints"
    chain_heads_changelog: str = "oncoscrub.audit-chain-heads.changelog"
    # The course store (issue 13, ``ONCOSCRUB_COURSES``): claims repartitioned by patient, and
    # each partition's radiation-oncology courses.
    by_patient: str = "oncoscrub.claims-by-patient"
    courses_changelog: str = "oncoscrub.courses.changelog"
    # The MAR beside 837 claims (issue 14, ``ONCOSCRUB_MAR_JOIN``): FHIR MedicationAdministration
    # Bundles from the EHR, and each partition's patients' recent MAR and claims awaiting it.
    mar_submitted: str = "mar.submitted"
    mar_changelog: str = "oncoscrub.mar.changelog"
    # Written by the review app (``review/``), declared here so that topic creation and
    # the AsyncAPI document know them: hash-chained and kept like the audit log.
    review_actions: str = "claims.review-actions"
    review_actions_checkpoints: str = "claims.review-actions-checkpoints"

    @classmethod
    def prefixed(cls, prefix: str) -> Topics:
        """The same topic names under a prefix (tests and multi-tenant brokers)."""
        base = cls()
        return cls(**{name: f"{prefix}{value}" for name, value in base.model_dump().items()})

    def env(self) -> dict[str, str]:
        """These names as the environment variables that select them."""
        return {f"ONCOSCRUB_TOPICS__{k.upper()}": v for k, v in self.model_dump().items()}


class Direction(StrEnum):
    """AsyncAPI's point of view: what the worker does with the topic."""

    RECEIVE = "receive"
    SEND = "send"


class Partitioning(StrEnum):
    BY_KEY = "by key"
    # Partition N is written only by the owner of input partition N, under that
    # partition's transactional producer: one writer at a time, so a partition can
    # hold a hash chain or a store's state for exactly the inputs it mirrors.
    INPUT = "input partition"


@dataclass(frozen=True, slots=True)
class Header:
    name: str
    meaning: str
    required: bool = True  # False: written only when the meaning says so


@dataclass(frozen=True, slots=True)
class OutRecord:
    """One record a transaction writes."""

    topic: str
    key: bytes | None
    value: bytes
    headers: Headers = ()
    partition: int | None = None  # None: the producer's partitioner picks, by key


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    direction: Direction
    schema: type[Any]  # the value's model; bytes for opaque bytes
    key: str
    partitioning: Partitioning
    description: str
    config: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    headers: tuple[Header, ...] = ()  # exactly those the worker writes
    writer: str = "the worker"  # who sends it (RECEIVE: who the worker receives it from)

    def record(
        self, key: bytes | None, value: bytes, input_partition: int, headers: Headers = ()
    ) -> OutRecord:
        """A record for this topic, on the partition its partitioning gives."""
        mirrored = self.partitioning is Partitioning.INPUT
        return OutRecord(self.name, key, value, headers, input_partition if mirrored else None)


@dataclass(frozen=True, slots=True)
class StoreSpec:
    """A per-partition key/value store; its changelog is its durable copy."""

    name: str
    changelog: TopicSpec

    def __post_init__(self) -> None:
        # Restore reads changelog partition N for input partition N, and the latest
        # value per key must survive retention: both are what makes it the store.
        if self.changelog.partitioning is not Partitioning.INPUT:
            raise ValueError(f"store {self.name}: its changelog must mirror input partitions")
        if self.changelog.config.get("cleanup.policy") != "compact":
            raise ValueError(f"store {self.name}: its changelog must be compacted")


@dataclass(frozen=True, slots=True)
class Topology:
    submitted: TopicSpec
    scrubbed: TopicSpec
    review: TopicSpec
    dead_letter: TopicSpec
    audit: TopicSpec
    audit_checkpoints: TopicSpec
    chain_heads: StoreSpec
    by_patient: TopicSpec
    courses: StoreSpec
    mar_submitted: TopicSpec
    mar: StoreSpec
    review_actions: TopicSpec
    review_actions_checkpoints: TopicSpec

    @property
    def stores(self) -> tuple[StoreSpec, ...]:
        return tuple(v for f in fields(self) if isinstance(v := getattr(self, f.name), StoreSpec))

    @property
    def topics(self) -> tuple[TopicSpec, ...]:
        """Every topic, the stores' changelogs included, in declaration order."""
        out: list[TopicSpec] = []
        for f in fields(self):
            value = getattr(self, f.name)
            out.append(value.changelog if isinstance(value, StoreSpec) else value)
        return tuple(out)

    def decided_input(self, by_patient: bool) -> TopicSpec:
        """The topic whose records are decided: claims as submitted, or, with the course
        store or the MAR join, the same claims (and the MAR) repartitioned by patient so that
        one partition holds every record of a patient and with them the patient's state."""
        return self.by_patient if by_patient else self.submitted

    def route(self, outcome: Outcome) -> TopicSpec:
        return {
            Outcome.SCRUBBED: self.scrubbed,
            Outcome.NEEDS_REVIEW: self.review,
            Outcome.DEAD_LETTER: self.dead_letter,
        }[outcome]

    @property
    def kept_as_evidence(self) -> tuple[TopicSpec, ...]:
        """The hash-chained logs and their checkpoints: retained as configured (forever by
        default), never compacted."""
        return (
            self.audit, self.audit_checkpoints, self.review_actions,
            self.review_actions_checkpoints,
        )  # fmt: skip

    def topic_configs(self) -> dict[str, dict[str, str]]:
        """What topic creation needs: each topic's name and configuration."""
        return {t.name: dict(t.config) for t in self.topics}


_LARGE: Mapping[str, str] = MappingProxyType({"max.message.bytes": str(LARGE_MESSAGE_BYTES)})
_DEAD_LETTER: Mapping[str, str] = MappingProxyType(
    {"max.message.bytes": str(DEAD_LETTER_MESSAGE_BYTES)}
)


_TRACEPARENT = Header(
    rh.TRACEPARENT,
    "the W3C trace context of the decision, when the input carried one and tracing is on",
    required=False,
)


def _decision_headers(outcome: Outcome) -> tuple[Header, ...]:
    """What a scrubbed claim or review request says in its headers (``worker.record_headers``)."""
    return (
        Header(rh.OUTCOME, f"the decision's outcome: {outcome.value}"),
        Header(rh.PAYER, "the claim's payer id, when the claim was valid", required=False),
        Header(
            rh.RULE_IDS,
            "the ids of the rules with findings, sorted and comma-separated, when there are "
            f"findings; beyond {rh.MAX_RULE_IDS} characters, those that fit and +N for the rest",
            required=False,
        ),
        Header(
            rh.SEVERITY,
            "the highest finding's severity (error, warning or info), when there are findings",
            required=False,
        ),
        Header(rh.CONTENT_TYPE, rh.JSON),
        _TRACEPARENT,
    )


def evidence_config(retention_ms: int, message_bytes: int | None = None) -> Mapping[str, str]:
    """An evidence log's configuration: deleted only by age (never by size), never compacted:
    a chain verifies only from a head that is either kept or archived on record."""
    config = {"cleanup.policy": "delete", "retention.ms": str(retention_ms)}
    config["retention.bytes"] = "-1"
    if message_bytes is not None:
        config["max.message.bytes"] = str(message_bytes)
    return MappingProxyType(config)


# Compacted: the latest value per key is the store. A restore also reads the tail not
# yet compacted, and the active segment never is, so segments roll hourly to keep that
# tail, and with it the time a partition waits for its restore, short.
_COMPACTED: Mapping[str, str] = MappingProxyType(
    {"cleanup.policy": "compact", "segment.ms": str(60 * 60 * 1000)}
)
_INTERNAL = "Changelog of a worker state store: internal, read back only by the worker. "


def declare(names: Topics | None = None, evidence_retention_ms: int = KEEP_FOREVER_MS) -> Topology:
    """The topology under these names; ``evidence_retention_ms`` is the retention of the
    audit, checkpoint and review-action topics (-1: forever)."""
    n = names or Topics()
    kept = evidence_retention_ms
    return Topology(
        submitted=TopicSpec(
            name=n.submitted,
            direction=Direction.RECEIVE,
            schema=SubmittedClaim,
            key="the platform's choice",
            partitioning=Partitioning.BY_KEY,
            description="Claims with their MAR, published by billing platforms.",
            config=_LARGE,
        ),
        scrubbed=TopicSpec(
            name=n.scrubbed,
            direction=Direction.SEND,
            schema=ScrubbedClaim,
            key="claim id",
            partitioning=Partitioning.BY_KEY,
            description="Claims that passed, with computed lines, findings and corrections.",
            config=_LARGE,
            headers=_decision_headers(Outcome.SCRUBBED),
        ),
        review=TopicSpec(
            name=n.review,
            direction=Direction.SEND,
            schema=ReviewRequest,
            key="claim id, else the input record's key",
            partitioning=Partitioning.BY_KEY,
            description="Claims a person must review, with the reasons.",
            config=_LARGE,
            headers=_decision_headers(Outcome.NEEDS_REVIEW),
        ),
        dead_letter=TopicSpec(
            name=n.dead_letter,
            direction=Direction.SEND,
            schema=bytes,
            key="the input record's key",
            partitioning=Partitioning.BY_KEY,
            description="Unreadable input, byte for byte.",
            config=_DEAD_LETTER,
            headers=(
                Header(
                    "x-reason", "reason code: not_json, nested_too_deep, not_an_object or oversized"
                ),
                Header("x-reason-detail", "the reason in words"),
                Header("x-source", "the input record, topic:partition:offset"),
                Header("x-engine-version", "the version of the engine that decided"),
                Header(rh.CONNECT_TOPIC, "Kafka Connect's: the input record's topic"),
                Header(rh.CONNECT_PARTITION, "Kafka Connect's: its partition, in decimal"),
                Header(rh.CONNECT_OFFSET, "Kafka Connect's: its offset, in decimal"),
                Header(rh.CONNECT_CONNECTOR, f"Kafka Connect's: {rh.CONNECTOR_NAME}"),
                Header(rh.CONNECT_TASK, "Kafka Connect's: the id of the worker that decided"),
                Header(rh.CONNECT_STAGE, f"Kafka Connect's: {rh.STAGE} (the value was unreadable)"),
                Header(rh.CONNECT_CLASS, f"Kafka Connect's: {rh.READER}, which read the value"),
                Header(rh.CONNECT_EXCEPTION, "Kafka Connect's: the reason code (as x-reason)"),
                Header(
                    rh.CONNECT_MESSAGE, "Kafka Connect's: the reason in words (as x-reason-detail)"
                ),
                Header(rh.OUTCOME, f"the decision's outcome: {Outcome.DEAD_LETTER.value}"),
                Header(rh.CONTENT_TYPE, f"{rh.BYTES}: the input's bytes, whatever they are"),
                _TRACEPARENT,
            ),
        ),
        audit=TopicSpec(
            name=n.audit,
            direction=Direction.SEND,
            schema=AuditEvent,
            key="claim id, else the input record's key",
            partitioning=Partitioning.INPUT,
            description="One event per decision, in the decision's transaction; "
            "each partition is one hash chain. Kept as configured (forever by default), "
            "never compacted.",
            config=evidence_config(kept, LARGE_MESSAGE_BYTES),
        ),
        audit_checkpoints=TopicSpec(
            name=n.audit_checkpoints,
            direction=Direction.SEND,
            schema=AuditCheckpoint,
            key="the partition number",
            partitioning=Partitioning.INPUT,
            description="One per transaction, pinning the length and head hash of the "
            "partition's audit chain, and one per archival of a chain's head. Kept as "
            "configured (forever by default), never compacted.",
            config=evidence_config(kept),
        ),
        chain_heads=StoreSpec(
            name="audit-chain-heads",
            changelog=TopicSpec(
                name=n.chain_heads_changelog,
                direction=Direction.SEND,
                schema=ChainHead,
                key="the partition number",
                partitioning=Partitioning.INPUT,
                description=_INTERNAL + "The head of each partition's audit chain: "
                "the next seq and the hash the next event links to.",
                config=_COMPACTED,
            ),
        ),
        by_patient=TopicSpec(
            name=n.by_patient,
            direction=Direction.SEND,
            schema=SubmittedClaim,
            key="the claim's pseudonymous patient reference (the input record's key when the "
            "claim is unreadable)",
            partitioning=Partitioning.BY_KEY,
            description="Internal (with ONCOSCRUB_COURSES): claims.submitted repartitioned by "
            "patient, written and read back by the workers, each record in the transaction that "
            "commits its submitted offset. Its partition N is decided with the courses of "
            "partition N's patients.",
            config=MappingProxyType({**_LARGE, "retention.ms": str(7 * 24 * 60 * 60 * 1000)}),
            headers=(
                Header(BY_PATIENT_SOURCE, "the submitted record, topic:partition:offset"),
                Header(BY_PATIENT_KEY, "the submitted record's key, when it had one", False),
                Header(
                    RECORD_KIND, "mar: the record is a patient's MAR (from mar.submitted)", False
                ),
            ),
        ),
        courses=StoreSpec(
            name="courses",
            changelog=TopicSpec(
                name=n.courses_changelog,
                direction=Direction.SEND,
                schema=bytes,  # schemas.course.PatientCourses as JSON; None deletes
                key="the pseudonymous patient reference",
                partitioning=Partitioning.INPUT,
                description=_INTERNAL + "Each patient's radiation-oncology courses: the "
                "contribution of every claim version and the course findings last reported.",
                config=_COMPACTED,
            ),
        ),
        mar_submitted=TopicSpec(
            name=n.mar_submitted,
            direction=Direction.RECEIVE,
            schema=bytes,  # a FHIR R4 Bundle of MedicationAdministration (application/fhir+json)
            key="the platform's choice (the worker repartitions the MAR by patient)",
            partitioning=Partitioning.BY_KEY,
            description="With ONCOSCRUB_MAR_JOIN: the MAR of claims sent as 837s, as FHIR R4 "
            "Bundles of MedicationAdministration (with Medication, Device, Encounter, Patient, "
            "Coverage), published by the EHR or the billing platform.",
            config=_LARGE,
            writer="the EHR or the billing platform",
        ),
        mar=StoreSpec(
            name="mar",
            changelog=TopicSpec(
                name=n.mar_changelog,
                direction=Direction.SEND,
                schema=bytes,  # schemas.mar.MarState as JSON; None deletes
                key="the pseudonymous patient reference",
                partitioning=Partitioning.INPUT,
                description=_INTERNAL + "Each patient's recent MAR entries and the claims "
                "decided without them, awaiting their MAR (bounded by days).",
                config=_COMPACTED,
            ),
        ),
        review_actions=TopicSpec(
            name=n.review_actions,
            direction=Direction.SEND,
            # The review app's ReviewAction (review/events.py); the worker never reads it.
            schema=bytes,
            key="claim id",
            partitioning=Partitioning.BY_KEY,
            description="One event per action a person takes on a claim under review; "
            "each partition is one hash chain, like the audit log. Kept as configured "
            "(forever by default), never compacted.",
            config=evidence_config(kept),
            writer="the review app",
        ),
        review_actions_checkpoints=TopicSpec(
            name=n.review_actions_checkpoints,
            direction=Direction.SEND,
            schema=AuditCheckpoint,
            key="the partition number",
            partitioning=Partitioning.BY_KEY,
            description="One per review-action transaction, pinning the head of that "
            "partition's chain. Kept as configured (forever by default), never compacted.",
            config=evidence_config(kept),
            writer="the review app",
        ),
    )
