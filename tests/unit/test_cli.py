"""The console script."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from worker.cli import cli
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
