"""Page load times of the review worklist with 100,000 claims in review, on SQLite and on
PostgreSQL. Prints figures; asserts nothing.

    python -m bench.review_worklist [--claims 100000] [--db sqlite|postgresql|both]

Decides a few hundred example claims that land in review (batch mode, the real engine),
varies them into ``--claims`` review requests (claim ids, payers, dates of service,
publication times over 30 days), feeds them through the read model's own ``apply`` in
transactions of 2,000 (as the feed does), then times the pages through the app
(FastAPI's test client, a signed-in coder, no broker): the default worklist, filtered
ones, a deep page, and a claim screen. PostgreSQL is started from the distribution's
packages (``review.localpostgres``).
"""

from __future__ import annotations

import argparse
import io
import json
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from review.auth import Role, Users, hash_password
from review.database import connect, migrate, writer
from review.localpostgres import LocalPostgres
from review.readmodel import FeedRecord, TopicNames, apply
from review.settings import ReviewSettings
from review.web import create_app
from schemas.examples import example_claim
from worker.batch import scrub
from worker.settings import Settings
from worker.topology import Topics

NAMES = TopicNames(
    "claims.needs-review", "claims.scrubbed", "claims.audit", "claims.review-actions"
)
PAYERS = [b"MEDICARE", b"HEALTHNET-CA", b"AETNA", b"BCBS-TX", b"CIGNA"]
_ID = re.compile(rb'"claim_id":"CLM-\d+"')
_DATE = re.compile(rb'"statement_from":"(\d{4}-\d{2}-\d{2})"')


def templates(n: int) -> list[bytes]:
    """Review requests from the engine: Z51.11 after the cancer, or an unknown code first."""
    claims = []
    for i in range(n):
        claim = example_claim(i)
        dx = claim["diagnoses"]
        claim["diagnoses"] = [dx[1], dx[0]] if dx[0].startswith("Z51") else ["C99.999", *dx]
        claims.append(json.dumps(claim).encode())
    out = io.BytesIO()
    scrub(claims, "bench", out, decided_at=datetime(2026, 6, 1, tzinfo=UTC))
    return [line for line in out.getvalue().splitlines() if b'"reasons"' in line]


def records(count: int, bases: list[bytes]) -> list[FeedRecord]:
    start_ms = int(time.time() * 1000) - 30 * 86_400_000
    out = []
    for i in range(count):
        value = _ID.sub(f'"claim_id":"CLM-B{i:09d}"'.encode(), bases[i % len(bases)])
        if i % 5:
            value = value.replace(b'"payer_id":"MEDICARE"', b'"payer_id":"' + PAYERS[i % 5] + b'"')
        out.append(FeedRecord(NAMES.review, i % 3, i // 3, start_ms + i * 25_000, value))
    return out


def timed(client: TestClient, path: str, runs: int) -> tuple[float, float, int]:
    client.get(path)  # warm: templates compiled, caches filled
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1], len(response.content)


def bench(url: str, label: str, count: int, bases: list[bytes], runs: int) -> None:
    engine = connect(url)
    migrate(engine)
    feed = records(count, bases)
    began = time.perf_counter()
    for i in range(0, len(feed), 2000):
        with writer(engine).begin() as conn:
            apply(conn, NAMES, feed[i : i + 2000])
    loaded = time.perf_counter() - began
    engine.dispose()
    print(f"\n{label}: {count:,} review requests fed in {loaded:.1f}s ({count / loaded:,.0f}/s)")
    users = Users.of({"cora": (Role.CODER, hash_password("bench"))})
    settings = ReviewSettings(database_url=url, secret_key="b" * 40, page_size=50)
    with TestClient(create_app(settings, Settings(topics=Topics()), users, kafka=False)) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert token
        client.post(
            "/login", data={"username": "cora", "password": "bench", "csrf_token": token.group(1)}
        )
        pages = {
            "worklist, oldest first (page 1)": "/claims",
            "filtered by rule DX-V1": "/claims?rule=DX-V1",
            "filtered by payer and setting": "/claims?payer=AETNA&setting=hospital_outpatient",
            "in queue >= 20 days, newest first": "/claims?min_age_hours=480&sort=newest",
            "service dates in one week": "/claims?service_from=2026-05-01&service_to=2026-05-07",
            "deep page (1,000 of 2,000)": "/claims?page=1000",
            "claim screen": f"/claims/CLM-B{count // 2:09d}",
        }
        print(f"{'page':42} {'median':>9} {'p95':>9} {'bytes':>9}")
        for name, path in pages.items():
            median, p95, size = timed(client, path, runs)
            print(f"{name:42} {median:7.1f}ms {p95:7.1f}ms {size:9,}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    began = time.perf_counter()
    bases = templates(600)
    print(
        f"{len(bases)} review requests decided by the engine in {time.perf_counter() - began:.1f}s"
    )
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            bench(f"sqlite:///{Path(tmp) / 'review.db'}", "SQLite", args.claims, bases, args.runs)
    if args.db in ("postgresql", "both"):
        with LocalPostgres() as pg:
            bench(pg.url, "PostgreSQL 15 (local, fsync off)", args.claims, bases, args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
