"""Table contracts, I/O with atomic writes, and adapters for external data."""

from riskmodel.data._io import (
    atomic_path,
    read_table,
    write_csv,
    write_json,
    write_parquet,
    write_text,
)

__all__ = ["atomic_path", "read_table", "write_csv", "write_json", "write_parquet", "write_text"]
