"""Rebuild the vendored reference data in ``rules/data`` from public sources.

    python -m tools.refdata [SHARED_DATA_DIR]

Inputs: the CMS I/OCE extracts and ICD-10-CM neoplasm table in ``shared/data`` (see its
README for provenance) and the full ICD-10-CM code set of the ``simple-icd-10-cm`` package
(MIT; CMS/NCHS April 1, 2026 release). Only the columns the engine reads are kept, so the
vendored files stay small; the provenance of each file is in ``rules/data/README.md``.
This is a maintainer's tool, not part of the engine: the engine reads only ``rules/data``.
"""

from __future__ import annotations

import csv
import io
import sys
from datetime import date
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "rules" / "data"


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _write(name: str, header: list[str], rows: list[list[str]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    (OUT / name).write_text(buf.getvalue(), encoding="utf-8")
    print(f"{name}: {len(rows)} rows")


def _version_dates(shared: Path) -> dict[str, tuple[str, str]]:
    out = {}
    for r in _read(shared / "ioce_versions.csv"):
        start, end = r["date_started"], r["date_ended"]
        out[r["internal_version"]] = (
            date(int(start[:4]), int(start[4:6]), int(start[6:])).isoformat(),
            date(int(end[:4]), int(end[4:6]), int(end[6:])).isoformat(),
        )
    return out


def build(shared: Path) -> None:
    ptp = _read(shared / "ncci_ptp_oncology.csv")
    _write(
        "ncci_ptp_hospital.csv",
        ["column1", "column2", "modifier_indicator", "effective_from", "effective_through"],
        sorted(
            [r["column1"], r["column2"], r["modifier_indicator"], r["effective_from"],
             r["effective_through"]]
            for r in ptp
        ),
    )  # fmt: skip
    attrs = _read(shared / "hcpcs_attributes_oncology.csv")
    _write(
        "hcpcs_quarters.csv",
        ["hcpcs", "effective_from", "effective_through", "status_indicator"],
        sorted(
            [r["hcpcs"], r["effective_from"], r["effective_through"], r["status_indicator"]]
            for r in attrs
        ),
    )
    imrt = _read(shared / "imrt_conflicts.csv")
    _write(
        "imrt_conflicts.csv",
        ["imrt_code", "conflicting_code", "effective_from", "effective_through"],
        [
            [r["imrt_code"], r["conflicting_code"], r["effective_from"], r["effective_through"]]
            for r in imrt
        ],
    )
    versions = _version_dates(shared)
    _write(
        "ncci_bypass_modifiers.csv",
        ["modifier", "effective_from", "effective_through"],
        sorted(
            [r["modifier"], versions[r["lo_version"]][0], versions[r["hi_version"]][1]]
            for r in _read(shared / "ioce_modifiers.csv")
            if r["ncci_bypass"] == "1"
        ),
    )
    addons = _read(shared / "addon_primary_map.csv")
    _write(
        "addon_primary_map.csv",
        ["table", "addon", "primary", "effective_from", "effective_through"],
        [
            [r["table"], r["addon"], r["primary"], r["effective_from"], r["effective_through"]]
            for r in addons
        ],
    )
    neo = _read(shared / "icd10cm_neoplasm.csv")
    _write(
        "icd10cm_unacceptable_pdx.csv",
        ["code", "exclusion"],
        sorted(
            [r["code"], r["ioce_unacceptable_pdx_exclusion"]]
            for r in neo
            if r["ioce_unacceptable_pdx"] == "1"
        ),
    )
    import simple_icd_10_cm as icd  # a maintainer's dependency only

    codes = [
        c
        for c in icd.get_all_codes(True)
        if icd.is_category_or_subcategory(c) or icd.is_extended_subcategory(c)
    ]
    _write(
        "icd10cm_codes.csv",
        ["code", "billable"],
        [[c, "1" if icd.is_leaf(c) else "0"] for c in codes],
    )


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("../shared/data"))
