"""`make bench`: every benchmark in turn; each appends its section to BENCHMARKS.md."""
from __future__ import annotations

import importlib
import sys

BENCHES = ("bench.bench_ingest", "bench.bench_synth", "bench.bench_matchers", "bench.bench_cycle")


def main() -> None:
    for name in BENCHES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            print(f"skip {name}: not present", file=sys.stderr)
            continue
        print(f"== {name}", file=sys.stderr)
        sys.argv = [name]
        module.main()


if __name__ == "__main__":
    main()
