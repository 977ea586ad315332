"""The context a claimed file loads in: the store connection, the cycle, the partners, the stage's appenders,
and the transaction each file's rows and ledger row are committed in (its own, or one shared by small files)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

import duckdb

from pipeline.cycle.inbound import Partner
from pipeline.store import Appender, transaction

SMALL_FILE_BYTES = 1 << 20  # held in memory whole until validated, so a small file can share its commit
FILES_PER_COMMIT = 200


@dataclass
class LoadContext:
    """What loading a file needs. A file loads in its own transaction, except while `grouped_commits` is on: then
    small files share one transaction (up to FILES_PER_COMMIT of them). A commit costs ~10 ms and a cycle can
    bring a thousand e-IWO acknowledgment files of a few lines each; a crash rolls back the whole open group,
    whose files are still claimed and not in the ledger, so the rerun loads them again."""

    con: duckdb.DuckDBPyConnection
    cycle_id: str
    as_of: date
    partners: dict[str, Partner]
    appenders: dict[str, Appender] = field(default_factory=dict)  # per table, for the whole stage
    grouping: bool = False
    group_files: int | None = None  # files in the open group transaction; None: no group open

    def appender(self, table: str) -> Appender:
        if table not in self.appenders:
            self.appenders[table] = Appender(self.con, table)
        return self.appenders[table]

    @contextmanager
    def file_transaction(self, size: int):
        """The transaction one file loads in: the open group's for a small file while grouping, else its own."""
        if not self.in_group(size):
            self.commit_group()
            with transaction(self.con):
                yield
            return
        if self.group_files is None:
            self.con.execute("BEGIN TRANSACTION")
            self.group_files = 0
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            self.group_files = None
            raise
        self.group_files += 1
        if self.group_files >= FILES_PER_COMMIT:
            self.commit_group()

    def commit_group(self) -> None:
        if self.group_files is not None:
            self.con.execute("COMMIT")
            self.group_files = None

    def in_group(self, size: int) -> bool:
        return self.grouping and size <= SMALL_FILE_BYTES

    @contextmanager
    def grouped_commits(self):
        self.grouping = True
        try:
            yield self
            self.commit_group()
        finally:
            self.grouping = False
