"""``oncoscrub publish`` without a broker: the file's claims and their places in it, bad
claims reported by place and never by content, and a clear failure when no broker answers.
(Sending and reading back on a real broker: tests/broker/test_publish.py.)"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import typer
from click.testing import Result
from typer.testing import CliRunner

from schemas.examples import example_claim
from worker.batch import split_inputs
from worker.cli_publish import Item, Problem, claim_key, publish_cmd, read_items

app = typer.Typer()
app.command()(publish_cmd)

SECRET = "Jane Roe 1950-01-01"  # stands for patient data: never in any output


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def claim(n: int) -> bytes:
    return json.dumps(example_claim(n)).encode()


@pytest.fixture
def closed_port(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bootstrap address where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("ONCOSCRUB_BOOTSTRAP_SERVERS", f"127.0.0.1:{port}")
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)


@pytest.mark.parametrize(
    ("data", "places"),
    [
        (b"\n" + claim(1) + b"\n\n" + claim(2) + b"\n", ["line 2", "line 4"]),
        (b"[" + claim(1) + b"," + claim(2) + b"]", ["item 1", "item 2"]),
        (claim(1), ["the file"]),
        (b"  \n", []),
    ],
)
def test_the_claims_of_a_file_and_their_places(data: bytes, places: list[str]) -> None:
    items = list(read_items(data))
    assert [i.where for i in items] == places
    # The bytes sent are those batch mode decides, so decisions match ``scrub``'s.
    assert [i.value for i in items] == list(split_inputs(data))


def test_a_valid_claim_is_keyed_by_its_claim_id() -> None:
    assert claim_key(Item("line 1", claim(7)), validate=True) == b"CLM-00000007"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (f"{SECRET} not json".encode(), "not JSON"),
        (json.dumps({"claim_id": SECRET}).encode(), "Claim id is not an identifier"),
        (json.dumps([SECRET]).encode(), "The claim must be an object"),
    ],
)
def test_a_bad_claim_is_a_problem_at_its_place_without_its_content(value: bytes, why: str) -> None:
    problem = claim_key(Item("line 3", value), validate=True)
    assert isinstance(problem, Problem) and problem.where == "line 3"
    assert problem.why.startswith(why) and "Jane" not in problem.why


def test_unvalidated_claims_are_keyed_when_their_id_can_be_read() -> None:
    assert claim_key(Item("l", b'{"claim_id": "C-1", "x": 1}'), validate=False) == b"C-1"
    assert claim_key(Item("l", b"not json"), validate=False) is None
    assert claim_key(Item("l", b'{"claim_id": 5}'), validate=False) is None


def test_bad_lines_are_reported_by_number_and_the_run_fails_when_no_broker_answers(
    tmp_path: Path, closed_port: None
) -> None:
    path = tmp_path / "claims.jsonl"
    lines = [claim(1), f"{SECRET} not json".encode(), claim(2), json.dumps({"x": SECRET}).encode()]
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = run(path)
    assert result.exit_code == 1
    out = " ".join(result.stderr.split())
    assert "line 2: rejected: not JSON" in out
    assert "line 4: rejected: Claim id is required but missing" in out
    assert "nothing published: the brokers at 127.0.0.1:" in out
    assert "cannot be reached" in out
    assert "published 0 of 4 claim(s) to claims.submitted: 2 rejected, 2 not published" in out
    assert "Jane" not in result.output


def test_a_file_without_claims_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("\n\n")
    assert run(tmp_path / "empty.jsonl").exit_code == 2
    assert run(tmp_path / "missing.jsonl").exit_code == 2


def test_help_documents_the_exit_codes() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert "Exit codes: 0 every claim published; 1 some claim was not" in " ".join(
        result.stdout.split()
    )


def test_an_837_or_a_bundle_is_sent_whole_with_its_content_type(tmp_path: Path) -> None:
    from worker.cli_publish import whole_form

    x12 = b"ISA*00*          *00*          *ZZ*SENDER~"
    assert whole_form(tmp_path / "claims.837", b"anything", mar=False) == "application/edi-x12"
    assert whole_form(tmp_path / "claims.txt", x12, mar=False) == "application/edi-x12"
    bundle = b'{"resourceType": "Bundle", "type": "collection", "entry": []}'
    assert whole_form(tmp_path / "b.json", bundle, mar=False) == "application/fhir+json"
    assert whole_form(tmp_path / "mar.json", bundle, mar=True) == "application/fhir+json"
    assert whole_form(tmp_path / "c.json", b'{"claim_id": "C-1"}', mar=False) is None
