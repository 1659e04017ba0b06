"""Run every ``benchmarks/bench_*.py`` (each defines ``main() -> dict``) and write its JSON.

``python -m benchmarks [name ...]`` runs all, or only the named ones (e.g. ``synth``).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path

from riskmodel.data import write_json
from riskmodel.paths import reports_dir
from riskmodel.provenance import git_commit, package_versions


def main(argv: list[str]) -> int:
    names = sorted(
        m.name
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if m.name.startswith("bench_")
    )
    wanted = {f"bench_{a.removeprefix('bench_')}" for a in argv}
    out_dir = reports_dir() / "bench"
    for name in names:
        if wanted and name not in wanted:
            continue
        print(f">> {name}", flush=True)
        t0 = time.perf_counter()
        figures = importlib.import_module(f"benchmarks.{name}").main()
        figures["_meta"] = {
            "git_commit": git_commit(),
            "versions": package_versions(),
            "bench_wall_seconds": round(time.perf_counter() - t0, 2),
        }
        path = write_json(figures, out_dir / f"{name.removeprefix('bench_')}.json")
        print(f"   wrote {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
