"""``oncoscrub pack``: build a rule pack directory with a billing team's own CMS files and
payer policies, and show what a pack holds.

A pack directory holds every data file of the engine and a VERSION file; the worker decides
with it when ``ONCOSCRUB_RULE_PACK_DIR`` names it, ``oncoscrub scrub --pack-dir`` too, and
``oncoscrub audit replay --pack-dir`` replays decisions made with it.
"""

from __future__ import annotations

import csv
import io
from calendar import monthrange
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from rules.pack import current_pack, current_texts, load_pack_dir, pack_from_texts, write_pack_dir

pack = typer.Typer(
    help="Rule packs: build one with your CMS files and payer policies, or show one."
)
out = Console()
err = Console(stderr=True)

_REPLACEABLE = {
    "mue_facility": "mue_facility.csv",
    "mue_practitioner": "mue_practitioner.csv",
    "ptp_hospital": "ncci_ptp_hospital.csv",
    "ptp_practitioner": "ncci_ptp_practitioner.csv",
    "policies": "payer_policies.csv",
}


def _quarter_end(start: date) -> date:
    month = start.month + 2
    year = start.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return date(year, month, monthrange(year, month)[1])


def _mue_release(texts: dict[str, str], names: list[str], quarter: date | None) -> str:
    rows = list(csv.DictReader(io.StringIO(texts["sources.csv"])))
    for row in rows:
        if "mue_facility.csv" in row["files"].split():
            row["description"] = "CMS MUE files supplied: " + ", ".join(names)
            row["covers_from"] = quarter.isoformat() if quarter else ""
            row["covers_through"] = _quarter_end(quarter).isoformat() if quarter else ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


@pack.command("init")
def init(
    directory: Annotated[Path, typer.Argument(help="Where to write the pack.")],
    version: Annotated[str, typer.Option(help="The pack's version, recorded in every decision.")],
    base: Annotated[
        Path | None, typer.Option(help="Start from this pack directory instead of the shipped one.")
    ] = None,
    mue_facility: Annotated[
        Path | None, typer.Option(help="CMS Outpatient Hospital Services MUE file (CSV).")
    ] = None,
    mue_practitioner: Annotated[
        Path | None, typer.Option(help="CMS Practitioner Services MUE file (CSV).")
    ] = None,
    mue_quarter: Annotated[
        str | None, typer.Option(help="First day of the MUE files' quarter, e.g. 2026-10-01.")
    ] = None,
    ptp_hospital: Annotated[
        Path | None, typer.Option(help="CMS hospital outpatient PTP file (tab or comma separated).")
    ] = None,
    ptp_practitioner: Annotated[
        Path | None, typer.Option(help="CMS practitioner PTP file (tab or comma separated).")
    ] = None,
    policies: Annotated[
        Path | None, typer.Option(help="Payer policy rows (see docs/payer-packs.md).")
    ] = None,
) -> None:
    """Write a rule pack directory: the shipped data with the files you supply."""
    texts = (
        {n: (base / n).read_text(encoding="utf-8") for n in current_texts()}
        if base
        else current_texts()
    )
    given = {
        "mue_facility": mue_facility,
        "mue_practitioner": mue_practitioner,
        "ptp_hospital": ptp_hospital,
        "ptp_practitioner": ptp_practitioner,
        "policies": policies,
    }
    for option, path in given.items():
        if path is not None:
            texts[_REPLACEABLE[option]] = path.read_text(encoding="utf-8-sig")
    mue_files = [p.name for p in (mue_facility, mue_practitioner) if p is not None]
    if mue_files:
        quarter = date.fromisoformat(mue_quarter) if mue_quarter else None
        texts["sources.csv"] = _mue_release(texts, mue_files, quarter)
    try:
        built = pack_from_texts(version, texts)  # every file parses before anything is written
    except (ValueError, KeyError) as exc:
        err.print(f"[red]not a valid pack:[/] {type(exc).__name__}: {exc}")
        raise typer.Exit(2) from exc
    write_pack_dir(texts, version, directory)
    err.print(f"wrote pack {version} ({built.ref.content_sha256[:12]}) to {directory}")


@pack.command("show")
def show(
    directory: Annotated[
        Path | None, typer.Argument(help="A pack directory; the shipped pack if omitted.")
    ] = None,
) -> None:
    """What a pack holds: version, content hash, data releases and the dates they cover."""
    p = load_pack_dir(directory) if directory else current_pack()
    out.print(f"pack {p.ref.name} {p.ref.version}  sha256 {p.ref.content_sha256}")
    table = Table("release", "covers", "files")
    for r in p.releases:
        covers = f"{r.covers_from} .. {r.covers_through}" if r.covers_from else "(undated)"
        table.add_row(r.release, covers, " ".join(r.files))
    out.print(table)
    out.print(
        f"{len(p.ptp_hospital)} hospital and {len(p.ptp_practitioner)} practitioner PTP pairs, "
        f"{len(p.mue_facility)} facility and {len(p.mue_practitioner)} practitioner MUEs, "
        f"{len(p.icd10.billable)} ICD-10-CM codes, {len(p.catalogue.codes)} drug codes, "
        f"{len(p.payer_policies)} payer policies"
    )
    for policy in p.payer_policies:
        out.print(
            f"  {policy.policy_id}: {policy.payer_id} {policy.plan or '*'} {policy.rule_id} "
            f"{policy.action} from {policy.effective_from} ({policy.document})"
        )
