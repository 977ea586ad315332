"""`make bench`: every benchmark in turn; each records its figures (BENCHMARKS.md or bench/*_RESULTS.md)."""

from __future__ import annotations

import importlib
import sys

BENCHES = (
    ("bench.bench_ingest", []),
    ("bench.bench_synth", []),
    ("bench.bench_matchers", ["--febrl", "--splink", "--append"]),
    ("bench.bench_vs_splink", ["--seeds", "1", "2", "--append"]),  # data nobody here wrote, Splink side by side
    ("bench.bench_matchers", ["--persons", "1000000", "--ssn-share", "0.0", "1.0", "--append"]),
    ("bench.bench_load", ["--home", "/tmp/fpls-load-200k.pristine", "--persons", "200000", "--append"]),
    ("bench.bench_load", ["--home", "/tmp/big.pristine", "--persons", "1000000", "--runs", "1", "--append"]),
    ("bench.bench_cycle", []),
    ("bench.bench_reports", []),
)


def main() -> None:
    for name, args in BENCHES:
        print(f"== {name} {' '.join(args)}", file=sys.stderr)
        sys.argv = [name, *args]
        importlib.import_module(name).main()


if __name__ == "__main__":
    main()
