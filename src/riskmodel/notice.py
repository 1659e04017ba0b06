"""The permitted-use notice carried by every output, and the one permitted purpose."""

from __future__ import annotations

PERMITTED_PURPOSE = "programme_referral"

PROHIBITED_USES: tuple[str, ...] = (
    "charging decisions",
    "prosecution",
    "bail or remand",
    "sentencing",
    "custody or detention",
    "parole or probation decisions",
    "investigation or arrest prioritisation",
    "any other criminal-justice decision",
)

#: sensitive characteristics a model may use as inputs by design: feature name -> plain words.
#: Age is a protected characteristic; the health flags are special-category (health) data under
#: UK GDPR. Every other protected characteristic is refused as an input (PROTECTED_CHARACTERISTICS).
SENSITIVE_INPUTS: dict[str, str] = {
    "age_at_index": "age (age_at_index: age at the index event)",
    "age_at_first_offence": "age (age_at_first_offence: age at the first recorded offence)",
    "mental_health": "the health flag mental_health (mental-health needs recorded)",
    "substance_misuse": "the health flag substance_misuse (substance misuse recorded)",
}
#: protected characteristics named in the notice as never used (Equality Act 2010)
NEVER_INPUTS = (
    "sex",
    "gender reassignment",
    "ethnicity or race",
    "disability",
    "religion or belief",
    "sexual orientation",
    "pregnancy or maternity",
    "marriage or civil partnership",
)


def sensitive_inputs(features: list[str] | tuple[str, ...] | None = None) -> list[str]:
    """The sensitive characteristics among a model's input features, in ``SENSITIVE_INPUTS`` order.

    ``features`` None means the default feature set, which has all of them.
    """
    if features is None:
        return list(SENSITIVE_INPUTS)
    have = set(features)
    return [f for f in SENSITIVE_INPUTS if f in have]


def sensitive_input_statement(features: list[str] | tuple[str, ...] | None = None) -> str:
    """One sentence naming the sensitive characteristics a model uses, and those it never uses."""
    used = sensitive_inputs(features)
    never = ", ".join(NEVER_INPUTS)
    scope = "The default feature set uses" if features is None else "This model uses"
    if not used:
        return (
            "This model uses no sensitive characteristic as an input: not age, not the health "
            f"flags mental_health and substance_misuse, and no protected characteristic ({never})."
        )
    words = "; ".join(SENSITIVE_INPUTS[f] for f in used)
    return (
        f"SENSITIVE INPUTS: {scope} these sensitive characteristics as inputs, by design: "
        f"{words}. No other protected characteristic ({never}) is a model input; "
        "configurations that try are refused."
    )


def permitted_use_notice(features: list[str] | tuple[str, ...] | None = None) -> str:
    """The permitted-use notice, naming the sensitive inputs of a model with these ``features``
    (``None``: the default feature set)."""
    return (
        "PERMITTED USE: this output may be used only to target offers of a place on a voluntary "
        "domestic-abuse perpetrator programme (purpose 'programme_referral'). It is a "
        "recommendation for a human programme coordinator, never a decision. PROHIBITED: "
        + "; ".join(PROHIBITED_USES)
        + ". "
        + sensitive_input_statement(features)
    )


PERMITTED_USE_NOTICE = permitted_use_notice()


# Equality Act 2010 protected characteristics and their usual column names: audit attributes only.
# Age in years is deliberately allowed as a feature (see docs/CONTRACTS.md); its band is audited.
PROTECTED_CHARACTERISTICS: frozenset[str] = frozenset(
    {
        "sex",
        "gender",
        "ethnicity",
        "race",
        "ethnic_group",
        "age_band",
        "age_cat",
        "age_group",
        "disability",
        "religion",
        "belief",
        "sexual_orientation",
        "gender_reassignment",
        "pregnancy",
        "maternity",
        "marriage",
        "civil_partnership",
        "nationality",
    }
)
__all__ = [
    "NEVER_INPUTS",
    "PERMITTED_PURPOSE",
    "PERMITTED_USE_NOTICE",
    "PROHIBITED_USES",
    "PROTECTED_CHARACTERISTICS",
    "SENSITIVE_INPUTS",
    "permitted_use_notice",
    "sensitive_input_statement",
    "sensitive_inputs",
]
