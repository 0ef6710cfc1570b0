"""The claim checks in the order they run, after the MAR is coded (as the I/OCE runs its
edits in phases): the pack's data, diagnoses, bundling and units, then, on the claim as it
will be sent, code validity, radiation oncology and coverage.

Order matters twice: the specific bundling rules mark the pairs they decide before the
generic NCCI PTP check, and the checks after an ``AsSent`` do not see lines a certain
correction removed (the NCCI edits included: they judge the lines as they will be sent).
"""

from __future__ import annotations

from rules.checks import bundling, codes, coverage, diagnoses, radiation, releases
from rules.checks.check import AsSent, EachDate, EachLine, Step, checks_of, run_steps
from rules.claim_view import ClaimView
from rules.rule import Rule

PIPELINE: tuple[Step, ...] = (
    releases.release_covers_dates,  # PACK-Q1
    diagnoses.valid_billable_codes,  # DX-V1
    diagnoses.acceptable_principal,  # DX-V2
    diagnoses.complication_before_neoplasm,  # DX-N2
    diagnoses.z51_first,  # DX-S1
    diagnoses.surgery_with_adjunct_therapy,  # DX-N1
    diagnoses.brachytherapy_malignancy_first,  # DX-S3
    diagnoses.z51_needs_neoplasm,  # DX-S2
    diagnoses.anemia_in_neoplastic_disease,  # DX-S4
    diagnoses.anemia_due_to_chemotherapy,  # DX-S5
    diagnoses.anemia_due_to_radiotherapy,  # DX-S6
    diagnoses.complication_treated_alone,  # DX-S7
    diagnoses.adverse_effect_not_first,  # DX-S8
    diagnoses.surveillance_z08_first,  # DX-S9
    diagnoses.no_active_malignancy_at_surveillance,  # DX-S10
    EachDate((
        bundling.port_irrigation_with_other_services,  # BND-B2
        bundling.device_blood_draw,  # BND-B3
        bundling.nurse_visit_with_administration,  # BND-B7
        bundling.visit_without_modifier_25,  # BND-B7E
        bundling.iv_start_with_infusion,  # BND-B8
        bundling.pump_initiation_with_refill,  # BND-B9
        bundling.medicare_pump_refill_with_chemotherapy,  # BND-B9M
        bundling.payer_hydration_modifier,  # BND-B11
        bundling.payer_small_volume_hydration,  # BND-B12
    )),
    releases.practitioner_ptp_fallback,  # PACK-Q2
    AsSent(),  # the NCCI edits never judge a line a rule above removed
    bundling.ncci_procedure_to_procedure,  # NCCI-PTP
    AsSent(),
    bundling.addon_without_primary,  # NCCI-ADDON
    bundling.medically_unlikely_units,  # NCCI-MUE
    EachLine((
        codes.valid_in_quarter,  # CODE-Q1
        codes.status_b_on_hospital_claim,  # CODE-B1
        radiation.freestanding_g_codes,  # RO-G1
    )),
    radiation.imrt_planning_bundle,  # RO-RB1
    radiation.imrt_planning_window,  # RO-RB2
    radiation.brachytherapy_with_imrt_planning,  # RO-RB9
    EachDate((
        radiation.basic_dosimetry_in_isodose_plan,  # RO-RB4
        radiation.imrt_with_srs_sbrt,  # RO-RB6
        radiation.sbrt_with_other_delivery,  # RO-RB7
        radiation.one_simulation_a_day,  # RO-RB10
    ), when=radiation.radiation_billed),
    radiation.technical_component_on_technical_code,  # RO-RB6
    radiation.superficial_radiation_alone,  # RO-RB8
    radiation.once_per_course,  # RO-RB11
    radiation.one_isodose_plan,  # RO-RB5
    radiation.sbrt_at_most_five_fractions,  # RO-RB11
    radiation.physics_leftover_fractions,  # RO-Q14
    radiation.physics_once_per_five_fractions,  # RO-RB11
    radiation.payer_unit_limit,  # RO-RB12
    radiation.weekly_management_for_a_short_course,  # RO-W2
    radiation.weekly_management_units,  # RO-W1
    radiation.short_course_management_for_a_long_course,  # RO-W2
    radiation.planning_before_delivery,  # RO-C1
    radiation.high_scrutiny_services,  # RO-HS1
    coverage.proton_medical_necessity,  # COV-PROTON
    coverage.imrt_medical_necessity,  # COV-IMRT
    coverage.fractions_for_diagnosis,  # COV-FX
    coverage.single_fraction_for_bone_metastases,  # COV-CW
)  # fmt: skip


def run_checks(v: ClaimView) -> ClaimView:
    return run_steps(PIPELINE, v)


def checked_rules() -> tuple[Rule, ...]:
    """The rules the pipeline applies, in order, each once."""
    seen: dict[str, Rule] = {}
    for step in PIPELINE:
        for c in checks_of(step):
            seen.setdefault(c.rule.id, c.rule)
    return tuple(seen.values())
