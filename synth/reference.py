"""Reference tables the synthetic world is drawn from: names with census frequencies, nicknames,
states, cities, streets and business words. Everything is a polars frame or a plain tuple, loaded once.

Sources:
- first names and surnames with frequencies: the `names` package (PyPI), which ships the 1990 US Census
  files dist.male.first (1,219 names), dist.female.first (4,275) and dist.all.last (88,799; the
  18,839 with a non-zero published frequency are used, covering about 90% of the population);
- nicknames: the `nicknames` package (formal name -> nickname pairs, e.g. WILLIAM -> BILL);
- states, FIPS codes, ZIP ranges and cities: synth/data/*.csv (see synth/data/README.md).
"""

from __future__ import annotations

import zlib
from functools import cache
from importlib.resources import files
from pathlib import Path

import numpy as np
import polars as pl

DATA = Path(__file__).resolve().parent / "data"


def rng(seed: int, stream: str) -> np.random.Generator:
    """An independent, reproducible random stream per (seed, purpose): adding a stream never shifts another."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(stream.encode())]))


def _census_file(name: str) -> pl.DataFrame:
    text = files("names").joinpath(name).read_text()
    rows = [line.split() for line in text.splitlines() if line.strip()]
    frame = pl.DataFrame({"name": [r[0] for r in rows], "freq": [float(r[1]) for r in rows]})
    # Names the NDNH rules allow: A-Z and hyphen only (census spellings already are).
    return frame.filter((pl.col("freq") > 0) & pl.col("name").str.contains(r"^[A-Z][A-Z\-]*$"))


@cache
def first_names(sex: str) -> pl.DataFrame:
    """name, p (probability) for 'M' or 'F'."""
    frame = _census_file("dist.male.first" if sex == "M" else "dist.female.first")
    return frame.with_columns((pl.col("freq") / pl.col("freq").sum()).alias("p")).select("name", "p")


@cache
def surnames() -> pl.DataFrame:
    frame = _census_file("dist.all.last").filter(pl.col("name").str.len_chars() <= 20)
    return frame.with_columns((pl.col("freq") / pl.col("freq").sum()).alias("p")).select("name", "p")


def sample_names(table: pl.DataFrame, gen: np.random.Generator, n: int) -> pl.Series:
    """n names drawn with the table's census frequencies (vectorised inverse-CDF sampling)."""
    cdf = np.cumsum(table.get_column("p").to_numpy())
    idx = np.searchsorted(cdf, gen.random(n) * cdf[-1], side="right").clip(0, table.height - 1)
    return table.get_column("name").gather(idx)


@cache
def nickname_table() -> pl.DataFrame:
    """name -> list of nicknames (upper case), restricted to names the census lists."""
    import nicknames

    with nicknames.with_names_csv_path() as path:
        pairs = pl.read_csv(path)
    known = pl.concat([first_names("M"), first_names("F")]).get_column("name").unique()
    return (
        pairs.filter(pl.col("relationship") == "has_nickname")
        .select(pl.col("name1").str.to_uppercase().alias("name"), pl.col("name2").str.to_uppercase().alias("nick"))
        .filter(
            pl.col("name").is_in(known.implode())
            & pl.col("nick").str.contains(r"^[A-Z]{2,16}$")
            & (pl.col("name") != pl.col("nick"))
        )
        .unique(maintain_order=True)
        .sort("name", "nick")
        .group_by("name", maintain_order=True)
        .agg(pl.col("nick").alias("nicks"))
    )


@cache
def states() -> pl.DataFrame:
    return pl.read_csv(
        DATA / "states.csv", schema_overrides={"fips": pl.Utf8, "zip3_lo": pl.Int32, "zip3_hi": pl.Int32}
    )


def state_fips(usps: str) -> str:
    row = states().filter(pl.col("usps") == usps)
    if row.is_empty():
        raise KeyError(usps)
    return row.get_column("fips")[0]


GENERIC_TOWNS = (
    "SPRINGFIELD",
    "FRANKLIN",
    "CLINTON",
    "GREENVILLE",
    "MADISON",
    "GEORGETOWN",
    "SALEM",
    "FAIRVIEW",
    "MARION",
    "RIVERSIDE",
    "CENTERVILLE",
    "MILTON",
)


