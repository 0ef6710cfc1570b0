"""``make demo``'s first screen, run for real (its own broker and worker): the demo's lines
only — no warning, no escape code, no Kafka client line, no JSON log line — a table that
fits 80 columns and agrees with batch mode, and a worker log without an error line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.demo import SAMPLES, WENT
from review.demo import closing_lines
from worker.batch import scrub

pytestmark = pytest.mark.broker

ROOT = Path(__file__).resolve().parents[2]
NOISE = re.compile(r"warning|unable connect|traceback|deprecat|error", re.IGNORECASE)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    kept = tmp_path_factory.mktemp("demo")
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("ONCOSCRUB_", "FORCE_COLOR", "COLUMNS", "TERM"))
    }  # fmt: skip
    env |= {
        "ONCOSCRUB_DEMO_DIR": str(kept),
        "ONCOSCRUB_REVIEW_DATABASE_URL": f"sqlite:///{kept / 'review.db'}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "deploy.demo"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=400, check=False,
    )  # fmt: skip
    return done, kept


def test_the_demo_prints_its_own_lines_only(
    demo: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, _ = demo
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    out = done.stdout
    assert "\x1b" not in out  # not a terminal: no escape codes
    assert not NOISE.search(out), NOISE.findall(out)
    assert not [line for line in out.splitlines() if line.lstrip().startswith("{")]
    assert "Audit chain: verified, 13 events" in out
    assert "Worker stopped (exit 0): 13 records" in out


def test_the_table_fits_80_columns_and_says_what_batch_mode_decides(
    demo: tuple[subprocess.CompletedProcess[str], Path], tmp_path: Path
) -> None:
    done, kept = demo
    lines = done.stdout.splitlines()
    # The review queue's commands are printed whole, to be copied; every other line fits.
    commands = set(closing_lines(6, f"sqlite:///{kept / 'review.db'}"))
    assert all(len(line.rstrip()) <= 80 for line in lines if line not in commands)

    samples = sorted(p for p in SAMPLES.iterdir() if p.is_file())
    with (tmp_path / "audit.jsonl").open("wb") as audit, (tmp_path / "d.jsonl").open("wb") as d:
        scrub([p.read_bytes() for p in samples], "samples", d, audit)
    expected = {
        p.stem: WENT[json.loads(event)["outcome"]]
        for p, event in zip(
            samples, (tmp_path / "audit.jsonl").read_bytes().splitlines(), strict=True
        )
    }
    rows = {}
    for line in lines:
        words = line.split()
        if len(words) >= 2 and words[0] in expected:
            went = "dead letter" if words[1:3] == ["dead", "letter"] else words[1]
            rows[words[0]] = went
    assert rows == expected
    assert set(expected.values()) == {"scrubbed", "review", "dead letter"}


def test_a_healthy_demo_run_logs_no_error_and_no_reconnect_line(
    demo: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, kept = demo
    logged = [json.loads(line) for line in (kept / "demo-worker.log").read_text().splitlines()]
    assert logged and all({"timestamp", "level", "logger", "message"} <= set(e) for e in logged)
    assert [e for e in logged if e["level"] in ("error", "critical")] == []
    assert not [e for e in logged if "Unable connect" in e["message"]]
    assert any(e["message"] == "processor_stopped" for e in logged)
