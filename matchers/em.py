"""Fellegi–Sunter parameters: u from random pairs, m by expectation–maximisation, the prior, save / load.

The approach follows Splink's unsupervised training:

* **u** (probability of each level among non-matching pairs) is estimated from a uniform random
  sample of record pairs, which are almost all non-matches. Additive smoothing (+1) keeps rare levels
  (SSN exact) finite. On small files the few true matches in the sample (1 in 5,000 pairs for FEBRL)
  inflate u of the strongest levels, so after a first round the sample pairs the model calls matches
  are removed and u, m and the prior are estimated again.
* **m** (probability of each level among matching pairs) is estimated by EM with u held fixed, once
  per training blocking rule, on the candidate pairs that rule produced. A rule fixes the fields it
  blocks on (everyone in the surname+DOB block agrees on surname and DOB), so those fields are left
  out of that run; each field's m is the average over the runs that did estimate it.
* **prior** (probability that two random records match) is then the fixed point of
  λ = Σ posterior(pair) / (n_left × n_right) over all candidates, pairs outside the candidates
  having a negligible posterior.

EM runs on the distinct comparison patterns with their counts (a few thousand rows), not on the
pairs, so training costs milliseconds once the comparison vectors exist.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from matchers.comparisons import COMPARISONS, compare

M_FLOOR = 1e-6
PARAMS_VERSION = 1


@dataclass
class Parameters:
    comparisons: list[str]
    m: dict[str, list[float]]
    u: dict[str, list[float]]
    prior: float
    term_frequency: list[str] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)

    def levels(self, name: str) -> tuple[str, ...]:
        return COMPARISONS[name].levels

    def weight_table(self, name: str) -> np.ndarray:
        """log2(m/u) per level, index gamma + 1 (index 0 = missing = 0); a level with a declared weight
        (`Comparison.fixed_weights`) has that weight whatever m and u were estimated."""
        m, u = np.asarray(self.m[name]), np.asarray(self.u[name])
        table = np.concatenate([[0.0], np.log2(np.maximum(m, M_FLOOR) / np.maximum(u, M_FLOOR / 100))])
        comparison = COMPARISONS[name]
        for level, weight in comparison.fixed_weights.items():
            table[comparison.levels.index(level) + 1] = weight
        return table

    @property
    def prior_weight(self) -> float:
        return float(np.log2(self.prior / (1.0 - self.prior)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": PARAMS_VERSION,
            "prior": self.prior,
            "term_frequency": self.term_frequency,
            "comparisons": {
                n: {"levels": list(self.levels(n)), "m": self.m[n], "u": self.u[n]} for n in self.comparisons
            },
            "provenance": self.provenance,
        }

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> Parameters:
        data = json.loads(Path(path).read_text())
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Parameters:
        comps = data["comparisons"]
        for name, spec in comps.items():
            if name not in COMPARISONS or list(COMPARISONS[name].levels) != list(spec["levels"]):
                raise ValueError(f"saved parameters for {name!r} do not match this version's levels")
        return cls(
            comparisons=list(comps),
            m={n: list(map(float, s["m"])) for n, s in comps.items()},
            u={n: list(map(float, s["u"])) for n, s in comps.items()},
            prior=float(data["prior"]),
            term_frequency=list(data.get("term_frequency", [])),
            provenance=dict(data.get("provenance", {})),
        )


def level_frequencies(gammas: pl.DataFrame, name: str) -> np.ndarray:
    """Smoothed share of each level among non-missing values of `gamma_<name>`."""
    k = len(COMPARISONS[name].levels)
    counts = np.zeros(k)
    vc = gammas.filter(pl.col(f"gamma_{name}") >= 0).group_by(f"gamma_{name}").len()
    for level, n in vc.iter_rows():
        counts[int(level)] = n
    return (counts + 1.0) / (counts.sum() + k)


def random_pairs(n_left: int, n_right: int, n_pairs: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    n = int(min(n_pairs, n_left * n_right))
    return pl.DataFrame(
        {
            "l": rng.integers(0, n_left, n, dtype=np.uint32),
            "r": rng.integers(0, n_right, n, dtype=np.uint32),
        }
    )


def random_sample(left: pl.DataFrame, right: pl.DataFrame, names: list[str], n_pairs: int, seed: int) -> pl.DataFrame:
    """Comparison vectors of uniformly random pairs (kept to re-estimate u once matches are known)."""
    return compare(left, right, random_pairs(left.height, right.height, n_pairs, seed), names, distinct_pairs=False)


@dataclass
class USample:
    """Level counts for u: a uniform random sample (all comparisons) plus, per comparison with a stratum key,
    a sample drawn uniformly from the pairs that agree on that key, whose share `mass` of all pairs is
    known exactly from the key's value counts. Counts include the missing level (index 0 = gamma -1)."""

    n_pairs: float  # n_left × n_right
    n_right: int
    uniform: pl.DataFrame  # l, r, gamma_*, _in_<stratum> (the pair agrees on the stratum key)
    strata: dict[str, tuple[float, pl.DataFrame]]  # comparison → (mass, its stratum sample: l, r, gamma_<name>)
    _cache: dict = field(default_factory=dict, repr=False)

    def level_probabilities(self, name: str, posterior: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """P(level) among non-matching pairs, missing first (index gamma + 1). `posterior`: (sorted pair
        keys l × n_right + r, match probability) of candidate pairs; a sampled pair counts 1 - p
        (u is about non-matches), a pair outside the candidates counts 1."""
        k = len(COMPARISONS[name].levels) + 1

        def counts(frame: pl.DataFrame, mask: np.ndarray | None = None) -> tuple[np.ndarray, float]:
            g = frame[f"gamma_{name}"].to_numpy().astype(np.int64) + 1
            w = self._weights(frame, posterior)
            if mask is not None:
                g, w = g[mask], w[mask]
            return np.bincount(g, weights=w, minlength=k)[:k], float(w.sum())

        mass, stratum = self.strata.get(name, (0.0, None))
        if stratum is not None and stratum.height:
            inside = self.uniform[f"_in_{name}"].to_numpy()
            out, _ = counts(self.uniform, ~inside)
            # Small pseudo-count outside the stratum: levels that need the key to agree (street+ZIP+city
            # needs the ZIP) never occur there, and a full pseudo-count would cap their weight.
            out = (out + 0.01 / k) / (out.sum() + 0.01)
            ins, kept = counts(stratum)
            mass_nonmatch = mass * kept / stratum.height  # the stratum's share of pairs, matches left out
            ins = (ins + 0.1 / k) / (ins.sum() + 0.1)
            prob = (1.0 - mass) * out + mass_nonmatch * ins
        else:
            c, _ = counts(self.uniform)
            prob = (c + 1.0 / k) / (c.sum() + 1.0)
        return prob

    def _weights(self, frame: pl.DataFrame, posterior: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
        """1 - P(match) per sampled pair (1 outside the candidates); cached per frame within one `u` call."""
        if posterior is None or not len(posterior[0]):
            return np.ones(frame.height)
        cache_key = (id(frame), id(posterior))
        if cache_key not in self._cache:
            keys, p = posterior
            own = frame["l"].to_numpy().astype(np.uint64) * np.uint64(self.n_right) + frame["r"].to_numpy().astype(
                np.uint64
            )
            pos = np.minimum(np.searchsorted(keys, own), len(keys) - 1)
            hit = keys[pos] == own
            w = np.ones(frame.height)
            w[hit] = 1.0 - p[pos[hit]]
            self._cache[cache_key] = w
        return self._cache[cache_key]

    def u(self, names: list[str], posterior: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, list[float]]:
        """u per comparison: level shares among non-matching pairs where the comparison is not missing."""
        out = {}
        self._cache = {}  # weights are per call: ids of freed posteriors may be reused
        for n in names:
            prob = self.level_probabilities(n, posterior)[1:]
            out[n] = list(prob / prob.sum())
        return out


def _positions_by_key(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    return (
        frame.select(pl.col(key).alias("k"), pl.int_range(pl.len(), dtype=pl.UInt32).alias("i"))
        .drop_nulls("k")
        .group_by("k", maintain_order=True)
        .agg("i")
    )


def stratum_pairs(
    left: pl.DataFrame, right: pl.DataFrame, key: str, n_pairs: int, rng: np.random.Generator
) -> tuple[float, pl.DataFrame]:
    """(share of all pairs that agree on `key`, up to n_pairs pairs drawn uniformly among them)."""
    j = _positions_by_key(left, key).join(_positions_by_key(right, key), on="k", suffix="_r", maintain_order="left")
    if j.height == 0:
        return 0.0, pl.DataFrame({"l": [], "r": []}, schema={"l": pl.UInt32, "r": pl.UInt32})
    nl = j["i"].list.len().to_numpy().astype(np.int64)
    nr = j["i_r"].list.len().to_numpy().astype(np.int64)
    w = nl.astype(np.float64) * nr
    total = float(w.sum())
    mass = total / (float(left.height) * float(right.height))
    if total <= 2 * n_pairs:  # small stratum: every pair, no sampling noise
        pairs = j.select(pl.col("i").alias("l"), pl.col("i_r").alias("r")).explode("l").explode("r")
        return mass, pairs
    n = int(n_pairs)
    g = rng.choice(len(w), size=n, p=w / total)
    lflat, rflat = j["i"].explode().to_numpy(), j["i_r"].explode().to_numpy()
    loff, roff = np.concatenate([[0], np.cumsum(nl)[:-1]]), np.concatenate([[0], np.cumsum(nr)[:-1]])
    li = lflat[loff[g] + (rng.random(n) * nl[g]).astype(np.int64)]
    ri = rflat[roff[g] + (rng.random(n) * nr[g]).astype(np.int64)]
    return mass, pl.DataFrame({"l": li.astype(np.uint32), "r": ri.astype(np.uint32)})


def u_sample(
    left: pl.DataFrame,
    right: pl.DataFrame,
    names: list[str],
    n_uniform: int,
    n_stratum: int,
    seed: int,
) -> USample:
    """Compare n_uniform random pairs once, and for each comparison with a stratum key n_stratum random pairs
    agreeing on that key (only that comparison). Rare agreement levels (a joint street+ZIP+city match, an
    exact date of birth) are then estimated from the stratum, where they are common, times its exact mass,
    instead of from a handful of uniform pairs or a smoothing constant."""
    rng = np.random.default_rng(seed)
    uniform = compare(
        left, right, random_pairs(left.height, right.height, n_uniform, seed), names, distinct_pairs=False
    )
    strata, flags = {}, []
    for n in names:
        key = COMPARISONS[n].stratum
        if key is None or key not in left.columns:
            continue
        mass, pairs = stratum_pairs(left, right, key, n_stratum, rng)
        sample = compare(left, right, pairs, [n], distinct_pairs=False) if pairs.height else None
        strata[n] = (mass, sample)
        lk, rk = left[key].gather(uniform["l"]), right[key].gather(uniform["r"])
        flags.append((lk == rk).fill_null(False).alias(f"_in_{n}"))
    uniform = uniform.select("l", "r", *[f"gamma_{n}" for n in names]).with_columns(flags)
    return USample(float(left.height) * float(right.height), right.height, uniform, strata)


def estimate_u(sample: pl.DataFrame, names: list[str]) -> dict[str, list[float]]:
    """u per comparison from the random pairs in `sample` (gamma columns)."""
    return {n: list(level_frequencies(sample, n)) for n in names}


def initial_m(name: str) -> np.ndarray:
    """Starting m: most matches agree exactly, the rest spread over the weaker levels."""
    k = len(COMPARISONS[name].levels)
    m = np.full(k, 0.1 / (k - 1))
    m[0] = 0.9
    return m


def patterns(gammas: pl.DataFrame, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct comparison vectors of `gammas` (pairs, or a pattern table with a `len` column) and their counts."""
    cols = [f"gamma_{n}" for n in names]
    if "len" in gammas.columns:
        pat = gammas.group_by(cols).agg(pl.col("len").sum())
    else:
        pat = gammas.group_by(cols).len()
    pat = pat.sort(cols)  # deterministic EM sums
    return pat.select(cols).to_numpy().astype(np.int64), pat["len"].to_numpy().astype(np.float64)


def pattern_table(gammas: pl.DataFrame, names: list[str], extra: tuple[str, ...] = ()) -> pl.DataFrame:
    """Counts of each distinct (comparison vector, extra columns) among pairs: what EM and u need.

    A million candidate pairs collapse to a few thousand rows, so every later training step (u, EM per
    blocking rule, repeated rounds) costs milliseconds instead of a pass over the pairs."""
    return gammas.group_by([f"gamma_{n}" for n in names] + list(extra)).len()


def u_from_patterns(table: pl.DataFrame, names: list[str]) -> dict[str, list[float]]:
    """u per comparison from a pattern table of random pairs: smoothed marginal level shares."""
    counts = table["len"].to_numpy().astype(np.float64)
    u = {}
    for n in names:
        k = len(COMPARISONS[n].levels)
        g = table[f"gamma_{n}"].to_numpy().astype(np.int64)
        present = g >= 0
        c = np.bincount(g[present], weights=counts[present], minlength=k)[:k]
        u[n] = list((c + 1.0) / (c.sum() + k))
    return u


def em_m_counts(
    G: np.ndarray,
    counts: np.ndarray,
    names: list[str],
    u: dict[str, list[float]],
    m_start: dict[str, np.ndarray],
    max_iterations: int = 30,
    tolerance: float = 1e-4,
) -> tuple[dict[str, np.ndarray], float, int]:
    """EM on distinct comparison vectors G (one row per pattern, one column per name) with their counts."""
    m = {n: m_start[n].copy() for n in names}
    logu = np.zeros(len(G))
    for j, n in enumerate(names):
        table = np.concatenate([[0.0], np.log(np.asarray(u[n]))])
        logu += table[G[:, j] + 1]
    lam = 0.5
    it = 0
    for it in range(1, max_iterations + 1):  # noqa: B007 - `it` is returned: the iterations EM took
        logm = np.zeros(len(G))
        for j, n in enumerate(names):
            logm += np.concatenate([[0.0], np.log(np.maximum(m[n], M_FLOOR))])[G[:, j] + 1]
        a = np.log(lam) + logm
        b = np.log1p(-lam) + logu
        post = 1.0 / (1.0 + np.exp(np.clip(b - a, -700, 700)))
        weighted = counts * post
        new_lam = float(np.clip(weighted.sum() / counts.sum(), 1e-9, 1 - 1e-9))
        delta = abs(new_lam - lam)
        for j, n in enumerate(names):
            k = len(m[n])
            present = G[:, j] >= 0
            sums = np.bincount(G[present, j], weights=weighted[present], minlength=k)
            if sums.sum() > 0:
                new = np.maximum(sums / sums.sum(), M_FLOOR)
                new /= new.sum()
                delta = max(delta, float(np.abs(new - m[n]).max()))
                m[n] = new
        lam = new_lam
        if delta < tolerance:
            break
    return m, lam, it


def estimate_prior(bayes_log2: np.ndarray, n_left: int, n_right: int, iterations: int = 100) -> float:
    """Fixed point of λ = Σ posterior / (n_left × n_right) over candidate pairs' log2 Bayes factors."""
    total = float(n_left) * float(n_right)
    if total == 0 or len(bayes_log2) == 0:
        return 1e-6
    lam = min(n_left, n_right) / total
    bf = np.exp2(np.clip(bayes_log2, -200, 200))
    for _ in range(iterations):
        post = lam * bf / (lam * bf + (1.0 - lam))
        new = float(np.clip(post.sum() / total, 1e-12, 0.5))
        if abs(new - lam) <= 1e-6 * lam:
            lam = new
            break
        lam = new
    return lam
