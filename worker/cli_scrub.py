"""``oncoscrub scrub``: batch mode from the shell, without Kafka.

Reads v1 JSON claims, FHIR claim Bundles or an X12 837 interchange (the form sniffed from
the file, or ``--format``). X12 and FHIR need the patient reference key
(``ONCOSCRUB_PATIENT_REF_KEY``) and take the payer aliases (``ONCOSCRUB_PAYER_ALIASES``),
as the worker does. Decisions, audit events and corrected 837s are patient data: their
files are created 0600. The audit file is sealed by ``<audit>.checkpoints`` (signed when
``ONCOSCRUB_AUDIT_SIGNING_KEY`` is set), written once the audit file is on disk.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
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
from worker.ingest.patient_ref import MIN_KEY_BYTES
from worker.ingest.record import IngestOptions
from worker.ingest.sniff import InputFormat, sniff
from worker.private_files import open_private

err = Console(stderr=True)


class Form(StrEnum):
    JSON = "json"
    X12 = "x12"
    FHIR = "fhir"


_CONTENT_TYPES = {
    Form.JSON: "application/json",
    Form.X12: "application/edi-x12",
    Form.FHIR: "application/fhir+json",
}
_X12_SUFFIXES = frozenset({".837", ".x12", ".edi"})


class IngestSettings(BaseSettings):
    """The worker's settings X12 and FHIR input need (``worker.settings.Settings`` holds the
    same two), without the Kafka ones batch mode has no use for."""

    model_config = SettingsConfigDict(
        env_prefix="ONCOSCRUB_", extra="ignore", hide_input_in_errors=True
    )
    patient_ref_key: SecretStr | None = None
    payer_aliases: dict[str, str] = {}

    def options(self) -> IngestOptions:
        key = self.patient_ref_key
        return IngestOptions(
            None if key is None else key.get_secret_value().encode(), dict(self.payer_aliases)
        )


def form_of(path: str, data: bytes, given: Form | None) -> Form:
    """``--format`` if given, else ``.837``/``.x12``/``.edi`` files are X12, else sniffed."""
    if given is not None:
        return given
    if Path(path).suffix.lower() in _X12_SUFFIXES:
        return Form.X12
    head = next(split_inputs(data), b"")
    sniffed = sniff(data if data.lstrip().startswith(b"ISA") else head)
    return {InputFormat.X12: Form.X12, InputFormat.FHIR: Form.FHIR}.get(sniffed, Form.JSON)


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
    input_format: Annotated[
        Form | None,
        typer.Option(
            "--format",
            help="json (v1 claims), x12 (one 837 interchange) or fhir (claim Bundles); "
            "default: .837/.x12/.edi files are x12, else sniffed from the content.",
        ),
    ] = None,
    x12_out: Annotated[
        Path | None,
        typer.Option(
            "--x12-out",
            help="Write the corrected 837 of each scrubbed claim that came as X12 "
            "(one interchange per claim).",
        ),
    ] = None,
    courses: Annotated[
        bool,
        typer.Option(
            "--courses",
            help="Decide with the course store: the file's claims (a course billed over "
            "several claims) checked across claims, in the file's order, corrections included.",
        ),
    ] = False,
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
    form = form_of(input_path, data, input_format)
    try:
        options = IngestSettings().options()
    except (ValidationError, ValueError):
        err.print(
            "[red]error[/]: ONCOSCRUB_PATIENT_REF_KEY must be at least "
            f"{MIN_KEY_BYTES} bytes and ONCOSCRUB_PAYER_ALIASES a JSON object of strings"
        )
        raise typer.Exit(2) from None
    if form is not Form.JSON and options.patient_key is None:
        err.print(f"[red]error[/]: {form.value} input needs ONCOSCRUB_PATIENT_REF_KEY")
        raise typer.Exit(2)
    inputs = [data] if form is Form.X12 else list(split_inputs(data))
    x12_sink = None
    try:
        sink = open_private(output) if output else sys.stdout.buffer
        audit_sink = open_private(audit_file) if audit_file else None
        x12_sink = open_private(x12_out) if x12_out else None
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
                options=options,
                content_type=_CONTENT_TYPES[form],
                x12_out=x12_sink,
                courses=courses,
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
        if x12_sink:
            x12_sink.close()
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
