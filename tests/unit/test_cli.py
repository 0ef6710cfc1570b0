"""The console script."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from worker.cli import cli
from worker.logs import ClaimRefs
from worker.topology import declare


def asyncapi() -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["asyncapi"])
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def test_asyncapi_documents_every_topic_of_the_topology_with_its_message_schema() -> None:
    doc = asyncapi()
    kafka_channels = {name for name in doc["channels"] if "HttpChannel" not in name}
    assert kafka_channels == {t.name for t in declare().topics}
    assert {"claims.submitted", "claims.audit", "claims.audit-checkpoints"} <= kafka_channels
    schemas = json.dumps(doc["components"])
    assert all(s in schemas for s in ("SubmittedClaim", "AuditEvent", "AuditCheckpoint"))


def test_asyncapi_says_the_worker_receives_submitted_claims_and_sends_the_rest() -> None:
    doc = asyncapi()
    actions = {
        op["channel"]["$ref"].removeprefix("#/channels/"): op["action"]
        for op in doc["operations"].values()
        if "HttpChannel" not in op["channel"]["$ref"]
    }
    assert actions.pop("claims.submitted") == "receive"
    assert set(actions.values()) == {"send"}
    assert set(actions) == {t.name for t in declare().topics} - {"claims.submitted"}


def test_claim_ref_prints_the_keyed_digest_a_worker_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONCOSCRUB_LOG_ID_KEY", "a shared secret")
    result = CliRunner().invoke(cli, ["claim-ref", "078-05-1120", "CLM-1"])
    assert result.exit_code == 0, result.output
    refs = ClaimRefs(SecretStr("a shared secret"))
    assert result.stdout.splitlines() == [
        f"078-05-1120\t{refs('078-05-1120')}",
        f"CLM-1\t{refs('CLM-1')}",
    ]
    assert "078-05-1120" not in (refs("078-05-1120") or "")
    assert ClaimRefs(SecretStr("another key"))("CLM-1") != refs("CLM-1")


def test_claim_ref_without_a_key_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONCOSCRUB_LOG_ID_KEY", raising=False)
    assert CliRunner().invoke(cli, ["claim-ref", "CLM-1"]).exit_code == 2
