"""Table contracts, I/O with atomic writes, and adapters for external data.

- :func:`validate_people`, :func:`validate_events`, :func:`validate_programmes`: the data
  contracts of docs/CONTRACTS.md; invalid rows become rejects with the rule each broke
- :func:`read_extract`: a force's own extract, mapped into the contract by a mapping config
- :func:`read_person_table`: a ready person-level table (e.g. COMPAS) by its table config
- atomic Parquet/CSV/JSON writers and :func:`read_table`
- :func:`iter_world_parts`, :func:`read_world_tables`: a world folder in either layout (one file
  per table, or a partitioned dataset), a partition at a time

Names are imported on first use, so loading a config (which imports the schema) does not pay for
pandas and pyarrow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from riskmodel._lazy import lazy_exports

#: public name -> the private module defining it (``module:attr`` when exported under another
#: name); loaded on first use, so ``riskmodel --help`` and config loading stay light
_WHERE = {
    "ContractError": "_contracts",
    "ContractResult": "_contracts",
    "REJECT_COLUMNS": "_contracts",
    "RULES": "_contracts",
    "arrow_dates": "_contracts",
    "empty_rejects": "_contracts",
    "position_in": "_contracts",
    "validate_events": "_contracts",
    "validate_people": "_contracts",
    "validate_programmes": "_contracts",
    "ExtractMapping": "_external",
    "PersonTableConfig": "_external",
    "load_extract": "_external",
    "read_extract": "_external",
    "read_person_table": "_external",
    "read_raw": "_external:_read_raw",
    "WORLD_TABLES": "_partitions",
    "iter_world_parts": "_partitions",
    "part_name": "_partitions",
    "partition_count": "_partitions",
    "read_world_part": "_partitions",
    "read_world_tables": "_partitions",
    "world_layout": "_partitions",
    "atomic_path": "_io",
    "read_table": "_io",
    "write_csv": "_io",
    "write_json": "_io",
    "write_parquet": "_io",
    "write_text": "_io",
    "MAX_ECHO_CHARS": "_contracts",
    "not_utf8_message": "_contracts",
    "spreadsheet_safe": "_contracts",
    "AREAS": "_schema",
    "ETHNICITIES": "_schema",
    "EVENT_COLUMNS": "_schema",
    "OFFENCE_GROUPS": "_schema",
    "OFFENCE_TYPES": "_schema",
    "PEOPLE_COLUMNS": "_schema",
    "PROGRAMME_COLUMNS": "_schema",
    "RELATIONSHIPS": "_schema",
    "SEVERE_OFFENCE_TYPES": "_schema",
    "SEXES": "_schema",
    "TRUTH_COLUMNS": "_schema",
}

__all__ = [
    "AREAS",
    "MAX_ECHO_CHARS",
    "ContractError",
    "ContractResult",
    "ETHNICITIES",
    "EVENT_COLUMNS",
    "ExtractMapping",
    "OFFENCE_GROUPS",
    "OFFENCE_TYPES",
    "PEOPLE_COLUMNS",
    "PROGRAMME_COLUMNS",
    "PersonTableConfig",
    "REJECT_COLUMNS",
    "RELATIONSHIPS",
    "RULES",
    "SEVERE_OFFENCE_TYPES",
    "SEXES",
    "TRUTH_COLUMNS",
    "WORLD_TABLES",
    "arrow_dates",
    "atomic_path",
    "empty_rejects",
    "load_extract",
    "not_utf8_message",
    "position_in",
    "iter_world_parts",
    "part_name",
    "partition_count",
    "read_extract",
    "read_person_table",
    "read_raw",
    "read_world_part",
    "read_world_tables",
    "read_table",
    "spreadsheet_safe",
    "validate_events",
    "validate_people",
    "validate_programmes",
    "write_csv",
    "write_json",
    "write_parquet",
    "world_layout",
    "write_text",
]

if TYPE_CHECKING:  # pragma: no cover
    from riskmodel.data._contracts import (
        MAX_ECHO_CHARS,
        REJECT_COLUMNS,
        RULES,
        ContractError,
        ContractResult,
        arrow_dates,
        empty_rejects,
        not_utf8_message,
        position_in,
        spreadsheet_safe,
        validate_events,
        validate_people,
        validate_programmes,
    )
    from riskmodel.data._external import (
        ExtractMapping,
        PersonTableConfig,
        load_extract,
        read_extract,
        read_person_table,
    )
    from riskmodel.data._external import (
        _read_raw as read_raw,
    )
    from riskmodel.data._io import (
        atomic_path,
        read_table,
        write_csv,
        write_json,
        write_parquet,
        write_text,
    )
    from riskmodel.data._partitions import (
        WORLD_TABLES,
        iter_world_parts,
        part_name,
        partition_count,
        read_world_part,
        read_world_tables,
        world_layout,
    )
    from riskmodel.data._schema import (
        AREAS,
        ETHNICITIES,
        EVENT_COLUMNS,
        OFFENCE_GROUPS,
        OFFENCE_TYPES,
        PEOPLE_COLUMNS,
        PROGRAMME_COLUMNS,
        RELATIONSHIPS,
        SEVERE_OFFENCE_TYPES,
        SEXES,
        TRUTH_COLUMNS,
    )

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())
