"""Who may do what, through the app's HTTP interface (no broker: actions are refused before
they would be written, and pages read the database)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from review import tables as t
from review.database import connect, migrate, writer
from review.readmodel import apply
from review.settings import AuthMode, ReviewSettings
from review.web import create_app
from tests.review.helpers import PASSWORDS, as_records, correctable_claim, decide, names_of, users
from worker.settings import Settings
from worker.topology import Topics

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _app(tmp_path: Path, **overrides: object) -> tuple[TestClient, str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{tmp_path / 'web.db'}"
    engine = connect(url)
    migrate(engine)
    with writer(engine).begin() as conn:
        apply(
            conn, names_of(Topics()), as_records(decide([correctable_claim()]), names_of(Topics()))
        )
    engine.dispose()
    settings = ReviewSettings(database_url=url, secret_key="k" * 40, **overrides)  # type: ignore[arg-type]
    return TestClient(create_app(settings, Settings(), users(), kafka=False)), url


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app, _ = _app(tmp_path)
    with app:
        yield app


def _sign_in(client: TestClient, name: str) -> str:
    page = client.get("/login")
    token = CSRF.search(page.text)
    assert token
    response = client.post(
        "/login",
        data={
            "username": name,
            "password": PASSWORDS[name],
            "csrf_token": token.group(1),
            "next": "/claims",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    claim = client.get("/claims/CLM-REVIEW-1")
    assert claim.status_code == 200
    found = CSRF.search(claim.text)
    assert found
    return found.group(1)


def test_signed_out_is_sent_to_sign_in_and_refused_actions(client: TestClient) -> None:
    page = client.get("/claims/CLM-REVIEW-1", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert client.post("/claims/CLM-REVIEW-1/claim", data={}).status_code == 401
    assert client.get("/audit", follow_redirects=False).status_code == 303


def test_a_wrong_password_or_unknown_user_is_refused_alike(client: TestClient) -> None:
    token = CSRF.search(client.get("/login").text)
    assert token
    for name in ("cora", "nobody"):
        r = client.post(
            "/login", data={"username": name, "password": "wrong", "csrf_token": token.group(1)}
        )
        assert r.status_code == 401 and "Wrong name or password" in r.text
    assert client.get("/claims", follow_redirects=False).status_code == 303


def test_every_form_needs_its_csrf_token(client: TestClient) -> None:
    assert (
        client.post("/login", data={"username": "cora", "password": PASSWORDS["cora"]}).status_code
        == 403
    )
    token = _sign_in(client, "cora")
    refused = client.post("/claims/CLM-REVIEW-1/note", data={"note": "x"})
    assert refused.status_code == 403
    forged = client.post("/claims/CLM-REVIEW-1/note", data={"note": "x", "csrf_token": token[::-1]})
    assert forged.status_code == 403
    # With its token the form passes the checks and reaches the (absent) broker.
    assert (
        client.post(
            "/claims/CLM-REVIEW-1/note", data={"note": "x", "csrf_token": token}
        ).status_code
        == 503
    )
    assert client.post("/logout", data={}).status_code == 403


def test_compliance_reads_everything_and_changes_nothing(client: TestClient) -> None:
    token = _sign_in(client, "chloe")
    page = client.get("/claims/CLM-REVIEW-1")
    assert "Assign to me" not in page.text and 'action="/claims/CLM-REVIEW-1/edit"' in page.text
    assert "Save edit" not in page.text and "disabled" in page.text
    for kind in ("claim", "accept", "edit", "note", "resubmit", "close"):
        r = client.post(f"/claims/CLM-REVIEW-1/{kind}", data={"csrf_token": token, "note": "x"})
        assert r.status_code == 403, kind
    audit = client.get("/audit")
    assert audit.status_code == 200 and "chloe" in audit.text  # she opened a claim: on record


def test_coders_do_not_read_the_audit_log_and_opening_a_claim_is_recorded(tmp_path: Path) -> None:
    client, url = _app(tmp_path)
    with client:
        _sign_in(client, "cora")
        assert client.get("/audit").status_code == 403
        client.get("/claims/CLM-REVIEW-1")
    engine = connect(url)
    with engine.connect() as conn:
        opened = conn.execute(
            select(t.access_log.c.actor, t.access_log.c.claim_id, t.access_log.c.via)
        ).all()
    engine.dispose()
    assert opened == [("cora", "CLM-REVIEW-1", "web")] * 2


def test_a_session_expires_when_idle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client, _ = _app(tmp_path, session_idle_s=60)
    with client:
        _sign_in(client, "cora")
        assert client.get("/claims").status_code == 200
        later = time.time() + 61
        monkeypatch.setattr(time, "time", lambda: later)
        assert client.get("/claims", follow_redirects=False).status_code == 303


def test_single_sign_on_by_a_trusted_proxy_header(tmp_path: Path) -> None:
    client, _ = _app(tmp_path, auth=AuthMode.PROXY, proxy_trusted_hosts=("testclient",))
    with client:
        assert client.get("/claims", follow_redirects=False).status_code == 303
        page = client.get("/claims", headers={"X-Forwarded-User": "cole"})
        assert page.status_code == 200 and "cole" in page.text
        # A name the users file does not hold is nobody.
        assert (
            client.get(
                "/claims", headers={"X-Forwarded-User": "mallory"}, follow_redirects=False
            ).status_code
            == 303
        )
    untrusted, _ = _app(tmp_path / "u", auth=AuthMode.PROXY)  # the test client is not 127.0.0.1
    with untrusted:
        r = untrusted.get("/claims", headers={"X-Forwarded-User": "cole"}, follow_redirects=False)
        assert r.status_code == 303


def test_pages_name_no_outside_resource_and_say_so(client: TestClient) -> None:
    _sign_in(client, "cora")
    page = client.get("/claims/CLM-REVIEW-1")
    assert "script-src 'none'" in page.headers["content-security-policy"]
    assert "<script" not in page.text
    hrefs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    outside = [h for h in hrefs if h.startswith("http")]
    # Only the findings' citations point elsewhere; no asset does.
    assert all(re.search(r'<a href="' + re.escape(h), page.text) for h in outside)
    assert client.get("/static/review.css").status_code == 200


def test_no_claim_content_in_the_logs(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    from worker.logs import configure

    configure("INFO")
    _sign_in(client, "cora")
    client.get("/claims?payer=MEDICARE")
    client.get("/claims/CLM-REVIEW-1")
    logging.getLogger().handlers[0].flush()
    logged = capsys.readouterr().err
    assert '"claim_opened"' in logged and '"http_request"' in logged
    claim = correctable_claim()
    for secret in (claim["patient_ref"], *claim["diagnoses"], "carboplatin", "MEDICARE"):
        assert secret not in logged
