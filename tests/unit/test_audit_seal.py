"""Sealed batch audit files: checkpoints beside the file catch tail tampering, signatures
catch forged checkpoints, and every file holding patient data is created 0600."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from pydantic import SecretStr
from typer.testing import CliRunner

from schemas import AuditArchival, AuditCheckpoint
from schemas.audit_seal import SignedCheckpoint
from schemas.examples import example_claim
from worker.audit.chain import AuditRecord, head_after, sha256_hex, verify
from worker.audit.seal import Pin, read_pins, sealed_line, signature_problems
from worker.audit.signing import Signer, SigningKeyError, SigningSettings, signer_from_settings
from worker.cli import cli
from worker.private_files import open_private, private_umask

AT = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def words(text: str) -> str:
    """Output with Rich's line wrapping undone."""
    return " ".join(text.split())


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def claims_file(tmp_path: Path) -> Path:
    path = tmp_path / "claims.jsonl"
    path.write_text("".join(json.dumps(example_claim(i)) + "\n" for i in range(12)))
    return path


@pytest.fixture(autouse=True)
def no_signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONCOSCRUB_AUDIT_SIGNING_KEY", raising=False)
    monkeypatch.delenv("ONCOSCRUB_AUDIT_SIGNING_KEY_PASSWORD", raising=False)


def scrub_to(claims: Path, audit: Path) -> Result:
    result = run("scrub", claims, "-o", audit.with_name("decisions.jsonl"), "--audit", audit)
    assert result.exit_code == 0, result.output
    return result


def verify_json(*args: str | Path) -> tuple[int, dict[str, Any]]:
    result = run("audit", "verify", *args, "--json")
    return result.exit_code, json.loads(result.stdout)


def events(audit: Path) -> list[bytes]:
    return audit.read_bytes().splitlines()


def write_lines(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(line + b"\n" for line in lines))


# -- batch mode seals its audit file ----------------------------------------------------


