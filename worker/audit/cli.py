"""``oncoscrub audit …``: verify, replay, show and export the audit log from the shell."""

from __future__ import annotations

import asyncio
import getpass
import json
import socket
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from rules.pack import load_pack_dir
from schemas.audit import AuditArchival, AuditCheckpoint
from worker.audit import archive, log, replay
from worker.audit.chain import AuditRecord, verify
from worker.explain import explain_event
from worker.settings import Settings

audit = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Verify, replay, show and export the audit log.",
)
err = Console(stderr=True)
out = Console()

FilesOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--file",
        "-f",
        help="Exported audit files or directories "
        "(default: the audit topic of ONCOSCRUB_BOOTSTRAP_SERVERS).",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


class Log(StrEnum):
    AUDIT = "audit"
    REVIEW_ACTIONS = "review-actions"


def _topics(which: Log = Log.AUDIT) -> tuple[str, str]:
    """The log's topic and its checkpoint topic: the decisions' audit log, or the review
    app's action log, which is hash-chained and checkpointed the same way."""
    topics = Settings().topics
    if which is Log.REVIEW_ACTIONS:
        return topics.review_actions, topics.review_actions_checkpoints
    return topics.audit, topics.audit_checkpoints


def _records(files: list[Path] | None, which: Log = Log.AUDIT) -> list[AuditRecord]:
    if files:
        return list(log.records_from_files(files))
    settings = Settings()

    async def collect() -> list[AuditRecord]:
        topic = _topics(which)[0]
        return [r async for r in log.records_from_topic(settings.bootstrap_servers, topic)]

    return asyncio.run(collect())


def _checkpoints(
    files: list[Path] | None, extra: list[Path] | None, which: Log = Log.AUDIT
) -> list[AuditCheckpoint | AuditArchival]:
    if extra:
        return log.checkpoints_from_files(extra)
    if files:  # an export directory carries its checkpoints; a bare file does not
        return log.checkpoints_from_files([f for f in files if f.is_dir()])
    settings = Settings()
    return asyncio.run(log.checkpoints_from_topic(settings.bootstrap_servers, _topics(which)[1]))


def _progress(records: list[AuditRecord], label: str) -> Iterator[AuditRecord]:
    with Progress(
        SpinnerColumn(),
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=len(records))
        for n, record in enumerate(records, start=1):
            yield record
            if n % 1000 == 0 or n == len(records):
                progress.update(task, completed=n)


@audit.command("verify")
def verify_cmd(
    files: FilesOpt = None,
    checkpoints: Annotated[
        list[Path] | None,
        typer.Option(
            help="Checkpoint files kept outside the log (default: the export's own, or the "
            "checkpoint topic)."
        ),
    ] = None,
    which: Annotated[
        Log,
        typer.Option(
            "--log",
            help="Which log to read from the broker: the decisions' audit log, or the review "
            "app's action log (both hash-chained and checkpointed alike).",
        ),
    ] = Log.AUDIT,
    as_json: JsonOpt = False,
) -> None:
    """Check every partition's hash chain (and the checkpoints); exit 1 on any break."""
    records = _records(files, which)
    report = verify(_progress(records, "verifying"), _checkpoints(files, checkpoints, which))
    result = {
        "ok": report.ok, "events": report.events,
        "partitions": {str(p): h.seq for p, h in sorted(report.heads.items())},
        "checkpoints_checked": report.checkpoints_checked,
        "archived": {str(p): seq for p, seq in sorted(report.archived.items())},
        "breaks": [asdict(b) for b in report.breaks],
    }  # fmt: skip
    if as_json:
        out.print_json(json.dumps(result))
    elif report.ok:
        archived = "".join(
            f"; partition {p} starts at seq {seq} (head archived on record)"
            for p, seq in sorted(report.archived.items())
        )
        out.print(
            f"[green]OK[/]: {report.events} events in {len(report.heads)} partition(s), "
            f"chains intact, {report.checkpoints_checked} checkpoint(s) matched{archived}."
        )
    else:
        for b in report.breaks:
            where = f" ({b.where})" if b.where else ""
            out.print(
                f"[red]BREAK[/] partition {b.partition} offset {b.offset} seq {b.seq}{where}: "
                f"{b.problem}"
            )
    raise typer.Exit(0 if report.ok else 1)


