"""The read model: decisions, audit events and review actions from the topics, the
claims derived from them, the feed's offsets, and the access log.

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _record(*columns: sa.Column[object]) -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        *columns,
    ]


def upgrade() -> None:
    op.create_table(
        "feed_offsets",
        sa.Column("topic", sa.String(255), primary_key=True),
        sa.Column("partition", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("next_offset", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column("claim_id", sa.String(64), nullable=False),
        sa.Column("claim_version", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(32)),
        sa.Column("rule_ids", sa.Text, nullable=False),
        sa.Column("payer_id", sa.String(64)),
        sa.Column("setting", sa.String(32)),
        sa.Column("service_from", sa.Date),
        sa.Column("service_to", sa.Date),
        sa.Column("patient_ref", sa.String(64)),
        sa.Column("body", sa.Text, nullable=False),
        sa.UniqueConstraint("topic", "partition", "offset", name="uq_decisions_record"),
    )
    op.create_index("ix_decisions_claim_id", "decisions", ["claim_id"])
    op.create_table(
        "audit_events",
        *_record(
            sa.Column("seq", sa.BigInteger, nullable=False),
            sa.Column("event_id", sa.String(300), nullable=False),
            sa.Column("claim_id", sa.String(64), nullable=False),
            sa.Column("claim_version", sa.Integer),
            sa.Column("outcome", sa.String(16), nullable=False),
            sa.Column("output_topic", sa.String(255), nullable=False),
            sa.Column("output_sha256", sa.String(64), nullable=False),
            sa.Column("rule_pack", sa.String(200), nullable=False),
            sa.Column("engine_version", sa.String(64), nullable=False),
            sa.Column("worker_id", sa.String(200), nullable=False),
            sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        ),
        sa.UniqueConstraint("partition", "offset", name="uq_audit_events_record"),
    )
    op.create_index("ix_audit_events_claim_id", "audit_events", ["claim_id"])
    op.create_table(
        "actions",
        *_record(
            sa.Column("seq", sa.BigInteger, nullable=False),
            sa.Column("claim_id", sa.String(64), nullable=False),
            sa.Column("claim_version", sa.Integer, nullable=False),
            sa.Column("kind", sa.String(32), nullable=False),
            sa.Column("actor", sa.String(64), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("sha256", sa.String(64), nullable=False),
            sa.Column("body", sa.Text, nullable=False),
        ),
        sa.UniqueConstraint("partition", "offset", name="uq_actions_record"),
    )
    op.create_index("ix_actions_claim_id", "actions", ["claim_id"])
    op.create_table(
        "claims",
        sa.Column("claim_id", sa.String(64), primary_key=True),
        sa.Column("latest_version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32)),
        sa.Column("rule_ids", sa.Text, nullable=False),
        sa.Column("payer_id", sa.String(64)),
        sa.Column("setting", sa.String(32)),
        sa.Column("service_from", sa.Date),
        sa.Column("service_to", sa.Date),
        sa.Column("patient_ref", sa.String(64)),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assignee", sa.String(64)),
        sa.Column("close_reason", sa.String(32)),
        sa.Column("last_action_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_claims_status_queued", "claims", ["status", "queued_at", "claim_id"])
    op.create_index("ix_claims_reason", "claims", ["reason", "status"])
    op.create_index("ix_claims_payer", "claims", ["payer_id", "status"])
    op.create_index("ix_claims_setting", "claims", ["setting", "status"])
    op.create_index("ix_claims_assignee", "claims", ["assignee", "status"])
    op.create_index("ix_claims_service_from", "claims", ["service_from"])
    op.create_table(
        "claim_rules",
        sa.Column("claim_id", sa.String(64), primary_key=True),
        sa.Column("rule_id", sa.String(32), primary_key=True),
    )
    op.create_index("ix_claim_rules_rule", "claim_rules", ["rule_id", "claim_id"])
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("claim_id", sa.String(64), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
    )
    op.create_index("ix_access_log_claim_id", "access_log", ["claim_id"])


def downgrade() -> None:
    for table in (
        "access_log", "claim_rules", "claims", "actions", "audit_events", "decisions",
        "feed_offsets",
    ):  # fmt: skip
        op.drop_table(table)
