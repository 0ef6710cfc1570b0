"""Derive the drug catalogue by quarter from the CMS HCPCS Level II drug codes, or check it.

    python -m tools.drugs [SHARED_DATA_DIR]          # rewrite rules/data/drug_codes.csv
    python -m tools.drugs --check [SHARED_DATA_DIR]  # exit 1 unless it equals a rebuild

Inputs: ``hcpcs_level2_drugs.csv`` of ``shared/data`` (default ``../shared/data``; every HCPCS
Level II drug, biological and radiopharmaceutical code with its dates, OPPS status and CMS short
descriptor, from the CMS I/OCE HCPCS table; provenance in that folder's README), the CPT drug
product codes (immune globulins, vaccines) of ``hcpcs_attributes.csv`` in the same folder, and
the specification's drug table ``rules/data/drugs.csv``. Output: ``rules/data/drug_codes.csv``, one
row per HCPCS drug code and date range (``HEADER``). The rules, their bases and their sources
are documented in ``rules/data/drug_codes.README.md``.

``derive`` is pure (rows in, rows out) so the tests run it on excerpts; ``catalogue_table`` has
the shape of a ``tools.refdata.FROM_SHARED`` transform (the source file's rows in, the vendored
file's header and rows out). This is a maintainer's tool: the engine reads only ``rules/data``.

How a row is derived
    * ``name``, ``unit_amount``, ``unit``: parsed from the CMS short descriptor of that date
      range (``parse_descriptor``); a descriptor that names no single billing amount (no
      amount, a range such as "up to 40 units", a combination such as "3mg/1mg") leaves
      ``unit_amount`` empty, and the engine then does not compare supply units. A code in the
      specification's table takes the table's name and billing unit.
    * ``family``, ``hormonal``, ``confidence``, ``basis``: the specification's table where it
      has the code (``basis`` = ``spec``); otherwise the first rule of ``classify`` that applies,
      decided once per code from all of its descriptors, so a code keeps its class across
      quarters. ``basis`` names the rule.
    * ``successor``: on the last row of a code whose last range ends before the open end
      (2036-03-31, i.e. CMS deleted it), the code that replaced it when the data shows one
      (``successors``); empty otherwise.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "rules" / "data" / "drugs.csv"
OUT = ROOT / "rules" / "data" / "drug_codes.csv"
SOURCE = "hcpcs_level2_drugs.csv"

HEADER = [
    "hcpcs",
    "effective_from",
    "effective_through",
    "name",
    "unit_amount",
    "unit",
    "family",
    "hormonal",
    "electrolyte",
    "confidence",
    "basis",
    "successor",
]
# The I/OCE carries 2036-03-31 as the end of a range that has not ended.
OPEN_END = "2036-03-31"

Rows = list[dict[str, str]]
Table = tuple[list[str], list[list[str]]]

# -- descriptors ---------------------------------------------------------------------------------

# Unit words of the short descriptors -> the catalogue's unit (the engine converts mg/g/mcg,
# mL, units and mEq; other units are kept but never compared).
_UNIT_WORDS = {
    "mg": "mg",
    "mcg": "mcg",
    "microg": "mcg",
    "microgram": "mcg",
    "micrograms": "mcg",
    "g": "g",
    "gm": "g",
    "gram": "g",
    "grams": "g",
    "ml": "mL",
    "cc": "mL",
    "u": "units",
    "unit": "units",
    "units": "units",
    "iu": "units",
    "i.u": "units",
    "i.u.": "units",
    "kiu": "KIU",
    "meq": "mEq",
    "mci": "mCi",
    "millicurie": "mCi",
    "millicuries": "mCi",
    "millicure": "mCi",  # sic, A9596
    "millicuri": "mCi",  # cut short, A9601
    "usp units": "units",
    "uci": "uCi",
}
_UNIT_RE = (
    r"(?:mg|mcg|micrograms?|microg|gm|grams?|g|ml|cc|i\.u\.?|iu|kiu|usp\s+units|units?|u|meq"
    r"|millicuries|millicurie|millicuri|millicure|mci|uci)"
)
_NUMBER_RE = r"(?:\d{1,3}(?:,\d{3})+|\d*\.\d+|\d+)"
_AMOUNT = re.compile(rf"(?<![\d.^])({_NUMBER_RE})\s*({_UNIT_RE})(?![a-z0-9])")
_PER_UNIT = re.compile(rf"(?:\bper\s+|,\s*)({_UNIT_RE})(?![a-z0-9])")
# "400 mg/ml", "150-199mg/ml", "5x10^9pfu/ml": a concentration, not the billing unit.
_CONCENTRATION = re.compile(
    r"(?:[<>]=?\s*)?[\d.,x^]+(?:\s*-\s*[\d.,]+)?\s*(?:mg|mcg|g|pfu)\s*/\s*ml(?![a-z])"
)
_PERCENT = re.compile(r"\d*\.?\d+\s*%")
# An amount that is a bound or a range, not a billing unit ("up to 40 units", "3.1 to 6mg").
_BOUND = re.compile(r"\bup to\b|\bto\b|\bmax\b|\bor less\b|\bover\b|[<>]")
_COMBINATION = re.compile(r"\d\s*/\s*\d")
_BARE_NUMBER = re.compile(r"(?<![\w.^/-])\d+(?:\.\d+)?(?![\w.%^/])")
_INJ_WORD = re.compile(r"^(?:inj|injection|injectio|injeciton|injec|instill|inst)$")


@dataclass(frozen=True, slots=True)
class Parsed:
    name: str
    unit_amount: str  # "" when the descriptor gives no single billing amount
    unit: str


def _plain(amount: Decimal) -> str:
    return format(amount.normalize(), "f")


def parse_descriptor(descriptor: str) -> Parsed:
    """The drug name and billing unit a CMS short descriptor states."""
    text = descriptor.lower()
    # Blank out concentrations and percentages, keeping every other character where it was.
    scan = _PERCENT.sub(_blank, _CONCENTRATION.sub(_blank, text))
    amounts = list(_AMOUNT.finditer(scan))
    ambiguous = bool(_BOUND.search(scan) or _COMBINATION.search(scan))
    bare = _BARE_NUMBER.findall(_AMOUNT.sub(_blank, scan))
    found: re.Match[str] | None = None
    unit_amount, unit = "", ""
    if not ambiguous and len(amounts) == 1 and len(bare) < 2:
        found = amounts[0]
        unit_amount = _plain(Decimal(found.group(1).replace(",", "")))
        unit = _UNIT_WORDS[_unit_word(found.group(2))]
    elif not ambiguous and not amounts:
        per = _PER_UNIT.search(scan)
        if per and (per.group(0).lstrip().startswith("per") or not scan[per.end() :].strip()):
            found = per
            unit_amount, unit = "1", _UNIT_WORDS[_unit_word(per.group(1))]
    if found is not None:
        text = re.sub(r"\bper\s*$", "", text[: found.start()]) + " " + text[found.end() :]
    return Parsed(_name(text), unit_amount, unit)


def _blank(m: re.Match[str]) -> str:
    return " " * len(m.group(0))


def _unit_word(word: str) -> str:
    return re.sub(r"\s+", " ", word)


def _name(text: str) -> str:
    words = [w for w in re.split(r"[\s,]+", text) if w]
    while words and (_INJ_WORD.match(words[0].rstrip(".,")) or words[0] == "in"):
        words = words[1:]
    words = [w for w in words if not _INJ_WORD.match(w.rstrip(".,"))]
    return " ".join(words).strip(" ,./-")


# -- drug stems ----------------------------------------------------------------------------------


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words that name no drug: the first other word of a descriptor is its stem.
_NOISE = _set(
    """in inj inj. injection injectio injeciton injec inst instill instillation for per nos
    iv im sc sq sub cu subcu oral orl hcl hydrochloride hydrochl hydroch sodium na sod
    of the and w with excl ex not bio biosimil biosimi biosimilar non-esrd esrd use dx rx
    diag ther tx inh comp non-comp unit dose con imported"""
)
# Salts, forms and routes: ignored when two products of one drug are compared.
_FORMS = _set(
    """acetate sulfate sulf phosphate phos succinate succ mesylate citrate tartrate maleate
    lactate gluconate chloride bromide decanoate palmitate pamoate hyclate furoate liposome
    lipid depot suspension suspnsion solution infus infusion imp impl implant implnt intrathec
    intrathecal intrav intravenous hospi car pos car-pos car+ ca autol"""
)
# A first word that names a class, not a drug: the stem takes the next word too.
_GENERIC = _set(
    """ferric iron calcium potassium magnesium factor interferon peg immune gamma human vitamin
    hyaluronan insulin albumin epoetin technetium indium iodine gallium fluorine copper
    lutetium xenon thallium rubidium radium nitrogen testosterone estradiol medroxyprogesterone
    dexamethasone methylprednisolone triamcinolone hydrocortisone"""
)
_RADIONUCLIDE = re.compile(r"^(?:tc|in|i|f|ga|lu|cu|y|sm|sr|ra|xe|rb|tl|co|cr|n|c|p)-?\d+m?$")
# FDA biological products carry a four-letter suffix ("cemiplimab-rwlc"), some descriptors
# cut it short ("ravulizumab-cwv").
_SUFFIX = re.compile(r"^([a-z]+(?:-[a-z]+)*?)-([a-z]{3,4})$")


def _words(text: str) -> list[str]:
    text = _AMOUNT.sub(" ", _PERCENT.sub(" ", text.lower()))
    return [w.strip(".'-") for w in re.split(r"[\s,/()]+", text) if w.strip(".'-")]


def _split(text: str) -> list[tuple[str, str]]:
    """(word, FDA suffix or "") for each word of a descriptor that may name something."""
    out = []
    for w in _words(text):
        if w in _NOISE or re.fullmatch(r"[\d.]+", w):
            continue
        suffixed = _SUFFIX.match(w)
        out.append((suffixed.group(1), suffixed.group(2)) if suffixed else (w, ""))
    return out


def _significant(text: str) -> list[str]:
    return [BRANDS.get(w, w) for w, _ in _split(text)]


def stem(text: str) -> str:
    """The drug a descriptor (or a drug name) names: its first significant word, or two when
    the first names a class ("ferric carboxymaltos", "copper dotatate")."""
    words = _significant(text)
    if not words:
        return ""
    if words[0] in _GENERIC or _RADIONUCLIDE.match(words[0]):
        rest = [w for w in words[1:] if len(w) > 2 and not _RADIONUCLIDE.match(w)]
        if rest:
            return f"{words[0]} {rest[0]}"
    return words[0]


def same_drug(a: str, b: str) -> bool:
    """Two stems name one drug; the short descriptors abbreviate ("cyclophosphamd")."""
    if not a or not b:
        return False
    wa, wb = a.split(), b.split()
    if len(wa) != len(wb):
        return False
    return all(_same_word(x, y) for x, y in zip(wa, wb, strict=True))


def _same_word(x: str, y: str) -> bool:
    if x == y:
        return True
    short, long_ = sorted((x, y), key=len)
    if len(short) >= 6 and long_.startswith(short):
        return True
    common = len(_common_prefix(x, y))
    return common >= 8 and common >= len(short) - 2


def _common_prefix(x: str, y: str) -> str:
    n = 0
    while n < min(len(x), len(y)) and x[n] == y[n]:
        n += 1
    return x[:n]


@dataclass(frozen=True, slots=True)
class _Qualifiers:
    """What a descriptor says beyond its drug: a maker or brand ("dr. reddy's", "hospira"),
    and the FDA suffix of a biological product."""

    words: frozenset[str]
    suffixes: frozenset[str]


def _qualifiers(text: str) -> _Qualifiers:
    drug = stem(text).split()
    words, suffixes = set(), set()
    for w, suffix in _split(text):
        if suffix:
            suffixes.add(suffix)
        if w in _FORMS or w.endswith("leucel") or len(w) < 2:
            continue
        if any(_same_word(w, d) for d in drug):
            continue
        words.add(w)
    return _Qualifiers(frozenset(words), frozenset(suffixes))


# -- classification ------------------------------------------------------------------------------

CHEMO, THER, HYD = "CHEMO", "THER", "HYD"
H, M, NC = "H", "M", "NC"
_RANK = {H: 0, M: 1, "L": 2, NC: 3}


@dataclass(frozen=True, slots=True)
class Cls:
    family: str
    hormonal: bool
    confidence: str
    basis: str


# Brand names in short descriptors -> the nonproprietary name (FDA Purple Book, FDA labels).
# Biosimilars (the Q5 descriptors name most by brand only) and a few brand-only descriptors.
BRANDS = {
    # filgrastim
    "zarxio": "filgrastim",
    "nivestym": "filgrastim",
    "releuko": "filgrastim",
    "nypozi": "filgrastim",
    "nyposi": "filgrastim",  # sic, Q5148
    # pegfilgrastim
    "fulphila": "pegfilgrastim",
    "udenyca": "pegfilgrastim",
    "nyvepria": "pegfilgrastim",
    "stimufend": "pegfilgrastim",
    "fylnetra": "pegfilgrastim",
    "ziextenzo": "pegfilgrastim",
    # epoetin alfa
    "retacrit": "epoetin",
    # infliximab
    "inflectra": "infliximab",
    "renflexis": "infliximab",
    "ixifi": "infliximab",
    "avsola": "infliximab",
    "zymfentra": "infliximab",
    # bevacizumab
    "mvasi": "bevacizumab",
    "zirabev": "bevacizumab",
    "alymsys": "bevacizumab",
    "vegzelma": "bevacizumab",
    "jobevne": "bevacizumab",
    # trastuzumab
    "ontruzant": "trastuzumab",
    "herzuma": "trastuzumab",
    "ogivri": "trastuzumab",
    "trazimera": "trastuzumab",
    "kanjinti": "trastuzumab",
    "hercessi": "trastuzumab",
    # rituximab
    "truxima": "rituximab",
    "ruxience": "rituximab",
    "riabni": "rituximab",
    # ranibizumab
    "byooviz": "ranibizumab",
    "cimerli": "ranibizumab",
    "susvimo": "ranibizumab",
    # adalimumab
    "idacio": "adalimumab",
    "abrilada": "adalimumab",
    # tocilizumab
    "tofidence": "tocilizumab",
    "tyenne": "tocilizumab",
    # natalizumab
    "tyruko": "natalizumab",
    # ustekinumab
    "wezlana": "ustekinumab",
    # omalizumab
    "omlyclo": "omalizumab",
    # denosumab ("Inj, den (auk/bos), bio, 1mg")
    "den": "denosumab",
    # brand-only descriptors of antineoplastics
    "lumoxiti": "moxetumomab",
    "elahere": "mirvetuximab",
    "velcade": "bortezomib",
    "infugem": "gemcitabine",
    "lipodox": "doxorubicin",
    "camcevi": "leuprolide",
    "lutrate": "leuprolide",
    "vantas": "histrelin",
    "supprelin": "histrelin",
    "fensolvi": "leuprolide",
    "adrenalin": "epinephrine",
    "kcentra": "prothrombin",
    # abbreviations and misspellings of the short descriptors
    "lon": "loncastuximab",  # J9359 "Inj lon tesirin-lpyl"
    "aval": "avalglucosidase",  # J0219
    "obecbtge": "obecabtagene",  # Q2058
    "casirivi": "casirivimab",  # Q0240, Q0244
    "tixagev": "tixagevimab",  # Q0220, Q0221
    "marstacim": "marstacimab",  # J7172
    "atezolizumb": "atezolizumab",  # J9024
    "pantroprazole": "pantoprazole",  # S0164
    "bupivicaine": "bupivacaine",  # S0020
    "aripirazole": "aripiprazole",  # J1944
    "clevidepine": "clevidipine",  # J0759
    "ophth": "opth",
    "ophthalmi": "opth",
}


def _keyword(text: str, words: Iterable[str]) -> str:
    """The first of ``words`` that starts a word of ``text`` ("" if none)."""
    for w in words:
        if re.search(rf"(?<![a-z]){re.escape(w)}", text):
            return w
    return ""


# Cell and gene therapies: administered with their own codes (CAR-T: 0537T-0540T until 2022,
# 38225-38228 from 2023; gene therapies by the route of their label), never a guess here.
CELL_GENE = (
    "car pos t",
    "car-pos t",
    "car+",
    "cabtagene",
    "leucel",
    "sipuleucel",
    "autotem",
    "abepar",
    "beqvez",
    "hemgenix",
    "roctavian",
    "delandistrogene",
    "luxturna",
    "vyjuvek",
    "remestemcel",
    "revakinagene",
    "zopapogene",
    "elivaldogene",
    "atidarsagene",
    "exagamglogene",
    "betibeglogene",
    "lovotibeglogene",
    "obecbtge",
    "afamitresgene",
    "prad zami",
)
VACCINES = ("vacc",)
# Immune globulin for immunodeficiency (IVIG/SCIG): administration class disputed.
IMMUNE_GLOBULIN = (
    "ivig",
    "imm glob",
    "immune globulin powder",
    "immuneglobulin",
    "privigen",
    "gammaplex",
    "hizentra",
    "octagam",
    "gammagard",
    "flebogamma",
    "gamunex",
    "hyqvia",
    "cuvitru",
    "xembify",
    "cutaquig",
    "panzyga",
    "asceniv",
    "bivigam",
    "alyglo",
    "yimmugo",
    "vivaglobin",
)
# Drugs whose class the sources dispute (spec 4.1 rule 3, 4.2 rows 47/48/60/61, 8 Q15-Q16).
DISPUTED_THER = (
    "denosumab",  # spec 4.2 row 61; Prolia named non-complex by MACs (4.1 rule 3)
    "romosozumab",  # bone-forming mAb given like denosumab
    "zoledronic",  # spec 4.2 row 60
    "pamidronate",  # bisphosphonates as zoledronic acid (8 Q16)
    "ibandronate",
    "etidronate",
    "natalizumab",  # Tysabri named non-complex by MACs (4.1 rule 3)
    "certolizumab",  # Cimzia named non-complex by MACs (4.1 rule 3)
    "mesna",  # spec 4.2 row 47 (J9 range, protectant)
    "dexrazoxane",  # spec 4.2 row 48
    "amifostine",  # chemoprotectant like dexrazoxane
    "trilaciclib",  # myeloprotection before chemotherapy
    "efbemalenograstim",  # a G-CSF (supportive) coded in the J9 range
    "elliotts",  # diluent for intrathecal chemotherapy, J9 range
    "fensolvi",  # leuprolide for central precocious puberty (not antineoplastic)
    "supprelin",  # histrelin for central precocious puberty
    "triptorelin xr",  # Triptodur, central precocious puberty
    "histrelin acetate",
)
# Somatostatin analogues: neuroendocrine tumours and acromegaly; CPT "hormonal anti-neoplastic"
# (96402) or 96372 depending on use (not in the spec): disputed.
DISPUTED_HORMONAL = ("octreotide", "lanreotide")
# Diagnostic agents outside the radiopharmaceutical flag (a dye coded in the J9 range).
DIAGNOSTIC = ("indigotindisulfonate",)
# Hormonal antineoplastics (spec 4.2 rows 39-43; CPT 96402).
HORMONAL = (
    "leuprolide",
    "goserelin",
    "triptorelin",
    "degarelix",
    "fulvestrant",
    "histrelin",
    "diethylstilbestrol",
    "tamoxifen",
    "anastrozole",
    "exemestane",
    "letrozole",
    "flutamide",
    "bicalutamide",
    "megestrol",
)
# Antineoplastics coded outside J9000-J9999 (FDA-labelled indication: a malignancy).
ANTINEOPLASTIC = (
    "decitabine",
    "busulfan",
    "treosulfan",
    "imetelstat",
    "teniposide",
    "talquetamab",
    "elranatamab",
    "zolbetuximab",
    "toripalimab",
    "moxetumomab",
    "mirvetuximab",
    "loncastuximab",
    "capecitabine",
    "gefitinib",
    "imatinib",
    "chlorambucil",
    "hydroxyurea",
    "lomustine",
    "mercaptopurine",
    "procarbazine",
)
# Electrolytes: an infusion of its own (to correct a deficit) is therapeutic; added to a
# hydration fluid they are hydration (CPT's hydration description names such fluids), which
# the engine decides from the bag, so the catalogue flags them (column ``electrolyte``).
ELECTROLYTES = (
    "potassium chloride",
    "magnesium sulfate",
    "calcium glucon",
    "calcium chloride",
    "calcium glycer",
    "hypertonic saline",
    "sodium bicarbonate",
    "potassium phosphate",
)
# Pre-packaged fluids outside the spec's table (spec 2.3 B4: D5 1/2NS +/- KCl is hydration).
HYDRATION_CODES = frozenset({"S5010", "S5012", "S5013", "S5014"})
# Monoclonal antibodies: INN stems -mab (to 2021) and -tug/-bart/-mig (2021 scheme), with or
# without the FDA suffix (sometimes cut short: "ravulizumab-cwv"); and mAbs whose short
# descriptor abbreviates the name.
_MAB = re.compile(r"(?:mab|tug|bart|mig)(?:-[a-z]{2,4})?$")
MAB_ABBREVIATIONS = ("monoclon",)
# Biologics given as supportive care (like the spec's growth factors, 4.1 rule 6), named here
# because another rule would catch them (luspatercept is a fusion protein).
SUPPORTIVE_BIOLOGIC = ("luspatercept",)
COMPLEX_BIOLOGIC = ("interferon", "efgart")
# Coded in the J9 range but not antineoplastic (FDA-labelled indications: myasthenia gravis,
# CHAPLE disease, delay of type 1 diabetes): classed as the mAbs/biologics they are.
J9_NOT_ANTINEOPLASTIC_MAB = (
    "rozanolixizum",  # myasthenia gravis
    "ronzanolixizum",  # sic, J9333 until 2025-09-30
    "nipocalimab",  # myasthenia gravis
    "pozelimab",  # CHAPLE disease
    "teplizumab",  # delay of stage 3 type 1 diabetes
    "axatilimab",  # chronic graft-versus-host disease
    "emapalumab",  # primary haemophagocytic lymphohistiocytosis
)
J9_NOT_ANTINEOPLASTIC_BIOLOGIC = (
    "efgart",  # efgartigimod: myasthenia gravis
    "interferon alfacon",  # hepatitis C
    "interferon alfa-n3",  # condylomata acuminata
    "interferon gamma",  # chronic granulomatous disease, osteopetrosis
)
_FUSION = re.compile(r"^[a-z-]{4,}cept(?:-[a-z]{4})?$")


def _code_text(descriptors: Iterable[str]) -> str:
    """All descriptors of a code, normalised, with brand names followed by their drug."""
    parts = []
    for d in descriptors:
        words = [w for w in re.split(r"[\s,/()]+", d.lower().replace("'", "")) if w]
        drugs = [BRANDS[w] for w, _ in _split(d) if w in BRANDS]
        parts.append(" ".join(words + drugs))
    return " | ".join(parts)


def _capped(confidence: str) -> str:
    """A class carried over from another code is at most M."""
    return confidence if _RANK[confidence] >= _RANK[M] else M


@dataclass(frozen=True)
class _Code:
    hcpcs: str
    rows: tuple[dict[str, str], ...]

    @property
    def descriptors(self) -> list[str]:
        return [r["short_description"] for r in self.rows]

    def flag(self, name: str) -> bool:
        return any(r[name] == "1" for r in self.rows)

    @property
    def stems(self) -> set[str]:
        return {s for s in (stem(d) for d in self.descriptors) if s}


def _spec_cls(row: dict[str, str]) -> Cls:
    return Cls(row["family"], row["hormonal"] == "true", row["confidence"], "spec")


def classify(code: _Code, index: _Index) -> Cls:
    """The administration class of a code that is not in the specification's table."""
    c, text = code.hcpcs, _code_text(code.descriptors)
    words = set(re.split(r"[\s|]+", text))
    if code.flag("unclassified_drug"):
        family = CHEMO if c in {"J9999", "J8999"} else THER
        return Cls(family, False, NC, "unclassified")
    if code.flag("radio_pharm"):
        return Cls(THER, False, NC, "radiopharmaceutical")
    if _diagnostic_agent(c) or _keyword(text, DIAGNOSTIC):
        return Cls(THER, False, NC, "diagnostic-agent")
    if code.flag("biosimilar"):
        return _biosimilar(code, index)
    if c in HYDRATION_CODES:
        return Cls(HYD, False, M, "hydration")
    if any(k in text for k in CELL_GENE):
        return Cls(THER, False, NC, "cell-gene-therapy")
    if _keyword(text, VACCINES):
        return Cls(THER, False, NC, "vaccine")
    if _keyword(text, IMMUNE_GLOBULIN) or _keyword(text, DISPUTED_THER):
        return Cls(THER, False, NC, "disputed")
    if _keyword(text, DISPUTED_HORMONAL):
        return Cls(CHEMO, True, NC, "disputed")
    if _keyword(text, ELECTROLYTES):
        return Cls(THER, False, M, "electrolyte")
    spec_match = index.spec_match(code)
    if spec_match is not None:
        return spec_match
    if _keyword(text, HORMONAL):
        return Cls(CHEMO, True, M, "hormonal-antineoplastic")
    if c.startswith("J9"):
        if _keyword(text, J9_NOT_ANTINEOPLASTIC_MAB):
            return Cls(CHEMO, False, NC, "mab")
        if _keyword(text, J9_NOT_ANTINEOPLASTIC_BIOLOGIC):
            return Cls(CHEMO, False, NC, "complex-biologic")
        return Cls(CHEMO, False, M, "J9-range")
    if not c.startswith("J7"):
        j9 = index.j9_match(code)
        if j9:
            return Cls(CHEMO, False, M, f"same-drug-as:{j9}")
    if _keyword(text, ANTINEOPLASTIC):
        return Cls(CHEMO, False, M, "antineoplastic")
    if _keyword(text, SUPPORTIVE_BIOLOGIC):
        return Cls(THER, False, M, "supportive")
    if any(_MAB.search(w) for w in words) or _keyword(text, MAB_ABBREVIATIONS):
        return Cls(CHEMO, False, NC, "mab")
    if _keyword(text, COMPLEX_BIOLOGIC) or any(_FUSION.search(w) for w in words):
        return Cls(CHEMO, False, NC, "complex-biologic")
    return Cls(THER, False, M, "supportive")


