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

PERMITTED_USE_NOTICE = (
    "PERMITTED USE: this output may be used only to target offers of a place on a voluntary "
    "domestic-abuse perpetrator programme (purpose 'programme_referral'). It is a recommendation "
    "for a human programme coordinator, never a decision. PROHIBITED: "
    + "; ".join(PROHIBITED_USES)
    + ". Protected characteristics are never model inputs."
)


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
    "PERMITTED_PURPOSE",
    "PERMITTED_USE_NOTICE",
    "PROHIBITED_USES",
    "PROTECTED_CHARACTERISTICS",
]
