"""Every rule the engine applies: id, what it checks, why, confidence and citations.

Findings are made only through ``Rule.finding`` so that each one carries its
rule's citation and confidence. A rule marked NC (needs confirmation) always
produces an error-severity finding, which sends the claim to review: NC rules
never decide silently (spec §0.1).

Source ids (S1…) are those of the coding specification §0.3.
"""

from __future__ import annotations

from rules.claim_rules import CLAIM_RULES
from rules.rule import ERR, NC, WARN, H, M, Rule

ADM_RULES: tuple[Rule, ...] = (
    Rule(
        "ADM-A1",
        "Vehicle, KVO and flush fluid is not coded",
        "Drops MAR entries whose purpose is vehicle, keep-vein-open or flush.",
        "Fluid that carries a drug, keeps a line open or flushes it is part of the drug "
        "administration, not a service of its own.",
        H,
        "2.2 A1",
        ("S1", "S3", "S61"),
    ),
    Rule(
        "ADM-A3",
        "Hydration needs an order and an indication",
        "Drops hydration without a documented order and medical necessity.",
        "Hydration is billable only when ordered for documented signs or symptoms.",
        H,
        "2.2 A3",
        ("S3", "S10"),
    ),
    Rule(
        "ADM-A4",
        "Hydration without a stop time is not billable",
        "Drops hydration whose stop time is missing.",
        "Hydration codes are time based; without a stop time the duration is unknown.",
        H,
        "2.2 A4",
        ("S10",),
    ),
    Rule(
        "ADM-A5",
        "A drug infusion without a stop time goes to review",
        "Flags an IV drug infusion with no stop time; it is not coded.",
        "MACs differ: some accept a push code, others need evidence of more than 15 "
        "minutes; duration may be calculated from volume and rate in the notes.",
        M,
        "2.2 A5",
        ("S22", "S32", "S33"),
        ERR,
    ),
    Rule(
        "ADM-A7",
        "No administration codes on a physician claim in a facility",
        "Drops 96360-96379, 96401-96402, 96409-96425 and 96521-96523 from a professional "
        "claim whose place of service is a facility.",
        "The facility bills the administration; the physician may not.",
        H,
        "2.2 A7, 1.3a",
        ("S5", "S31"),
    ),
    Rule(
        "ADM-B1",
        "Same-bag components are one administration",
        "Merges MAR entries that share a bag id into one administration.",
        "Drugs mixed in one bag are one infusion (one technique code); each drug's supply "
        "is still billed.",
        M,
        "2.3 B1",
        ("S24",),
    ),
    Rule(
        "ADM-B2",
        "Minutes are stop minus start minus holds",
        "Counts the minutes actually infused, without documented holds.",
        "Time-based codes are reported on the time the infusion ran.",
        M,
        "2.3 B2",
        ("S29", "S33"),
    ),
    Rule(
        "ADM-B3",
        "An IV administration of 15 minutes or less is a push",
        "Codes an IV drug given in 15 minutes or less (or documented as a push) as a push.",
        "CPT: an infusion of 15 minutes or less is reported as a push.",
        H,
        "2.3 B3",
        ("S1", "S64"),
    ),
    Rule(
        "ADM-C2",
        "One initial service per site and encounter",
        "Gives a second vascular access site its own initial service, with modifier XS, "
        "only when a separate-site reason is documented; otherwise all sites share one.",
        "CMS counts initial services per site per encounter; two initials need two "
        "medically necessary sites.",
        H,
        "2.4 C2",
        ("S2", "S8", "S19"),
    ),
    Rule(
        "ADM-C3",
        "A separate encounter on the same day has its own initial service",
        "Appends XE to the initial service of a later encounter on the same date.",
        "A patient discharged and returning for a new problem starts a new encounter.",
        M,
        "2.4 C3",
        ("S18", "S19"),
    ),
    Rule(
        "ADM-C4",
        "An infusion crossing midnight goes to review",
        "Flags infusions whose stop falls on a later calendar day than their start.",
        "Line-item dates must be the days the service was given, while one initial per "
        "encounter still applies; sources conflict on splitting (spec 8 Q3).",
        NC,
        "2.4 C4, 8 Q3",
        ("S34",),
    ),
    Rule(
        "ADM-D1",
        "Facility initial service by hierarchy",
        "Chooses the initial IV service by family (chemotherapy, therapeutic, hydration), "
        "then technique (infusion, push), regardless of clock order.",
        "Hospitals must follow the CMS hierarchy.",
        H,
        "2.5",
        ("S1", "S62", "S18"),
    ),
    Rule(
        "ADM-D2",
        "Professional initial service by the primary reason",
        "Chooses the initial IV service documented as the primary reason for the visit; "
        "without one, uses the hierarchy and says so.",
        "CPT: the initial code describes the key or primary reason for the visit.",
        M,
        "2.5",
        ("S2", "S18", "S29"),
    ),
    Rule(
        "ADM-D3",
        "An add-on needs an allowed primary on the same date",
        "Withholds an add-on code whose allowed primaries (CMS add-on map) are absent.",
        "An add-on without its primary is denied; the initial service under a documented "
        "primary reason may not support every add-on.",
        H,
        "2.10 V1",
        ("IOCE", "S1"),
        ERR,
    ),
    Rule(
        "ADM-E1",
        "Additional hours need more than 30 minutes past the hour",
        "Reports 96415/96366/96361/96423/96370 units only for time more than 30 minutes "
        "beyond each hour.",
        "CPT time rule for each additional hour.",
        H,
        "2.6",
        ("S13", "S15", "S22"),
    ),
    Rule(
        "ADM-E3",
        "SQ infusion additional hours assume the 30-minute rule",
        "Reports 96370 units with the more-than-30-minutes-past-the-hour rule.",
        "The rule is assumed for 96370, not found in a source (spec 1.1).",
        NC,
        "1.1",
        ("S65",),
    ),
    Rule(
        "ADM-E2",
        "Hydration needs at least 31 minutes",
        "Does not report hydration (initial or secondary) that ran less than 31 minutes.",
        "CPT: hydration of 30 minutes or less is not reported.",
        H,
        "2.6",
        ("S10", "S13"),
    ),
    Rule(
        "ADM-F1",
        "Sequential infusion of a new drug",
        "Codes a later non-overlapping infusion of a new drug as 96417 (chemotherapy) or "
        "96367 (therapeutic), with additional hours.",
        "Only one initial per site; later services are sequential add-ons.",
        M,
        "2.7",
        ("S15", "S22"),
    ),
    Rule(
        "ADM-F2",
        "Sequential push of a new drug",
        "Codes a later push of a new drug as 96411 (chemotherapy) or 96375 (therapeutic).",
        "CPT add-on codes for each additional sequential push.",
        M,
        "2.7",
        ("S17", "S64"),
    ),
    Rule(
        "ADM-F3",
        "Repeat push of the same therapeutic drug",
        "Facility: 96376 when more than 30 minutes after the prior reported push of that "
        "drug; professional: no code.",
        "96376 exists for facilities only; the repeat must be more than 30 minutes apart.",
        M,
        "2.7, 1.3a",
        ("S20", "S22", "S64"),
    ),
    Rule(
        "ADM-F4",
        "Concurrent therapeutic infusion, once per date",
        "Codes a therapeutic infusion overlapping another infusion on the same site as "
        "96368, at most once per date of service.",
        "96368 has no time units and an MUE of 1.",
        M,
        "2.7, 2.10 V3",
        ("S22", "S23", "S24"),
    ),
    Rule(
        "ADM-F5",
        "Concurrent chemotherapy has no code",
        "Flags a chemotherapy infusion overlapping another infusion on the same site.",
        "No CPT concurrent-chemotherapy code exists (spec 8 Q6).",
        NC,
        "2.7, 8 Q6",
        ("S24",),
    ),
    Rule(
        "ADM-F6",
        "Hydration concurrent with a drug infusion is not billable",
        "Subtracts the minutes a drug infusion ran from any hydration running with it.",
        "Concurrent hydration is not reported.",
        H,
        "2.7, 2.10 V11",
        ("S11", "S12"),
    ),
    Rule(
        "ADM-F7",
        "Repeat push of the same chemotherapy drug has no code",
        "Flags a second push of a chemotherapy drug already pushed in the encounter.",
        "96411 describes a new drug; no code exists for the repeat (spec 8 Q7).",
        NC,
        "2.7, 8 Q7",
        ("S17",),
    ),
    Rule(
        "ADM-F8",
        "A second infusion of the same drug goes to review",
        "Flags a second separate infusion of a drug already infused in the encounter "
        "(therapeutic: 96366 shown as the HCPro default).",
        "Sources differ on whether repeat intervals are added (spec 8 Q2).",
        NC,
        "2.7, 8 Q2",
        ("S32",),
    ),
    Rule(
        "ADM-F9",
        "Infusions overlapping by a minute or less are sequential",
        "Treats an overlap of one minute or less (a line change) as sequential.",
        "No source defines a tolerance (spec 8 Q21).",
        NC,
        "2.7, 8 Q21",
        (),
    ),
    Rule(
        "ADM-F10",
        "Hydration intervals split by a drug are not combined",
        "Each hydration interval split by a drug infusion must reach 31 minutes on its "
        "own, unless the payer's settings combine them; flags the claim when the choice "
        "changes the units.",
        "A payer denial says intervals may not be combined; CPT Assistant (June 2007) "
        "says total time is used (spec 8 Q1).",
        NC,
        "2.7, 8 Q1",
        ("S12",),
    ),
    Rule(
        "ADM-F11",
        "Secondary hydration units",
        "Codes hydration after a different initial service as 96361, one unit per hour "
        "with more than 30 minutes past the hour (at least 31 minutes).",
        "96361 is also the code for hydration as a secondary service.",
        M,
        "2.6, 2.7",
        ("S13", "S29"),
    ),
    Rule(
        "ADM-G1",
        "Pump initiation",
        "Codes initiation of a prolonged (more than 8 hours) pump infusion: 96416 "
        "(chemotherapy IV), 96425 (chemotherapy IA), C8957 (therapeutic IV, facility).",
        "Pump initiation is its own service; the in-chair portion is not also coded.",
        M,
        "2.8 G1, G5",
        ("S25", "S26", "S63"),
    ),
    Rule(
        "ADM-G2",
        "G0498 for a provider-supplied pump (Medicare)",
        "Flags a chemotherapy pump supplied by the practice or hospital for a Medicare "
        "claim: G0498 may replace 96416.",
        "A55134, which instructed G0498, is reported retired 12/11/2025 (spec 8 Q8).",
        NC,
        "2.8 G2, 8 Q8",
        ("S27", "S28"),
    ),
    Rule(
        "ADM-G3",
        "Pump refill and disconnect",
        "Codes a refill as 96521 (portable) or 96522 (implantable); a disconnect is not coded.",
        "Disconnect is included in the initiation.",
        M,
        "2.8 G3, G4",
        ("S25", "S26"),
    ),
    Rule(
        "ADM-G5",
        "Non-chemotherapy pump on a professional claim",
        "Flags a prolonged therapeutic pump infusion on a professional claim.",
        "No CPT analogue of C8957 was found (spec 2.8 G5).",
        NC,
        "2.8 G5",
        ("S63",),
    ),
    Rule(
        "ADM-H1",
        "Injections",
        "Codes each SQ/IM injection: 96372 (therapeutic), 96401 (non-hormonal "
        "antineoplastic), 96402 (hormonal antineoplastic).",
        "Stand-alone codes reported alongside any IV chain.",
        H,
        "2.9",
        ("S2", "S5"),
    ),
    Rule(
        "ADM-H2",
        "Other routes",
        "Codes intralesional (96405/96406 by lesion count), intrathecal (96450 via "
        "lumbar puncture, 96542 via reservoir), pleural 96440, peritoneal 96446, "
        "intra-arterial (96420, 96422/96423, 96373) and SQ infusion (96369/96370).",
        "Each route has its own code.",
        M,
        "2.9, 2.3 B3",
        ("S65", "S25"),
    ),
    Rule(
        "ADM-H3",
        "Port irrigation only as the sole service of the day",
        "Codes a documented flush of an implanted access device as 96523 only when no "
        "other service is billed that day.",
        "Medicare pays 96523 only when it is the only service; flushes before or after "
        "infusions are integral.",
        H,
        "2.9, 2.10 V6",
        ("S29",),
    ),
    Rule(
        "ADM-H4",
        "Intravesical BCG",
        "Codes intravesical instillation as 51720.",
        "No policy text was retrieved (spec 1.3).",
        NC,
        "1.3",
        (),
    ),
    Rule(
        "ADM-H5",
        "A route the engine cannot code goes to review",
        "Flags an administration whose route and drug family have no code in the "
        "catalogue (for example a non-chemotherapy drug given intrathecally).",
        "The engine never guesses a code.",
        NC,
        "2.9",
        (),
    ),
    Rule(
        "ADM-U1",
        "An unknown drug goes to review",
        "Flags a MAR drug that is in neither the catalogue nor the payer's overrides.",
        "Classification decides the code family; it is never guessed.",
        H,
        "4.1",
        ("S1", "S5"),
        ERR,
    ),
    Rule(
        "ADM-U2",
        "A drug class that needs confirmation goes to review",
        "Flags a drug whose administration class the catalogue marks NC, unless the "
        "payer's written policy classifies it.",
        "MACs and payers classify these drugs differently (spec 4.1 rule 3, 8 Q15-Q16).",
        NC,
        "4.1, 4.2",
        ("S38",),
    ),
    Rule(
        "ADM-S1",
        "Drug supply units match the dose",
        "Compares the submitted units of each drug's HCPCS line with ceil(dose / billing "
        "unit) for the date.",
        "Units billed must match the dose administered.",
        M,
        "2.10 V13",
        ("S38",),
        ERR,
    ),
    Rule(
        "ADM-S2",
        "An administered drug has a supply line",
        "Warns when a drug given with a HCPCS code has no line on the claim for the date.",
        "The drug itself is billed separately from its administration.",
        M,
        "2.10 V13",
        ("S38",),
        WARN,
    ),
)

RULES: dict[str, Rule] = {r.id: r for r in (*ADM_RULES, *CLAIM_RULES)}


def rule(rule_id: str) -> Rule:
    return RULES[rule_id]