def _diagnostic_agent(c: str) -> bool:
    """Contrast, ultrasound and imaging agents: A9500-A9899 and Q9950-Q9968 without a
    radionuclide (those are radiopharmaceuticals)."""
    return ("A9500" <= c <= "A9899") or ("Q9950" <= c <= "Q9968")


def _biosimilar(code: _Code, index: _Index) -> Cls:
    for s in sorted(code.stems):
        for word in s.split():
            reference = index.reference(word)
            if reference is not None:
                ref_cls, name = reference
                return Cls(
                    ref_cls.family,
                    ref_cls.hormonal,
                    _capped(ref_cls.confidence),
                    f"biosimilar-of:{name}",
                )
    return Cls(THER, False, NC, "biosimilar-unmatched")


class _Index:
    """Drug stems of the specification's table and of the J9 codes, for carrying a class
    from one code to another code of the same drug."""

    def __init__(self, codes: dict[str, _Code], spec: dict[str, dict[str, str]]) -> None:
        self.spec: list[tuple[str, str, dict[str, str]]] = []  # (stem, code, spec row)
        for c, row in sorted(spec.items()):
            if row["family"] == HYD:
                continue  # hydration is decided by code, never by a name
            names = [row["name"], *filter(None, row["aliases"].split(";"))]
            stems = {stem(n) for n in names} | (codes[c].stems if c in codes else set())
            self.spec += [(s, c, row) for s in sorted(stems) if s]
        self.j9: list[tuple[str, str]] = []  # (stem, code)
        self.codes = codes
        self.classes: dict[str, Cls] = {}

    def add_j9(self, code: _Code, cls: Cls) -> None:
        if cls.basis in {"J9-range", "hormonal-antineoplastic", "spec"} and cls.family == CHEMO:
            self.j9 += [(s, code.hcpcs) for s in sorted(code.stems)]

    def spec_match(self, code: _Code) -> Cls | None:
        found = {
            (c, _spec_cls(row))
            for s in code.stems
            for spec_stem, c, row in self.spec
            if same_drug(s, spec_stem)
        }
        classes = {(k.family, k.hormonal) for _, k in found}
        if len(classes) != 1:
            return None
        c, k = min(found, key=lambda f: (_RANK[f[1].confidence], self.deleted(f[0]), f[0]))
        worst = max((k2.confidence for _, k2 in found), key=lambda x: _RANK[x])
        return Cls(k.family, k.hormonal, _capped(worst), f"same-drug-as:{c}")

    def deleted(self, c: str) -> bool:
        return c in self.codes and self.codes[c].rows[-1]["effective_through"] < OPEN_END

    def j9_match(self, code: _Code) -> str:
        hits = {c for s in code.stems for j9s, c in self.j9 if same_drug(s, j9s)}
        return min(hits, key=lambda c: (self.deleted(c), c)) if hits else ""

    def reference(self, word: str) -> tuple[Cls, str] | None:
        """The class of a biosimilar's reference product, named by ``word``."""
        for s, _, row in self.spec:
            if s.split()[0] == word:
                return _spec_cls(row), word
        hits = {
            self.classes[c]
            for c, code in self.codes.items()
            if c in self.classes and not code.flag("biosimilar")
            for s in code.stems
            if s.split()[0] == word
        }
        kinds = {(k.family, k.hormonal) for k in hits}
        if len(kinds) == 1:
            worst = max(hits, key=lambda k: _RANK[k.confidence])
            return worst, word
        return None


