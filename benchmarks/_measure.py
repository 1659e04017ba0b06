"""Measuring helpers: wall time and peak memory of a call run in a fresh process."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import textwrap


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


__all__ = ["run_measured", "resource"]
