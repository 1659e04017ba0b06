"""What each reader is handed after a whole pipeline: the training report's words, the list's
reasons, the coordinator's summary, the run's index and the panel pack (issue 12).

Each check runs on the tiny-world pipeline built here, and again on the default run
(``make run``, experiment ``baseline``) when one is present in this checkout's ``reports/``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskmodel.evaluation import HIGHER_IS_BETTER

# one worker builds the tiny pipeline once for every test here (`make test` uses --dist loadgroup)
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("readers_tiny_pipeline")]

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
K = 3
PERIOD_WORDS = {"test": "test period", "person_disjoint": "people not seen in training"}
ABSENCE_OPENINGS = ("No ", "Has not ", "Was not ", "Is not ", "This is the ")


def _default_run() -> Path | None:
    """The newest run of the default experiment in this checkout, if `make run` was run."""
    found = []
    for rj in (REPO / "reports").glob("*/run.json"):
        info = json.loads(rj.read_text())
        if info.get("experiment") == "baseline" and (rj.parent / "index.html").exists():
            found.append((rj.stat().st_mtime, rj.parent))
    return max(found)[1] if found else None


def shown_diff(v: float) -> str:
    """How the report prints a difference: 3 decimals, more for a value under 0.01 so that its
    first two significant digits show (at most 6)."""
    d = 3 if v == 0 or abs(v) >= 0.01 else min(6, max(3, 1 - math.floor(math.log10(abs(v)))))
    return f"{v:+.{d}f}"


@pytest.fixture(params=["tiny", "default"])
def run_dir(request) -> Path:
    if request.param == "tiny":
        return request.getfixturevalue("tiny_pipeline").run_dir
    d = _default_run()
    if d is None:
        pytest.skip("no default run in reports/ (run `make run` to check it too)")
    return d


def _summary_dir(run_dir: Path) -> Path:
    found = sorted((run_dir.parent / "eligibility").glob(f"{run_dir.name}_*/summary.json"))
    assert found, "the pipeline scored no eligibility list"
    return found[-1].parent


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


# --- the training report ------------------------------------------------------------------------
def test_report_states_every_worse_comparison_and_no_better_reaches_zero(run_dir):
    from riskmodel.models._report import MODEL_LABELS

    m = json.loads((run_dir / "metrics.json").read_text())
    html = (run_dir / "report.html").read_text()
    words = _text(html[html.index("In plain words") : html.index("What the two heads predict")])
    n_rows = n_worse = 0
    for key, gain in m.items():
        hit = re.fullmatch(r"(test|person_disjoint)\.(reoffend|severe)\.(\w+)_gain\.(\w+)", key)
        if not hit or gain is None:
            continue
        period, head, metric, other = hit.groups()
        lo, hi = m[key.replace("_gain.", "_gain_ci.")]
        n_rows += 1
        good = HIGHER_IS_BETTER[metric]
        if (hi < 0) if good else (lo > 0):
            n_worse += 1
            shown = shown_diff(gain)
            assert f"{PERIOD_WORDS[period]}, {head} head, " in words
            assert f"worse than {MODEL_LABELS[other]} (difference {shown}" in words, key
    assert n_rows > 0 and f"Across all {n_rows} comparisons" in words
    assert f"{n_worse} worse" in words
    # no "better" in the plain words rests on an interval that reaches 0
    block = html[html.index("In plain words") : html.index("What the two heads predict")]
    for body in re.findall(r"<li><strong>better</strong> than: (.*?)</li>", block, flags=re.S):
        for lo, hi in re.findall(r"interval (-?[\d.]+) to (-?[\d.]+)\)", body):
            assert float(lo) > 0 and float(hi) > 0, body
    # calibration is described by slope and intercept, not by ECE alone
    for head in ("reoffend", "severe"):
        slope = m[f"test.{head}.calibration_slope.model"]
        assert f"Test period, {head} head: calibration slope {slope:.2f}" in words


# --- the list's reasons -------------------------------------------------------------------------
def _absent_value(feature: str, frame: pd.DataFrame) -> float | None:
    """The value meaning "none" for the catalogue's presence features (None: not one)."""
    if feature == "days_since_previous_da":
        return float("nan")
    if feature == "days_since_first_da":
        return 0.0
    if re.fullmatch(r"n_\w+|harm_(da|max_da|nonda)_\w+", feature):
        return 0.0
    if feature in frame.columns and frame[feature].dtype == bool:
        return 0.0
    return None


