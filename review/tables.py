"""The read model's tables (SQLAlchemy Core). Alembic migrations create them.

Facts are stored as they came from the topics (``decisions``, ``audit_events``,
``actions``), each with its topic, partition and offset; ``claims`` and
``claim_rules`` are derived from a claim's facts by ``readmodel.summarise``, so
they are the same whatever order the facts arrived in (a rebuild reads the topics
in another interleaving than the live feed did). ``feed_offsets`` is the next
offset per topic partition, written in the same transaction as the rows.
``access_log`` is the app's own record of who opened which claim: not from a
topic, and kept across a rebuild.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

feed_offsets = Table(
    "feed_offsets",
    metadata,
    Column("topic", String(255), primary_key=True),
    Column("partition", Integer, primary_key=True, autoincrement=False),
    Column("next_offset", BigInteger, nullable=False),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("topic", String(255), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("claim_id", String(64), nullable=False, index=True),
    Column("claim_version", Integer, nullable=False),
    Column("outcome", String(16), nullable=False),  # needs_review | scrubbed
    Column("decided_at", DateTime(timezone=True), nullable=False),  # the record's timestamp
    Column("reason", String(32)),  # the first review reason's code
    Column("rule_ids", Text, nullable=False, default=""),  # rules of the review reasons, sorted
    Column("payer_id", String(64)),
    Column("setting", String(32)),
    Column("service_from", Date),
    Column("service_to", Date),
    Column("patient_ref", String(64)),
    Column("body", Text, nullable=False),  # the record's value, as published
    UniqueConstraint("topic", "partition", "offset", name="uq_decisions_record"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("event_id", String(300), nullable=False),
    Column("claim_id", String(64), nullable=False, index=True),
    Column("claim_version", Integer),
    Column("outcome", String(16), nullable=False),
    Column("output_topic", String(255), nullable=False),
    Column("output_sha256", String(64), nullable=False),
    Column("rule_pack", String(200), nullable=False),
    Column("engine_version", String(64), nullable=False),
    Column("worker_id", String(200), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("partition", "offset", name="uq_audit_events_record"),
)

actions = Table(
    "actions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("claim_id", String(64), nullable=False, index=True),
    Column("claim_version", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("sha256", String(64), nullable=False),  # of the event's bytes: the next one links to it
    Column("body", Text, nullable=False),
    UniqueConstraint("partition", "offset", name="uq_actions_record"),
)

claims = Table(
    "claims",
    metadata,
    Column("claim_id", String(64), primary_key=True),
    Column("latest_version", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # open | resubmitted | closed | scrubbed
    Column("reason", String(32)),
    Column("rule_ids", Text, nullable=False, default=""),
    Column("payer_id", String(64)),
    Column("setting", String(32)),
    Column("service_from", Date),
    Column("service_to", Date),
    Column("patient_ref", String(64)),
    Column("queued_at", DateTime(timezone=True), nullable=False),
    Column("assignee", String(64)),
    Column("close_reason", String(32)),
    Column("last_action_at", DateTime(timezone=True)),
)
# The worklist filters on status first and sorts by age; the others narrow it.
Index("ix_claims_status_queued", claims.c.status, claims.c.queued_at, claims.c.claim_id)
Index("ix_claims_reason", claims.c.reason, claims.c.status)
Index("ix_claims_payer", claims.c.payer_id, claims.c.status)
Index("ix_claims_setting", claims.c.setting, claims.c.status)
Index("ix_claims_assignee", claims.c.assignee, claims.c.status)
Index("ix_claims_service_from", claims.c.service_from)

claim_rules = Table(
    "claim_rules",
    metadata,
    Column("claim_id", String(64), primary_key=True),
    Column("rule_id", String(32), primary_key=True),
)
Index("ix_claim_rules_rule", claim_rules.c.rule_id, claim_rules.c.claim_id)

access_log = Table(
    "access_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("claim_id", String(64), nullable=False, index=True),
    Column("via", String(16), nullable=False),  # web | cli
)

# Rebuilt from the topics; access_log is not.
FROM_TOPICS = (feed_offsets, decisions, audit_events, actions, claims, claim_rules)
