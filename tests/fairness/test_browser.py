"""The fairness report in a real browser: headless Chromium loads it offline, figures decode."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from riskmodel.fairness import FairnessConfig, audit_scores

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# written into the page after load: how many images there are, how many failed to decode, and
# how many resources the page fetched from the network
_PROBE = """
<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); }).length;
  var remote = performance.getEntriesByType('resource').filter(function (r) {
    return /^(https?|wss?):/.test(r.name); }).length;
  var out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = 'images=' + imgs.length + ' broken=' + broken + ' remote=' + remote;
  document.body.appendChild(out);
});
</script>
"""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (run `make browser`)")
def test_report_renders_offline_with_all_figures(tmp_path):
    gen = np.random.default_rng(0)
    n = 1500
    df = pd.DataFrame(
        {"group": gen.choice(["a", "b", "c"], size=n), "sex": gen.choice(["f", "m"], n)}
    )
    df["y"] = gen.random(n) < np.where(df.group == "b", 0.5, 0.3)
    df["score"] = np.clip(0.35 * df.y + gen.random(n) * 0.7, 0, 1)
    data = tmp_path / "scores.csv"
    df.to_csv(data, index=False)
    cfg = FairnessConfig(attributes=("group", "sex"), n_boot=50)
    html, _ = audit_scores(
        data,
        score="score",
        label="y",
        groups=["group", "sex"],
        threshold=0.5,
        out_dir=tmp_path / "report",
        config=cfg,
    )
    text = html.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    n_img = len(re.findall(r"<img\b", text))
    assert n_img >= 5  # forest plots, calibration curves, trade-off chart

    images, broken, remote = _probe(text, tmp_path)
    assert images == n_img
    assert broken == 0
    assert remote == 0
    # the probe itself can fail: one undecodable figure is seen as broken
    damaged = text.replace("data:image/png;base64,", "data:image/png;base64,AAAA", 1)
    assert _probe(damaged, tmp_path)[1] == 1


def _probe(html: str, tmp_path) -> tuple[int, int, int]:
    """Load ``html`` in headless Chromium; return (images, broken images, remote fetches)."""
    page = tmp_path / "probe.html"
    page.write_text(html.replace("</body>", _PROBE + "</body>"), encoding="utf-8")
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--run-all-compositor-stages-before-draw",
        "--virtual-time-budget=3000",
        "--dump-dom",
        page.as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = re.search(r'id="probe">images=(\d+) broken=(\d+) remote=(\d+)<', proc.stdout)
    assert m, "the probe did not run: " + proc.stdout[-500:]
    return tuple(map(int, m.groups()))
