"""The feature catalogue: every feature the builder can make, its group and its dictionary entry.

Names are stable (reports and reason codes use them); a window adds a suffix: ``_30d``, ``_90d``,
``_365d``, ``_1095d`` or ``_all`` (all recorded history). Descriptions are for the ethics panel;
reason templates for the coordinator's reason codes (``{value}`` is the person's value).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from riskmodel.data import OFFENCE_GROUPS
from riskmodel.schema import AUDIT_ATTRIBUTES as AUDIT
from riskmodel.schema import KEYS, LABELS, TRUTH

#: roles of the columns of a feature table that are never features (keys, labels, audit
#: attributes and truth: riskmodel.schema)
BASELINES: tuple[str, ...] = ("rfg_score",)

#: feature groups, in catalogue order (``exclude_groups`` and ``groups`` take these names)
GROUPS: tuple[str, ...] = (
    "counts",
    "harm",
    "escalation",
    "rfg",
    "victims",
    "timing",
    "age",
    "programme",
    "vulnerability",
    "index_event",
)

_COUNT_WORDS: dict[str, str] = {
    "da": "recorded DA incidents",
    "da_violence": "recorded DA violence offences",
    "da_nonviolent": "recorded DA threats or criminal damage",
    "coercive_control": "recorded coercive or controlling behaviour offences",
    "stalking_harassment": "recorded stalking or harassment offences",
    "breach": "recorded breaches of a protective order",
    "sexual": "recorded DA sexual offences",
    "nonda_violence": "recorded violent offences that were not DA",
    "other": "other recorded offences that were not DA",
}
COUNT_GROUPS: tuple[str, ...] = ("da", *OFFENCE_GROUPS)


@dataclass(frozen=True)
class FeatureDef:
    """One feature: name, group, dictionary entry and whether it is categorical."""

    name: str
    group: str
    description: str
    reason: str
    unit: str
    categorical: bool = False

    def entry(self) -> dict[str, str]:
        return {"description": self.description, "reason": self.reason, "unit": self.unit}


def window_suffix(days: int | None) -> str:
    return "all" if days is None else f"{days}d"


def _window_words(days: int | None, history_days: int | None = None) -> str:
    if days is None:
        if history_days is None:
            return "in all recorded history"
        return f"in the last {history_days:,} days, the longest look-back"
    return f"in the last {days} days"


#: features that read the whole recorded history unless ``history_days`` bounds it
HISTORY_BOUND = (
    "n_victims_all",
    "days_since_first_da",
    "days_since_previous_da",
    "age_at_first_offence",
    "harm_escalation",
    "n_prior_referrals",
    "prior_programme_referral",
    "prior_programme_completion",
)


def catalogue(
    windows_days: tuple[int, ...] = (30, 90, 365, 1095),
    *,
    escalation_k: int = 5,
    history_days: int | None = None,
) -> list[FeatureDef]:
    """Every feature, in table order, for the given look-back windows (and the longest
    look-back ``history_days``, ``None`` for all recorded history)."""
    out = _catalogue(windows_days, escalation_k=escalation_k, history_days=history_days)
    if history_days is None:
        return out
    bound = f" (reading back at most {history_days:,} days)"
    return [
        dataclasses.replace(f, description=f.description + bound) if f.name in HISTORY_BOUND else f
        for f in out
    ]


def _catalogue(
    windows_days: tuple[int, ...], *, escalation_k: int, history_days: int | None
) -> list[FeatureDef]:
    windows: list[int | None] = [*sorted(windows_days), None]
    out: list[FeatureDef] = []
    for group in COUNT_GROUPS:
        words = _COUNT_WORDS[group]
        for w in windows:
            when = _window_words(w, history_days)
            note = " (the incident being assessed included)" if group == "da" else ""
            out.append(
                FeatureDef(
                    f"n_{group}_{window_suffix(w)}",
                    "counts",
                    f"number of {words} {when}{note}",
                    f"{{value:.0f}} {words} {when}",
                    "count",
                )
            )
    for w in windows:
        when, sfx = _window_words(w, history_days), window_suffix(w)
        out += [
            FeatureDef(
                f"harm_da_{sfx}",
                "harm",
                f"total harm of recorded DA offences {when}, in Crime Harm Index days "
                "(the incident being assessed included)",
                f"recorded DA harm of {{value:,.0f}} harm days {when}",
                "harm_days",
            ),
            FeatureDef(
                f"harm_max_da_{sfx}",
                "harm",
                f"harm of the most serious recorded DA offence {when}, in Crime Harm Index days",
                f"a recorded DA offence of {{value:,.0f}} harm days {when}",
                "harm_days",
            ),
            FeatureDef(
                f"harm_nonda_{sfx}",
                "harm",
                f"total harm of recorded offences that were not DA {when}, in Crime Harm Index days",
                f"recorded non-DA harm of {{value:,.0f}} harm days {when}",
                "harm_days",
            ),
        ]
    out += [
        FeatureDef(
            "index_harm_days",
            "harm",
            "harm of the DA incident being assessed, in Crime Harm Index days",
            "the incident being assessed carries {value:,.0f} harm days",
            "harm_days",
        ),
        FeatureDef(
            "harm_escalation",
            "escalation",
            f"trend of harm over the last {escalation_k} recorded DA incidents (least-squares "
            "slope, harm days per incident; above zero means escalating, 0 with fewer than two)",
            f"harm rising by {{value:,.0f}} harm days per incident over the last {escalation_k} "
            "DA incidents",
            "harm_days",
        ),
        FeatureDef(
            "rfg_score",
            "rfg",
            "Recency-Frequency-Gravity score (0-100) as police rank perpetrators: how recent the "
            "previous DA incident was, how many DA incidents and how much DA harm in the last "
            "three years",
            "a Recency-Frequency-Gravity score of {value:.0f} out of 100",
            "score",
        ),
        FeatureDef(
            "n_victims_all",
            "victims",
            "number of different people recorded as victims of this person's DA offences",
            "{value:.0f} different victims recorded",
            "count",
        ),
        FeatureDef(
            "days_since_first_da",
            "timing",
            "days since the first recorded DA incident (0 if this is the first)",
            "first recorded DA incident {value:,.0f} days ago",
            "days",
        ),
        FeatureDef(
            "days_since_previous_da",
            "timing",
            "days since the previous recorded DA incident before the one being assessed "
            "(empty if there was none)",
            "{value:,.0f} days since the previous recorded DA incident",
            "days",
        ),
        FeatureDef(
            "age_at_index",
            "age",
            "age in years at the assessment (a feature by design: offending falls with age; "
            "its band is audited)",
            "aged {value:.0f} at the assessment",
            "years",
        ),
        FeatureDef(
            "age_at_first_offence",
            "age",
            "age in years at the first recorded offence of any kind",
            "first recorded offence at age {value:.0f}",
            "years",
        ),
        FeatureDef(
            "n_prior_referrals",
            "programme",
            "number of earlier referrals to a perpetrator programme (referral dated before the "
            "day of the assessment)",
            "{value:.0f} earlier referrals to a perpetrator programme",
            "count",
        ),
        FeatureDef(
            "prior_programme_referral",
            "programme",
            "was referred to a perpetrator programme before the day of the assessment",
            "was referred to a perpetrator programme before",
            "flag",
        ),
        FeatureDef(
            "prior_programme_completion",
            "programme",
            "completed a perpetrator programme before the day of the assessment",
            "completed a perpetrator programme before",
            "flag",
        ),
        FeatureDef(
            "mental_health",
            "vulnerability",
            "mental-health needs recorded (a person-level flag without a date)",
            "mental-health needs recorded",
            "flag",
        ),
        FeatureDef(
            "substance_misuse",
            "vulnerability",
            "substance misuse recorded (a person-level flag without a date)",
            "substance misuse recorded",
            "flag",
        ),
        FeatureDef(
            "index_offence_type",
            "index_event",
            "offence type of the DA incident being assessed",
            "the incident being assessed was recorded as {value}",
            "category",
            categorical=True,
        ),
        FeatureDef(
            "index_relationship",
            "index_event",
            "relationship to the victim in the DA incident being assessed",
            "relationship to the victim in the incident being assessed: {value}",
            "category",
            categorical=True,
        ),
    ]
    return out


__all__ = [
    "AUDIT",
    "BASELINES",
    "COUNT_GROUPS",
    "GROUPS",
    "KEYS",
    "LABELS",
    "TRUTH",
    "FeatureDef",
    "catalogue",
    "window_suffix",
]
