"""A QW file's employers: the employer record (E4) of each wage record (QW), joined as wage records load."""

from __future__ import annotations

import duckdb
import polars as pl

QW_EMPLOYER = (
    "employer_name",
    "employer_address_line_1",
    "employer_address_line_2",
    "employer_city",
    "employer_state",
    "employer_zip",
)
QW_KEY = ["employer_fein", "reporting_period"]


class QwEmployers:
    """A QW file's employer records (E4), the first one per (FEIN, period) in line order, joined to the wage
    records (QW) as they are appended: a wage record takes its employer's name and address. The E4 records
    of a batch reach the sink before its QW records, so a wage record finds every E4 of an earlier line; one
    whose first E4 comes later in the file is mended at the end of the file (`attach_qw_employers`)."""

    def __init__(self):
        self.first = pl.DataFrame(schema={k: pl.Utf8 for k in (*QW_KEY, *QW_EMPLOYER)})
        self.unmatched: set[tuple] = set()  # keys of wage records appended before any E4 of theirs

    def add(self, frame: pl.DataFrame) -> None:
        new = frame.select(*QW_KEY, *QW_EMPLOYER).unique(QW_KEY, keep="first", maintain_order=True)
        self.first = pl.concat([self.first, new.join(self.first, on=QW_KEY, how="anti", nulls_equal=True)])

    def attach(self, frame: pl.DataFrame) -> pl.DataFrame:
        joined = frame.drop(QW_EMPLOYER, strict=False).join(self.first, on=QW_KEY, how="left", maintain_order="left")
        missing = joined.filter(pl.col("employer_name").is_null()).select(QW_KEY).unique()
        self.unmatched |= set(missing.iter_rows())
        return joined

    def mend(self) -> bool:
        """Whether some wage record was appended before the first E4 of its employer (then the UPDATE runs)."""
        if not self.unmatched:
            return False
        return bool(set(self.first.select(QW_KEY).iter_rows()) & self.unmatched)


def attach_qw_employers(con: duckdb.DuckDBPyConnection, file_id: int) -> None:
    con.execute(
        """
        UPDATE ndnh SET employer_name = e.employer_name, employer_address_line_1 = e.employer_address_line_1,
            employer_address_line_2 = e.employer_address_line_2, employer_city = e.employer_city,
            employer_state = e.employer_state, employer_zip = e.employer_zip
        FROM (SELECT * FROM ndnh_employers WHERE file_id = ?
              QUALIFY row_number() OVER (PARTITION BY employer_fein, reporting_period ORDER BY line_no) = 1) e
        WHERE ndnh.file_id = ? AND ndnh.employer_fein = e.employer_fein
          AND ndnh.reporting_period = e.reporting_period""",
        [file_id, file_id],
    )
