"""The review app: server-rendered pages (FastAPI, Jinja2, plain HTML forms, no script).

Every page needs a signed-in user; every form carries the session's CSRF token;
coders act, compliance reads. An action is written to ``claims.review-actions``
first (``action_log``); the page then waits until the read model has applied it,
so what the coder sees next includes it. Nothing from a claim reaches a log line:
requests are logged by route template, user and status; opening a claim is logged
by claim id (an opaque token) and recorded in the access log.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy import Connection, Engine
from starlette.datastructures import FormData
from starlette.middleware.sessions import SessionMiddleware

from review import queries
from review.action_log import ActionLog
from review.auth import Role, User, Users, csrf_matches, new_csrf, session_user, sign_in
from review.database import as_utc, connect, migrate, writer
from review.draft import EditError, check, parse_edit, resubmission
from review.events import ActionKind, CloseReason, ReviewAction, action_id
from review.feed import Feed, applied_through
from review.readmodel import Status, TopicNames
from review.settings import AuthMode, ReviewSettings, with_worker_topics
from review.timeline import layout
from schemas.decision import Correction
from worker.audit.chain import ChainHead
from worker.logs import get_logger
from worker.settings import Settings
from worker.topology import OutRecord, Topics

log = get_logger("review.web")
HERE = Path(__file__).parent
T = TypeVar("T")


def topic_names(topics: Topics, settings: ReviewSettings) -> TopicNames:
    return TopicNames(topics.review, topics.scrubbed, topics.audit, settings.actions_topic)


@dataclass
class Services:
    settings: ReviewSettings
    worker: Settings
    engine: Engine
    users: Users
    action_log: ActionLog | None = None
    feed: Feed | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def names(self) -> TopicNames:
        return topic_names(self.worker.topics, self.settings)

    def read(self, fn: Callable[[Connection], T]) -> Awaitable[T]:
        def run() -> T:
            with self.engine.connect() as conn:
                return fn(conn)

        return asyncio.to_thread(run)

    def write(self, fn: Callable[[Connection], T]) -> Awaitable[T]:
        def run() -> T:
            # Locks for writing from the start: a read that later writes would otherwise find
            # the feed's commits newer than its snapshot and fail (SQLite, WAL).
            with writer(self.engine).begin() as conn:
                return fn(conn)

        return asyncio.to_thread(run)


class SignedOutError(Exception):
    pass


class RefusedError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# -- templates ---------------------------------------------------------------------------

templates = Jinja2Templates(directory=str(HERE / "templates"))


def _age(queued_at: datetime, now: datetime) -> str:
    seconds = int((now - as_utc(queued_at)).total_seconds())
    days, rest = divmod(max(seconds, 0), 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days} d {hours} h" if days else f"{hours} h {rest // 60} min"


def _when(value: datetime | None) -> str:
    return "" if value is None else as_utc(value).strftime("%Y-%m-%d %H:%M UTC")


def _units(value: object) -> str:
    text = str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


templates.env.filters.update(age=_age, when=_when, units=_units)
templates.env.globals.update(Status=Status, CloseReason=CloseReason, Role=Role)


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    session = request.session
    if "csrf" not in session:
        session["csrf"] = new_csrf()
    context.setdefault("user", getattr(request.state, "user", None))
    context.update(csrf=session["csrf"], flash=session.pop("flash", None))
    return templates.TemplateResponse(request, name, context, status_code=status)


# -- the app -----------------------------------------------------------------------------


def create_app(
    settings: ReviewSettings | None = None,
    worker: Settings | None = None,
    users: Users | None = None,
    kafka: bool = True,
) -> FastAPI:
    """The ASGI app. ``kafka=False``: no action log and no feed (pages read the database only)."""
    worker = worker or Settings()
    settings = with_worker_topics(settings or ReviewSettings(), worker.topics)
    services = Services(
        settings=settings,
        worker=worker,
        engine=connect(settings.database_url),
        users=users or Users.load(settings.users_file),
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(migrate, services.engine)
        if kafka:
            services.action_log = ActionLog(settings, worker.kafka)
            await services.action_log.start()
            if settings.feed:
                feed = Feed(services.engine, worker.kafka, services.names, settings.feed_poll_ms)
                await feed.start()
                services.feed = feed
                services.tasks.append(asyncio.create_task(feed.run()))
        log.info("review_app_started", auth=settings.auth.value, feed=services.feed is not None)
        try:
            yield
        finally:
            if services.feed is not None:
                services.feed.stop()
            for task in services.tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(task, 10)
            if services.feed is not None:
                await services.feed.close()
            if services.action_log is not None:
                await services.action_log.close()
            services.engine.dispose()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.services = services
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    if secret is None:
        log.warning("review_secret_key_unset", effect="sessions end when this process stops")
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret or secrets.token_urlsafe(48),
        session_cookie="oncoscrub_review",
        max_age=settings.session_max_age_s,
        same_site="lax",
        https_only=settings.secure_cookies,
    )

    @app.middleware("http")
    async def request_log(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        began = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        user = getattr(request.state, "user", None)
        response.headers.update(_SECURITY_HEADERS)
        log.info(
            "http_request", method=request.method, route=getattr(route, "path", "<unmatched>"),
            status=response.status_code, user=user.name if user else None,
            ms=round((time.perf_counter() - began) * 1000, 1),
        )  # fmt: skip
        return response

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    _routes(app, services)

    @app.exception_handler(SignedOutError)
    async def signed_out(request: Request, _exc: SignedOutError) -> Response:
        if request.method == "GET":
            return RedirectResponse(f"/login?{urlencode({'next': request.url.path})}", 303)
        return render(request, "error.html", 401, message="Sign in first.")

    @app.exception_handler(RefusedError)
    async def refused(request: Request, exc: RefusedError) -> Response:
        return render(request, "error.html", exc.status, message=exc.message)

    return app


# The pages use no script and no outside resource: the policy says so to the browser.
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; style-src 'self'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _user(request: Request, services: Services) -> User | None:
    s = services.settings
    if s.auth is AuthMode.PROXY:
        client = request.client.host if request.client else ""
        name = request.headers.get(s.proxy_user_header)
        if not name or client not in s.proxy_trusted_hosts:
            return None
        return services.users.get(name)
    return session_user(request.session, services.users, s.session_max_age_s, s.session_idle_s)


def _require(request: Request, services: Services) -> User:
    user = _user(request, services)
    if user is None:
        raise SignedOutError
    request.state.user = user
    return user


async def _form(request: Request) -> FormData:
    """The posted form, refused unless it carries the session's CSRF token."""
    form = await request.form()
    token = form.get("csrf_token")
    if not csrf_matches(request.session, token if isinstance(token, str) else None):
        log.warning("csrf_refused", method=request.method)
        raise RefusedError(
            403, "This form has expired or did not come from this site. Reload and try again."
        )
    return form


