"""``oncoscrub review …``: serve the review app, and the worklist and a claim for the shell.

``list`` and ``show`` read the read model directly (``ONCOSCRUB_REVIEW_DATABASE_URL``):
whoever runs them holds the database's credentials. ``show`` is recorded in the
access log under the operating-system user.
"""

from __future__ import annotations

import asyncio
import getpass
import json
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from review import queries
from review.database import connect, migrate, writer
from review.readmodel import Status
from review.settings import ReviewSettings, with_worker_topics

review = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="The review work queue: serve the web app, list the worklist, show a claim.",
)
out = Console()
err = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


@review.command("serve")
def serve_cmd(
    host: Annotated[str | None, typer.Option(help="Listen address.")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port.")] = None,
    no_broker: Annotated[
        bool, typer.Option("--no-broker", help="Pages only: no feed, actions refused.")
    ] = False,
) -> None:
    """Run the review web app (and its read-model feed) until SIGTERM or Ctrl-C."""
    import uvicorn

    from review.web import create_app
    from worker.logs import configure

    settings = ReviewSettings()
    configure(settings.log_level)
    try:
        app = create_app(settings, kafka=not no_broker)
    except ValueError as exc:  # the users file: named, with what is wrong
        err.print(f"[red]{exc}")
        raise typer.Exit(2) from None
    uvicorn.run(
        app,
        host=host or settings.host,
        port=port if port is not None else settings.port,
        log_config=None,
        access_log=False,  # the app logs requests by route template, never by claim content
        proxy_headers=False,
    )


@review.command("list")
def list_cmd(
    status: Annotated[str, typer.Option(help="open, resubmitted, closed, scrubbed or ''.")] = (
        Status.OPEN
    ),
    reason: Annotated[str, typer.Option()] = "",
    rule: Annotated[str, typer.Option()] = "",
    payer: Annotated[str, typer.Option()] = "",
    setting: Annotated[str, typer.Option()] = "",
    assignee: Annotated[str, typer.Option(help="A user name or 'unassigned'.")] = "",
    service_from: Annotated[str, typer.Option(help="YYYY-MM-DD")] = "",
    service_to: Annotated[str, typer.Option(help="YYYY-MM-DD")] = "",
    min_age_hours: Annotated[int | None, typer.Option()] = None,
    sort: Annotated[queries.Sort, typer.Option()] = queries.Sort.OLDEST,
    page: Annotated[int, typer.Option(min=1)] = 1,
    as_json: JsonOpt = False,
) -> None:
    """The worklist, oldest first, with counts per reason and rule."""
    settings = ReviewSettings()
    filters = queries.Filters(
        status=status, reason=reason, rule=rule, payer=payer, setting=setting,
        assignee=assignee, min_age_hours=min_age_hours, sort=sort, page=page,
        service_from=date.fromisoformat(service_from) if service_from else None,
        service_to=date.fromisoformat(service_to) if service_to else None,
    )  # fmt: skip
    engine = connect(settings.database_url)
    migrate(engine)
    with engine.connect() as conn:
        listing = queries.worklist(conn, filters, settings.page_size)
    engine.dispose()
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "total": listing.total, "page": listing.page, "pages": listing.pages,
                    "by_reason": dict(listing.reason_counts), "by_rule": dict(listing.rule_counts),
                    "claims": [
                        {k: (str(v) if v is not None else None) for k, v in r._mapping.items()}
                        for r in listing.rows
                    ],
                }
            )
        )  # fmt: skip
        return
    table = Table(
        "claim", "v", "status", "reason", "rules", "payer", "setting", "service", "in queue",
        "assignee", title=f"{listing.total} claim(s), page {listing.page} of {listing.pages}",
    )  # fmt: skip
    from review.web import _age

    for r in listing.rows:
        table.add_row(
            r.claim_id, str(r.latest_version), r.status, r.reason or "", r.rule_ids,
            r.payer_id or "", r.setting or "", str(r.service_from or ""),
            _age(r.queued_at, listing.now), r.assignee or "-",
        )  # fmt: skip
    out.print(table)
    out.print("by reason: " + ", ".join(f"{k} {n}" for k, n in listing.reason_counts))
    out.print("by rule: " + ", ".join(f"{k} {n}" for k, n in listing.rule_counts))


