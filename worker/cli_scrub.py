"""``oncoscrub scrub``: batch mode from the shell, without Kafka.

Decisions and audit events are patient data: their files are created 0600. The audit
file is sealed by ``<audit>.checkpoints`` (signed when ``ONCOSCRUB_AUDIT_SIGNING_KEY``
is set), written once the audit file is on disk.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
)

from rules.pack import load_pack_dir
from worker.audit import seal
from worker.audit.signing import SigningKeyError, signer_from_settings
from worker.batch import scrub as scrub_claims
from worker.batch import split_inputs
from worker.private_files import open_private

err = Console(stderr=True)


def scrub_cmd(
    input_path: Annotated[
        str,
        typer.Argument(
            metavar="INPUT", help="Claims as JSON, a JSON array or JSON Lines; - for stdin."
        ),
    ],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Decisions (JSON Lines); default stdout.")
    ] = None,
    audit_file: Annotated[
        Path | None,
        typer.Option(
            "--audit",
            help="Also write the audit events, hash-chained, sealed by AUDIT.checkpoints "
            "(signed when ONCOSCRUB_AUDIT_SIGNING_KEY is set).",
        ),
    ] = None,
    pack_dir: Annotated[
        Path | None, typer.Option(help="Decide with this rule pack directory (pack init).")
    ] = None,
) -> None:
    """Scrub a file of claims without Kafka: same engine, same decisions. Files written are
    0600."""
    try:
        signer = signer_from_settings() if audit_file else None
    except SigningKeyError as e:
        err.print(f"[red]error[/]: {e}")
        raise typer.Exit(2) from None
    pack = load_pack_dir(pack_dir) if pack_dir else None
    try:
        data = sys.stdin.buffer.read() if input_path == "-" else Path(input_path).read_bytes()
    except OSError as e:
        err.print(f"[red]error[/]: {input_path}: {e.strerror}")
        raise typer.Exit(2) from None
    inputs = list(split_inputs(data))
    try:
        sink = open_private(output) if output else sys.stdout.buffer
        audit_sink = open_private(audit_file) if audit_file else None
    except OSError as e:
        err.print(f"[red]error[/]: {e.filename}: {e.strerror}", highlight=False)
        raise typer.Exit(2) from None
    try:
        with Progress(
            SpinnerColumn(),
            TextColumn("scrubbing"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err,
            transient=True,
        ) as progress:
            task = progress.add_task("scrubbing", total=len(inputs))
            summary = scrub_claims(
                _tracked(inputs, progress, task),
                f"file:{Path(input_path).name}",
                sink,
                audit_sink,
                pack=pack,
            )
        if audit_sink is not None and audit_file is not None:
            audit_sink.flush()
            os.fsync(audit_sink.fileno())
            sealed = seal.checkpoint_of(summary.head, 0, "batch", datetime.now(UTC))
            seal.write_checkpoints(
                seal.checkpoints_path(audit_file), [sealed] if sealed else [], signer
            )
    finally:
        if output:
            sink.close()
        if audit_sink:
            audit_sink.close()
    err.print(
        f"{summary.total} claims: "
        + ", ".join(f"{k} {v}" for k, v in sorted(summary.outcomes.items()))
    )
    if summary.findings:
        err.print(
            "top findings: " + ", ".join(f"{k} ({v})" for k, v in summary.findings.most_common(5))
        )
    if summary.reasons:
        err.print("reasons: " + ", ".join(f"{k} ({v})" for k, v in summary.reasons.most_common()))


def _tracked(items: list[bytes], progress: Progress, task: TaskID) -> Iterable[bytes]:
    for n, item in enumerate(items, start=1):
        yield item
        progress.update(task, completed=n)
