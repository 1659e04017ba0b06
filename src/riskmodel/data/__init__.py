"""Table contracts, I/O with atomic writes, and adapters for external data.

- :func:`validate_people`, :func:`validate_events`, :func:`validate_programmes`: the data
  contracts of docs/CONTRACTS.md; invalid rows become rejects with the rule each broke
- :func:`read_extract`: a force's own extract, mapped into the contract by a mapping config
- :func:`read_person_table`: a ready person-level table (e.g. COMPAS) by its table config
- atomic Parquet/CSV/JSON writers and :func:`read_table`

Names are imported on first use, so loading a config (which imports the schema) does not pay for
pandas and pyarrow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from riskmodel._lazy import lazy_exports

_WHERE = {
    "atomic_path": "_io",
    "read_table": "_io",
    "write_csv": "_io",
    "write_json": "_io",
    "write_parquet": "_io",
    "write_text": "_io",
    "REJECT_COLUMNS": "_contracts",
    "RULES": "_contracts",
    "ContractError": "_contracts",
    "ContractResult": "_contracts",
    "validate_events": "_contracts",
    "validate_people": "_contracts",
    "validate_programmes": "_contracts",
    "spreadsheet_safe": "_contracts",
    "not_utf8_message": "_contracts",
    "MAX_ECHO_CHARS": "_contracts",
    "ExtractMapping": "_external",
    "PersonTableConfig": "_external",
    "read_extract": "_external",
    "read_person_table": "_external",
    "AREAS": "_schema",
    "OFFENCE_GROUPS": "_schema",
    "OFFENCE_TYPES": "_schema",
}

__all__ = [
    "AREAS",
    "OFFENCE_GROUPS",
    "OFFENCE_TYPES",
    "REJECT_COLUMNS",
    "RULES",
    "ContractError",
    "ContractResult",
    "ExtractMapping",
    "PersonTableConfig",
    "atomic_path",
    "read_extract",
    "read_person_table",
    "read_table",
    "spreadsheet_safe",
    "not_utf8_message",
    "MAX_ECHO_CHARS",
    "validate_events",
    "validate_people",
    "validate_programmes",
    "write_csv",
    "write_json",
    "write_parquet",
    "write_text",
]

if TYPE_CHECKING:  # pragma: no cover
    from riskmodel.data._contracts import (
        MAX_ECHO_CHARS,
        REJECT_COLUMNS,
        RULES,
        ContractError,
        ContractResult,
        spreadsheet_safe,
        validate_events,
        validate_people,
        validate_programmes,
    )
    from riskmodel.data._external import (
        ExtractMapping,
        PersonTableConfig,
        read_extract,
        read_person_table,
    )
    from riskmodel.data._io import (
        atomic_path,
        read_table,
        write_csv,
        write_json,
        write_parquet,
        write_text,
    )
    from riskmodel.data._schema import AREAS, OFFENCE_GROUPS, OFFENCE_TYPES


__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())
