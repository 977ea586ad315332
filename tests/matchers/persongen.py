"""A small vectorised generator of person-schema file pairs with known truth, for tests and benches only.

Stand-in until `synth/` lands. `make_pair(n_left, n_right, overlap, seed, ssn_share, noise)` returns
(left, right, truth): `overlap` of the right rows are noisy copies of distinct left persons; truth holds
(left_id, right_id) for those. Names come from a Zipf-weighted pool (first names from the `nicknames`
list, surnames built from syllables) so common names collide as they do in real data.

Noise per copied record ("realistic" defaults, each independent): first-name typo, nickname, surname
typo, surname change, first/last swap, DOB digit typo, DOB day-month swap, DOB year ±1, DOB missing,
SSN digit typo, SSN transposition, SSN missing, a move (new street, city, ZIP), middle name dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

SYLLABLES = (
    "an bar ber bro ca chan cor da del den do dor el en er fer gar gon ham har hen her hol "
    "in ja jo ka ken kin la lan lee ler li lo lor ma mar mc mer mi mon mor na nel ni no nor "
    "o pa per pe ra ran ri ro rod ros sa san sen shaw ski son sta ste sul ter tho ton tu va "
    "ver vi wa wal wat wil win wood ya yo za zi"
).split()
STREET_TYPES = ("ST", "AVE", "RD", "DR", "LN", "CT", "BLVD", "WAY")
LETTERS = np.array(list("ABCDEFGHIJKLMNOPRSTUVWY"))


@dataclass
class Noise:
    first_typo: float = 0.03
    nickname: float = 0.04
    last_typo: float = 0.03
    last_change: float = 0.02
    swap_names: float = 0.01
    dob_typo: float = 0.02
    dob_swap: float = 0.01
    dob_year: float = 0.01
    dob_missing: float = 0.02
    ssn_typo: float = 0.01
    ssn_swap: float = 0.005
    ssn_missing: float = 0.02
    moved: float = 0.10
    middle_missing: float = 0.3


def _zipf_choice(rng: np.random.Generator, pool: np.ndarray, n: int, a: float = 1.0) -> np.ndarray:
    ranks = np.arange(1, len(pool) + 1, dtype=np.float64)
    p = ranks**-a
    return pool[rng.choice(len(pool), size=n, p=p / p.sum())]


def _syllable_names(rng: np.random.Generator, n: int, parts: tuple[int, int]) -> np.ndarray:
    k = rng.integers(parts[0], parts[1] + 1, size=n)
    syl = np.array(SYLLABLES)
    words = syl[rng.integers(0, len(syl), size=(n, parts[1]))]
    out = ["".join(w[:kk]).upper() for w, kk in zip(words, k)]  # pool building only (≤ 100k)
    return np.unique(np.array(out))


def first_name_pool() -> np.ndarray:
    from matchers.names import nickname_groups

    groups = nickname_groups()
    canon = groups.filter(pl.col("name") == pl.col("group"))["name"].unique().sort()
    return np.array([n for n in canon.to_list() if 3 <= len(n) <= 10])


def base_people(n: int, rng: np.random.Generator) -> pl.DataFrame:
    first_pool = first_name_pool()
    rng.shuffle(first_pool)
    last_pool = _syllable_names(rng, max(2000, n // 4), (2, 3))
    rng.shuffle(last_pool)
    zips = np.unique(rng.integers(1000, 99999, size=min(40000, max(300, n // 3))))
    cities = _syllable_names(rng, max(100, len(zips) // 2), (2, 3))
    zip_city = cities[rng.integers(0, len(cities), size=len(zips))]
    streets = _syllable_names(rng, 5000, (1, 2))
    zi = rng.integers(0, len(zips), size=n)
    area = rng.integers(1, 900, size=n)
    area = np.where(area == 666, 667, area)
    ssn = area * 1_000_000 + rng.integers(1, 100, size=n) * 10_000 + rng.integers(1, 10_000, size=n)
    dob = np.datetime64("1940-01-01") + rng.integers(0, 65 * 365, size=n).astype("timedelta64[D]")
    sex = rng.choice(np.array(["M", "F"]), size=n)
    return pl.DataFrame(
        {
            "pid": np.arange(n),
            "ssn": pl.Series(ssn).cast(pl.Utf8).str.zfill(9),
            "first_name": _zipf_choice(rng, first_pool, n, 0.9),
            "middle_name": _zipf_choice(rng, first_pool, n, 0.9),
            "last_name": _zipf_choice(rng, last_pool, n, 0.8),
            "dob": pl.Series(dob).cast(pl.Date),
            "sex": sex,
            "street": pl.Series(rng.integers(1, 9999, size=n)).cast(pl.Utf8)
            + " "
            + pl.Series(streets[rng.integers(0, len(streets), size=n)])
            + " "
            + pl.Series(rng.choice(np.array(STREET_TYPES), size=n)),
            "city": zip_city[zi],
            "state": rng.choice(np.array(["KS", "MO", "OK", "TX", "CA", "NY"]), size=n),
            "zip": pl.Series(zips[zi]).cast(pl.Utf8).str.zfill(5),
        }
    )


def _typo(col: str, mask: np.ndarray, rng: np.random.Generator) -> pl.Expr:
    """Substitute one character at a random position where mask is true."""
    n = len(mask)
    pos = pl.Series(rng.random(n))
    letter = pl.Series(LETTERS[rng.integers(0, len(LETTERS), size=n)])
    c = pl.col(col)
    at = (pos * c.str.len_chars().cast(pl.Float64)).floor().cast(pl.Int64)
    typo = c.str.slice(0, at) + pl.lit(letter) + c.str.slice(at + 1)
    return pl.when(pl.lit(pl.Series(mask))).then(typo).otherwise(c).alias(col)


def _digit_typo(col: str, mask: np.ndarray, rng: np.random.Generator, width: int) -> pl.Expr:
    n = len(mask)
    at = pl.Series(rng.integers(0, width, size=n))
    digit = pl.Series(rng.integers(0, 10, size=n)).cast(pl.Utf8)
    c = pl.col(col)
    typo = c.str.slice(0, pl.lit(at)) + pl.lit(digit) + c.str.slice(pl.lit(at) + 1)
    return pl.when(pl.lit(pl.Series(mask))).then(typo).otherwise(c).alias(col)


def _swap_digits(col: str, mask: np.ndarray, rng: np.random.Generator, width: int) -> pl.Expr:
    at = pl.lit(pl.Series(rng.integers(0, width - 1, size=len(mask))))
    c = pl.col(col)
    swapped = c.str.slice(0, at) + c.str.slice(at + 1, 1) + c.str.slice(at, 1) + c.str.slice(at + 2)
    return pl.when(pl.lit(pl.Series(mask))).then(swapped).otherwise(c).alias(col)


def noisy_copy(people: pl.DataFrame, rng: np.random.Generator, noise: Noise) -> pl.DataFrame:
    n = people.height
    m = {k: rng.random(n) < getattr(noise, k) for k in Noise.__dataclass_fields__}
    nick = first_name_pool()  # a nickname stand-in: another name sharing the group is costly; use the list
    from matchers.names import nickname_groups

    groups = nickname_groups()
    nick_map = (
        groups.filter(pl.col("name") != pl.col("group"))
        .group_by("group")
        .agg(pl.col("name").first())
        .rename({"group": "first_name", "name": "_nick"})
    )
    del nick
    out = people.with_columns(pl.col("dob").dt.strftime("%Y%m%d").alias("dob"))
    out = out.join(nick_map, on="first_name", how="left", maintain_order="left")
    out = out.with_columns(
        pl.when(pl.lit(pl.Series(m["nickname"])) & pl.col("_nick").is_not_null())
        .then(pl.col("_nick"))
        .otherwise(pl.col("first_name"))
        .alias("first_name")
    ).drop("_nick")
    new_last = people["last_name"].sample(n, with_replacement=True, seed=int(rng.integers(1 << 30)))
    out = out.with_columns(
        _typo("first_name", m["first_typo"], rng),
        _typo("last_name", m["last_typo"], rng),
        _digit_typo("dob", m["dob_typo"], rng, 8),
        _digit_typo("ssn", m["ssn_typo"], rng, 9),
    ).with_columns(
        pl.when(pl.lit(pl.Series(m["last_change"])) & (pl.col("sex") == "F"))
        .then(pl.lit(new_last))
        .otherwise(pl.col("last_name"))
        .alias("last_name"),
        _swap_digits("ssn", m["ssn_swap"], rng, 9),
        pl.when(pl.lit(pl.Series(m["dob_swap"])))
        .then(pl.col("dob").str.slice(0, 4) + pl.col("dob").str.slice(6, 2) + pl.col("dob").str.slice(4, 2))
        .when(pl.lit(pl.Series(m["dob_year"])))
        .then((pl.col("dob").str.slice(0, 4).cast(pl.Int32) + 1).cast(pl.Utf8) + pl.col("dob").str.slice(4))
        .otherwise(pl.col("dob"))
        .alias("dob"),
    )
    moved = people.sample(n, with_replacement=True, seed=int(rng.integers(1 << 30)))
    mv = pl.lit(pl.Series(m["moved"]))
    out = out.with_columns(
        pl.when(pl.lit(pl.Series(m["swap_names"])))
        .then(pl.col("last_name"))
        .otherwise(pl.col("first_name"))
        .alias("first_name"),
        pl.when(pl.lit(pl.Series(m["swap_names"])))
        .then(pl.col("first_name"))
        .otherwise(pl.col("last_name"))
        .alias("last_name"),
        pl.when(pl.lit(pl.Series(m["dob_missing"]))).then(None).otherwise(pl.col("dob")).alias("dob"),
        pl.when(pl.lit(pl.Series(m["ssn_missing"]))).then(None).otherwise(pl.col("ssn")).alias("ssn"),
        pl.when(pl.lit(pl.Series(m["middle_missing"])))
        .then(None)
        .otherwise(pl.col("middle_name"))
        .alias("middle_name"),
        *[pl.when(mv).then(pl.lit(moved[c])).otherwise(pl.col(c)).alias(c) for c in ("street", "city", "zip")],
    )
    return out


def make_pair(
    n_left: int, n_right: int, overlap: float = 0.5, seed: int = 7, ssn_share: float = 1.0, noise: Noise | None = None
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(left, right, truth) person-schema frames; see module doc."""
    rng = np.random.default_rng(seed)
    noise = noise or Noise()
    n_copy = int(min(n_left, n_right * overlap))
    people = base_people(n_left + (n_right - n_copy), rng)
    left = people.slice(0, n_left)
    copied = noisy_copy(left.sample(n_copy, seed=seed, shuffle=True), rng, noise)
    fresh = people.slice(n_left).with_columns(pl.col("dob").dt.strftime("%Y%m%d"))
    right = pl.concat([copied, fresh]).sample(fraction=1.0, shuffle=True, seed=seed + 1)
    left = left.with_columns(pl.format("L{}", pl.col("pid")).alias("id"), pl.col("dob").dt.strftime("%Y-%m-%d"))
    right = right.with_row_index("_n").with_columns(pl.format("R{}", pl.col("_n")).alias("id"))
    truth = right.filter(pl.col("pid") < n_left).select(
        pl.format("L{}", pl.col("pid")).alias("left_id"), pl.col("id").alias("right_id")
    )
    cols = ["id", "ssn", "first_name", "middle_name", "last_name", "dob", "sex", "street", "city", "state", "zip"]
    if ssn_share < 1.0:
        keep_l = pl.lit(pl.Series(rng.random(left.height) < ssn_share))
        keep_r = pl.lit(pl.Series(rng.random(right.height) < ssn_share))
        left = left.with_columns(pl.when(keep_l).then(pl.col("ssn")).alias("ssn"))
        right = right.with_columns(pl.when(keep_r).then(pl.col("ssn")).alias("ssn"))
    return left.select(cols), right.select(cols), truth