@review.command("show")
def show_cmd(claim_id: str, as_json: JsonOpt = False) -> None:
    """One claim: why it is in review, computed lines, findings, corrections, history."""
    settings = ReviewSettings()
    engine = connect(settings.database_url)
    migrate(engine)
    with writer(engine).begin() as conn:
        view = queries.claim_view(conn, claim_id)
        if view is not None:
            queries.record_access(conn, getpass.getuser(), claim_id, "cli")
    engine.dispose()
    if view is None:
        err.print(f"no claim {claim_id} in the review read model")
        raise typer.Exit(1)
    doc = view.latest.doc
    s = view.summary
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "claim_id": claim_id, "status": s.status, "version": s.latest_version,
                    "assignee": s.assignee, "latest": json.loads(doc.model_dump_json()),
                    "draft": None if view.draft is None else {
                        "service_lines": [
                            json.loads(x.model_dump_json()) for x in view.draft.service_lines
                        ],
                        "diagnoses": list(view.draft.diagnoses),
                    },
                    "actions": [json.loads(a.action.model_dump_json()) for a in view.actions],
                }
            )
        )  # fmt: skip
        return
    out.print(
        f"[bold]{claim_id}[/] version {s.latest_version} [bold]{s.status}[/]"
        f" · payer {s.payer_id or '-'} · {s.setting or '-'} · service {s.service_from or '-'}"
        f" · assignee {s.assignee or '-'}"
    )
    if view.in_review is not None:
        for r in view.in_review.reasons:
            out.print(f"  why: {r.code.value} {r.rule_id or r.location or ''} {r.message}")
    lines = Table(
        "code",
        "units",
        "mods",
        "date",
        "MAR entries",
        "rules",
        "derivation",
        title="computed lines",
    )
    for line in doc.computed_lines:
        lines.add_row(
            line.code, str(line.units), " ".join(line.modifiers), line.date_of_service,
            ", ".join(line.admin_ids), ", ".join(line.rule_ids), line.reason,
        )  # fmt: skip
    out.print(lines)
    for f in doc.findings:
        out.print(f"  [{f.severity.value}] {f.rule_id} ({f.confidence.value}): {f.message}")
        if f.suggested_correction:
            out.print(f"      suggested: {f.suggested_correction}")
        for cite in f.citations:
            where = " ".join(x for x in (cite.source, cite.section, cite.url) if x)
            out.print(f"      cites {where}")
    for i, c in enumerate(doc.corrections):
        numbers = ", ".join(map(str, c.line_numbers))
        out.print(f"  correction {i}: {c.rule_id} {c.action.value} lines {numbers}: {c.reason}")
    for v in view.versions:
        out.print(f"  v{v.version} {v.outcome} {v.decided_at:%Y-%m-%d %H:%M} {v.source}")
    for a in view.actions:
        x = a.action
        where = f"v{x.claim_version}, p{a.partition}#{x.seq}"
        out.print(f"  {x.at:%Y-%m-%d %H:%M} {x.actor} {x.kind.value} ({where})")


@review.command("rebuild")
def rebuild_cmd() -> None:
    """Empty the read model (the access log stays) and read it again from the topics."""
    from review.feed import rebuild
    from review.web import topic_names
    from worker.settings import Settings

    worker = Settings()
    settings = with_worker_topics(ReviewSettings(), worker.topics)
    engine = connect(settings.database_url)
    migrate(engine)
    totals = asyncio.run(rebuild(engine, worker.kafka, topic_names(worker.topics, settings)))
    engine.dispose()
    out.print(f"rebuilt from {totals.records} record(s); {totals.unreadable} unreadable")


@review.command("migrate")
def migrate_cmd() -> None:
    """Bring the read model's schema to the newest migration."""
    engine = connect(ReviewSettings().database_url)
    migrate(engine)
    engine.dispose()
    out.print("read model schema is current")


@review.command("add-user")
def add_user_cmd(
    name: str,
    role: Annotated[str, typer.Option(help="coder or compliance.")] = "coder",
) -> None:
    """Add a user to the users file (ONCOSCRUB_REVIEW_USERS_FILE), asking for the password."""
    from review.auth import Role, Users, hash_password

    settings = ReviewSettings()
    path = settings.users_file
    if path.exists() and Users.load(path).get(name) is not None:
        err.print(f"{name} is already in {path}")
        raise typer.Exit(1)
    password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    lines = [f"[users.{name}]", f'role = "{Role(role).value}"']
    lines.append(f'password_hash = "{hash_password(password)}"')
    with path.open("a") as f:
        f.write("\n" + "\n".join(lines) + "\n")
    Users.load(path)  # the file still parses, the name is valid
    out.print(f"{name} ({role}) added to {path}")


@review.command("hash-password")
def hash_password_cmd() -> None:
    """Print an argon2 hash for the users file (the password is read without echo)."""
    from review.auth import hash_password

    password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    out.print(hash_password(password))


if __name__ == "__main__":
    review()
