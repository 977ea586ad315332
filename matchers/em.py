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
        """log2(m/u) per level, index gamma + 1 (index 0 = missing = 0)."""
        m, u = np.asarray(self.m[name]), np.asarray(self.u[name])
        return np.concatenate([[0.0], np.log2(np.maximum(m, M_FLOOR) / np.maximum(u, M_FLOOR / 100))])

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
    def load(cls, path: str | Path) -> "Parameters":
        data = json.loads(Path(path).read_text())
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Parameters":
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
    return pl.DataFrame({
        "l": rng.integers(0, n_left, n, dtype=np.uint32),
        "r": rng.integers(0, n_right, n, dtype=np.uint32),
    })


def random_sample(left: pl.DataFrame, right: pl.DataFrame, names: list[str], n_pairs: int, seed: int) -> pl.DataFrame:
    """Comparison vectors of uniformly random pairs (kept to re-estimate u once matches are known)."""
    return compare(left, right, random_pairs(left.height, right.height, n_pairs, seed), names)


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
    cols = [f"gamma_{n}" for n in names]
    pat = gammas.group_by(cols).len()
    return pat.select(cols).to_numpy().astype(np.int64), pat["len"].to_numpy().astype(np.float64)


def em_m(
    gammas: pl.DataFrame,
    names: list[str],
    u: dict[str, list[float]],
    m_start: dict[str, np.ndarray],
    max_iterations: int = 30,
    tolerance: float = 1e-4,
) -> tuple[dict[str, np.ndarray], float, int]:
    """EM for m (u fixed) on the pairs in `gammas`; returns (m per comparison, λ in this block, iterations)."""
    G, counts = patterns(gammas, names)
    m = {n: m_start[n].copy() for n in names}
    logu = np.zeros(len(G))
    for j, n in enumerate(names):
        table = np.concatenate([[0.0], np.log(np.asarray(u[n]))])
        logu += table[G[:, j] + 1]
    lam = 0.5
    it = 0
    for it in range(1, max_iterations + 1):
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
