"""Rebuild the vendored reference data in ``rules/data`` from public sources, or check it.

    python -m tools.refdata [SHARED_DATA_DIR]          # rewrite the files in rules/data
    python -m tools.refdata --check [SHARED_DATA_DIR]  # exit 1 unless they equal a rebuild

Inputs: the CMS I/OCE extracts and ICD-10-CM neoplasm table in ``shared/data`` (default
``../shared/data``; see its README for provenance) and the full ICD-10-CM code set of the
``simple-icd-10-cm`` package (MIT; CMS/NCHS April 1, 2026 release). Only the columns the engine
reads are kept, so the vendored files stay small; the provenance of each file is in
``rules/data/README.md``. This is a maintainer's tool, not part of the engine: the engine reads
only ``rules/data``, and ``make test`` checks the pack against small excerpts of the same CMS
files committed in ``tests/fixtures/cms``; ``--check`` is the full comparison.

Each ``*_table`` function is pure (the source file's rows in, the vendored file's header and
rows out), so the tests run them on those excerpts.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from tools import drugs

OUT = Path(__file__).resolve().parent.parent / "rules" / "data"

Rows = list[dict[str, str]]
Table = tuple[list[str], list[list[str]]]


def read_rows(path: Path) -> Rows:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def render(table: Table) -> str:
    """A table as the vendored CSV text."""
    header, rows = table
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def ptp_table(ptp: Rows) -> Table:
    header = ["column1", "column2", "modifier_indicator", "effective_from", "effective_through"]
    return header, sorted([r[c] for c in header] for r in ptp)


def hcpcs_table(attrs: Rows) -> Table:
    """Every HCPCS/CPT code of the I/OCE HCPCS table by date range, with its OPPS status
    indicator. Adjacent ranges of a code with the same status are one row (the I/OCE splits
    them on columns the engine does not read)."""
    header = ["hcpcs", "effective_from", "effective_through", "status_indicator"]
    rows: list[list[str]] = []
    for r in sorted([r[c] for c in header] for r in attrs):
        last = rows[-1] if rows else None
        if (
            last is not None
            and last[0] == r[0]
            and last[3] == r[3]
            and date.fromisoformat(last[2]) + timedelta(days=1) == date.fromisoformat(r[1])
        ):
            last[2] = r[2]
        else:
            rows.append(r)
    return header, rows


def imrt_table(imrt: Rows) -> Table:
    header = ["imrt_code", "conflicting_code", "effective_from", "effective_through"]
    return header, [[r[c] for c in header] for r in imrt]


def _version_dates(versions: Rows) -> dict[str, tuple[str, str]]:
    out = {}
    for r in versions:
        start, end = r["date_started"], r["date_ended"]
        out[r["internal_version"]] = (
            date(int(start[:4]), int(start[4:6]), int(start[6:])).isoformat(),
            date(int(end[:4]), int(end[4:6]), int(end[6:])).isoformat(),
        )
    return out


def bypass_table(modifiers: Rows, versions: Rows) -> Table:
    dates = _version_dates(versions)
    return ["modifier", "effective_from", "effective_through"], sorted(
        [r["modifier"], dates[r["lo_version"]][0], dates[r["hi_version"]][1]]
        for r in modifiers
        if r["ncci_bypass"] == "1"
    )


def addon_table(addons: Rows) -> Table:
    header = ["table", "addon", "primary", "effective_from", "effective_through"]
    return header, [[r[c] for c in header] for r in addons]


def unacceptable_pdx_table(neoplasm: Rows) -> Table:
    return ["code", "exclusion"], sorted(
        [r["code"], r["ioce_unacceptable_pdx_exclusion"]]
        for r in neoplasm
        if r["ioce_unacceptable_pdx"] == "1"
    )


def icd10cm_codes_table() -> Table:
    import simple_icd_10_cm as icd  # a maintainer's dependency only

    codes = [
        c
        for c in icd.get_all_codes(True)
        if icd.is_category_or_subcategory(c) or icd.is_extended_subcategory(c)
    ]
    return ["code", "billable"], [[c, "1" if icd.is_leaf(c) else "0"] for c in codes]


# vendored file -> (shared/data files it is made from, the transform)
FROM_SHARED: dict[str, tuple[tuple[str, ...], Callable[..., Table]]] = {
    "ncci_ptp_hospital.csv": (("ncci_ptp_oncology.csv",), ptp_table),
    "hcpcs_quarters.csv": (("hcpcs_attributes.csv",), hcpcs_table),
    "drug_codes.csv": (("hcpcs_level2_drugs.csv", "hcpcs_attributes.csv"), drugs.catalogue_table),
    "imrt_conflicts.csv": (("imrt_conflicts.csv",), imrt_table),
    "ncci_bypass_modifiers.csv": (("ioce_modifiers.csv", "ioce_versions.csv"), bypass_table),
    "addon_primary_map.csv": (("addon_primary_map.csv",), addon_table),
    "icd10cm_unacceptable_pdx.csv": (("icd10cm_neoplasm.csv",), unacceptable_pdx_table),
}


def rebuild(shared: Path) -> dict[str, Table]:
    """Every CMS-derived vendored file, rebuilt from ``shared`` and the ICD-10-CM package."""
    tables = {
        name: transform(*(read_rows(shared / source) for source in sources))
        for name, (sources, transform) in FROM_SHARED.items()
    }
    tables["icd10cm_codes.csv"] = icd10cm_codes_table()
    return tables


def neoplasm_mismatches(neoplasm: Rows, codes_text: str) -> list[str]:
    """Codes of the CMS neoplasm table whose billable flag the vendored code set contradicts
    (the code set comes from another source, the ICD-10-CM package)."""
    billable = {r["code"]: r["billable"] for r in csv.DictReader(io.StringIO(codes_text))}
    return [r["code"] for r in neoplasm if billable.get(r["code"]) != r["billable"]]


def build(shared: Path) -> None:
    for name, table in rebuild(shared).items():
        (OUT / name).write_text(render(table), encoding="utf-8")
        print(f"{name}: {len(table[1])} rows")


def check(shared: Path) -> bool:
    """True when every CMS-derived file in rules/data equals a fresh rebuild."""
    ok = True
    for name, table in rebuild(shared).items():
        vendored = (OUT / name).read_text(encoding="utf-8")
        same = vendored == render(table)
        ok &= same
        state = "same" if same else f"DIFFERS ({len(vendored.splitlines()) - 1} rows vendored)"
        print(f"{name}: {len(table[1])} rows rebuilt, {state}")
    codes = (OUT / "icd10cm_codes.csv").read_text(encoding="utf-8")
    wrong = neoplasm_mismatches(read_rows(shared / "icd10cm_neoplasm.csv"), codes)
    ok &= not wrong
    print(f"icd10cm_codes.csv against icd10cm_neoplasm.csv: {len(wrong)} codes differ {wrong[:5]}")
    return ok


def main(argv: list[str]) -> int:
    checking = "--check" in argv
    args = [a for a in argv if a != "--check"]
    shared = Path(args[0]) if args else Path("../shared/data")
    if not (shared / "ncci_ptp_oncology.csv").exists():
        print(f"{shared}: not a shared/data directory", file=sys.stderr)
        return 2
    try:
        import simple_icd_10_cm  # noqa: F401
    except ImportError:
        print("needs the ICD-10-CM package: pip install simple-icd-10-cm==1.5.0", file=sys.stderr)
        return 2
    if checking:
        return 0 if check(shared) else 1
    build(shared)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
