"""``oncoscrub publish`` on a real broker: what is sent is read back, keyed by claim id, in
the file's order; bad lines stay back and are counted."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import typer
from click.testing import Result
from typer.testing import CliRunner

from deploy.kafkatools import read_topic
from schemas.examples import example_claim
from worker.cli_publish import publish_cmd
from worker.topology import Topics

pytestmark = pytest.mark.broker

app = typer.Typer()
app.command()(publish_cmd)


async def publish(*args: str | Path) -> Result:
    # The command runs its own event loop: off this test's.
    return await asyncio.to_thread(CliRunner().invoke, app, [str(a) for a in args])


async def test_a_json_lines_file_is_published_keyed_by_claim_id(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONCOSCRUB_BOOTSTRAP_SERVERS", kafka_bootstrap)
    claims = [json.dumps(example_claim(n)).encode() for n in range(40)]
    lines = [*claims[:10], b'{"claim_id": "CLM-BAD"}', *claims[10:]]
    path = tmp_path / "claims.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")

    result = await publish(path, "--topic", topics.submitted)

    assert result.exit_code == 1  # one line was kept back
    out = " ".join(result.stderr.split())
    assert "line 11: rejected: Claim type is required but missing" in out
    assert f"published 40 of 41 claim(s) to {topics.submitted}: 1 rejected, 0 not" in out
    records = await read_topic(kafka_bootstrap, topics.submitted)
    assert sorted(r.value for r in records) == sorted(claims)
    assert all(r.key == json.loads(r.value)["claim_id"].encode() for r in records)
    # Keyed, so one claim's versions share a partition, each partition in the file's order.
    for p in {r.partition for r in records}:
        mine = [r.value for r in sorted(records, key=lambda r: r.offset) if r.partition == p]
        assert mine == [c for c in claims if c in mine]


async def test_an_array_goes_to_the_configured_submitted_topic(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONCOSCRUB_BOOTSTRAP_SERVERS", kafka_bootstrap)
    for name, value in topics.env().items():
        monkeypatch.setenv(name, value)
    claims = [example_claim(n) for n in range(100, 125)]
    path = tmp_path / "claims.json"
    path.write_text(json.dumps(claims))

    result = await publish(path)

    assert result.exit_code == 0, result.output
    assert f"published 25 of 25 claim(s) to {topics.submitted}" in " ".join(result.stderr.split())
    records = await read_topic(kafka_bootstrap, topics.submitted)
    assert sorted(json.loads(r.value)["claim_id"] for r in records) == sorted(
        c["claim_id"] for c in claims
    )


async def test_a_topic_that_does_not_exist_publishes_nothing(
    kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONCOSCRUB_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("ONCOSCRUB_REQUEST_TIMEOUT_MS", "3000")
    path = tmp_path / "claims.jsonl"
    path.write_bytes(json.dumps(example_claim(1)).encode() + b"\n")
    result = await publish(path, "--topic", "no.such.topic")
    assert result.exit_code == 1
    assert "topic no.such.topic does not exist" in " ".join(result.stderr.split())