# -- successors ----------------------------------------------------------------------------------


def _day(text: str) -> date:
    return date.fromisoformat(text)


def _three_months_after(day: date) -> date:
    month = day.month + 2  # zero-based month three months on
    return date(day.year + month // 12, month % 12 + 1, min(day.day, 28))


def successors(codes: dict[str, _Code]) -> dict[str, str]:
    """Deleted code -> the code that replaced it, where the data shows one: a code of the same
    drug that CMS created, or revised to name that drug, on the day after the deletion or within
    the quarter that starts then (a biosimilar replaces only a biosimilar). Of several, the one
    of the same maker or brand is taken, else the one that names none (the "NOS" code), else
    none."""
    openings: list[tuple[date, str, str]] = []  # (start, code, descriptor) of new or revised rows
    for c, code in codes.items():
        previous = ""
        for r in code.rows:
            if r["short_description"] != previous:
                openings.append((_day(r["effective_from"]), c, r["short_description"]))
            previous = r["short_description"]
    out = {}
    for c, code in sorted(codes.items()):
        end = code.rows[-1]["effective_through"]
        if end >= OPEN_END:
            continue
        first = _day(end) + timedelta(days=1)
        until = _three_months_after(first)
        biosimilar = code.flag("biosimilar")
        candidates = {
            other: d
            for start, other, d in openings
            if other != c
            and first <= start < until
            and codes[other].flag("biosimilar") <= biosimilar
            and any(same_drug(stem(d), s) for s in code.stems)
        }
        gone = _qualifiers(code.descriptors[-1])
        fits = {o: _fit(gone, _qualifiers(d)) for o, d in candidates.items()}
        fitting = [o for o, (ok, _, _) in fits.items() if ok]
        named = [o for o, (ok, same, _) in fits.items() if ok and same]
        generic = [o for o, (ok, _, plain) in fits.items() if ok and plain]
        for choice in (named, generic, fitting):
            if len(choice) == 1:
                out[c] = choice[0]
                break
    return out


def _fit(gone: _Qualifiers, new: _Qualifiers) -> tuple[bool, bool, bool]:
    """Whether a new code can replace a deleted one (it names no other maker, brand or FDA
    suffix), whether it names the same maker or brand, and whether it names none."""
    suffixes = gone.suffixes | new.suffixes
    gone_words, new_words = gone.words - suffixes, new.words - suffixes
    gone_sfx = gone.suffixes | (gone.words & suffixes)
    new_sfx = new.suffixes | (new.words & suffixes)
    if gone_sfx and new_sfx and not _words_fit(gone_sfx, new_sfx):
        return False, False, False
    if new_words and not (gone_words and _words_fit(gone_words, new_words)):
        return False, False, False
    same = bool(gone_words and new_words) or bool(gone_sfx and new_sfx)
    return True, same, not new_words


def _words_fit(a: frozenset[str], b: frozenset[str]) -> bool:
    short, long_ = sorted((a, b), key=len)
    return all(
        any(_same_word(x, y) or y.startswith(x) or x.startswith(y) for y in long_) for x in short
    )


# -- the catalogue -------------------------------------------------------------------------------


def _codes(level2_rows: Sequence[dict[str, str]]) -> dict[str, _Code]:
    grouped: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in level2_rows:
        grouped[r["hcpcs"]].append(r)
    return {
        c: _Code(c, tuple(sorted(rs, key=lambda r: r["effective_from"])))
        for c, rs in sorted(grouped.items())
    }


def classes(codes: dict[str, _Code], spec: dict[str, dict[str, str]]) -> dict[str, Cls]:
    """Every code's class: the spec's codes first, then the J9 codes (their stems carry the
    class to other codes of the same drug), then the rest; biosimilars last (they take their
    reference product's class)."""
    index = _Index(codes, spec)
    out: dict[str, Cls] = {}
    order = sorted(
        codes,
        key=lambda c: (
            c not in spec,
            not c.startswith("J9"),
            codes[c].flag("biosimilar"),
            c,
        ),
    )
    for c in order:
        cls = _spec_cls(spec[c]) if c in spec else classify(codes[c], index)
        out[c] = cls
        index.classes[c] = cls
        if c.startswith("J9"):
            index.add_j9(codes[c], cls)
    return out


def derive(level2_rows: Sequence[dict[str, str]], spec_rows: Sequence[dict[str, str]]) -> Rows:
    """The catalogue rows (``HEADER``) for the Level II drug rows and the spec's table."""
    spec = {r["hcpcs"]: r for r in spec_rows if r["hcpcs"]}
    codes = _codes(level2_rows)
    cls = classes(codes, spec)
    follow = successors(codes)
    out: Rows = []
    for c, code in codes.items():
        k = cls[c]
        electrolyte = _electrolyte(code, k, spec.get(c))
        rows: Rows = []
        for r in code.rows:
            parsed = parse_descriptor(r["short_description"])
            name, amount, unit = parsed.name, parsed.unit_amount, parsed.unit
            if c in spec:
                name, amount, unit = spec[c]["name"], spec[c]["unit_amount"], spec[c]["unit"]
            row = {
                "hcpcs": c,
                "effective_from": r["effective_from"],
                "effective_through": r["effective_through"],
                "name": name,
                "unit_amount": amount,
                "unit": unit,
                "family": k.family,
                "hormonal": "true" if k.hormonal else "false",
                "electrolyte": "true" if electrolyte else "false",
                "confidence": k.confidence,
                "basis": k.basis,
                "successor": "",
            }
            if rows and _continues(rows[-1], row):
                rows[-1]["effective_through"] = row["effective_through"]
            else:
                rows.append(row)
        rows[-1]["successor"] = follow.get(c, "")
        out += rows
    return out


def _electrolyte(code: _Code, k: Cls, spec_row: dict[str, str] | None) -> bool:
    """A therapeutic electrolyte (spec's table or the ``electrolyte`` rule): hydration when it
    is added to a hydration fluid, therapeutic on its own."""
    if k.family != THER or k.basis not in {"electrolyte", "spec"}:
        return False
    names = [spec_row["name"], spec_row["aliases"]] if spec_row else code.descriptors
    return bool(_keyword(_code_text(names), ELECTROLYTES))


def _continues(before: dict[str, str], after: dict[str, str]) -> bool:
    """Adjacent ranges with the same values are one row."""
    adjacent = _day(before["effective_through"]) + timedelta(days=1) == _day(
        after["effective_from"]
    )
    same = all(
        before[k] == after[k] for k in HEADER if k not in {"effective_from", "effective_through"}
    )
    return adjacent and same


# CPT (Category I) drug product codes, which the Level II file does not hold: immune globulins
# and vaccines, by the CPT sections that list them (the administration codes 90460-90474 are
# outside both). Their CPT descriptors are AMA text the shared data leaves out, so they are
# named by their section and classed by it.
CPT_PRODUCTS = (
    ("90281", "90399", "CPT immune globulin product", "immune-globulin"),
    ("90476", "90759", "CPT vaccine or toxoid product", "vaccine"),
)
ATTRIBUTES = "hcpcs_attributes.csv"


def _cpt_product(code: str) -> tuple[str, str] | None:
    """(name, basis) of a CPT drug product code; None for any other code."""
    for low, high, name, basis in CPT_PRODUCTS:
        if len(code) == 5 and code.isdigit() and low <= code <= high:
            return name, basis
    return None


def cpt_product_rows(attribute_rows: Sequence[dict[str, str]]) -> Rows:
    """The CPT drug product codes of the I/OCE HCPCS attribute table, as catalogue rows: every
    date range the I/OCE carries them (ranges with one status merged), THER and NC (immune
    globulin for immunodeficiency is a disputed class, spec 4.1 rule 3; vaccines are given
    with their own administration codes, not 96372)."""
    out: Rows = []
    for r in sorted(attribute_rows, key=lambda x: (x["hcpcs"], x["effective_from"])):
        product = _cpt_product(r["hcpcs"])
        if product is None:
            continue
        row = {
            "hcpcs": r["hcpcs"],
            "effective_from": r["effective_from"],
            "effective_through": r["effective_through"],
            "name": product[0],
            "unit_amount": "",
            "unit": "",
            "family": THER,
            "hormonal": "false",
            "electrolyte": "false",
            "confidence": NC,
            "basis": product[1],
            "successor": "",
        }
        if out and out[-1]["hcpcs"] == row["hcpcs"] and _continues(out[-1], row):
            out[-1]["effective_through"] = row["effective_through"]
        else:
            out.append(row)
    return out


def catalogue_table(
    level2_rows: Sequence[dict[str, str]], attribute_rows: Sequence[dict[str, str]] = ()
) -> Table:
    """``derive`` with the spec's table of this repository, and the CPT drug products of the
    attribute table, as a ``tools.refdata`` table (ordered by code and date)."""
    spec = read_rows(SPEC)
    rows = derive(level2_rows, spec) + cpt_product_rows(attribute_rows)
    rows.sort(key=lambda r: (r["hcpcs"], r["effective_from"]))
    return HEADER, [[r[k] for k in HEADER] for r in rows]


# -- command line --------------------------------------------------------------------------------


def read_rows(path: Path) -> Rows:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def render(table: Table) -> str:
    header, rows = table
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def main(argv: list[str]) -> int:
    checking = "--check" in argv
    args = [a for a in argv if a != "--check"]
    shared = Path(args[0]) if args else Path("../shared/data")
    if not (shared / SOURCE).exists():
        print(f"{shared}: no {SOURCE}", file=sys.stderr)
        return 2
    attributes = read_rows(shared / ATTRIBUTES) if (shared / ATTRIBUTES).exists() else []
    text = render(catalogue_table(read_rows(shared / SOURCE), attributes))
    if checking:
        same = OUT.exists() and OUT.read_text(encoding="utf-8") == text
        print(f"{OUT.name}: {'same' if same else 'DIFFERS from a rebuild'}")
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"{OUT.name}: {len(text.splitlines()) - 1} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