def _lists(form: FormData) -> dict[str, list[str]]:
    return {k: [v for v in form.getlist(k) if isinstance(v, str)] for k in form}


def _routes(app: FastAPI, services: Services) -> None:
    s = services.settings

    @app.get("/health", response_class=PlainTextResponse)
    async def health() -> str:
        return "ok"

    @app.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request, next: str = "/claims") -> Response:
        if s.auth is AuthMode.PROXY:
            return RedirectResponse("/claims", 303)
        return render(request, "login.html", next=_local(next), error=None)

    @app.post("/login", response_class=HTMLResponse)
    async def login(request: Request) -> Response:
        form = await _form(request)
        name, password = str(form.get("username", "")), str(form.get("password", ""))
        target = _local(str(form.get("next", "/claims")))
        user = await asyncio.to_thread(services.users.authenticate, name, password)
        if user is None:
            log.info("sign_in_refused")
            return render(request, "login.html", 401, next=target, error="Wrong name or password.")
        sign_in(request.session, user)
        log.info("signed_in", user=user.name, role=user.role.value)
        return RedirectResponse(target, 303)

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        await _form(request)
        request.session.clear()
        return RedirectResponse("/login", 303)

    @app.get("/")
    async def root() -> Response:
        return RedirectResponse("/claims", 303)

    @app.get("/claims", response_class=HTMLResponse)
    async def worklist_page(request: Request) -> Response:
        user = _require(request, services)
        params = {k: v for k, v in request.query_params.items() if v != ""}
        if params.get("assignee") == "me":
            params["assignee"] = user.name
        try:
            filters = queries.Filters.model_validate(params)
        except ValidationError:
            filters = queries.Filters()
        listing = await services.read(lambda c: queries.worklist(c, filters, s.page_size))
        query = {k: v for k, v in request.query_params.items() if k != "page" and v != ""}
        return render(request, "worklist.html", w=listing, f=filters, query=urlencode(query))

    @app.get("/claims/{claim_id}", response_class=HTMLResponse)
    async def claim_page(request: Request, claim_id: str) -> Response:
        user = _require(request, services)
        return await _claim_response(request, services, user, claim_id)

    @app.post("/claims/{claim_id}/{kind}")
    async def act(request: Request, claim_id: str, kind: str) -> Response:
        user = _require(request, services)
        form = await _form(request)
        if not user.may_edit:
            log.warning("edit_refused", user=user.name, role=user.role.value)
            raise RefusedError(403, "Your role reads claims; it does not change them.")
        return await _act(request, services, user, claim_id, kind, form)

    @app.get("/audit", response_class=HTMLResponse)
    async def audit_page(request: Request) -> Response:
        user = _require(request, services)
        if user.role is not Role.COMPLIANCE:
            raise RefusedError(403, "The audit log is for compliance.")
        actions, access = await services.read(
            lambda c: (queries.recent_actions(c), queries.recent_access(c))
        )
        return render(request, "audit.html", actions=actions, access=access)


