"""Worker configuration, from environment variables prefixed ``ONCOSCRUB_``.

Nested values use a double underscore: ``ONCOSCRUB_TOPICS__SUBMITTED=...``.
``KAFKA_BOOTSTRAP_SERVERS`` is honoured as well, as most Kafka tooling does. The Kafka
security settings (``ONCOSCRUB_SECURITY_PROTOCOL``, ``ONCOSCRUB_SASL_*``, ``ONCOSCRUB_SSL_*``)
are ``worker.kafka_client.KafkaSecurity``'s; ``Settings.kafka`` is what clients are given.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Self

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from worker import limits
from worker.cpu_quota import available_cpus
from worker.ingest.patient_ref import MIN_KEY_BYTES
from worker.kafka_client import KafkaConnection, KafkaSecurity
from worker.topology import DEFAULT_MAX_DECISION_BYTES, KEEP_FOREVER_MS, Topics


def _default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class Settings(BaseSettings, KafkaSecurity):
    # hide_input_in_errors: a validation error would print every setting given, secrets too.
    model_config = SettingsConfigDict(
        env_prefix="ONCOSCRUB_",
        env_nested_delimiter="__",
        extra="ignore",
        populate_by_name=True,
        hide_input_in_errors=True,
    )

    bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("ONCOSCRUB_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"),
    )
    group_id: str = "oncoscrub"
    # Static membership (KIP-345): a worker that restarts with the same id within the
    # session timeout gets its partitions back without a rebalance (the pod name on k8s).
    group_instance_id: str | None = Field(
        default=None, min_length=1, max_length=249, pattern=r"^[A-Za-z0-9._-]+$"
    )
    # One transactional producer per input partition, id "<prefix>.<topic>.<partition>":
    # a stable id is what lets a new owner fence the previous one after a rebalance.
    transactional_id_prefix: str | None = None
    topics: Topics = Topics()
    worker_id: str = Field(
        default_factory=_default_worker_id, min_length=1, max_length=limits.MAX_WORKER_ID
    )

    max_claim_bytes: int = Field(default=1_000_000, ge=1024)
    # The largest decision or audit event; larger decisions go to review with only the
    # original bytes (worker.limits). The decision and audit topics must take it.
    max_decision_bytes: int = Field(default=DEFAULT_MAX_DECISION_BYTES, ge=4096)
    # Retention of the audit, checkpoint and review-action topics when they are created
    # (-1: forever). A worker refuses to start on evidence topics configured otherwise.
    evidence_retention_ms: int = Field(default=KEEP_FOREVER_MS, ge=-1)
    # A rule pack directory (``oncoscrub pack init``): the shipped pack when unset.
    rule_pack_dir: Path | None = None
    batch_max_records: int = Field(default=500, ge=1, le=10_000)  # per partition and transaction
    # Batches are sized by work too: input bytes per transaction (a claim's bytes track its
    # MAR entries and lines, which is what deciding it costs).
    batch_max_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    # Deciding runs in a pool of processes, off the event loop that heartbeats.
    # The default is the CPUs the process may use (affinity and cgroup quota), at most 64.
    decide_processes: int = Field(default_factory=lambda: min(available_cpus(), 64), ge=1, le=64)
    # A record still being decided after this goes to review (over_time_budget).
    record_budget_s: float = Field(default=5.0, gt=0, le=300)
    # A transaction stops taking records once deciding has run this long; the rest go
    # into the next one. With the budget, it bounds how long a rebalance can wait.
    batch_deadline_s: float = Field(default=5.0, gt=0, le=300)
    poll_timeout_ms: int = Field(default=200, ge=1)
    fetch_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    max_partition_fetch_bytes: int = Field(default=17 * 1024 * 1024, ge=1024)
    max_request_bytes: int = Field(default=17 * 1024 * 1024, ge=1024)
    transaction_timeout_ms: int = Field(default=60_000, ge=1000)
    # How long a send may wait (for metadata, a leader, an acknowledgement) before the
    # batch is aborted and retried.
    request_timeout_ms: int = Field(default=40_000, ge=1000)
    session_timeout_ms: int = Field(default=10_000, ge=1000)
    # How long the group waits for this worker to rejoin in a rebalance: the in-flight
    # batch finishes first (at most batch_deadline_s + record_budget_s + its commit).
    rebalance_timeout_ms: int = Field(default=30_000, ge=1000)
    heartbeat_interval_ms: int = Field(default=3_000, ge=100)
    linger_ms: int = Field(default=5, ge=0)
    # A decision and its audit event weigh ~10 KiB for a typical claim: aiokafka's
    # 16 KiB default batch would send one produce request per claim or two.
    producer_batch_bytes: int = Field(default=1024 * 1024, ge=16 * 1024)
    retry_backoff_initial_s: float = Field(default=0.2, gt=0)
    retry_backoff_max_s: float = Field(default=10.0, gt=0)
    # How long start-up may wait for the brokers (topic check, group join) before the worker
    # exits non-zero.
    startup_timeout_s: float = Field(default=30.0, gt=0, le=600)
    # The radiation-oncology course store (issue 13): claims are repartitioned by patient and
    # checked against the patient's course across claims.
    courses: bool = False
    # A course with no service for this long is dropped from the store (its summary first).
    course_retention_days: int = Field(default=400, ge=1, le=3650)
    # Claims as X12 837 or FHIR (issue 14): their patient reference is an HMAC of payer and
    # member id under this key (32 bytes at least), so a claim and its MAR meet without either
    # travelling. Unset: such input is dead-lettered with reason patient_key_unset.
    patient_ref_key: SecretStr | None = None
    # An 837's payer id (2010BB NM109) -> the rule pack's payer id, e.g. {"04412": "MEDICARE"}.
    payer_aliases: dict[str, str] = Field(default_factory=dict)
    # The MAR beside 837 claims (issue 14): read mar.submitted, keep each patient's recent MAR
    # (and the claims decided without it) for this many days, join it to their claims.
    mar_join: bool = False
    mar_keep_days: int = Field(default=60, ge=1, le=3650)

    health_host: str = "127.0.0.1"
    health_port: int = Field(default=8080, ge=0, le=65535)
    log_level: str = "INFO"
    # One log event per decision: off by default (issue 16). The audit log already records
    # every decision; at thousands of claims a second a line each is noise that costs the
    # worker's main process ~13 us a claim. Batches are logged with their outcome counts.
    log_decisions: bool = False
    # Claim ids are logged as a keyed digest (worker.logs.claim_ref), never as given: a
    # platform's id may be, or embed, a record number. Unset: a random key per process,
    # so digests do not match across workers and restarts: set it in production.
    log_id_key: SecretStr | None = None

    @field_validator("patient_ref_key")
    @classmethod
    def _key_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < MIN_KEY_BYTES:
            raise ValueError(f"must be at least {MIN_KEY_BYTES} bytes")
        return value

    @model_validator(mode="after")
    def _sizes_close(self) -> Self:
        least = limits.smallest_decision_cap(self.max_claim_bytes)
        if self.max_decision_bytes < least:
            raise ValueError(
                f"max_decision_bytes must be at least {least} to hold a review request "
                f"carrying a claim of max_claim_bytes ({self.max_claim_bytes})"
            )
        needed = limits.decision_topic_bytes(self.max_decision_bytes)
        if self.max_request_bytes < needed:
            raise ValueError(f"max_request_bytes must be at least {needed}")
        return self

    @property
    def by_patient(self) -> bool:
        """Whether records are repartitioned by patient before they are decided (the course
        store and the MAR join keep per-patient state)."""
        return self.courses or self.mar_join

    @property
    def txn_prefix(self) -> str:
        return self.transactional_id_prefix or self.group_id

    @property
    def kafka(self) -> KafkaConnection:
        """The cluster's address and security, for every Kafka client."""
        security = {name: getattr(self, name) for name in KafkaSecurity.model_fields}
        return KafkaConnection(bootstrap_servers=self.bootstrap_servers, **security)
