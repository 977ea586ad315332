"""Name normalisation: ASCII folding, punctuation, suffixes, multi-part surnames, nicknames, phonetics.

Everything is a polars expression over a column, except the two lookups that need Python libraries
(`nicknames`, `jellyfish`): those run once per *distinct* name (unique → map → join back), never per
row, so a million rows with 60,000 distinct surnames cost 60,000 calls.

Normal form of a name field: upper-case ASCII letters and single spaces; hyphens, apostrophes and
periods removed ("O'Brien" → "OBRIEN", "Smith-Jones" → "SMITH JONES"); trailing generational suffixes
(JR SR II III IV) dropped when another token remains. The comparison key (`*_key`) is the normal form
without spaces, so "SMITH-JONES", "SMITH JONES" and "SMITHJONES" compare equal; the parts list keeps
each token of three letters or more for "one surname part matches" comparisons.
"""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path

import jellyfish
import polars as pl
import yaml

SUFFIXES = ("JR", "SR", "II", "III", "IV")
_SUFFIX_TAIL = r"(\s+(" + "|".join(SUFFIXES) + r"))+$"
MIN_PART_LENGTH = 3


def fold_expr(column: str | pl.Expr) -> pl.Expr:
    """Upper-case ASCII: NFKD decomposition, accents dropped, anything else non-ASCII removed."""
    col = pl.col(column) if isinstance(column, str) else column
    return col.cast(pl.Utf8).str.normalize("NFKD").str.replace_all(r"[^\x00-\x7F]", "").str.to_uppercase()


def normal_name_expr(column: str | pl.Expr) -> pl.Expr:
    """Normal form of a name field (see module doc); blank becomes null."""
    text = (
        fold_expr(column)
        .str.replace_all(r"['.`]", "")  # O'BRIEN → OBRIEN, ST. → ST
        .str.replace_all(r"[^A-Z]+", " ")  # hyphens, commas, digits → space
        .str.strip_chars()
    )
    # Drop suffixes only where something precedes them ("JR" alone stays a name).
    text = text.str.replace(_SUFFIX_TAIL, "")
    return pl.when(text == "").then(None).otherwise(text)


@cache
def placeholder_names(role: str) -> list[str]:
    """Placeholder values for a name field (`first_name`, `middle_name`, `last_name`): placeholder_names.yaml."""
    table = yaml.safe_load((Path(__file__).with_name("placeholder_names.yaml")).read_text())
    return sorted({*table["any"], *table.get(role, [])})


def person_name_expr(column: str | pl.Expr, role: str) -> pl.Expr:
    """Normal form of a person's name field; a placeholder (UNKNOWN, BABY BOY, NFN...) becomes null."""
    text = normal_name_expr(column)
    return pl.when(text.is_in(placeholder_names(role))).then(None).otherwise(text)


def name_key_expr(normal: str | pl.Expr) -> pl.Expr:
    """Comparison key: the normal form without spaces."""
    col = pl.col(normal) if isinstance(normal, str) else normal
    return col.str.replace_all(" ", "")


def name_parts_expr(normal: str | pl.Expr) -> pl.Expr:
    """Tokens of at least three letters (surname parts: "GARCIA LOPEZ" → [GARCIA, LOPEZ])."""
    col = pl.col(normal) if isinstance(normal, str) else normal
    return col.str.split(" ").list.eval(pl.element().filter(pl.element().str.len_chars() >= MIN_PART_LENGTH))


# --- nicknames -------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def nickname_groups() -> pl.DataFrame:
    """(name, group) rows: every canonical name is its own group; a nickname belongs to the group of
    each of its canonical names. Two first names are "nickname-equivalent" when they share a group.
    Built once per process from the `nicknames` package."""
    from nicknames import NickNamer

    namer = NickNamer()
    rows: dict[str, set[str]] = {}
    for canonical, nicks in namer.nickname_lookup.items():
        rows.setdefault(canonical, set()).add(canonical)
        for nick in nicks:
            rows.setdefault(nick, set()).add(canonical)
    names, groups = [], []
    for name, canon in rows.items():
        for group in canon:
            names.append(name.upper())
            groups.append(group.upper())
    return pl.DataFrame({"name": names, "group": groups}).unique()


@lru_cache(maxsize=1)
def canonical_names() -> pl.DataFrame:
    """(name, canonical): one canonical first name per known name, for blocking keys.

    A name that is itself canonical in the list maps to itself (MARY → MARY, although MARY is also
    listed as a nickname of MARIETTA); a pure nickname maps to the canonical sharing its initial
    (PEGGY → MARGARET has none, so the largest group wins), ties alphabetical; names unknown to the
    list map to themselves. The nickname *comparison* does not use this single key: it uses the
    full group overlap (`nickname_equivalent`), so BILL ~ WILLIAM even though BILL → BILL here."""
    groups = nickname_groups()
    size = groups.group_by("group").len("group_size")
    ranked = (
        groups.join(size, on="group")
        .with_columns(
            own=pl.col("name") == pl.col("group"),
            same_initial=pl.col("name").str.slice(0, 1) == pl.col("group").str.slice(0, 1),
        )
        .sort(["name", "own", "same_initial", "group_size", "group"], descending=[False, True, True, True, False])
    )
    return ranked.group_by("name", maintain_order=True).first().select("name", pl.col("group").alias("canonical"))