@cache
def cities() -> pl.DataFrame:
    """state, city, zip3, zip (5-digit base) for every state in states.csv."""
    listed = pl.read_csv(DATA / "cities.csv", schema_overrides={"zip": pl.Utf8})
    have = set(listed.get_column("state").unique().to_list())
    extra = []
    for usps, lo, hi in states().select("usps", "zip3_lo", "zip3_hi").iter_rows():
        if usps in have:
            continue
        for i, town in enumerate(GENERIC_TOWNS):
            zip3 = lo + (i * 7) % (hi - lo + 1)
            extra.append({"state": usps, "city": town, "zip": f"{zip3:03d}{(i * 13) % 90 + 1:02d}"})
    frame = pl.concat([listed, pl.DataFrame(extra, schema=listed.schema)]) if extra else listed
    return frame.with_columns(
        pl.int_range(pl.len()).over("state").alias("rank"),
    ).with_columns((1.0 / (pl.col("rank") + 1.5)).alias("w"))


STREETS = (
    "MAIN",
    "OAK",
    "PINE",
    "MAPLE",
    "CEDAR",
    "ELM",
    "WASHINGTON",
    "LAKE",
    "HILL",
    "PARK",
    "WALNUT",
    "SPRUCE",
    "RIDGE",
    "CHURCH",
    "JEFFERSON",
    "LINCOLN",
    "MADISON",
    "JACKSON",
    "FRANKLIN",
    "HIGHLAND",
    "SUNSET",
    "RIVER",
    "MILL",
    "CENTER",
    "FOREST",
    "MEADOW",
    "DOGWOOD",
    "HICKORY",
    "WILLOW",
    "CHERRY",
    "1ST",
    "2ND",
    "3RD",
    "4TH",
    "5TH",
    "6TH",
    "7TH",
    "8TH",
    "9TH",
    "10TH",
    "MARKET",
    "COLLEGE",
    "PRAIRIE",
    "BROADWAY",
    "MULBERRY",
    "SYCAMORE",
    "CHESTNUT",
    "POPLAR",
    "LAUREL",
    "BIRCH",
)
STREET_SUFFIXES = ("ST", "AVE", "RD", "DR", "LN", "BLVD", "CT", "WAY", "PL", "CIR")
BUSINESS_PREFIXES = (
    "PRAIRIE",
    "HEARTLAND",
    "SUMMIT",
    "RED RIVER",
    "LONE STAR",
    "GATEWAY",
    "FRONTIER",
    "PIONEER",
    "CENTRAL",
    "MIDWEST",
    "GREAT PLAINS",
    "OZARK",
    "SOONER",
    "SUNFLOWER",
    "BLUE STEM",
    "CROSSROADS",
)
INDUSTRIES = (
    "CONSTRUCTION",
    "PLUMBING",
    "ELECTRIC",
    "FOODS",
    "LOGISTICS",
    "MANUFACTURING",
    "HEALTH SERVICES",
    "STAFFING",
    "RETAIL",
    "MOTORS",
    "FARMS",
    "DENTAL",
    "TRUCKING",
    "ROOFING",
    "LANDSCAPING",
    "SOFTWARE",
    "HOSPITALITY",
    "CLEANING",
    "AUTO REPAIR",
    "PHARMACY",
    "HOME CARE",
    "MACHINE WORKS",
)
BUSINESS_SUFFIXES = ("INC", "LLC", "CO", "CORP", "LP")
BANK_KINDS = (
    "FIRST NATIONAL BANK",
    "COMMUNITY BANK",
    "STATE BANK",
    "SAVINGS BANK",
    "FEDERAL CREDIT UNION",
    "BANK AND TRUST",
)
INSURER_KINDS = ("MUTUAL INSURANCE CO", "CASUALTY CO", "LIFE INSURANCE CO", "INDEMNITY CO", "AUTO INSURANCE CO")
# Employer Identification Number prefixes the IRS assigns (campus / internet prefixes).
EIN_PREFIXES = tuple(
    list(range(10, 17))
    + list(range(20, 28))
    + list(range(30, 40))
    + list(range(41, 49))
    + list(range(50, 69))
    + list(range(71, 78))
    + list(range(80, 89))
    + list(range(90, 96))
    + [98, 99]
)


def pick(values: tuple[str, ...] | list[str], idx: np.ndarray) -> pl.Series:
    """Vectorised lookup of words by index."""
    return pl.Series(values=list(values), dtype=pl.Utf8).gather(idx)
