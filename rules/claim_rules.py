"""The claim rules: diagnosis sequencing (spec §5), bundling and unit limits (§6), radiation
oncology within a claim (§6.3, §7), coverage rows and the pack's own data-release checks.

Each entry is documentation as much as code: ``python -m rules.docs`` renders it. The
checks themselves live in ``sequencing``, ``bundling`` and ``radiation``.
"""

from __future__ import annotations

from rules.rule import ERR, INFO, NC, WARN, H, M, Rule

CLAIM_RULES: tuple[Rule, ...] = (
    # -- the pack's data ------------------------------------------------------------------
    Rule("PACK-Q1", "A date of service outside the data's quarters falls back visibly",
         "Notes each data release (I/OCE quarter, ICD-10-CM release) that does not cover a date "
         "of service on the claim, and which release was applied instead.",
         "Code sets and edits change quarterly; a decision made with older data must say so, "
         "never silently.", H, "pack", ("PACK",), INFO,
         "A 2026-11-03 claim is checked with I/OCE 27.1, whose quarter ends 2026-06-30."),
    Rule("PACK-Q2", "Professional claims fall back to the hospital PTP table visibly",
         "Notes that a professional claim was checked against the hospital outpatient NCCI PTP "
         "edits because the pack carries no practitioner table.",
         "Practitioner and hospital PTP edits differ (shared/data README); load the CMS "
         "practitioner file into the pack to check physician claims exactly.",
         M, "6.1", ("PTP",), INFO),
    # -- §5 ICD-10-CM sequencing ----------------------------------------------------------
    Rule("DX-V1", "Every diagnosis is a valid, billable ICD-10-CM code",
         "Looks up each diagnosis in the full ICD-10-CM code set of the pack: unknown codes and "
         "category headers (not the most specific code) are errors.",
         "HIPAA requires valid codes to the highest specificity for the date of service.",
         H, "5", ("ICD10CM",), ERR, "C50.91 (a header) instead of C50.911."),
    Rule("DX-V2", "First-listed diagnosis acceptable as principal",
         "On an institutional claim, flags a first-listed code the I/OCE marks unacceptable "
         "as principal diagnosis.",
         "The outpatient code editor rejects these codes in the principal position.",
         H, "5", ("IOCE-DX",), ERR),
    Rule("DX-S1", "Z51.x first for an antineoplastic therapy encounter",
         "When the claim carries chemotherapy, immunotherapy or external-beam radiation and no "
         "brachytherapy, the first-listed diagnosis must be Z51.11, Z51.12 or Z51.0. A payer "
         "policy row naming a written policy may resequence automatically or accept the order "
         "as billed; without one, a deviating claim goes to review.",
         "ICD-10-CM Official Guidelines I.C.2.e.2; payers such as Health Net California deny "
         "chemotherapy claims with the malignancy first.",
         H, "5.1, 5.2, 2.10 V14", ("S39", "S43", "S44"), ERR,
         "Chemotherapy infusion billed with C50.911 first and Z51.11 second."),
    Rule("DX-S2", "Z51.x needs the neoplasm being treated",
         "Flags Z51.0, Z51.11 or Z51.12 on a claim with no neoplasm code (C00-D49); a history "
         "code (Z85) does not count.",
         "The malignancy under treatment is coded while treatment continues; Z51.1x is never "
         "for a non-neoplastic condition (Excludes2) and Z51.12 only for antineoplastic "
         "immunotherapy.",
         M, "5.1", ("S39", "S45"), ERR),
    Rule("DX-S3", "Brachytherapy encounter lists the malignancy first",
         "When the claim carries brachytherapy and no other antineoplastic therapy, the first "
         "diagnosis must be the neoplasm, not Z51.0.",
         "Guideline I.C.2.e.2: encounters for insertion of radioactive elements list the "
         "malignancy first.",
         H, "5.1", ("S39",), ERR),
    Rule("DX-S4", "Anemia in neoplastic disease follows the neoplasm",
         "Flags D63.0 listed before every neoplasm code, or without one.",
         "Guideline I.C.2.c.1: the malignancy is sequenced first, then D63.0.",
         H, "5.1", ("S40",), ERR),
    Rule("DX-S5", "Anemia due to chemotherapy names the drug's adverse effect",
         "Flags D64.81 without T45.1X5- (adverse effect of antineoplastic drugs), or with the "
         "T code listed before it.",
         "Guideline I.C.2.c.2: D64.81, then the neoplasm, then T45.1X5-.",
         M, "5.1", ("S40",), ERR),
    Rule("DX-S6", "Anemia due to radiotherapy: anemia, neoplasm, then Y84.2",
         "Flags Y84.2 without an anemia code before it, or listed first.",
         "An external-cause code explains the anemia; it is never first-listed.",
         M, "5.1", ("S40",), ERR),
    Rule("DX-S7", "A complication treated alone is listed first",
         "When no antineoplastic therapy is billed and the claim lists dehydration (E86), nausea "
         "and vomiting (R11) or neoplasm-related pain (G89.3), the neoplasm must not be first.",
         "Guidelines I.C.2.c.3 and I.C.2.l.4: the complication being treated is first, then "
         "the neoplasm.",
         M, "5.1", ("S41",), ERR),
    Rule("DX-S8", "An adverse-effect T code is not first-listed",
         "Flags T45.1X5- (adverse effect of antineoplastic drugs) in first position.",
         "Guideline I.C.19.e.5.a: the nature of the effect (e.g. R11.x) comes first.",
         M, "5.1", ("S41",), ERR),
    Rule("DX-S9", "Follow-up after completed treatment: Z08 first, then Z85",
         "Flags Z08 not listed first, or without a Z85 history code.",
         "Guideline I.C.21.c.8: surveillance after completed treatment is Z08 with the "
         "history of malignancy.",
         M, "5.1", ("S42",), ERR),
    Rule("DX-S10", "No active malignancy code at surveillance",
         "Flags an active C-code on a Z08 follow-up claim.",
         "A malignancy excised or eradicated with no further treatment and no evidence of "
         "disease is coded Z85, not the C-code.",
         M, "5.1", ("S42",), ERR),
    Rule("DX-N1", "Surgery with adjunct therapy in one episode needs confirmation",
         "Flags a claim with a surgical procedure code and antineoplastic therapy.",
         "Guideline I.C.2.e.1 (malignancy first) was not retrieved verbatim.",
         NC, "5.1", ("S39",)),
    Rule("DX-N2", "A complication listed between Z51.x and the neoplasm needs confirmation",
         "Flags a therapy encounter whose complication code comes before the neoplasm.",
         "Guideline I.C.2.e.3 (complications after Z51.x) was not retrieved verbatim.",
         NC, "5.1", ("S39",)),
    # -- §6 bundling and unit limits -------------------------------------------------------
    Rule("NCCI-PTP", "NCCI procedure-to-procedure pairs on one date",
         "For every pair of codes on one date of service that the CMS PTP table edits, the "
         "column-two code is not payable. Modifier indicator 0: it is removed. Indicator 1: "
         "allowed only with an NCCI-bypass modifier (59, XE, XP, XS, XU, ...) on either line, "
         "so the claim goes to review without one.",
         "CMS NCCI edits; the I/OCE applies the same table to hospital outpatient claims.",
         H, "6.1, 8 Q20", ("PTP", "S19"), ERR,
         "96413 and 96372 on one date with no modifier."),
    Rule("NCCI-ADDON", "A billed add-on code needs its primary",
         "Flags a billed add-on code (drug-administration or type 1 map) without an allowed "
         "primary code on the same date.",
         "Add-on codes are never paid alone.", H, "2.10 V1", ("ADDON",), ERR),
    Rule("NCCI-MUE", "Units within the medically unlikely edit",
         "Compares units per code with the MUE of the claim type: per line for adjudication "
         "indicator 1, per date of service for 2 (policy, absolute) and 3 (clinical, "
         "appealable).",
         "Units above the MUE are denied; MAI 2 cannot be overridden, MAI 3 only on appeal.",
         M, "6.2, 2.10 V3", ("MUE", "S23", "S67"), ERR),
    Rule("BND-B2", "Port irrigation 96523 only as the sole service of the day",
         "Removes a billed 96523 when anything else is billed that day.",
         "IOM 100-04 ch.12 §30.5: an E/M, injection or infusion that day absorbs it.",
         H, "6.1 B1-B2, 2.10 V6", ("S29",), WARN),
    Rule("BND-B3", "36591/36592 only with laboratory services",
         "Flags 36591 or 36592 billed on a date with any other non-laboratory service.",
         "Blood collection from a device is reported only when it is the only non-lab service.",
         M, "6.1 B3, 2.10 V7", ("S30",), ERR),
    Rule("BND-B7", "99211 is never billed with drug administration",
         "Removes 99211 on a date with drug administration (with or without modifier 25).",
         "CMS: the nurse visit is part of the administration service.",
         H, "6.1 B7, 2.10 V8", ("S6", "S7"), WARN),
    Rule("BND-B7E", "An E/M with drug administration needs modifier 25",
         "Flags an E/M code (99202-99215, G0463) on a date with drug administration without "
         "modifier 25.",
         "Only a significant, separately identifiable E/M is paid beside an administration.",
         H, "6.1 B7, 2.10 V8", ("S6", "S7"), ERR),
    Rule("BND-B8", "Peripheral IV start is part of the infusion",
         "Removes 36000 or 36410 on a date with an infusion, push or hydration code.",
         "Access to the vein is included in drug administration (NCCI, IOM 100-04 ch.12).",
         H, "6.1 B8", ("S29",), WARN),
    Rule("BND-B9", "Pump initiation and refill are not billed on one date",
         "Flags 96416 or 96425 with 96521 or 96522 on the same date.",
         "Refill and maintenance are part of the initiation that day (older guidance; "
         "flag, do not auto-deny: spec 8 Q9).",
         M, "6.1 B9, 2.10 V10", ("S26",), ERR),
    Rule("BND-B9M", "Medicare: no pump refill with chemotherapy administration on one date",
         "For a Medicare payer, flags 96521 or 96522 with another chemotherapy "
         "administration code on the same date.",
         "Older Medicare guidance: refill/maintenance is not paid with chemotherapy "
         "administration the same day.",
         M, "6.1 B9", ("S26",), ERR),
    Rule("BND-B11", "Payer rule: hydration beside another infusion needs modifier 59",
         "With a payer policy row, flags hydration billed on a date with another infusion "
         "without modifier 59.",
         "One payer requires a separate diagnosis and modifier 59 on such hydration.",
         M, "6.1 B11", ("S29",), ERR),
    Rule("BND-B12", "Payer rule: hydration of 500 mL or less needs confirmation",
         "With a payer policy row, flags hydration whose volume is 500 mL or less.",
         "Historic MAC LCD language judged small-volume hydration not reasonable; the current "
         "position was not retrieved.",
         NC, "6.1 B12", ("S10",)),
    # -- §6.3, §7 radiation oncology within a claim ---------------------------------------
    Rule("CODE-Q1", "A code valid in the quarter of its date of service",
         "Flags a code that the CMS HCPCS table of the pack carries, but not for the quarter "
         "of the line's date of service.",
         "Codes are added and deleted quarterly; radiation delivery codes changed in 2015 and "
         "2026.",
         H, "6.3, 7.4", ("HCPCS-Q",), ERR, "G6015 billed for a 2026-02-10 session."),
    Rule("CODE-B1", "No code OPPS does not recognise on a hospital claim",
         "On an institutional claim, flags a code with OPPS status indicator B for the date "
         "(e.g. the freestanding G6001-G6017) and names the hospital code.",
         "Status B codes are not recognised on outpatient hospital bill types; hospitals "
         "report 77xxx.",
         H, "1.3a, 7.4", ("HCPCS-Q", "S46", "S49"), ERR),
    Rule("RO-G1", "Freestanding Medicare delivery uses the G-codes while they exist",
         "On a professional claim from a freestanding centre for a Medicare payer, flags a "
         "hospital delivery or guidance code (77402, 77407, 77412, 77385, 77386, 77387) on a "
         "date its G-code replacement is in force.",
         "Medicare PFS pays freestanding delivery under G6001-G6017, not the OPPS CPT codes.",
         M, "7.4", ("S46", "S49", "S55"), ERR),
    Rule("RO-RB1", "IMRT planning 77301 includes these planning services",
         "Flags codes on the CMS IMRT list (77014, 77280-77290, 77295, 77306-77307, 77316-77318, "
         "77321, 77331, 77370) on the same claim as 77301, whatever their date. 77300 is not "
         "on the list.",
         "IOM 100-04 ch.4 §200.3: services furnished to develop the IMRT plan are included.",
         H, "6.3 RB1, RB3, RB4", ("IMRT", "S50", "S47"), ERR),
    Rule("RO-RB2", "Payer rule: planning codes within a window of 77301",
         "With a payer policy row, flags the row's codes billed within its window of days of "
         "77301.",
         "Commercial payers (BCBS NC, Premera) apply the IMRT bundle as a date window.",
         M, "6.3 RB2", ("S50",), ERR),
    Rule("RO-RB4", "Basic dosimetry 77300 is included in isodose planning",
         "Flags 77300 on the same date as 77306, 77307 or 77316-77318.",
         "CPT 2015: those isodose plans include basic dosimetry (77300 is not bundled into "
         "77301, 77295 or 77321).",
         M, "6.3 RB4", ("S53", "S54"), ERR),
    Rule("RO-RB5", "One teletherapy isodose plan per course and area",
         "Flags more than one unit of 77306/77307 on a claim.",
         "Only one isodose plan is reported per course per treatment area; more need distinct "
         "areas documented.",
         H, "6.3 RB5", ("S53",), ERR),
    Rule("RO-RB6", "IMRT delivery not with SRS/SBRT; no technical modifier",
         "Flags 77385/77386 with 77371-77373 on one date, and modifier TC on 77385, 77386 or "
         "77371-77373.",
         "The codes describe exclusive deliveries and are technical-only by definition.",
         H, "6.3 RB6", ("S53",), ERR),
    Rule("RO-RB7", "SBRT delivery 77373 excludes other deliveries that day",
         "Flags 77373 with 77385, 77386, 77401, 77402, 77407 or 77412 on one date.",
         "SBRT delivery includes the other delivery services of the session.",
         M, "6.3 RB7", ("S59",), ERR),
    Rule("RO-RB8", "Superficial radiation 77401 excludes planning and management",
         "Flags 77401 with 77261-77263, 77332-77334, 77306/77307, 77316-77318, 77336, "
         "77427/77431/77432/77435/77469/77470/77499 on the claim, and an E/M billed with "
         "77401 and other radiation codes.",
         "ASTRO: superficial radiation is billed alone; an E/M only when 77401 is alone.",
         M, "6.3 RB8", ("S46",), ERR),
    Rule("RO-RB9", "77780 with 77301 needs confirmation",
         "Flags 77780 billed with 77301.",
         "A bundle claimed by the product brief that no retrieved source supports (spec 8 Q12).",
         NC, "6.3 RB9", ()),
    Rule("RO-RB10", "One simulation per day",
         "Flags more than one unit of 77280, 77285 or 77290 on a date.",
         "Several sites simulated the same day are one simulation charge.",
         M, "6.3 RB10, 7.1", ("S47",), ERR),
    Rule("RO-RB11", "Once-per-course and per-week limits",
         "Flags more than one 77470 or 77435 on a claim, more than five SBRT fractions (77373), "
         "and more 77336 units than weeks of five fractions; a 77336 for 3-4 leftover "
         "fractions needs confirmation.",
         "77470 and 77435 are per course, SBRT is at most five fractions, 77336 is per five "
         "fractions.",
         M, "6.3 RB11, 7.3, 8 Q14", ("S56", "S59"), ERR),
    Rule("RO-Q14", "77336 for 3-4 leftover fractions needs confirmation",
         "Flags a 77336 unit that only the leftover-fraction rule of 77427 would allow.",
         "Only 'per week / per five fractions' was retrieved for 77336 (spec 8 Q14).",
         NC, "7.1, 8 Q14", ("S56",)),
    Rule("RO-RB12", "Payer rule: unit limits per course",
         "With a payer policy row, flags more units of the row's code on a claim than it allows.",
         "BCBS NC allows 77338 once per IMRT plan and three times per 60-day course.",
         M, "6.3 RB12", ("S50",), ERR),
    Rule("RO-C1", "Planning precedes delivery",
         "Flags a delivery date earlier than the clinical planning, simulation or dosimetric "
         "planning billed on the same claim.",
         "The phases of a course are ordered (spec 7.1); a delivery before its plan is a date "
         "or code error.",
         M, "7.1", ("S49", "S47"), ERR),
    Rule("RO-W1", "Weekly management 77427 units from fractions",
         "Compares 77427 units with the fractions delivered on the claim: one per five, plus "
         "one for 3-4 leftover fractions; 1-2 leftover are not billed.",
         "CMS manual text on radiation treatment management.",
         H, "7.2", ("S52",), ERR, "28 fractions: 6 units, not 7."),
    Rule("RO-W2", "77431 for a course of one or two fractions",
         "Flags 77431 with more than two fractions on the claim, and 77427 when the claim has "
         "only one or two.",
         "A 1-2 fraction course is managed under 77431; 77427 needs at least three fractions.",
         H, "7.1, 7.2", ("S52", "S59"), ERR),
    Rule("RO-HS1", "High-scrutiny radiation services",
         "Notes SRS/SBRT (77371-77373), brachytherapy and proton delivery (77520-77525).",
         "Payers audit these services most; documentation must be complete.",
         M, "7.3", ("S58", "S59"), WARN),
    Rule("COV-PROTON", "Payer coverage: proton therapy indications",
         "With a payer policy row, flags proton delivery for the documentation the payer's "
         "coverage policy requires (group 1 indication, or dosimetric justification).",
         "LCD L33937: group 1 indications covered; group 2 only with documented justification.",
         M, "7.3", ("S58",), ERR),
    Rule("COV-IMRT", "Payer coverage: IMRT justification",
         "With a payer policy row, flags IMRT planning or delivery for the justification over "
         "3D conformal the payer requires.",
         "Payers require critical-structure and DVH documentation for IMRT.",
         M, "7.3", ("S57",), ERR),
    Rule("COV-FX", "Payer coverage: fraction limits",
         "With a payer policy row, flags more fractions on the claim than the row allows for "
         "the diagnosis.",
         "Payer fractionation policies (e.g. at most 10 fractions for palliative bone "
         "metastases).",
         M, "7.3", ("S57",), ERR),
    Rule("COV-CW", "Single-fraction palliation of bone metastases",
         "Notes more than one fraction on a claim with a bone metastasis (C79.5-).",
         "ASTRO Choosing Wisely: consider a single 8 Gy fraction when prognosis is limited.",
         M, "7.3", ("S60",), INFO),
)  # fmt: skip
