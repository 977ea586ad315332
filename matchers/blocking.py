"""Candidate generation: declarative blocking rules, unioned and deduplicated, with a cost per rule.

A rule is data, not code: `{"name": ..., "keys": [...]}` joins left and right rows whose key columns
are all equal and non-null; `"right_keys"` joins different columns (swapped first/last name);
`"kind": "ssn_one_edit"` finds SSNs one substituted digit or one adjacent transposition apart;
`"max_pairs"` skips a broad rule (ZIP alone, DOB alone) when its exact pair count, computed from key
counts before any pair exists, is above the budget: such rules buy recall on small files and are
reported as skipped on large ones. `"max_block_pairs"` keeps a rule but leaves out its blocks (key values)
that alone would pair more records than that (JOHN SMITH in a national file): names-only rules stay
linear in the records, since no record is paired with more than the largest block allowed.

`generate(left, right, rules)` returns the deduplicated candidate pairs `(l, r, rules)` where `rules`
is a bit mask of the rules that produced the pair, and a per-rule count of pairs *before* the union
and before scoring, so the operator sees what each rule costs.

All joins are polars hash joins on integer row positions; nothing loops over rows in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

# Which comparison each blocking key pins down (EM must not learn m for a field the block fixes).
KEY_FIXES = {
    "ssn9": "ssn",
    "dob_date": "dob",
    "birth_year": "dob",
    "ln_key": "last_name",
    "ln_nysiis": "last_name",
    "ln_soundex": "last_name",
    "ln_metaphone": "last_name",
    "fn_key": "first_name",
    "fn_nysiis": "first_name",
    "fn_soundex": "first_name",
    "fn_canon": "first_name",
    "zip5": "zip",
    "zip3": "zip",
    "city_n": "city",
    "street_n": "street",
    "street_no": "street",
    "sex1": "sex",
    "mn": "middle_name",
}


@dataclass(frozen=True)
class BlockingRule:
    name: str
    keys: tuple[str, ...] = ()
    right_keys: tuple[str, ...] = ()
    kind: str = "equi"  # "equi" | "ssn_one_edit"
    within: tuple[str, ...] = ()  # ssn_one_edit: at least one of these must agree too
    max_pairs: int | None = None  # skip the rule (and say so) when it would produce more pairs
    max_pairs_per_record: float | None = None  # same, as a multiple of the larger side's row count
    max_block_pairs: int | None = None  # leave out a block (key value) that alone pairs more records

    @classmethod
    def from_dict(cls, spec: dict) -> BlockingRule:
        return cls(
            name=spec["name"],
            keys=tuple(spec.get("keys", ())),
            right_keys=tuple(spec.get("right_keys", ())),
            kind=spec.get("kind", "equi"),
            within=tuple(spec.get("within", ())),
            max_pairs=int(spec["max_pairs"]) if spec.get("max_pairs") is not None else None,
            max_pairs_per_record=(
                float(spec["max_pairs_per_record"]) if spec.get("max_pairs_per_record") is not None else None
            ),
            max_block_pairs=int(spec["max_block_pairs"]) if spec.get("max_block_pairs") is not None else None,
        )

    def budget(self, n_left: int, n_right: int) -> int | None:
        limits = []
        if self.max_pairs is not None:
            limits.append(self.max_pairs)
        if self.max_pairs_per_record is not None:
            limits.append(int(self.max_pairs_per_record * max(n_left, n_right)))
        return min(limits) if limits else None

    def fixes(self) -> set[str]:
        """Comparisons whose agreement this rule guarantees (symmetric keys only)."""
        if self.kind == "ssn_one_edit" or self.right_keys:
            return {"ssn"} if self.kind == "ssn_one_edit" else set()
        return {KEY_FIXES[k] for k in self.keys if k in KEY_FIXES}


@dataclass
class Candidates:
    pairs: pl.DataFrame  # l, r (UInt32 positions), rules (UInt32 bit mask)
    rule_counts: dict[str, int] = field(default_factory=dict)
    rule_names: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # rule → pairs it would have produced


def _keyed(frame: pl.DataFrame, keys: tuple[str, ...], index: str, as_names: tuple[str, ...]) -> pl.DataFrame:
    return frame.select(pl.col(index), *[pl.col(k).alias(a) for k, a in zip(keys, as_names)]).drop_nulls()


def _small_blocks(lk: pl.DataFrame, rk: pl.DataFrame, names: list[str], limit: int) -> pl.DataFrame:
    """Key values whose block pairs at most `limit` records."""
    lc, rc = lk.group_by(names).len("nl"), rk.group_by(names).len("nr")
    sizes = lc.join(rc, on=names).with_columns(pairs=pl.col("nl").cast(pl.Int64) * pl.col("nr").cast(pl.Int64))
    return sizes.filter(pl.col("pairs") <= limit).select(names)


def equi_pairs(left: pl.DataFrame, right: pl.DataFrame, rule: BlockingRule) -> pl.DataFrame:
    keys = rule.keys
    rkeys = rule.right_keys or keys
    names = [f"_k{i}" for i in range(len(keys))]
    lk = _keyed(left, keys, "l", tuple(names))
    rk = _keyed(right, rkeys, "r", tuple(names))
    if rule.max_block_pairs is not None:
        lk = lk.join(_small_blocks(lk, rk, names, rule.max_block_pairs), on=names, how="semi")
    return lk.join(rk, on=names, how="inner").select("l", "r")


def estimated_pairs(left: pl.DataFrame, right: pl.DataFrame, rule: BlockingRule) -> int:
    """Exact pair count of an equi rule from key counts alone (Σ n_left(k) · n_right(k))."""
    keys = rule.keys
    names = tuple(f"_k{i}" for i in range(len(keys)))
    lc = _keyed(left, keys, "l", names).group_by(list(names)).len("nl")
    rc = _keyed(right, rule.right_keys or keys, "r", names).group_by(list(names)).len("nr")
    joined = lc.join(rc, on=list(names))
    return int((joined["nl"].cast(pl.Int64) * joined["nr"].cast(pl.Int64)).sum()) if joined.height else 0


def _ssn_masks(frame: pl.DataFrame, index: str) -> pl.DataFrame:
    """Per SSN: 9 keys with one position masked, 8 keys with an adjacent pair sorted.

    Two SSNs one digit apart share a masked key; two SSNs with one adjacent transposition share a
    sorted-pair key. Equal SSNs share all keys and are filtered out by the caller."""
    s = pl.col("ssn9")
    masked = [s.str.slice(0, i) + pl.lit("_") + s.str.slice(i + 1) for i in range(9)]
    lo = [pl.min_horizontal(s.str.slice(i, 1), s.str.slice(i + 1, 1)) for i in range(8)]
    hi = [pl.max_horizontal(s.str.slice(i, 1), s.str.slice(i + 1, 1)) for i in range(8)]
    swapped = [pl.lit(f"{i}:") + s.str.slice(0, i) + lo[i] + hi[i] + s.str.slice(i + 2) for i in range(8)]
    return (
        frame.select(pl.col(index), s)
        .drop_nulls()
        .select(pl.col(index), pl.concat_list([*masked, *swapped]).alias("_key"))
        .explode("_key")
    )


def ssn_one_edit_pairs(left: pl.DataFrame, right: pl.DataFrame, rule: BlockingRule) -> pl.DataFrame:
    lk, rk = _ssn_masks(left, "l"), _ssn_masks(right, "r")
    pairs = lk.join(rk, on="_key", how="inner").select("l", "r").unique()
    pairs = (
        pairs.join(left.select(pl.col("l"), pl.col("ssn9").alias("_sl")), on="l")
        .join(right.select(pl.col("r"), pl.col("ssn9").alias("_sr")), on="r")
        .filter(pl.col("_sl") != pl.col("_sr"))
    )
    if rule.within:
        lw = left.select("l", *[pl.col(c).alias(f"{c}_l") for c in rule.within])
        rw = right.select("r", *[pl.col(c).alias(f"{c}_r") for c in rule.within])
        pairs = (
            pairs.join(lw, on="l")
            .join(rw, on="r")
            .filter(pl.any_horizontal([(pl.col(f"{c}_l") == pl.col(f"{c}_r")).fill_null(False) for c in rule.within]))
        )
    return pairs.select("l", "r")


def _has_keys(frame: pl.DataFrame, keys: tuple[str, ...]) -> bool:
    return all(frame[k].null_count() < frame.height for k in keys)


def rule_pairs(left: pl.DataFrame, right: pl.DataFrame, rule: BlockingRule) -> pl.DataFrame:
    """Pairs of one rule. `left` / `right` must carry a UInt32 position column `l` / `r`."""
    lkeys, rkeys = (("ssn9",), ("ssn9",)) if rule.kind == "ssn_one_edit" else (rule.keys, rule.right_keys or rule.keys)
    if not (_has_keys(left, lkeys) and _has_keys(right, rkeys)):  # a side without the key (census: no SSN)
        return pl.DataFrame(schema={"l": pl.UInt32, "r": pl.UInt32})
    if rule.kind == "ssn_one_edit":
        return ssn_one_edit_pairs(left, right, rule)
    return equi_pairs(left, right, rule)


def with_positions(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    return frame.with_row_index(name) if name not in frame.columns else frame


def generate(left: pl.DataFrame, right: pl.DataFrame, rules: list[BlockingRule]) -> Candidates:
    """Union of every rule's pairs, deduplicated, with the per-rule counts before the union."""
    left, right = with_positions(left, "l"), with_positions(right, "r")
    parts, counts, skipped = [], {}, {}
    empty = pl.DataFrame(schema={"l": pl.UInt32, "r": pl.UInt32})
    for bit, rule in enumerate(rules):
        usable = all(k in left.columns for k in rule.keys) and all(
            k in right.columns for k in (rule.right_keys or rule.keys)
        )
        budget = rule.budget(left.height, right.height)
        if usable and budget is not None and rule.kind == "equi":
            cost = estimated_pairs(left, right, rule)
            if cost > budget:
                skipped[rule.name] = cost
                usable = False
        pairs = rule_pairs(left, right, rule) if usable else empty
        counts[rule.name] = pairs.height
        parts.append(pairs.with_columns(rules=pl.lit(1 << bit, pl.UInt32)))
    if not parts:
        empty = pl.DataFrame(schema={"l": pl.UInt32, "r": pl.UInt32, "rules": pl.UInt32})
        return Candidates(empty.with_columns(rules=pl.lit(0, pl.UInt32)), counts, [], skipped)
    union = pl.concat(parts).group_by("l", "r").agg(pl.col("rules").sum()).sort("l", "r")
    return Candidates(union, counts, [r.name for r in rules], skipped)
