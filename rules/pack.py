"""A rule pack: the reference data the engine decides with, identified by version and hash.

The pack in force ships in ``rules/data``. Earlier (or candidate) packs are
directories with the same files plus a ``VERSION`` file; replay loads the one an
audit event names, so a past decision is re-decided with the rules then in force.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from rules.cms_tables import (
    DatedPairs,
    HcpcsQuarters,
    Icd10Set,
    Mue,
    PtpTable,
    Release,
    parse_addon_map,
    parse_dated_pairs,
    parse_g_code_map,
    parse_hcpcs_quarters,
    parse_icd10,
    parse_mue,
    parse_ptp,
    parse_releases,
)
from rules.drug_catalogue import DrugCatalogue, parse_catalogue
from rules.payer_policies import (
    PayerOptions,
    PayerPolicy,
    parse_payer_options,
    parse_payer_policies,
)
from schemas.decision import RulePackRef

PACK_NAME = "core"
RULE_PACK_VERSION = "2026.12.1"
DATA_FILES = (
    "sources.csv",
    "drugs.csv",
    "drug_codes.csv",
    "payer_drug_overrides.csv",
    "payer_options.csv",
    "payer_policies.csv",
    "addon_primary_map.csv",
    "ncci_ptp_hospital.csv",
    "ncci_ptp_practitioner.csv",
    "ncci_bypass_modifiers.csv",
    "mue_facility.csv",
    "mue_practitioner.csv",
    "hcpcs_quarters.csv",
    "imrt_conflicts.csv",
    "g_code_map.csv",
    "icd10cm_codes.csv",
    "icd10cm_unacceptable_pdx.csv",
)


@dataclass(frozen=True)
class RulePack:
    ref: RulePackRef
    catalogue: DrugCatalogue
    addon_primaries: dict[str, frozenset[str]]
    payer_options: dict[str, PayerOptions]
    releases: tuple[Release, ...]
    payer_policies: tuple[PayerPolicy, ...]
    billed_addons: DatedPairs  # drug-administration and type 1 maps: add-on -> primaries
    ptp_hospital: PtpTable
    ptp_practitioner: PtpTable  # empty: professional claims use the hospital table (PACK-Q2)
    bypass_modifiers: DatedPairs  # "*" -> modifiers that bypass a PTP edit with indicator 1
    mue_facility: dict[str, Mue]
    mue_practitioner: dict[str, Mue]
    hcpcs: HcpcsQuarters
    imrt_conflicts: DatedPairs  # 77301 -> codes it includes
    g_codes: dict[str, frozenset[str]]  # freestanding G-code -> hospital CPT codes
    icd10: Icd10Set


def content_sha256(texts: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for name in DATA_FILES:
        digest.update(name.encode() + b"\0" + texts[name].encode() + b"\0")
    return digest.hexdigest()


def pack_from_texts(version: str, texts: Mapping[str, str]) -> RulePack:
    """Pure: the data files' texts in, a pack out. Payer policy rows are checked against the
    rules they name; a row that would do nothing refuses the pack."""
    # The catalogue imports every rule module, and they import this one: import it late.
    from rules.catalogue import checked_policies

    return RulePack(
        ref=RulePackRef(name=PACK_NAME, version=version, content_sha256=content_sha256(texts)),
        catalogue=parse_catalogue(
            texts["drug_codes.csv"], texts["drugs.csv"], texts["payer_drug_overrides.csv"]
        ),
        # Every drug-administration row is in force from the oldest quarter carried
        # (2019-07-01) through 2036-03-31, so the union is the list for any date of service
        # the engine sees; parse_addon_map(text, on=...) gives a dated view when that changes.
        addon_primaries=parse_addon_map(texts["addon_primary_map.csv"], table=DRUG_ADMIN_ADDONS),
        payer_options=parse_payer_options(texts["payer_options.csv"]),
        releases=parse_releases(texts["sources.csv"]),
        payer_policies=checked_policies(parse_payer_policies(texts["payer_policies.csv"])),
        billed_addons=parse_dated_pairs(
            texts["addon_primary_map.csv"],
            "addon",
            "primary",
            where={"table": f"{DRUG_ADMIN_ADDONS}|map_addon_type1"},
        ),
        ptp_hospital=parse_ptp(texts["ncci_ptp_hospital.csv"]),
        ptp_practitioner=parse_ptp(texts["ncci_ptp_practitioner.csv"]),
        bypass_modifiers=parse_dated_pairs(texts["ncci_bypass_modifiers.csv"], None, "modifier"),
        mue_facility=parse_mue(texts["mue_facility.csv"]),
        mue_practitioner=parse_mue(texts["mue_practitioner.csv"]),
        hcpcs=parse_hcpcs_quarters(texts["hcpcs_quarters.csv"]),
        imrt_conflicts=parse_dated_pairs(
            texts["imrt_conflicts.csv"], "imrt_code", "conflicting_code"
        ),
        g_codes=parse_g_code_map(texts["g_code_map.csv"]),
        icd10=parse_icd10(texts["icd10cm_codes.csv"], texts["icd10cm_unacceptable_pdx.csv"]),
    )


DRUG_ADMIN_ADDONS = "map_addon_drug_admin"


@cache
def current_pack() -> RulePack:
    """The pack shipped with this engine."""
    return pack_from_texts(RULE_PACK_VERSION, current_texts())


def load_pack_dir(path: Path) -> RulePack:
    """A pack kept as a directory: the data files and a VERSION file."""
    texts = {name: (path / name).read_text(encoding="utf-8") for name in DATA_FILES}
    return pack_from_texts((path / "VERSION").read_text(encoding="utf-8").strip(), texts)


def write_pack_dir(pack_texts: Mapping[str, str], version: str, path: Path) -> None:
    """Keep a pack as a directory (to replay against it later)."""
    path.mkdir(parents=True, exist_ok=True)
    for name in DATA_FILES:
        (path / name).write_text(pack_texts[name], encoding="utf-8")
    (path / "VERSION").write_text(version + "\n", encoding="utf-8")


def current_texts() -> dict[str, str]:
    """The shipped pack's data files (a starting point for a candidate pack)."""
    data = resources.files("rules").joinpath("data")
    return {name: data.joinpath(name).read_text(encoding="utf-8") for name in DATA_FILES}
