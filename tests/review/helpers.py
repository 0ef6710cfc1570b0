"""Shared by the review tests: claims that land in review, users, decisions as feed records."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from review.auth import Role, Users, hash_password
from review.readmodel import FeedRecord, TopicNames
from schemas.examples import example_claim
from worker.batch import scrub
from worker.topology import Topics

SAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "samples"
PASSWORDS = {"cora": "coder-pass-1", "cole": "coder-pass-2", "chloe": "compliance-pass"}


def users() -> Users:
    return Users.of(
        {
            "cora": (Role.CODER, hash_password(PASSWORDS["cora"])),
            "cole": (Role.CODER, hash_password(PASSWORDS["cole"])),
            "chloe": (Role.COMPLIANCE, hash_password(PASSWORDS["chloe"])),
        }
    )


def users_toml(path: Path) -> Path:
    lines = []
    for name, role in (("cora", "coder"), ("cole", "coder"), ("chloe", "compliance")):
        lines += [
            f"[users.{name}]",
            f'role = "{role}"',
            f'password_hash = "{hash_password(PASSWORDS[name])}"',
            "",
        ]
    path.write_text("\n".join(lines))
    return path


def correctable_claim(claim_id: str = "CLM-REVIEW-1") -> dict[str, Any]:
    """The nurse-visit sample with its diagnoses out of order: in review for DX-S1 (error,
    fixed by putting Z51.11 first), with BND-B7's removal of 99211 proposed (certain)."""
    claim: dict[str, Any] = json.loads((SAMPLES / "13-nurse-visit-with-chemo.json").read_text())
    claim["claim_id"] = claim_id
    claim["diagnoses"] = list(reversed(claim["diagnoses"]))
    return claim


def review_claims(n: int, start: int = 1000) -> list[dict[str, Any]]:
    """Example claims sent to review: Z51.11 moved after the cancer (DX-S1), or an unknown
    diagnosis code first (DX-V1); every third for Health Net California."""
    out = []
    for i in range(start, start + n):
        claim = example_claim(i)
        dx = claim["diagnoses"]
        chemo = dx[0].startswith("Z51")
        if i % 3 == 0:  # Health Net resequences Z51.11 itself (a policy): an unknown code instead
            claim["payer"] = {"payer_id": "HEALTHNET-CA", "name": "Health Net California"}
            chemo = False
        claim["diagnoses"] = [dx[1], dx[0]] if chemo else ["C99.999", *dx]
        out.append(claim)
    return out


def decide(claims: Iterable[dict[str, Any]]) -> list[tuple[str, bytes]]:
    """Batch-mode decisions ("review" or "scrubbed", bytes), as the worker would publish them."""
    decisions = io.BytesIO()
    scrub(
        (json.dumps(c).encode() for c in claims), "file:test", decisions, io.BytesIO(),
        decided_at=datetime(2026, 6, 1, tzinfo=UTC),
    )  # fmt: skip
    out = []
    for line in decisions.getvalue().splitlines():
        doc = json.loads(line)
        if "dead_letter" not in doc:
            out.append(("review" if "reasons" in doc else "scrubbed", line))
    return out


def as_records(
    decisions: Iterable[tuple[str, bytes]], names: TopicNames, first_ms: int = 1_780_000_000_000
) -> list[FeedRecord]:
    offsets: dict[str, int] = {}
    out = []
    for n, (kind, value) in enumerate(decisions):
        topic = names.review if kind == "review" else names.scrubbed
        offset = offsets.get(topic, 0)
        offsets[topic] = offset + 1
        out.append(FeedRecord(topic, 0, offset, first_ms + n * 1000, value))
    return out


def names_of(topics: Topics, actions: str = "claims.review-actions") -> TopicNames:
    return TopicNames(topics.review, topics.scrubbed, topics.audit, actions)
