"""``oncoscrub scrub``: batch mode from the shell, without Kafka."""

from __future__ import annotations

import sys
from collections.abc import Iterable
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
from worker.batch import scrub as scrub_claims
from worker.batch import split_inputs

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
        Path | None, typer.Option("--audit", help="Also write the audit events, hash-chained.")
    ] = None,
    pack_dir: Annotated[
        Path | None, typer.Option(help="Decide with this rule pack directory (pack init).")
    ] = None,
) -> None:
    """Scrub a file of claims without Kafka: same engine, same decisions."""
    pack = load_pack_dir(pack_dir) if pack_dir else None
    data = sys.stdin.buffer.read() if input_path == "-" else Path(input_path).read_bytes()
    inputs = list(split_inputs(data))
    sink = output.open("wb") if output else sys.stdout.buffer
    audit_sink = audit_file.open("wb") if audit_file else None
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
