"""``oncoscrub audit …``: verify, replay, show and export the audit log from the shell.

Exit codes of ``verify`` and ``replay`` (also in their help and the README): 0 proven,
1 tampering or differing decisions, 2 a usage or input error, 3 nothing wrong found but
the proof is incomplete (a chain's tail pinned by no checkpoint; events that could not be
replayed). Files written (exports, archives, keys) are their owner's alone (0600).
"""

from __future__ import annotations

import asyncio
import getpass
import json
import socket
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from rules.pack import load_pack_dir
from worker.audit import archive, log, replay, signing
from worker.audit.chain import AuditRecord, verify
from worker.audit.seal import CheckpointFileError, Pin, pins_beside, read_pins, signature_problems
from worker.cli_dates import FORMATS, aware_datetime
from worker.explain import explain_event
from worker.private_files import private_umask
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
        exists=True,
        help="Exported audit files or directories "
        "(default: the audit topic of ONCOSCRUB_BOOTSTRAP_SERVERS).",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
WhenOpt = Annotated[
    datetime | None, typer.Option(parser=aware_datetime, metavar="WHEN", help=FORMATS)
]
PackDirOpt = Annotated[
    Path | None, typer.Option(exists=True, file_okay=False, help="A rule pack directory.")
]

# Exit codes shared by verify and replay.
PROVEN, FAILED, USAGE, INCOMPLETE = 0, 1, 2, 3


