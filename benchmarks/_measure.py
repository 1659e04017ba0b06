"""Measuring helpers: wall time and peak memory of a call run in a fresh process."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import textwrap

#: code for a measured child (``run_measured``) whose work runs in other processes too (worker
#: pools, a Dask cluster): ``tree_peak_start()`` samples the resident memory of this process and
#: all its descendants, summed, every half second; ``tree_peak_stop()`` returns the peak in MB
TREE_PEAK = """
import os, threading


def _descendants_rss_mb():
    parent, rss = {}, {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                parent[int(p)] = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{p}/status") as f:
                rss[int(p)] = next(int(x.split()[1]) for x in f if x.startswith("VmRSS:"))
        except (OSError, StopIteration, ValueError):
            pass
    tree, grew = {os.getpid()}, True
    while grew:
        new = {p for p, pp in parent.items() if pp in tree} - tree
        grew = bool(new)
        tree |= new
    return sum(rss.get(p, 0) for p in tree) / 1024


_tree_peak, _tree_stop = [0.0], threading.Event()


def _tree_sample():
    while not _tree_stop.wait(0.5):
        _tree_peak[0] = max(_tree_peak[0], _descendants_rss_mb())


def tree_peak_start():
    threading.Thread(target=_tree_sample, daemon=True).start()


def tree_peak_stop():
    _tree_stop.set()
    return round(max(_tree_peak[0], _descendants_rss_mb()), 1)
"""


def run_measured(code: str) -> dict:
    """Run ``code`` (which must set ``result = {...}``) in a child Python; return the result with
    ``wall_seconds`` and ``peak_rss_mb`` of that child, so memory is the call's own peak."""
    wrapper = textwrap.dedent(
        """
        import json, resource, time
        t0 = time.perf_counter()
        result = {}
        exec(compile(CODE, "<bench>", "exec"))
        result["wall_seconds"] = round(time.perf_counter() - t0, 3)
        # VmHWM is this process's own high-water mark; ru_maxrss would carry over the RSS of
        # the parent at fork (Linux keeps it across exec), inflating every figure
        try:
            hwm = [ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:")]
            result["peak_rss_mb"] = round(int(hwm[0].split()[1]) / 1024, 1)
        except (OSError, IndexError):
            result["peak_rss_mb"] = round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
            )
        print("@@RESULT@@" + json.dumps(result, default=str))
        """
    ).replace("CODE", repr(code))
    proc = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{proc.stderr[-4000:]}")
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("@@RESULT@@"))
    return json.loads(line.removeprefix("@@RESULT@@"))


def run_measured_under_load(code: str) -> dict:
    """``run_measured`` with the machine's load averages before and after (the machine may be
    shared when a benchmark runs: other work inflates the figures, and this says how much)."""
    before = os.getloadavg()
    out = run_measured(code)
    out["load_average_before"] = [round(x, 2) for x in before]
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return out


def save_partial(figures: dict, name: str) -> None:
    """Write what a long benchmark has measured so far to ``reports/bench/<name>.json`` (a run
    cut short keeps its figures); ``python -m benchmarks`` rewrites it when the run ends."""
    from riskmodel.data import write_json
    from riskmodel.paths import reports_dir

    write_json({**figures, "partial": True}, reports_dir() / "bench" / f"{name}.json")


__all__ = ["TREE_PEAK", "resource", "run_measured", "run_measured_under_load", "save_partial"]