def _family(feature: str) -> str:
    return re.sub(r"_(\d+d|all)$", "", feature)


def _is_absent(value, none) -> bool:
    if none is None:
        return False
    if np.isnan(none):
        return value is None or bool(pd.isna(value))
    return (not pd.isna(value)) and float(value) == 0


def test_listed_reasons_never_contradict_their_sign_and_one_per_family(run_dir):
    from riskmodel.explain import reason_codes
    from riskmodel.models import load_bundle
    from riskmodel.scoring._cohort import read_cohort

    info = json.loads((run_dir / "run.json").read_text())
    sdir = _summary_dir(run_dir)
    listed = pd.read_parquet(sdir / "eligibility_list.parquet")
    assert len(listed) > 0
    bundle = load_bundle(run_dir / "model", expected_manifest_sha256=info["bundle_manifest_sha256"])
    summary = json.loads((sdir / "summary.json").read_text())
    cohort = read_cohort(
        Path(info["world_dir"]),
        bundle=bundle,
        as_of=dt.date.fromisoformat(summary["scoring_date"]),
        lookback_days=summary["rule"]["lookback_days"],
    ).frame
    frame = cohort.set_index("person_id").loc[listed["person_id"]].reset_index()
    rc = reason_codes(bundle, frame, head="reoffend", k=K)
    # the list carries exactly these reasons
    for i in range(1, K + 1):
        assert list(rc[f"reason_{i}"]) == list(listed[f"reason_{i}"].fillna(""))
    booster = bundle.boosters["reoffend"]
    X = bundle.prepare(frame)
    raw = booster.predict(X, raw_score=True)
    n_presence = 0
    for r in range(len(frame)):
        families = []
        for i in range(1, K + 1):
            feature = rc[f"reason_feature_{i}"].iloc[r]
            if not feature:
                continue
            sentence = rc[f"reason_{i}"].iloc[r]
            assert rc[f"reason_contribution_{i}"].iloc[r] > 0
            families.append(_family(feature))
            none = _absent_value(feature, frame)
            if none is None:
                continue
            value = frame[feature].iloc[r]
            says_absent = sentence.startswith(ABSENCE_OPENINGS)
            assert says_absent == _is_absent(value, none), (sentence, value)
            if says_absent:
                continue
            n_presence += 1
            Xr = X.iloc[[r]].copy()
            for f in bundle.feature_names:
                if _family(f) == _family(feature):
                    Xr[f] = Xr[f].astype(float)
                    Xr[f] = none
            assert booster.predict(Xr, raw_score=True)[0] < raw[r], sentence
            if feature == "days_since_previous_da":
                assert sentence.startswith("A previous recorded DA incident ("), sentence
        assert len(families) == len(set(families)), (r, families)
    assert n_presence > 0  # the check has something to check


# --- the coordinator's summary ------------------------------------------------------------------
def test_summary_gives_expected_reoffenders_and_both_model_versions(run_dir):
    sdir = _summary_dir(run_dir)
    data = json.loads((sdir / "summary.json").read_text())
    html = re.sub(r"\s+", " ", (sdir / "summary.html").read_text())
    listed = pd.read_parquet(sdir / "eligibility_list.parquet")
    ex = data["coordinator"]["expected_reoffenders"]
    assert ex["n"] == len(listed)
    # the list shows probabilities to 4 decimals: the sum agrees to within that rounding
    assert ex["expected"] == pytest.approx(
        float(listed["p_reoffend"].sum()), abs=5e-5 * len(listed)
    )
    lo, hi = ex["interval"]
    assert 0 <= lo <= ex["expected"] <= hi <= len(listed)
    assert f"about <strong>{round(ex['expected'])} of them</strong>" in html
    assert f"between <strong>{lo} and {hi}</strong>" in html
    info = json.loads((run_dir / "run.json").read_text())
    heads = {h["head"]: h for h in data["coordinator"]["heads"]}
    assert set(heads) == {"reoffend", "severe"}
    for head, h in heads.items():
        assert h["version"] == str(info["registered"][head])
        booster = run_dir / "model" / f"{head}.lgb.txt"
        assert h["sha256"] == hashlib.sha256(booster.read_bytes()).hexdigest()
        assert f"{h['name']} version {h['version']}" in html
        assert h["sha256"] in html
    text = _text(html)
    assert "deliberately not listed" in text and "no list of them" in text


