"""Worker configuration, from environment variables prefixed ``ONCOSCRUB_``.

Nested values use a double underscore: ``ONCOSCRUB_TOPICS__SUBMITTED=...``.
``KAFKA_BOOTSTRAP_SERVERS`` is honoured as well, as most Kafka tooling does.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from worker.topology import Topics


def _default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ONCOSCRUB_", env_nested_delimiter="__", extra="ignore", populate_by_name=True
    )

    bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("ONCOSCRUB_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"),
    )
    group_id: str = "oncoscrub"
    # One transactional producer per input partition, id "<prefix>.<topic>.<partition>":
    # a stable id is what lets a new owner fence the previous one after a rebalance.
    transactional_id_prefix: str | None = None
    topics: Topics = Topics()
    worker_id: str = Field(default_factory=_default_worker_id)

    max_claim_bytes: int = Field(default=1_000_000, ge=1024)
    # A rule pack directory (``oncoscrub pack init``): the shipped pack when unset.
    rule_pack_dir: Path | None = None
    batch_max_records: int = Field(default=500, ge=1, le=10_000)  # per partition and transaction
    poll_timeout_ms: int = Field(default=200, ge=1)
    fetch_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    max_partition_fetch_bytes: int = Field(default=17 * 1024 * 1024, ge=1024)
    max_request_bytes: int = Field(default=17 * 1024 * 1024, ge=1024)
    transaction_timeout_ms: int = Field(default=60_000, ge=1000)
    # How long a send may wait (for metadata, a leader, an acknowledgement) before the
    # batch is aborted and retried.
    request_timeout_ms: int = Field(default=40_000, ge=1000)
    session_timeout_ms: int = Field(default=10_000, ge=1000)
    heartbeat_interval_ms: int = Field(default=3_000, ge=100)
    linger_ms: int = Field(default=5, ge=0)
    # A decision and its audit event weigh ~10 KiB for a typical claim: aiokafka's
    # 16 KiB default batch would send one produce request per claim or two.
    producer_batch_bytes: int = Field(default=1024 * 1024, ge=16 * 1024)
    retry_backoff_initial_s: float = Field(default=0.2, gt=0)
    retry_backoff_max_s: float = Field(default=10.0, gt=0)

    health_host: str = "127.0.0.1"
    health_port: int = Field(default=8080, ge=0, le=65535)
    log_level: str = "INFO"
    log_decisions: bool = True

    @property
    def txn_prefix(self) -> str:
        return self.transactional_id_prefix or self.group_id