def test_batch_mode_writes_a_checkpoint_pinning_the_tail(claims_file: Path, tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    scrub_to(claims_file, audit)
    [pin] = read_pins(tmp_path / "audit.jsonl.checkpoints")
    lines = events(audit)
    assert isinstance(pin.record, AuditCheckpoint) and pin.signature is None
    assert pin.record.events == len(lines) == 12
    assert pin.record.head_sha256 == sha256_hex(lines[-1])
    code, report = verify_json("-f", audit)
    assert code == 0 and report["sealed"] and report["checkpoints_checked"] == 1


def test_changing_the_last_events_outcome_fails_verify(claims_file: Path, tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    scrub_to(claims_file, audit)
    lines = events(audit)
    last = json.loads(lines[-1])
    assert last["outcome"] != "needs_review"
    last["outcome"] = "needs_review"
    write_lines(audit, [*lines[:-1], json.dumps(last, separators=(",", ":")).encode()])
    # The chain alone cannot see it: nothing links to the last event.
    assert verify([AuditRecord(0, n, v) for n, v in enumerate(events(audit))]).ok
    code, report = verify_json("-f", audit)
    assert code == 1 and not report["ok"]
    assert "differs from the checkpoint" in report["breaks"][0]["problem"]


def test_dropping_the_last_event_fails_verify(claims_file: Path, tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    scrub_to(claims_file, audit)
    write_lines(audit, events(audit)[:-1])
    result = run("audit", "verify", "-f", audit)
    assert result.exit_code == 1
    assert "truncated or rolled back" in words(result.stdout)


def test_a_chain_no_checkpoint_pins_is_a_loud_warning_and_exit_3(
    claims_file: Path, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    scrub_to(claims_file, audit)
    (tmp_path / "audit.jsonl.checkpoints").unlink()
    write_lines(audit, events(audit)[:-1])  # the dropped tail cannot be seen now
    result = run("audit", "verify", "-f", audit)
    assert result.exit_code == 3
    assert "INTACT, NOT SEALED" in words(result.stdout)
    assert "WARNING: partition 0: events seq 0..10 are pinned by no checkpoint" in words(
        result.stderr
    )


def test_events_appended_after_the_checkpoint_are_reported_unpinned(
    claims_file: Path, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    scrub_to(claims_file, audit)
    lines = events(audit)
    # A forger who knows the format appends a correctly linked event.
    forged = json.loads(lines[-1])
    forged |= {"seq": len(lines), "prev_hash": sha256_hex(lines[-1])}
    write_lines(audit, [*lines, json.dumps(forged, separators=(",", ":")).encode()])
    code, report = verify_json("-f", audit)
    assert code == 3 and report["ok"] and not report["sealed"]
    assert report["unpinned"] == {"0": {"from_seq": 12, "to_seq": 12}}


def test_an_empty_batch_writes_an_empty_checkpoint_file(tmp_path: Path) -> None:
    empty = tmp_path / "none.jsonl"
    empty.write_text("")
    audit = tmp_path / "audit.jsonl"
    scrub_to(empty, audit)
    assert (tmp_path / "audit.jsonl.checkpoints").read_bytes() == b""
    code, report = verify_json("-f", audit)
    assert code == 0 and report["events"] == 0


def test_verify_reports_the_unpinned_tail_of_a_partly_pinned_chain() -> None:
    lines = [bytes(v) for v in _log(30)]
    records = [AuditRecord(0, n, v) for n, v in enumerate(lines)]
    head = head_after(lines[19])
    pinned = AuditCheckpoint(
        partition=0, events=head.seq, head_sha256=head.prev_hash, worker_id="w", at=AT
    )
    report = verify(records, [pinned])
    assert report.ok and report.unpinned == {0: (20, 29)}
    archival = AuditArchival(
        partition=0, first_kept_seq=10, first_kept_offset=10,
        last_archived_sha256=sha256_hex(lines[9]), archived_events=10,
        archive_sha256="0" * 64, archive_name="a/audit-p0.jsonl", archived_by="ops",
        reason="records schedule", at=AT,
    )  # fmt: skip
    later = verify(records[10:], [archival])
    assert later.ok and later.unpinned == {0: (10, 29)}


def _log(n: int) -> list[bytes]:
    import io

    from worker.batch import scrub

    audit = io.BytesIO()
    scrub([json.dumps(example_claim(i)).encode() for i in range(n)], "f", io.BytesIO(), audit)
    return audit.getvalue().splitlines()


# -- signed checkpoints -------------------------------------------------------------------


def keygen(tmp_path: Path, name: str = "signing.pem") -> tuple[Path, Path]:
    result = run("audit", "keygen", tmp_path / name)
    assert result.exit_code == 0, result.output
    return tmp_path / name, tmp_path / name.replace(".pem", ".pub.pem")


def test_signed_checkpoints_verify_with_the_public_key(
    claims_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    private, public = keygen(tmp_path)
    assert mode(private) == 0o600
    monkeypatch.setenv("ONCOSCRUB_AUDIT_SIGNING_KEY", str(private))
    audit = tmp_path / "audit.jsonl"
    scrub_to(claims_file, audit)
    [pin] = read_pins(tmp_path / "audit.jsonl.checkpoints")
    assert pin.signature is not None
    code, report = verify_json("-f", audit, "--public-key", public)
    assert code == 0 and report["signatures_checked"] == 1 and not report["signature_problems"]


def test_a_forged_checkpoint_passes_the_chain_but_not_the_signature(
    claims_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    private, public = keygen(tmp_path)
    monkeypatch.setenv("ONCOSCRUB_AUDIT_SIGNING_KEY", str(private))
    audit = tmp_path / "audit.jsonl"
    scrub_to(claims_file, audit)
    # Rewrite the last outcome and re-pin the checkpoint to the forged tail.
    lines = events(audit)
    last = json.loads(lines[-1]) | {"outcome": "needs_review"}
    forged = json.dumps(last, separators=(",", ":")).encode()
    write_lines(audit, [*lines[:-1], forged])
    cp_file = tmp_path / "audit.jsonl.checkpoints"
    signed = json.loads(cp_file.read_bytes())
    signed["checkpoint"]["head_sha256"] = sha256_hex(forged)
    cp_file.write_text(json.dumps(signed, separators=(",", ":")) + "\n")

    assert verify_json("-f", audit)[0] == 0  # without the key, the forgery holds
    result = run("audit", "verify", "-f", audit, "--public-key", public)
    assert result.exit_code == 1
    assert f"{cp_file}:1: partition 0: the signature does not hold" in words(result.stdout)


def test_unsigned_or_other_key_checkpoints_fail_with_a_public_key(
    claims_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit = tmp_path / "audit.jsonl"
    _, public = keygen(tmp_path)
    scrub_to(claims_file, audit)  # no key configured: unsigned
    code, report = verify_json("-f", audit, "--public-key", public)
    assert code == 1 and report["signature_problems"][0].endswith("partition 0: not signed")

    other, _ = keygen(tmp_path, "other.pem")
    monkeypatch.setenv("ONCOSCRUB_AUDIT_SIGNING_KEY", str(other))
    scrub_to(claims_file, audit)
    code, report = verify_json("-f", audit, "--public-key", public)
    assert code == 1 and "signed by another key" in report["signature_problems"][0]


def test_the_signature_is_checkable_with_openssl(tmp_path: Path) -> None:
    """An outside party verifies with standard tools: the prefix and the checkpoint JSON."""
    key = tmp_path / "k.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True)
    subprocess.run(
        ["openssl", "pkey", "-in", key, "-pubout", "-out", tmp_path / "k.pub"], check=True
    )
    signer = signer_from_settings(SigningSettings(signing_key=SecretStr(str(key))))
    assert signer is not None
    line = sealed_line(_checkpoint(), signer)
    doc = json.loads(line)
    checkpoint = json.dumps(doc["checkpoint"], separators=(",", ":")).encode()
    (tmp_path / "msg").write_bytes(b"oncoscrub-audit-checkpoint-v1\n" + checkpoint)
    (tmp_path / "sig").write_bytes(base64.b64decode(doc["signature"]["value"]))
    checked = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", tmp_path / "k.pub", "-rawin",
         "-in", tmp_path / "msg", "-sigfile", tmp_path / "sig"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert checked.returncode == 0 and "Signature Verified Successfully" in checked.stdout


def _checkpoint() -> AuditCheckpoint:
    return AuditCheckpoint(partition=0, events=3, head_sha256="a" * 64, worker_id="batch", at=AT)


def test_signature_problems_cover_each_pin() -> None:
    key = Ed25519PrivateKey.generate()
    signer = Signer(key)
    good = SignedCheckpoint.model_validate_json(sealed_line(_checkpoint(), signer))
    moved = replace(
        Pin(good.checkpoint, "f:1", good.signature),
        record=_checkpoint().model_copy(update={"events": 4}),
    )
    pins = [Pin(good.checkpoint, "f:1", good.signature), moved, Pin(_checkpoint(), "f:3")]
    assert signature_problems(pins, key.public_key()) == [
        "f:1: partition 0: the signature does not hold "
        "(the checkpoint was altered after it was signed)",
        "f:3: partition 0: not signed",
    ]


def test_the_signing_key_may_be_pem_text_and_encrypted() -> None:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"s3cret"),
    ).decode()
    signer = signer_from_settings(
        SigningSettings(signing_key=SecretStr(pem), signing_key_password=SecretStr("s3cret"))
    )
    assert signer is not None and signer.private.public_key() == key.public_key()
    with pytest.raises(SigningKeyError, match="ONCOSCRUB_AUDIT_SIGNING_KEY_PASSWORD") as wrong:
        signer_from_settings(
            SigningSettings(signing_key=SecretStr(pem), signing_key_password=SecretStr("nope"))
        )
    assert "nope" not in str(wrong.value) and pem[40:80] not in str(wrong.value)


@pytest.mark.parametrize(
    "value",
    [
        "MC4CAQAwBQYDK2VwBCIEIGxz+not-a-path-but-a-pasted-key",  # not PEM, not a file
        X25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode(),
    ],
)
def test_a_bad_signing_key_stops_scrub_with_the_setting_named_not_its_value(
    claims_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("ONCOSCRUB_AUDIT_SIGNING_KEY", value)
    result = run("scrub", claims_file, "--audit", tmp_path / "audit.jsonl")
    assert result.exit_code == 2
    message = words(result.stderr)
    assert "ONCOSCRUB_AUDIT_SIGNING_KEY" in message
    assert value.strip().splitlines()[min(1, len(value.splitlines()) - 1)] not in message
    assert not (tmp_path / "audit.jsonl").exists()


def test_keygen_refuses_to_overwrite_a_key(tmp_path: Path) -> None:
    private, _ = keygen(tmp_path)
    before = private.read_bytes()
    result = run("audit", "keygen", private)
    assert result.exit_code == 2 and "--force" in words(result.stderr)
    assert private.read_bytes() == before


# -- files holding patient data are 0600 ------------------------------------------------


def test_batch_files_are_created_0600_even_under_a_permissive_umask(
    claims_file: Path, tmp_path: Path
) -> None:
    previous = os.umask(0o000)
    try:
        scrub_to(claims_file, tmp_path / "audit.jsonl")
    finally:
        os.umask(previous)
    for name in ("audit.jsonl", "audit.jsonl.checkpoints", "decisions.jsonl"):
        assert mode(tmp_path / name) == 0o600, name


def test_an_existing_world_readable_file_is_narrowed_before_it_is_written(tmp_path: Path) -> None:
    path = tmp_path / "decisions.jsonl"
    path.write_bytes(b"old")
    path.chmod(0o644)
    with open_private(path) as f:
        assert mode(path) == 0o600  # before any byte
        f.write(b"new")
    assert path.read_bytes() == b"new"
    with open_private(path, append=True) as f:
        f.write(b"+")
    assert path.read_bytes() == b"new+" and mode(path) == 0o600


def test_audit_export_writes_0600_files_in_a_0700_directory(
    claims_file: Path, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    scrub_to(claims_file, audit)
    out = tmp_path / "export"
    previous = os.umask(0o022)
    try:
        result = run("audit", "export", out, "-f", audit)
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    assert mode(out) == 0o700
    written = sorted(p.name for p in out.iterdir())
    assert written == ["audit-p0.jsonl", "checkpoints.jsonl"]
    assert all(mode(out / name) == 0o600 for name in written)
    # The export carries the batch file's checkpoint: it verifies sealed.
    assert verify_json("-f", out)[0] == 0


def test_private_umask_restores_the_previous_one(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        with private_umask():
            (tmp_path / "f").write_bytes(b"x")
        (tmp_path / "g").write_bytes(b"x")
    finally:
        os.umask(previous)
    assert (mode(tmp_path / "f"), mode(tmp_path / "g")) == (0o600, 0o644)


def test_scrub_to_a_directory_that_does_not_exist_is_an_input_error(
    claims_file: Path, tmp_path: Path
) -> None:
    result = run("scrub", claims_file, "--audit", tmp_path / "missing" / "audit.jsonl")
    assert result.exit_code == 2
    assert "No such file or directory" in words(result.stderr)
