"""The console script."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from worker.cli import cli


def test_asyncapi_documents_every_topic_with_its_message_schema() -> None:
    result = CliRunner().invoke(cli, ["asyncapi"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    kafka_channels = {name for name in doc["channels"] if "HttpChannel" not in name}
    assert kafka_channels == {
        "claims.submitted", "claims.scrubbed", "claims.needs-review",
        "claims.dead-letter", "claims.audit",
    }  # fmt: skip
    schemas = json.dumps(doc["components"])
    assert "SubmittedClaim" in schemas and "AuditEvent" in schemas