def _input_error(message: str) -> NoReturn:
    err.print("[red]error[/]: ", end="")
    err.print(message, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(USAGE)


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
        try:
            return list(log.records_from_files(files))
        except OSError as e:
            _input_error(f"{e.filename}: {e.strerror}")
    settings = Settings()

    async def collect() -> list[AuditRecord]:
        topic = _topics(which)[0]
        return [r async for r in log.records_from_topic(settings.kafka, topic)]

    return asyncio.run(collect())


def _pins(files: list[Path] | None, extra: list[Path] | None, which: Log = Log.AUDIT) -> list[Pin]:
    """The checkpoints to hold the log to: given, travelling with the files (an export's
    checkpoints.jsonl, a batch file's .checkpoints), or the checkpoint topic's."""
    try:
        if extra:
            return [
                pin
                for path in extra
                for pin in read_pins(path / "checkpoints.jsonl" if path.is_dir() else path)
            ]
        if files:
            return pins_beside(files)
    except CheckpointFileError as e:
        _input_error(str(e))
    except OSError as e:
        _input_error(f"{e.filename}: {e.strerror}")
    settings = Settings()
    topic = _topics(which)[1]
    found = asyncio.run(log.checkpoints_from_topic(settings.kafka, topic))
    return [Pin(c, f"topic {topic}") for c in found]


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
            exists=True,
            help="Checkpoint files kept outside the log (default: those beside the files, "
            "FILE.checkpoints or an export's checkpoints.jsonl, or the checkpoint topic).",
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
    public_key: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Ed25519 public key (PEM): every checkpoint must carry a valid signature by it.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check every partition's hash chain against the checkpoints that pin its tail.

    Exit codes: 0 intact, every chain's tail pinned by a checkpoint; 1 a break, a tail that
    differs from its checkpoint, or a signature that does not hold (--public-key); 2 usage
    or input error; 3 intact, but a chain's tail is pinned by no checkpoint, so its last
    events could be changed or dropped unseen.
    """
    try:
        public = signing.load_public_key(public_key) if public_key else None
    except signing.SigningKeyError as e:
        _input_error(str(e))
    # Checkpoints first: a worker that commits meanwhile then leaves an unpinned tail
    # (exit 3), where reading them last would pin events not yet read (a false break).
    pins = _pins(files, checkpoints, which)
    records = _records(files, which)
    report = verify(_progress(records, "verifying"), [p.record for p in pins])
    bad_signatures = signature_problems(pins, public) if public else []
    ok = report.ok and not bad_signatures
    result = {
        "ok": ok, "sealed": not report.unpinned, "events": report.events,
        "partitions": {str(p): h.seq for p, h in sorted(report.heads.items())},
        "checkpoints_checked": report.checkpoints_checked,
        "signatures_checked": len(pins) if public else 0,
        "archived": {str(p): seq for p, seq in sorted(report.archived.items())},
        "unpinned": {str(p): {"from_seq": a, "to_seq": b}
                     for p, (a, b) in sorted(report.unpinned.items())},
        "breaks": [asdict(b) for b in report.breaks],
        "signature_problems": bad_signatures,
    }  # fmt: skip
    for p, (first, last) in sorted(report.unpinned.items()):
        err.print(
            f"[bold yellow]WARNING[/]: partition {p}: events seq {first}..{last} are pinned by "
            "no checkpoint; they could be changed or dropped without detection. Keep the "
            "checkpoints with the log (FILE.checkpoints beside a batch audit file)."
        )
    if as_json:
        out.print_json(json.dumps(result))
    elif ok:
        archived = "".join(
            f"; partition {p} starts at seq {seq} (head archived on record)"
            for p, seq in sorted(report.archived.items())
        )
        signed = f", {len(pins)} signature(s) valid" if public else ""
        verdict = "[green]OK[/]" if not report.unpinned else "[yellow]INTACT, NOT SEALED[/]"
        out.print(
            f"{verdict}: {report.events} events in {len(report.heads)} partition(s), "
            f"chains intact, {report.checkpoints_checked} checkpoint(s) matched{signed}{archived}."
        )
    else:
        for b in report.breaks:
            where = f" ({b.where})" if b.where else ""
            out.print(
                f"[red]BREAK[/] partition {b.partition} offset {b.offset} seq {b.seq}{where}: "
                f"{b.problem}",
                highlight=False,
                soft_wrap=True,  # a file:line stays whole, to copy
            )
        for problem in bad_signatures:
            out.print("[red]SIGNATURE[/] ", end="")
            out.print(problem, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(FAILED if not ok else INCOMPLETE if report.unpinned else PROVEN)


@audit.command("replay")
def replay_cmd(
    files: FilesOpt = None,
    pack_dir: Annotated[
        list[Path] | None,
        typer.Option(
            exists=True,
            file_okay=False,
            help="Earlier rule packs to replay with (directories with a VERSION file).",
        ),
    ] = None,
    against: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            file_okay=False,
            help="Decide with this pack instead and report what would change.",
        ),
    ] = None,
    claim: Annotated[list[str] | None, typer.Option(help="Only these claim ids.")] = None,
    since: WhenOpt = None,
    until: WhenOpt = None,
    from_offset: Annotated[int | None, typer.Option()] = None,
    to_offset: Annotated[int | None, typer.Option()] = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-decide recorded events and prove byte-identical results (or compare a pack).
    --since and --until select by decision time, inclusive.

    Exit codes: 0 every selected decision identical (with --against: none would change);
    1 decisions differ (or would change); 2 usage or input error; 3 none differ, but some
    selected events could not be replayed (their pack not given, their input kept only in
    the dead-letter topic).
    """
    records = _records(files)
    try:
        packs = [load_pack_dir(p) for p in pack_dir or ()]
        candidate = load_pack_dir(against) if against else None
    except (OSError, ValueError) as e:
        _input_error(f"a rule pack directory cannot be loaded: {e}")
    selection = replay.Selection(
        claim_ids=frozenset(claim or ()), since=since, until=until,
        min_offset=from_offset, max_offset=to_offset,
    )  # fmt: skip
    try:
        report = replay.replay(
            _progress(records, "replaying"), packs=packs, against=candidate, selection=selection
        )
    except replay.UnreadableEventError as e:
        _input_error(f"{e}; audit verify locates every damaged record")
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
    if not report.replayed and not report.not_replayable:
        err.print("no event matched the selection")
    if report.differing or report.changes:
        raise typer.Exit(FAILED)
    raise typer.Exit(INCOMPLETE if report.not_replayable else PROVEN)


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
    """Write the log to JSON Lines files (one per partition) with the chain intact, and its
    checkpoints; readable by their owner only."""
    records = _records(files)
    pins = [p.record for p in _pins(files, None)]
    with private_umask():
        counts = log.export(_progress(records, "exporting"), pins, out_dir)
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
        datetime | None,
        typer.Option(
            parser=aware_datetime,
            metavar="WHEN",
            help=f"Archive events decided before this time ({FORMATS}).",
        ),
    ] = None,
    partition: Annotated[list[int] | None, typer.Option(help="Only these partitions.")] = None,
    by: Annotated[str | None, typer.Option(help="Who archives (default: user@host).")] = None,
) -> None:
    """Move the head of the audit log to files, on record: verify, export, record the
    archival on the checkpoint topic, then delete the archived records from the topic."""
    if (before_seq is None) == (decided_before is None):
        err.print("give exactly one of --before-seq and --decided-before")
        raise typer.Exit(2)
    settings = Settings()
    who = by or f"{getpass.getuser()}@{socket.gethostname()}"
    try:
        with private_umask():
            done = asyncio.run(
                archive.archive(
                    settings.kafka,
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


@audit.command("keygen")
def keygen_cmd(
    private_key: Annotated[
        Path, typer.Argument(help="Where to write the private key (PEM, PKCS#8, 0600).")
    ],
    public_key: Annotated[
        Path | None,
        typer.Option(help="Where to write the public key (default: beside it, .pub.pem)."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite existing key files.")] = False,
) -> None:
    """Make an Ed25519 key pair that signs batch audit checkpoints (the same as
    openssl genpkey -algorithm ed25519)."""
    public_path = public_key or private_key.with_name(
        private_key.name.removesuffix(".pem") + ".pub.pem"
    )
    existing = [p for p in (private_key, public_path) if p.exists()]
    if existing and not force:
        _input_error(f"{existing[0]} exists (--force to overwrite)")
    try:
        kid = signing.generate(private_key, public_path)
    except OSError as e:
        _input_error(f"{e.filename}: {e.strerror}")
    out.print(f"private key {private_key} (0600), public key {public_path}", highlight=False)
    out.print(f"key id {kid}", highlight=False)
    out.print(
        f"sign: ONCOSCRUB_AUDIT_SIGNING_KEY={private_key} oncoscrub scrub … --audit AUDIT; "
        f"verify: oncoscrub audit verify -f AUDIT --public-key {public_path}",
        markup=False,
        highlight=False,
    )
