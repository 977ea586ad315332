"""The store: one DuckDB database per home, its schema and migrations (`database`), encryption at rest
(`encryption`) and retention (`purge`).

The package exports the database API every stage uses (`from pipeline import store; store.frame(...)`).
May import `pipeline.safeguards`; knows nothing of files or exchanges.
"""

from pipeline.store.access import StoreBusy, home_lock, lock_held, publish_snapshot, snapshot_path
from pipeline.store.database import (
    DB_NAME,
    SCHEMA_VERSION,
    Appender,
    bulk_appends,
    connect,
    connect_reader,
    dump_tables,
    frame,
    insert_frame,
    mark_stage,
    migrate,
    schema_version,
    stage_done,
    table_columns,
    transaction,
)

__all__ = [
    "StoreBusy",
    "home_lock",
    "lock_held",
    "publish_snapshot",
    "snapshot_path",
    "DB_NAME",
    "Appender",
    "SCHEMA_VERSION",
    "bulk_appends",
    "connect",
    "connect_reader",
    "dump_tables",
    "frame",
    "insert_frame",
    "mark_stage",
    "migrate",
    "schema_version",
    "stage_done",
    "table_columns",
    "transaction",
]