def _local(target: str) -> str:
    """Only paths on this site: a sign-in must not bounce the user elsewhere."""
    return target if target.startswith("/") and not target.startswith("//") else "/claims"


async def _claim_response(
    request: Request,
    services: Services,
    user: User,
    claim_id: str,
    status: int = 200,
    problems: tuple[str, ...] = (),
) -> Response:
    def load(conn: Connection) -> queries.ClaimView | None:
        view = queries.claim_view(conn, claim_id, with_access=user.role is Role.COMPLIANCE)
        if view is not None and status == 200:
            queries.record_access(conn, user.name, claim_id, "web")
        return view

    view = await services.write(load)
    if view is None:
        raise RefusedError(404, "No claim with that id is in the review queue.")
    if status == 200:
        log.info("claim_opened", user=user.name, claim_id=claim_id)
    review = view.in_review
    picture = layout(view.claim, view.latest.doc.computed_lines)
    return render(
        request, "claim.html", status, v=view, review=review, draft=view.draft, timeline=picture,
        problems=problems, now=datetime.now(UTC),
    )  # fmt: skip


async def _act(
    request: Request, services: Services, user: User, claim_id: str, kind: str, form: FormData
) -> Response:
    if services.action_log is None:
        raise RefusedError(503, "This app runs without a broker: actions are not available.")
    view = await services.read(lambda c: queries.claim_view(c, claim_id))
    if view is None:
        raise RefusedError(404, "No claim with that id is in the review queue.")
    status = view.summary.status
    version = view.latest.version
    fields: dict[str, Any] = {}
    extra: list[OutRecord] = []
    new_claim_bytes = b""
    if kind != "note" and status != Status.OPEN:
        raise RefusedError(409, f"This claim is {status}: it takes notes only.")
    draft = view.draft
    if kind == "claim":
        action = ActionKind.CLAIMED
    elif kind == "release":
        action = ActionKind.RELEASED
    elif kind == "note":
        note = str(form.get("note", "")).strip()
        if not note or len(note) > 500:
            raise RefusedError(422, "A note has 1 to 500 characters.")
        action, fields["note"] = ActionKind.NOTED, note
    elif kind == "close":
        try:
            fields["close_reason"] = CloseReason(str(form.get("reason", "")))
        except ValueError:
            raise RefusedError(422, "Choose why the claim is closed.") from None
        action = ActionKind.CLOSED
    elif kind == "accept":
        review = view.in_review
        index = str(form.get("correction", ""))
        if (
            review is None
            or draft is None
            or not index.isdigit()
            or int(index) >= len(known := review.corrections)
        ):
            raise RefusedError(422, "No such proposed correction.")
        correction: Correction = known[int(index)]
        if correction in draft.accepted:
            raise RefusedError(409, "That correction is already accepted.")
        action, fields["correction"] = ActionKind.ACCEPTED_CORRECTION, correction
    elif kind == "edit":
        claim = view.claim
        if claim is None or draft is None:
            raise RefusedError(409, "This review holds no readable claim to edit.")
        try:
            lines, diagnoses = parse_edit(draft, _lists(form))
            check(claim, lines, diagnoses)
        except EditError as exc:
            return await _claim_response(request, services, user, claim_id, 422, exc.problems)
        action = ActionKind.EDITED
        fields.update(service_lines=lines, diagnoses=diagnoses)
    elif kind == "resubmit":
        claim = view.claim
        if claim is None or draft is None:
            raise RefusedError(409, "This review holds no readable claim to resubmit.")
        try:
            new_claim = resubmission(claim, draft)
        except EditError as exc:
            return await _claim_response(request, services, user, claim_id, 422, exc.problems)
        new_claim_bytes = new_claim.model_dump_json().encode()
        extra.append(
            OutRecord(services.worker.topics.submitted, claim_id.encode(), new_claim_bytes)
        )

        action = ActionKind.RESUBMITTED
        fields.update(
            resubmitted_version=new_claim.claim_version,
            resubmitted_sha256=hashlib.sha256(new_claim_bytes).hexdigest(),
        )
    else:
        raise RefusedError(404, "No such action.")

    at = datetime.now(UTC)

    def build(head: ChainHead) -> ReviewAction:
        return ReviewAction(
            seq=head.seq, prev_hash=head.prev_hash,
            action_id=action_id(claim_id, at, secrets.token_hex(6)), claim_id=claim_id,
            claim_version=version, kind=action, actor=user.name, role=user.role.value, at=at,
            **fields,
        )  # fmt: skip

    written = await services.action_log.append(claim_id, build, extra)
    log.info(
        "review_action", user=user.name, claim_id=claim_id, kind=action.value,
        partition=written.partition, offset=written.offset, seq=written.action.seq,
    )  # fmt: skip
    await _until_applied(services, written.partition, written.offset)
    request.session["flash"] = _DONE[action]
    return RedirectResponse(f"/claims/{claim_id}", 303)


_DONE = {
    ActionKind.CLAIMED: "Assigned to you.",
    ActionKind.RELEASED: "Released to the queue.",
    ActionKind.ACCEPTED_CORRECTION: "Correction accepted into the draft.",
    ActionKind.EDITED: "Edit saved to the draft.",
    ActionKind.NOTED: "Note added.",
    ActionKind.RESUBMITTED: "Resubmitted: the worker decides the new version.",
    ActionKind.CLOSED: "Closed.",
}


async def _until_applied(
    services: Services, partition: int, offset: int, timeout: float = 10.0
) -> None:
    """Read-your-writes: wait until the read model holds the action just written."""
    topic = services.settings.actions_topic
    deadline = time.monotonic() + timeout
    while await asyncio.to_thread(applied_through, services.engine, topic, partition) <= offset:
        if time.monotonic() > deadline:
            log.warning("read_model_behind", partition=partition, offset=offset)
            return
        await asyncio.sleep(0.05)
