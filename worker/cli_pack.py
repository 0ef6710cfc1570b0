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

from rules.catalogue import checked_policies
from rules.pack import (
    RulePack,
    current_pack,
    current_texts,
    load_pack_dir,
    pack_from_texts,
    write_pack_dir,
)
from rules.payer_policies import parse_payer_policies

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


def added_policies(base: str, added: str) -> str:
    """The base pack's payer policy rows followed by the added file's, under the base file's
    header (the added file may order its columns differently but must have them all). A policy
    id may not repeat: two rows with one id would leave which one decides to chance."""
    base_rows = list(csv.DictReader(io.StringIO(base)))
    reader = csv.DictReader(io.StringIO(added))
    header = next(csv.reader(io.StringIO(base)))
    missing = [c for c in header if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"the policy file lacks the column(s) {', '.join(missing)}")
    added_rows = list(reader)
    seen = {r["policy_id"] for r in base_rows}
    for n, r in enumerate(added_rows, start=2):
        if r["policy_id"] in seen:
            raise ValueError(
                f"policy file row {n}: policy_id {r['policy_id']!r} is already in the pack "
                "(give it another id, or pass --replace-policies to replace the pack's rows)"
            )
        seen.add(r["policy_id"])
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows([*base_rows, *added_rows])
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
        Path | None,
        typer.Option(
            help="Payer policy rows (see docs/payer-packs.md), added to the base pack's policies."
        ),
    ] = None,
    replace_policies: Annotated[
        bool,
        typer.Option(
            "--replace-policies",
            help="The --policies file replaces the base pack's policies instead of adding to them.",
        ),
    ] = False,
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
    }
    for option, path in given.items():
        if path is not None:
            texts[_REPLACEABLE[option]] = path.read_text(encoding="utf-8-sig")
    if policies is not None:
        rows = policies.read_text(encoding="utf-8-sig")
        try:
            # Checked on their own first, so an error names the row of the file given.
            checked_policies(parse_payer_policies(rows))
            texts["payer_policies.csv"] = (
                rows if replace_policies else added_policies(texts["payer_policies.csv"], rows)
            )
        except (ValueError, KeyError) as exc:
            where = (
                f"{policies.name} lacks the column {exc}"
                if isinstance(exc, KeyError)
                else str(exc).replace("payer_policies.csv", policies.name)
            )
            err.print(f"[red]not a valid pack:[/] {where}", markup=True, highlight=False)
            raise typer.Exit(2) from exc
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
    """What a pack holds: version, content hash, data releases and the dates they cover, and
    warnings for data that has ended or tables that are empty."""
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
        f"{len(p.hcpcs.rows)} HCPCS/CPT codes, {len(p.payer_policies)} payer policies"
    )
    for policy in p.payer_policies:
        out.print(
            f"  {policy.policy_id}: {policy.payer_id} {policy.plan or '*'} {policy.rule_id} "
            f"{policy.action} from {policy.effective_from} ({policy.document})"
        )
    for warning in pack_warnings(p, date.today()):
        out.print(f"[yellow]warning:[/] {warning}")


def pack_warnings(p: RulePack, today: date) -> list[str]:
    """What a billing team should fix before deciding with the pack: data releases that end
    before ``today`` and tables that are empty or only the specification's few values."""
    warnings = [
        f"{r.release} ({', '.join(r.files)}) covers dates of service to {r.covers_through}, "
        f"before today ({today}): later claims are decided with it anyway (PACK-Q1); load the "
        "current quarter's CMS files"
        for r in p.releases
        if r.covers_through is not None and r.covers_through < today
    ]
    if not len(p.ptp_practitioner):
        warnings.append(
            "no practitioner PTP edits: professional claims are checked with the hospital "
            "outpatient edits (PACK-Q2); add the CMS file with --ptp-practitioner"
        )
    if not len(p.ptp_hospital):
        warnings.append("no hospital outpatient PTP edits: NCCI-PTP checks nothing")
    undated_mue = any(r.covers_from is None for r in p.releases if "mue_facility.csv" in r.files)
    for setting, mues, option in (
        ("facility", p.mue_facility, "--mue-facility"),
        ("practitioner", p.mue_practitioner, "--mue-practitioner"),
    ):
        if not mues:
            warnings.append(f"no {setting} MUE values: NCCI-MUE checks nothing ({option})")
        elif undated_mue:
            warnings.append(
                f"only {len(mues)} {setting} MUE value(s), the specification's, not the CMS "
                f"quarterly file: add it with {option} and --mue-quarter"
            )
    if not p.catalogue.codes:
        warnings.append("no drug codes: every MAR drug goes to review (ADM-U1)")
    return warnings
