"""The console script."""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from rules import ENGINE_VERSION, rule_pack
from rules.pack import content_sha256, current_texts, write_pack_dir
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
    assert actions.pop("mar.submitted") == "receive"
    assert set(actions.values()) == {"send"}
    assert set(actions) == {t.name for t in declare().topics} - {
        "claims.submitted",
        "mar.submitted",
    }


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


# -- one version story ---------------------------------------------------------------------------


def test_version_tells_the_package_engine_and_pack_with_its_hash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ONCOSCRUB_RULE_PACK_DIR", raising=False)
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0, result.output
    pack = rule_pack()  # what every decision records
    assert result.stdout.splitlines() == [
        f"oncoscrub {importlib.metadata.version('oncoscrub')}",
        f"engine {ENGINE_VERSION}",
        f"rule pack {pack.name} {pack.version} (shipped)",
        f"rule pack sha256 {pack.content_sha256}",
    ]


def test_version_names_the_configured_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = current_texts()
    texts["payer_options.csv"] += "\n"  # another pack: another hash
    write_pack_dir(texts, "acme.7", tmp_path / "pack")
    monkeypatch.setenv("ONCOSCRUB_RULE_PACK_DIR", str(tmp_path / "pack"))
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[2] == f"rule pack core acme.7 (from {tmp_path / 'pack'})"
    assert lines[3] == f"rule pack sha256 {content_sha256(texts)}"
    assert content_sha256(texts) != rule_pack().content_sha256


# -- the worker refuses a configuration it cannot run, in one line -------------------------------


def refused(monkeypatch: pytest.MonkeyPatch, **env: str) -> list[dict[str, Any]]:
    """Run ``oncoscrub worker`` with these variables: it must exit 2 with one JSON line."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli, ["worker"])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    event = json.loads(line)
    assert (event["message"], event["level"], event["exit_code"]) == ("config_invalid", "error", 2)
    problems: list[dict[str, Any]] = event["problems"]
    return problems


def test_a_bad_variable_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    problems = refused(monkeypatch, ONCOSCRUB_BATCH_MAX_RECORDS="a-secret-value")
    assert [p["setting"] for p in problems] == ["ONCOSCRUB_BATCH_MAX_RECORDS"]
    assert "a-secret-value" not in json.dumps(problems)


def test_an_unknown_log_level_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    problems = refused(monkeypatch, ONCOSCRUB_LOG_LEVEL="LOUD")
    assert [p["setting"] for p in problems] == ["ONCOSCRUB_LOG_LEVEL"]


def test_an_unreadable_pack_dir_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    problems = refused(monkeypatch, ONCOSCRUB_RULE_PACK_DIR=str(tmp_path / "nowhere"))
    assert problems == [
        {"setting": "ONCOSCRUB_RULE_PACK_DIR", "problem": "cannot be read: FileNotFoundError"}
    ]


def test_tracing_the_worker_cannot_do_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    problems = refused(monkeypatch, OTEL_TRACES_EXPORTER="zipkin")
    assert [p["setting"] for p in problems] == ["OTEL_TRACES_EXPORTER"]


def test_an_empty_bootstrap_list_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    problems = refused(monkeypatch, ONCOSCRUB_BOOTSTRAP_SERVERS=" ")
    assert [p["setting"] for p in problems] == ["ONCOSCRUB_BOOTSTRAP_SERVERS"]