# --- the front door and the pack ----------------------------------------------------------------
def test_index_links_every_report_and_every_report_links_back(run_dir):
    index = run_dir / "index.html"
    html = index.read_text()
    hrefs = re.findall(r'<h2><a href="([^"]+)">', html)
    assert {"report.html", "fairness.html", "explain.html", "model_card.html"} <= set(hrefs)
    assert any(h.endswith("summary.html") for h in hrefs)
    for href in hrefs:
        page = (run_dir / href).resolve()
        assert page.exists(), href
        back = re.search(r'id="run-index-link"><a href="([^"]+)"', page.read_text())
        assert back, f"{href} has no link back to the index"
        assert (page.parent / back.group(1)).resolve() == index.resolve()


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (run `make browser`)")
def test_panel_pack_pdf_opens_and_holds_the_fairness_summary_and_sign_off(run_dir):
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(run_dir / "panel_pack.pdf"))
    assert len(pdf) >= 6
    text = []
    for i in range(len(pdf)):
        page = pdf[i]
        image = page.render(scale=0.3).to_numpy()
        assert image.size > 0 and image.std() > 0  # the page drew something
        text.append(page.get_textpage().get_text_range())
    joined = re.sub(r"\s+", " ", " ".join(text))
    for heading in (
        "Perpetrator-programme eligibility list: summary",
        "Summary in plain words",  # the fairness audit's summary
        "What drives the model",
        "Model card",
        "Algorithmic transparency record",
        "Sign-off of this panel pack",
    ):
        assert heading in joined, heading
    assert "Sign-off of this panel pack" in text[-1] or "Sign-off of this panel pack" in text[-2]


def test_without_chromium_the_pdf_is_skipped_with_a_warning(tiny_pipeline, tmp_path, monkeypatch):
    from riskmodel.pipeline import _pack

    copy = tmp_path / "reports" / tiny_pipeline.run_dir.name
    shutil.copytree(tiny_pipeline.run_dir, copy)
    (copy / "panel_pack.pdf").unlink(missing_ok=True)
    monkeypatch.setattr(_pack, "chromium", lambda: None)
    result = _pack.write_run_index(copy, pdf=True)
    assert result.pack_pdf is None and not (copy / "panel_pack.pdf").exists()
    assert any("Chromium was not found" in w for w in result.warnings)
    assert "Chromium was not found" in (copy / "index.html").read_text()


# --- every page in a real browser ---------------------------------------------------------------
_PROBE = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); }).length;
  var out = document.createElement('pre'); out.id = 'probe';
  out.textContent = 'images=' + imgs.length + ' broken=' + broken;
  document.body.appendChild(out);
});
</script>"""


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (run `make browser`)")
def test_every_page_of_the_run_renders_with_no_broken_image(tiny_pipeline, tmp_path):
    run_dir = tiny_pipeline.run_dir
    pages = sorted(run_dir.glob("*.html")) + [_summary_dir(run_dir) / "summary.html"]
    assert len(pages) >= 7
    for page in pages:
        probe = tmp_path / page.name
        probe.write_text(page.read_text().replace("</body>", _PROBE + "</body>"))
        out = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--virtual-time-budget=20000",
                f"--user-data-dir={tmp_path / 'profile'}",
                "--dump-dom",
                probe.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=240,
            check=True,
        ).stdout
        hit = re.search(r"images=(\d+) broken=(\d+)", out)
        assert hit, f"{page.name}: the probe did not run"
        assert int(hit.group(2)) == 0, f"{page.name}: {hit.group(0)}"