def nickname_equivalent(pairs: pl.DataFrame, a: str, b: str) -> pl.Series:
    """Boolean per row of `pairs`: names in columns a and b share a nickname group (or are equal).

    Evaluated once per distinct (a, b) pair, joined back on 64-bit hashes of the two names."""
    groups = nickname_groups()
    keys = pairs.select(pl.col(a).hash(1).alias("_ha"), pl.col(b).hash(2).alias("_hb"), a, b)
    distinct = keys.drop_nulls().unique(["_ha", "_hb"])
    hits = (
        distinct.join(groups.rename({"name": a, "group": "_g"}), on=a)
        .join(groups.rename({"name": b, "group": "_g"}), on=[b, "_g"])
        .select("_ha", "_hb")
        .unique()
        .with_columns(_nick=pl.lit(True))
    )
    joined = keys.select("_ha", "_hb").join(hits, on=["_ha", "_hb"], how="left", maintain_order="left")
    return (joined["_nick"].fill_null(False) | (pairs[a] == pairs[b]).fill_null(False)).alias("nickname")


# --- phonetic keys, once per distinct value --------------------------------------------------

PHONETICS = {
    "nysiis": jellyfish.nysiis,
    "soundex": jellyfish.soundex,
    "metaphone": jellyfish.metaphone,
}


def phonetic_table(values: pl.Series, kinds: tuple[str, ...] = ("nysiis", "soundex", "metaphone")) -> pl.DataFrame:
    """One row per distinct non-null value: `value` plus one column per phonetic key."""
    distinct = values.drop_nulls().unique().to_list()
    data: dict[str, list[str]] = {"value": distinct}
    for kind in kinds:
        encode = PHONETICS[kind]
        data[kind] = [encode(v) for v in distinct]  # once per distinct name, not per row
    return pl.DataFrame(data, schema={"value": pl.Utf8, **{k: pl.Utf8 for k in kinds}})


def add_phonetics(frame: pl.DataFrame, column: str, prefix: str, kinds: tuple[str, ...]) -> pl.DataFrame:
    """Join phonetic keys of `column` back onto `frame` as `<prefix>_<kind>` columns."""
    table = phonetic_table(frame[column], kinds).rename({"value": column, **{k: f"{prefix}_{k}" for k in kinds}})
    return frame.join(table, on=column, how="left", maintain_order="left")


def add_canonical(frame: pl.DataFrame, column: str, out: str) -> pl.DataFrame:
    """Join the canonical first name (the name itself when unknown to the nickname list)."""
    table = canonical_names().rename({"name": column, "canonical": out})
    return frame.join(table, on=column, how="left", maintain_order="left").with_columns(
        pl.coalesce(out, column).alias(out)
    )


def per_distinct_value(frame: pl.DataFrame, column: str, outputs: dict[str, pl.Expr]) -> pl.DataFrame:
    """Add `outputs` (expressions over column "v") computed once per distinct value of `column` and
    joined back: a million rows with 20,000 distinct first names run the regular expressions 20,000 times."""
    table = frame.select(pl.col(column).cast(pl.Utf8).alias("v")).unique().drop_nulls()
    table = table.with_columns(**outputs).rename({"v": column})
    out = frame.with_columns(pl.col(column).cast(pl.Utf8)).join(table, on=column, how="left", maintain_order="left")
    return out


def normalise_names(frame: pl.DataFrame) -> pl.DataFrame:
    """Add normalised name columns to a person-schema frame.

    fn / mn / ln: normal forms (placeholders such as UNKNOWN or BABY BOY are blank); fn_key / ln_key: without spaces; ln_parts: surname parts;
    fn_canon: canonical first name; fn_nysiis, fn_soundex, ln_nysiis, ln_soundex, ln_metaphone."""
    first, last = person_name_expr("v", "first_name"), person_name_expr("v", "last_name")
    out = per_distinct_value(
        frame,
        "first_name",
        {
            "fn": first,
            # "MARY ANN" as a first name: key keeps both; the first token is what nicknames know.
            "fn_key": name_key_expr(first),
            "fn_first": first.str.split(" ").list.first(),
        },
    )
    out = per_distinct_value(out, "middle_name", {"mn": person_name_expr("v", "middle_name")})
    out = per_distinct_value(
        out, "last_name", {"ln": last, "ln_key": name_key_expr(last), "ln_parts": name_parts_expr(last)}
    )
    out = add_canonical(out, "fn_first", "fn_canon")
    out = add_phonetics(out, "fn_key", "fn", ("nysiis", "soundex"))
    out = add_phonetics(out, "ln_key", "ln", ("nysiis", "soundex", "metaphone"))
    return out
