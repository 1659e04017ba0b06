"""Feature-building configuration: windows, which features, index events, labels, RFG weights.

A configuration that names a protected characteristic, an audit attribute, a label, a truth
column or a key as a feature is refused here, and again by the builder
(:func:`riskmodel.features.check_feature_roles`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from riskmodel._base import StrictModel
from riskmodel.data import OFFENCE_TYPES, SEVERE_OFFENCE_TYPES
from riskmodel.features._catalog import GROUPS, catalogue
from riskmodel.schema import forbidden_reason

ERR_FORBIDDEN_FEATURE = (
    "{name!r} cannot be a feature: it is {what}. Protected characteristics, audit attributes, "
    "labels, truth columns and keys are never model inputs; remove it from `features`"
)
ERR_UNKNOWN_FEATURES = "unknown feature(s) {names} in `{key}`; available features: {available}"
ERR_UNKNOWN_GROUPS = "unknown feature group(s) {names} in `{key}`; groups: {available}"
ERR_NO_FEATURES = (
    "the configuration leaves no features; check `features`, `groups`, `exclude` and "
    "`exclude_groups`"
)
ERR_UNKNOWN_OFFENCE = "severe.offence_types: unknown offence type(s) {names}; known: {known}"
ERR_NO_SEVERE_RULE = "severe: give `offence_types`, a `harm_threshold`, or both"


def refuse_forbidden(names: list[str] | tuple[str, ...]) -> None:
    """Raise ``ValueError`` naming the first feature that may never be a model input."""
    for name in names:
        why = forbidden_reason(name)
        if why is not None:
            raise ValueError(ERR_FORBIDDEN_FEATURE.format(name=name, what=why))


class SevereConfig(StrictModel):
    """What counts as a severe reoffence for ``severe_12m``.

    A recorded DA offence in the follow-up is severe if its type is in ``offence_types`` or (when
    set) its ``harm_days`` is at or above ``harm_threshold``. The default matches the 'dangerously
    violent' notion: serious violence or sexual offending (whose Crime Harm Index starting point
    is 365 days or more).
    """

    offence_types: tuple[str, ...] = SEVERE_OFFENCE_TYPES
    harm_threshold: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _known(self) -> SevereConfig:
        unknown = [t for t in self.offence_types if t not in OFFENCE_TYPES]
        if unknown:
            raise ValueError(
                ERR_UNKNOWN_OFFENCE.format(names=unknown, known=", ".join(OFFENCE_TYPES))
            )
        if not self.offence_types and self.harm_threshold is None:
            raise ValueError(ERR_NO_SEVERE_RULE)
        return self


class RFGConfig(StrictModel):
    """The Recency-Frequency-Gravity score (0-100), the police's own ranking and our baseline.

    Over the last ``window_days`` (default three years) up to the assessment:

    - recency ``R = 1 - min(d, W) / W``, ``d`` = days since the previous DA incident before the
      one being assessed (``R = 0`` when there was none in the window);
    - frequency ``F = min(1, ln(1 + n) / ln(1 + frequency_cap))``, ``n`` = DA incidents;
    - gravity ``G = min(1, ln(1 + h) / ln(1 + gravity_cap_days))``, ``h`` = DA harm days;

    ``rfg_score = 100 * (wR R + wF F + wG G) / (wR + wF + wG)``. Equal weights by default, as
    the MATAC RFG gives each component equal standing; logs damp the long tails of counts and
    harm so that one extreme offence or a burst of minor ones does not swamp the other parts.
    """

    window_days: int = Field(default=1095, ge=1, le=36500)
    weight_recency: float = Field(default=1.0, ge=0)
    weight_frequency: float = Field(default=1.0, ge=0)
    weight_gravity: float = Field(default=1.0, ge=0)
    frequency_cap: int = Field(default=20, ge=1)
    gravity_cap_days: float = Field(default=3650.0, gt=0)

    @model_validator(mode="after")
    def _some_weight(self) -> RFGConfig:
        if self.weight_recency + self.weight_frequency + self.weight_gravity <= 0:
            raise ValueError("rfg: at least one weight must be above zero")
        return self


class FeatureConfig(StrictModel):
    """How index events, features and labels are built.

    Parameters
    ----------
    windows_days : look-back windows for counts and harm (an all-history window is always added)
    features : an explicit list of feature names (``None``: every feature in the catalogue)
    groups : keep only these feature groups (``None``: all); see ``riskmodel.features.GROUPS``
    exclude : feature names to leave out
    exclude_groups : feature groups to leave out; the harm ablation is ``[harm]`` (add
        ``escalation`` and ``rfg``, which also read harm, for a complete one)
    one_index_per : ``"year"`` keeps one index event per person per calendar year, so that
        prolific perpetrators do not dominate; ``None`` keeps every index event
    index_choice : which one is kept: ``random`` (uniform within the person-year, seeded by
        ``seed`` through a keyed hash of the event id, so it does not move when other people's
        events change), ``first`` (the only choice that uses no later information: whether a
        row is kept depends only on the year's earlier events) or ``last`` in the year. Features
        and labels of a kept row are the same whichever rule kept it
    seed : seed of the ``random`` choice
    escalation_k : how many recent DA incidents the harm trend reads
    history_days : the longest look-back of every feature (``None``: all recorded history).
        When set, the ``_all`` features, days since the first DA incident, age at the first
        recorded offence, victims, the harm trend and programme history read back at most this
        many days. A record that began on a fixed date makes every later person look more
        prolific than an earlier one with the same behaviour; a fixed look-back keeps features
        comparable across years once the records are that old (index events earlier than that
        still see a shorter past: train on later ones, as ``experiments/backtest.yaml`` does)
    severe : what makes ``severe_12m``
    rfg : the RFG score's window, weights and caps
    """

    windows_days: tuple[int, ...] = (30, 90, 365, 1095)
    features: tuple[str, ...] | None = None
    groups: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    exclude_groups: tuple[str, ...] = ()
    one_index_per: Literal["year"] | None = None
    index_choice: Literal["random", "first", "last"] = "random"
    seed: int = Field(default=0, ge=0)
    escalation_k: int = Field(default=5, ge=2, le=50)
    history_days: int | None = Field(default=None, ge=1, le=36500)
    severe: SevereConfig = SevereConfig()
    rfg: RFGConfig = RFGConfig()

    @field_validator("windows_days")
    @classmethod
    def _windows(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if not v:
            raise ValueError("give at least one window (days)")
        if any(w < 1 or w > 36500 for w in v):
            raise ValueError("windows must be between 1 and 36500 days")
        if len(set(v)) != len(v):
            raise ValueError("windows must not repeat")
        return tuple(sorted(v))

    @model_validator(mode="after")
    def _history_covers_windows(self) -> FeatureConfig:
        longest = max(*self.windows_days, self.rfg.window_days)
        if self.history_days is not None and self.history_days < longest:
            raise ValueError(
                f"history_days ({self.history_days}) must be at least the longest window, "
                f"RFG's included ({longest} days)"
            )
        return self

    @model_validator(mode="after")
    def _check_features(self) -> FeatureConfig:
        refuse_forbidden(list(self.features or ()))
        available = [
            f.name
            for f in catalogue(
                self.windows_days, escalation_k=self.escalation_k, history_days=self.history_days
            )
        ]
        for key in ("features", "exclude"):
            unknown = [n for n in getattr(self, key) or () if n not in available]
            if unknown:
                raise ValueError(
                    ERR_UNKNOWN_FEATURES.format(
                        names=unknown, key=key, available=", ".join(available)
                    )
                )
        for key in ("groups", "exclude_groups"):
            unknown = [g for g in getattr(self, key) or () if g not in GROUPS]
            if unknown:
                raise ValueError(
                    ERR_UNKNOWN_GROUPS.format(names=unknown, key=key, available=", ".join(GROUPS))
                )
        if not self.feature_names():
            raise ValueError(ERR_NO_FEATURES)
        return self

    def selected(self) -> list:
        """The :class:`FeatureDef` of every feature this configuration keeps, in table order."""
        chosen = []
        for f in catalogue(
            self.windows_days, escalation_k=self.escalation_k, history_days=self.history_days
        ):
            if self.features is not None and f.name not in self.features:
                continue
            if self.groups is not None and f.group not in self.groups:
                continue
            if f.name in self.exclude or f.group in self.exclude_groups:
                continue
            chosen.append(f)
        return chosen

    def feature_names(self) -> list[str]:
        return [f.name for f in self.selected()]


__all__ = [
    "ERR_FORBIDDEN_FEATURE",
    "ERR_NO_FEATURES",
    "ERR_UNKNOWN_FEATURES",
    "ERR_UNKNOWN_GROUPS",
    "FeatureConfig",
    "RFGConfig",
    "SevereConfig",
    "forbidden_reason",
    "refuse_forbidden",
]