@audit.command("replay")
def replay_cmd(
    files: FilesOpt = None,
    pack_dir: Annotated[
        list[Path] | None,
        typer.Option(help="Earlier rule packs to replay with (directories with a VERSION file)."),
    ] = None,
    against: Annotated[
        Path | None,
        typer.Option(help="Decide with this pack instead and report what would change."),
    ] = None,
    claim: Annotated[list[str] | None, typer.Option(help="Only these claim ids.")] = None,
    since: Annotated[datetime | None, typer.Option(help="Decided at or after.")] = None,
    until: Annotated[datetime | None, typer.Option(help="Decided at or before.")] = None,
    from_offset: Annotated[int | None, typer.Option()] = None,
    to_offset: Annotated[int | None, typer.Option()] = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-decide recorded events and prove byte-identical results (or compare a pack)."""
    records = _records(files)
    selection = replay.Selection(
        claim_ids=frozenset(claim or ()), since=since, until=until,
        min_offset=from_offset, max_offset=to_offset,
    )  # fmt: skip
    report = replay.replay(
        _progress(records, "replaying"),
        packs=[load_pack_dir(p) for p in pack_dir or ()],
        against=load_pack_dir(against) if against else None,
        selection=selection,
    )
    if as_json:
        out.print_json(json.dumps({
            "replayed": report.replayed, "identical": report.identical,
            "differing": report.differing, "not_replayable": dict(report.not_replayable),
            "changes": [asdict(c) for c in report.changes],
        }))  # fmt: skip
    else:
        out.print(
            f"replayed {report.replayed}, identical {report.identical}, "
            f"differing {len(report.differing)}, changes {len(report.changes)}"
        )
        for why, n in report.not_replayable.items():
            out.print(f"  not replayable: {n} ({why})")
        if report.changes:
            table = Table("event", "claim", "outcome", "codes", "rules")
            for c in report.changes:
                table.add_row(
                    c.event_id,
                    c.claim_id or "-",
                    f"{c.recorded_outcome} -> {c.new_outcome}",
                    f"{' '.join(c.codes_before)} -> {' '.join(c.codes_after)}",
                    f"{','.join(c.rules_before)} -> {','.join(c.rules_after)}",
                )
            out.print(table)
    raise typer.Exit(1 if report.differing else 0)


@audit.command("show")
def show_cmd(claim_id: str, files: FilesOpt = None, as_json: JsonOpt = False) -> None:
    """Every audit event of one claim, readable."""
    events = log.events_for_claim(_records(files), claim_id)
    if as_json:
        out.print_json(json.dumps([json.loads(e.model_dump_json()) for e in events]))
        return
    if not events:
        out.print(f"no audit event for claim {claim_id}")
        raise typer.Exit(1)
    for e in events:
        out.print(
            f"[bold]{e.decided_at.isoformat()}[/] {e.event_id} v{e.claim_version}: "
            f"[bold]{e.outcome.value}[/] -> {e.output_topic}"
        )
        out.print(f"  reasons {', '.join(e.reasons) or '-'}; rules {', '.join(e.rule_ids) or '-'}")
        if e.event_time is not None:
            out.print(f"  published {e.event_time.isoformat()}")
        out.print(
            f"  pack {e.rule_pack.name} {e.rule_pack.version} "
            f"({e.rule_pack.content_sha256[:12]}), engine {e.engine_version}, "
            f"worker {e.worker_id}, chain seq {e.seq}"
        )
        for line in explain_event(e):
            out.print(f"  {line}", markup=False, highlight=False)


@audit.command("export")
def export_cmd(
    out_dir: Path,
    files: FilesOpt = None,
) -> None:
    """Write the log to JSON Lines files (one per partition) with the chain intact."""
    records = _records(files)
    counts = log.export(_progress(records, "exporting"), _checkpoints(files, None), out_dir)
    out.print(
        f"exported {sum(counts.values())} events from {len(counts)} partition(s) to {out_dir}"
    )


@audit.command("archive")
def archive_cmd(
    to: Annotated[Path, typer.Option(help="Directory to write the archived events to.")],
    reason: Annotated[str, typer.Option(help="Why (recorded with the archival).")],
    before_seq: Annotated[
        int | None, typer.Option(help="Archive each chain's events with a lower seq.")
    ] = None,
    decided_before: Annotated[
        datetime | None, typer.Option(help="Archive events decided before this time.")
    ] = None,
    partition: Annotated[list[int] | None, typer.Option(help="Only these partitions.")] = None,
    by: Annotated[str | None, typer.Option(help="Who archives (default: user@host).")] = None,
) -> None:
    """Move the head of the audit log to files, on record: verify, export, record the
    archival on the checkpoint topic, then delete the archived records from the topic."""
    if (before_seq is None) == (decided_before is None):
        err.print("give exactly one of --before-seq and --decided-before")
        raise typer.Exit(2)
    if decided_before is not None and decided_before.tzinfo is None:
        decided_before = decided_before.replace(tzinfo=UTC)
    settings = Settings()
    who = by or f"{getpass.getuser()}@{socket.gethostname()}"
    try:
        done = asyncio.run(
            archive.archive(
                settings.bootstrap_servers,
                settings.topics,
                to,
                archive.Cut(before_seq=before_seq, before=decided_before),
                archived_by=who[:200],
                reason=reason,
                partitions=set(partition) if partition else None,
            )
        )
    except archive.ArchiveRefusedError as refused:
        err.print(f"[red]refused[/]: {refused}")
        raise typer.Exit(1) from None
    if not done:
        out.print("nothing to archive")
    for a in done:
        r = a.record
        out.print(
            f"partition {a.partition}: {r.archived_events} event(s) to {a.file} "
            f"(sha256 {r.archive_sha256[:12]}); the chain now starts at seq {r.first_kept_seq}, "
            f"offset {r.first_kept_offset}"
        )
