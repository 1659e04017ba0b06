"""The vocabulary of the world tables (docs/CONTRACTS.md): columns, types and allowed categories.

One place for the offence types and their groups, the areas and the person categories, so the
contracts, the feature builder and the synthetic world cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

#: offence_type -> (offence group used by features, is a DA offence)
OFFENCE_TYPES: dict[str, tuple[str, bool]] = {
    "violence_with_injury": ("da_violence", True),
    "violence_without_injury": ("da_violence", True),
    "serious_violence": ("da_violence", True),
    "threats": ("da_nonviolent", True),
    "criminal_damage": ("da_nonviolent", True),
    "coercive_control": ("coercive_control", True),
    "stalking_harassment": ("stalking_harassment", True),
    "breach_of_order": ("breach", True),
    "sexual_offence": ("sexual", True),
    "nonda_violence": ("nonda_violence", False),
    "nonda_other": ("other", False),
}

#: offence groups in the order features list them
OFFENCE_GROUPS: tuple[str, ...] = (
    "da_violence",
    "da_nonviolent",
    "coercive_control",
    "stalking_harassment",
    "breach",
    "sexual",
    "nonda_violence",
    "other",
)

#: offences that make ``severe_12m`` by default (the 'dangerously violent' notion)
SEVERE_OFFENCE_TYPES: tuple[str, ...] = ("serious_violence", "sexual_offence")

SEXES: tuple[str, ...] = ("female", "male")
ETHNICITIES: tuple[str, ...] = ("white", "asian", "black", "mixed", "other")
RELATIONSHIPS: tuple[str, ...] = ("partner", "ex_partner", "family", "adolescent_to_parent")
AREAS: tuple[str, ...] = (
    "Ashford",
    "Canterbury",
    "Dartford",
    "Dover",
    "Folkestone and Hythe",
    "Gravesham",
    "Maidstone",
    "Medway",
    "Sevenoaks",
    "Swale",
    "Thanet",
    "Tonbridge and Malling",
    "Tunbridge Wells",
)


@dataclass(frozen=True)
class Column:
    """One contract column.

    kind : ``id`` (text key), ``str`` (text, optionally from ``categories``), ``date``, ``bool``,
        ``float`` or ``int``
    required : a null value breaks the ``missing_value`` rule
    categories : allowed values (``None``: any text)
    """

    name: str
    kind: str
    required: bool = True
    categories: tuple[str, ...] | None = None


PEOPLE_COLUMNS: tuple[Column, ...] = (
    Column("person_id", "id"),
    Column("birth_date", "date"),
    Column("sex", "str", categories=SEXES),
    Column("ethnicity", "str", categories=ETHNICITIES),
    Column("area", "str", categories=AREAS),
    Column("disability", "bool"),
    Column("mental_health", "bool"),
    Column("substance_misuse", "bool"),
)

EVENT_COLUMNS: tuple[Column, ...] = (
    Column("event_id", "id"),
    Column("date", "date"),
    Column("perpetrator_id", "id"),
    # required for DA events only (checked as a rule): non-DA offences may have no personal victim
    Column("victim_id", "id", required=False),
    Column("offence_type", "str", categories=tuple(OFFENCE_TYPES)),
    Column("harm_days", "float"),
    Column("is_da", "bool"),
    Column("relationship", "str", required=False, categories=RELATIONSHIPS),
    Column("area", "str", categories=AREAS),
)

PROGRAMME_COLUMNS: tuple[Column, ...] = (
    Column("person_id", "id"),
    Column("referral_date", "date"),
    Column("start_date", "date", required=False),
    Column("completed", "bool"),
    Column("completion_date", "date", required=False),
)

TRUTH_COLUMNS: tuple[str, ...] = (
    "event_id",
    "person_id",
    "date",
    "p_reoffend_12m",
    "p_severe_12m",
    "true_incidents_12m",
    "recorded_reoffend_12m",
    "followup_complete",
    "recorded_incidents_12m",
    "equal_recording_incidents_12m",
)
