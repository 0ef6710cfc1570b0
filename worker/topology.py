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
from worker.audit.chain import ChainHead

# Every topic a decision or its evidence goes to accepts messages well above the
# worker's claim limit: a 1 MB claim becomes a review request carrying it in base64
# (+33%), and its audit event carries it too. Set per topic, so that routing never
# depends on the broker-wide default (1 MB), which would abort such a transaction
# again and again and stall the partition. The submitted topic takes more than the
# limit so that an oversized claim reaches the worker and is dead-lettered whole.
LARGE_MESSAGE_BYTES = 16 * 1024 * 1024

Headers = tuple[tuple[str, bytes], ...]


class Topics(BaseModel):
    """The topic names: the only part of the topology that configuration changes."""

    submitted: str = "claims.submitted"
    scrubbed: str = "claims.scrubbed"
    review: str = "claims.needs-review"
    dead_letter: str = "claims.dead-letter"
    audit: str = "claims.audit"
    audit_checkpoints: str = "claims.audit-checkpoints"
    chain_heads_changelog: str = "oncoscrub.audit-chain-heads.changelog"

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

    def route(self, outcome: Outcome) -> TopicSpec:
        return {
            Outcome.SCRUBBED: self.scrubbed,
            Outcome.NEEDS_REVIEW: self.review,
            Outcome.DEAD_LETTER: self.dead_letter,
        }[outcome]

    def topic_configs(self) -> dict[str, dict[str, str]]:
        """What topic creation needs: each topic's name and configuration."""
        return {t.name: dict(t.config) for t in self.topics}


_LARGE: Mapping[str, str] = MappingProxyType({"max.message.bytes": str(LARGE_MESSAGE_BYTES)})
# Compacted: the latest value per key is the store. A restore also reads the tail not
# yet compacted, and the active segment never is, so segments roll hourly to keep that
# tail, and with it the time a partition waits for its restore, short.
_COMPACTED: Mapping[str, str] = MappingProxyType(
    {"cleanup.policy": "compact", "segment.ms": str(60 * 60 * 1000)}
)
_INTERNAL = "Changelog of a worker state store: internal, read back only by the worker. "


def declare(names: Topics | None = None) -> Topology:
    n = names or Topics()
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
        ),
        review=TopicSpec(
            name=n.review,
            direction=Direction.SEND,
            schema=ReviewRequest,
            key="claim id, else the input record's key",
            partitioning=Partitioning.BY_KEY,
            description="Claims a person must review, with the reasons.",
            config=_LARGE,
        ),
        dead_letter=TopicSpec(
            name=n.dead_letter,
            direction=Direction.SEND,
            schema=bytes,
            key="the input record's key",
            partitioning=Partitioning.BY_KEY,
            description="Unreadable input, byte for byte.",
            config=_LARGE,
            headers=(
                Header("x-reason", "reason code: not_json, not_an_object or oversized"),
                Header("x-reason-detail", "the reason in words"),
                Header("x-source", "the input record, topic:partition:offset"),
                Header("x-engine-version", "the version of the engine that decided"),
            ),
        ),
        audit=TopicSpec(
            name=n.audit,
            direction=Direction.SEND,
            schema=AuditEvent,
            key="claim id, else the input record's key",
            partitioning=Partitioning.INPUT,
            description="One event per decision, in the decision's transaction; "
            "each partition is one hash chain.",
            config=_LARGE,
        ),
        audit_checkpoints=TopicSpec(
            name=n.audit_checkpoints,
            direction=Direction.SEND,
            schema=AuditCheckpoint,
            key="the partition number",
            partitioning=Partitioning.INPUT,
            description="One per transaction, pinning the length and head hash of the "
            "partition's audit chain. Never compacted.",
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
    )
