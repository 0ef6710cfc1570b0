"""The review app in a real browser: Debian's Chromium driven by Playwright, the app as its own
process (``python -m review.cli serve``), a worker on the real broker.

A coder signs in, filters the worklist, opens a claim, finds the MAR drawn with the codes the
engine derived, accepts the proposed correction, fixes the diagnoses, resubmits, and sees the
worker decide version 2. A signed-out browser, a forged form and a compliance user are refused.
Screenshots go to ``ONCOSCRUB_SCREENSHOTS`` (docs/ for the README), else a temporary directory.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import IO

import pytest
from playwright.async_api import Page, async_playwright, expect

from deploy.kafkatools import (
    ROOT,
    InProcessWorker,
    claim_items,
    produce,
    read_topic,
    wait_for_decisions,
)
from review.events import ActionKind, ReviewAction
from schemas.audit import AuditCheckpoint
from schemas.decision import ReviewRequest, ScrubbedClaim
from tests.review.helpers import PASSWORDS, correctable_claim, review_claims, users_toml
from worker.audit.chain import AuditRecord, verify
from worker.topology import Topics

pytestmark = pytest.mark.broker

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _serve(port: int, env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    """``oncoscrub review serve`` as its own process (the CLI's typer app, unwired here)."""
    return subprocess.Popen(
        [sys.executable, "-m", "review.cli", "serve", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


def _wait_healthy(base: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the review app exited: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"the review app did not answer: {log.read_text()[-3000:]}")


async def _sign_in(page: Page, base: str, name: str) -> None:
    await page.goto(f"{base}/login")
    await page.fill("input[name=username]", name)
    await page.fill("input[name=password]", PASSWORDS[name])
    await page.click("button[type=submit]")
    await expect(page.get_by_test_id("who")).to_contain_text(name)


async def _reload_until(page: Page, test_id: str, text: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        await page.reload()
        if text in (await page.get_by_test_id(test_id).inner_text()):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{test_id} never showed {text!r}")
        await asyncio.sleep(0.5)


async def test_a_coder_works_a_claim_in_chromium_and_the_worker_decides_the_new_version(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    prefix = topics.submitted.removesuffix("claims.submitted")
    actions_topic = f"{prefix}claims.review-actions"
    checkpoints_topic = f"{prefix}claims.review-actions-checkpoints"
    shots = Path(os.environ.get("ONCOSCRUB_SCREENSHOTS", tmp_path))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ, **topics.env(),
        "ONCOSCRUB_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "ONCOSCRUB_REVIEW_DATABASE_URL": f"sqlite:///{tmp_path / 'review.db'}",
        "ONCOSCRUB_REVIEW_USERS_FILE": str(users_toml(tmp_path / "users.toml")),
        "ONCOSCRUB_REVIEW_SECRET_KEY": "browser-test-" + "s" * 40,
        "ONCOSCRUB_REVIEW_ACTIONS_TOPIC": actions_topic,
        "ONCOSCRUB_REVIEW_ACTIONS_CHECKPOINTS_TOPIC": checkpoints_topic,
        "ONCOSCRUB_REVIEW_TRANSACTIONAL_ID_PREFIX": f"{prefix}review",
        "ONCOSCRUB_REVIEW_FEED_POLL_MS": "100",
    }  # fmt: skip
    claims = [correctable_claim(), *review_claims(8)]
    await produce(kafka_bootstrap, topics.submitted, claim_items(claims))
    app_log = tmp_path / "review-app.log"
    async with InProcessWorker(kafka_bootstrap, topics):
        out = await wait_for_decisions(kafka_bootstrap, topics, expected=len(claims), timeout=90)
        reviews = {
            r.claim_id: r for r in (ReviewRequest.model_validate_json(x.value) for x in out.review)
        }
        assert set(reviews) == {c["claim_id"] for c in claims}
        with app_log.open("wb") as log_file:
            app = _serve(port, env, log_file)
            try:
                await asyncio.to_thread(_wait_healthy, base, app, app_log)
                await _drive(base, shots, reviews)
            finally:
                app.send_signal(signal.SIGTERM)
                app.wait(30)
        # Version 2 was decided by the worker: scrubbed, without 99211 and with Z51.11 first.
        outputs = await wait_for_decisions(
            kafka_bootstrap, topics, expected=len(claims) + 1, timeout=60
        )
    [v2] = [
        s for s in (ScrubbedClaim.model_validate_json(r.value) for r in outputs.scrubbed)
        if s.claim_id == "CLM-REVIEW-1"
    ]  # fmt: skip
    assert v2.claim_version == 2 and v2.claim.diagnoses[0] == "Z51.11"
    assert "99211" not in {line.code for line in v2.claim.service_lines}

    # Each action once on claims.review-actions, and the chain verifies with its checkpoints.
    records = await read_topic(kafka_bootstrap, actions_topic)
    actions = [ReviewAction.model_validate_json(r.value) for r in records]
    assert sorted(a.kind for a in actions) == sorted(
        [
            ActionKind.CLAIMED,
            ActionKind.ACCEPTED_CORRECTION,
            ActionKind.EDITED,
            ActionKind.RESUBMITTED,
        ]
    )
    assert {(a.actor, a.claim_id, a.claim_version) for a in actions} == {
        ("cora", "CLM-REVIEW-1", 1)
    }
    checkpoints = [
        AuditCheckpoint.model_validate_json(r.value)
        for r in await read_topic(kafka_bootstrap, checkpoints_topic)
    ]
    ordered = sorted(records, key=lambda r: (r.partition, r.offset))
    report = verify([AuditRecord(r.partition, r.offset, r.value) for r in ordered], checkpoints)
    assert report.ok and report.events == 4 and report.checkpoints_checked == 4

    # The app's log: JSON lines, the claim opened and the actions by id, never claim content.
    lines = [json.loads(line) for line in app_log.read_text().splitlines() if line.startswith("{")]
    assert any(e["message"] == "claim_opened" and e["user"] == "cora" for e in lines)
    text = app_log.read_text()
    claim = correctable_claim()
    for secret in (claim["patient_ref"], "C50.911", "carboplatin", "PSN-"):
        assert secret not in text


async def _drive(base: str, shots: Path, reviews: dict[str | None, ReviewRequest]) -> None:
    review = reviews["CLM-REVIEW-1"]
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        async with async_playwright() as p:
            browser = await p.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 900},
            )  # fmt: skip
            page = browser.pages[0] if browser.pages else await browser.new_page()

            # Signed out: every page sends to sign-in, every action is refused.
            await page.goto(f"{base}/claims/CLM-REVIEW-1")
            assert page.url.startswith(f"{base}/login")
            refused = await page.request.post(
                f"{base}/claims/CLM-REVIEW-1/claim", form={"csrf_token": "x"}
            )
            assert refused.status in (401, 403)

            await _sign_in(page, base, "cora")
            await _reload_until(page, "worklist", "CLM-REVIEW-1")
            # Filter by rule: exactly the claims whose review reasons name it.
            await page.fill("input[name=rule]", "DX-S1")
            await page.click("#filters button[type=submit]")
            expected = sorted(
                str(cid)
                for cid, r in reviews.items()
                if any(x.rule_id == "DX-S1" for x in r.reasons)
            )
            listed = await page.locator(
                "[data-testid=worklist] tbody tr td:first-child a"
            ).all_inner_texts()
            assert sorted(listed) == expected and len(expected) >= 3
            assert "rule=DX-S1" in page.url
            await page.goto(f"{base}/claims")
            await page.screenshot(path=str(shots / "review-worklist.png"), full_page=True)

            await page.click("text=CLM-REVIEW-1")
            await expect(page.get_by_test_id("claim-id")).to_have_text("CLM-REVIEW-1")
            # The timeline: one mark per MAR entry, labelled with the codes derived from it.
            assert review.claim is not None
            timeline = page.get_by_test_id("timeline")
            await expect(timeline).to_be_visible()
            marks = timeline.locator("g.mark")
            assert await marks.count() == len(review.claim.administrations)
            for line in review.computed_lines:
                for admin_id in line.admin_ids:
                    mark = timeline.locator(f'g.mark[data-admin-id="{admin_id}"]')
                    assert line.code in (await mark.get_attribute("data-codes") or "")
                    assert line.code in (await mark.locator("text.code-label").text_content() or "")
            infusions = [
                a for a in review.claim.administrations if a.documented_technique == "INFUSION"
            ]
            assert await timeline.locator("g.mark.bar rect").count() >= len(infusions) > 0
            await page.screenshot(path=str(shots / "review-claim.png"), full_page=True)

            await page.get_by_test_id("claim-button").click()
            await expect(page.get_by_test_id("assignee")).to_have_text("cora")
            await page.get_by_test_id("accept-0").click()
            await expect(page.get_by_test_id("accepted")).to_be_visible()
            removed = set(review.corrections[0].line_numbers)
            rows = page.locator("[data-testid=edit-form] tr[data-line]")
            numbers = {int(x) for x in await rows.evaluate_all("rs => rs.map(r => r.dataset.line)")}
            assert numbers and not numbers & removed
            await page.get_by_test_id("diagnoses").fill("Z51.11, C50.911")
            await page.get_by_test_id("save-edit").click()
            await expect(page.get_by_test_id("diagnoses")).to_have_value("Z51.11, C50.911")

            # A forged form, without the session's CSRF token: refused, nothing written.
            forged = await page.request.post(
                f"{base}/claims/CLM-REVIEW-1/note", form={"note": "forged"}
            )
            assert forged.status == 403

            await page.get_by_test_id("resubmit").click()
            # The worker may decide it before this page is drawn: resubmitted, then scrubbed.
            await expect(page.get_by_role("status")).to_contain_text("Resubmitted")
            await _reload_until(page, "status", "scrubbed")
            await expect(page.get_by_test_id("version")).to_have_text("2")
            await page.screenshot(path=str(shots / "review-claim-resubmitted.png"), full_page=True)

            # Compliance reads everything, changes nothing, reads the audit log.
            await page.click("text=Sign out")
            await _sign_in(page, base, "chloe")
            await page.goto(f"{base}/claims/CLM-00001001")
            assert await page.locator("text=Assign to me").count() == 0
            assert await page.get_by_test_id("save-edit").count() == 0
            token = await page.locator("input[name=csrf_token]").first.get_attribute("value")
            attempt = await page.request.post(
                f"{base}/claims/CLM-00001001/claim", form={"csrf_token": token or ""}
            )
            assert attempt.status == 403
            await page.goto(f"{base}/audit")
            kinds = await page.locator("[data-testid=all-actions] tbody tr").all_inner_texts()
            assert sum(1 for k in kinds if "CLM-REVIEW-1" in k) == 4
            assert re.search(r"cora.*CLM-REVIEW-1", " ".join(
                await page.locator("[data-testid=access-log] tbody tr").all_inner_texts()
            ))  # fmt: skip
            await browser.close()
