"""Intergovernmental Reference Guide: each jurisdiction's profile (addresses per referral kind, contacts,
policies), one version per accepted upload (older versions kept), and the address lookup the outbound
writers use where a response needs one (`irg_address`)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from pipeline.portal.common import PortalContext, issue, staged
from pipeline.portal.submissions import record
from pipeline.store import frame, insert_frame

KIND = "IRG"
ADDRESS_FIELDS = ("address_line_1", "city", "addr_state", "zip")
PROFILE_COLUMNS = (
    "profile_section",
    "item_kind",
    "name",
    "address_line_1",
    "address_line_2",
    "city",
    "addr_state",
    "zip",
    "phone",
    "email",
    "text",
)


def _issues(ctx: PortalContext, part: pl.DataFrame, state: str, file_id: int) -> list[dict]:
    out = []
    addresses = part.filter(pl.col("profile_section") == "ADDRESS")
    for fld in ADDRESS_FIELDS:
        for line in addresses.filter(pl.col(fld).is_null())["line_no"]:
            out.append(
                issue(ctx, file_id, line, state, KIND, fld, "IRG_ADDRESS_INCOMPLETE", f"an ADDRESS item needs {fld}")
            )
    for line in addresses.filter(pl.col("item_kind").is_duplicated())["line_no"]:
        out.append(
            issue(
                ctx, file_id, line, state, KIND, "item_kind", "IRG_DUPLICATE_ADDRESS", "one address per referral kind"
            )
        )
    if addresses.filter(pl.col("item_kind") == "GENERAL").is_empty():
        out.append(
            issue(
                ctx,
                file_id,
                None,
                state,
                KIND,
                "item_kind",
                "IRG_NO_GENERAL_ADDRESS",
                "the profile needs an ADDRESS item of kind GENERAL",
            )
        )
    return out


def process(ctx: PortalContext) -> int:
    """Each accepted profile file of the cycle becomes the jurisdiction's next version."""
    rows, versions = staged(ctx.con, ctx.cycle_id, "irg_profile_csv"), 0
    for (file_id, state), part in rows.group_by("file_id", "submitter", maintain_order=True):
        version = record(ctx, file_id, state, KIND, "PROFILE", _issues(ctx, part, state, file_id), part.height)
        if version is None:
            continue
        insert_frame(
            ctx.con,
            "irg_profiles",
            part.with_columns(pl.col("submitter").alias("jurisdiction"), pl.lit(version).alias("version")),
        )
        versions += 1
    return versions


def latest_version(con: duckdb.DuckDBPyConnection, jurisdiction: str) -> int | None:
    row = con.execute("SELECT max(version) FROM irg_profiles WHERE jurisdiction = ?", [jurisdiction]).fetchone()
    return row[0]


def profile(con: duckdb.DuckDBPyConnection, jurisdiction: str, version: int | None = None) -> pl.DataFrame:
    """One version of a profile (default: the latest) in file order."""
    version = version or latest_version(con, jurisdiction)
    cols = ", ".join(PROFILE_COLUMNS)
    return frame(
        con,
        f"""SELECT jurisdiction, version, cycle_id, {cols} FROM irg_profiles
        WHERE jurisdiction = ? AND version = ? ORDER BY line_no""",
        [jurisdiction, version],
    )


def versions(con: duckdb.DuckDBPyConnection, jurisdiction: str) -> pl.DataFrame:
    return frame(
        con,
        """SELECT version, any_value(cycle_id) AS cycle_id, count(*) AS items FROM irg_profiles
        WHERE jurisdiction = ? GROUP BY version ORDER BY version""",
        [jurisdiction],
    )


def export_csv(con: duckdb.DuckDBPyConnection, jurisdiction: str, out: Path, version: int | None = None) -> int:
    rows = profile(con, jurisdiction, version)
    rows.select(PROFILE_COLUMNS).write_csv(out)
    return rows.height


def irg_address(con: duckdb.DuckDBPyConnection, state: str, referral_kind: str) -> dict | None:
    """The latest profile's address of `state` for a referral kind, falling back to its GENERAL address;
    None when the state has no profile. Keys: name, address_line_1, address_line_2, city, state, zip."""
    row = con.execute(
        """SELECT name, address_line_1, address_line_2, city, addr_state, zip FROM irg_profiles
        WHERE jurisdiction = $1 AND profile_section = 'ADDRESS' AND item_kind IN ($2, 'GENERAL')
          AND version = (SELECT max(version) FROM irg_profiles WHERE jurisdiction = $1)
        ORDER BY item_kind = $2 DESC LIMIT 1""",
        [state, referral_kind.upper()],
    ).fetchone()
    if row is None:
        return None
    return dict(zip(("name", "address_line_1", "address_line_2", "city", "state", "zip"), row))


def irg_contact(
    con: duckdb.DuckDBPyConnection, state: str, kinds: tuple[str, ...] = ("QUICK", "CASE_INQUIRY", "GENERAL")
) -> dict | None:
    """The first CONTACT item of the latest profile among `kinds` (in that order of preference)."""
    order = " ".join(f"WHEN '{k}' THEN {i}" for i, k in enumerate(kinds))
    row = con.execute(
        f"""SELECT item_kind, name, phone, email FROM irg_profiles
        WHERE jurisdiction = $1 AND profile_section = 'CONTACT' AND item_kind IN ({", ".join("?" * len(kinds))})
          AND version = (SELECT max(version) FROM irg_profiles WHERE jurisdiction = $1)
        ORDER BY CASE item_kind {order} END, line_no LIMIT 1""".replace("$1", "?"),
        [state, *kinds, state],
    ).fetchone()
    return dict(zip(("kind", "name", "phone", "email"), row)) if row else None
