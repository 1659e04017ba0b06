"""One front door per run: ``index.html`` linking every report, and the panel pack PDF.

``write_run_index`` writes ``reports/<run>/index.html`` (each report with a one-paragraph
summary read from its JSON twin), renders the run's Markdown records (transparency record,
datasheet) as HTML pages, puts a link back to the index at the top of every page of the run, and,
when asked, prints ``panel_pack.pdf``: the coordinator's summary, the fairness audit, the
explanations, the model card, the transparency record and a sign-off page in one document,
through the headless Chromium the project installs (``make browser``). Without Chromium the
PDF is skipped with a warning; nothing else changes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

INDEX = "index.html"
PACK_HTML = "panel_pack.html"
PACK_PDF = "panel_pack.pdf"
#: marks the link back to the index, so adding it twice is impossible
BACKLINK_ID = "run-index-link"
#: how long Chromium may take to print the pack
CHROMIUM_TIMEOUT_S = 300

ERR_NO_RUN = "run {run!r}: no run.json in {dir} (train one with `riskmodel train`)"
WARN_NO_CHROMIUM = (
    "panel pack PDF skipped: headless Chromium was not found (install it with `make browser`, "
    "or put `chromium` on PATH); the HTML pack {html} was written and can be printed from a browser"
)
WARN_CHROMIUM_FAILED = (
    "panel pack PDF skipped: Chromium failed ({error}); the HTML pack {html} was written"
)

#: the documents of a run, in reading order: (file, title, who it is for)
DOCUMENTS: tuple[tuple[str, str, str], ...] = (
    ("summary", "Eligibility list summary", "programme coordinators"),
    ("report.html", "Training report", "data scientists and the ethics panel"),
    ("fairness.html", "Fairness audit", "the ethics panel"),
    ("explain.html", "Explanations", "the ethics panel and coordinators"),
    ("limits.html", "What limits the model", "data scientists and the ethics panel"),
    ("model_card.html", "Model card", "the ethics panel"),
    ("transparency_record.html", "Algorithmic transparency record", "the public and the panel"),
    ("datasheet.html", "Datasheet of the synthetic world", "data scientists and the panel"),
)
#: the panel pack's sections, in order (keys of DOCUMENTS, then the sign-off page)
PACK_SECTIONS = (
    "summary",
    "fairness.html",
    "explain.html",
    "model_card.html",
    "transparency_record.html",
)
SIGNOFF_HEADING = "Sign-off of this panel pack"
SIGNOFF_ROLES = (
    "Chair of the ethics panel",
    "Panel member",
    "Data protection officer",
    "Force lead for domestic abuse",
    "Perpetrator-programme lead",
)


@dataclass
class IndexResult:
    """What ``write_run_index`` wrote; ``warnings`` say what was skipped and why."""

    index: Path
    pages: dict[str, Path] = field(default_factory=dict)
    pack_html: Path | None = None
    pack_pdf: Path | None = None
    warnings: list[str] = field(default_factory=list)


def chromium() -> str | None:
    """The headless Chromium on PATH (Debian's ``chromium``), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def latest_summary(run_dir: Path, run_id: str) -> Path | None:
    """The newest eligibility summary scored with this run (``reports/eligibility/<run>_<date>``)."""
    base = run_dir.parent / "eligibility"
    found = sorted(base.glob(f"{run_id}_*/summary.html")) if base.is_dir() else []
    return found[-1] if found else None


# --- Markdown records as pages ------------------------------------------------------------------
def markdown_page(md_path: Path, out_path: Path, *, title: str) -> Path:
    """``md_path`` rendered as a self-contained HTML page in the reports' style."""
    from riskmodel.data import write_text
    from riskmodel.reports import markdown_to_html, render_html

    body = markdown_to_html(md_path.read_text(encoding="utf-8"))
    html = render_html("markdown_page.html.j2", title=title, body=body, source=md_path.name)
    return write_text(html, out_path)


# --- one paragraph per document -----------------------------------------------------------------
def _training_paragraph(run_dir: Path) -> str:
    from riskmodel.models import comparisons, verdict_counts

    m = _read_json(run_dir / "metrics.json") or {}
    models: dict[str, list[str]] = {}
    for key in m:
        parts = key.split(".")
        if len(parts) == 4 and parts[0] == "test" and parts[2] == "auc":
            models.setdefault(parts[1], []).append(parts[3])
    rows = comparisons(m, models)
    c = verdict_counts(rows)
    auc = m.get("test.reoffend.auc.model")
    rfg = m.get("test.reoffend.auc.rfg")
    s = "How well the two heads (reoffending, severity) rank and calibrate on the latest period. "
    if auc is not None and rfg is not None:
        s += f"Reoffending AUC {auc:.3f} against {rfg:.3f} for the police RFG score. "
    s += (
        f"Of {len(rows)} comparisons with baselines (both heads, the test period and people not "
        f"seen in training), the model is better in {c['better']}, worse in {c['worse']} and not "
        f"clearly different in {c['no clear difference']}; every one is listed in the report."
    )
    return s


def _fairness_paragraph(run_dir: Path) -> str:
    d = _read_json(run_dir / "fairness.json") or {}
    counts = (d.get("summary") or {}).get("counts") or {}
    s = (
        "Whether the list treats groups (sex, ethnicity, age band, area, disability) alike: "
        "selection, error rates and calibration by group, with intervals, label bias and proxies. "
    )
    if counts:
        s += (
            f"{counts.get('flagged', 0)} differences are flagged (their whole interval outside "
            f"the 0.8 to 1.25 band), {counts.get('inconclusive', 0)} are inconclusive, and "
            f"{counts.get('suppressed_groups', 0)} groups or cells are too small to report."
        )
    return s


def _summary_paragraph(summary_html: Path | None) -> str:
    if summary_html is None:
        return "No eligibility list has been scored with this run yet (`riskmodel score`)."
    d = _read_json(summary_html.with_suffix(".json")) or {}
    c = d.get("counts") or {}
    ex = ((d.get("coordinator") or {}).get("expected_reoffenders")) or {}
    s = (
        f"The eligibility list of {d.get('scoring_date', '?')}: of {c.get('in', '?')} people in "
        f"the cohort, {c.get('listed', '?')} are listed for a programme place and "
        f"{c.get('excluded_high_harm', '?')} are excluded as higher-harm (never listed). "
    )
    if ex.get("n"):
        s += (
            f"About {round(ex['expected'])} of the listed are expected to reoffend within 12 "
            f"months without a place ({ex['interval'][0]} to {ex['interval'][1]})."
        )
    return s


def _limits_paragraph(run_dir: Path) -> str:
    """The ceiling of the records in one paragraph, from ``limits.json`` (``riskmodel limits``)."""
    from riskmodel.models import limits_headline

    data = _read_json(run_dir / "limits.json")
    if not data or not data.get("ceiling"):
        return (
            "Not computed for this run: `riskmodel limits --run RUN` estimates the ceiling of the "
            "records (the best any model could do from these features), learning curves and "
            "tuning, and splits the gap to the oracle into information and learning."
        )
    heads = [h for h in ("reoffend", "severe") if h in data["ceiling"].get("heads", {})]
    return " ".join(limits_headline(data, h) for h in heads)


def _datasheet_paragraph(info: dict[str, Any]) -> str:
    world = Path(str(info.get("world_dir") or ""))
    manifest = _read_json(world / "manifest.json") if info.get("world_dir") else None
    if not manifest:
        return PARAGRAPHS["datasheet.html"]
    bias = (manifest.get("config") or {}).get("measurement_bias") or {}
    on = any(bool(v) for k, v in bias.items() if k != "note")
    calib = _read_json(world / "calibration.json") or []
    n_ok = sum(1 for c in calib if isinstance(c, dict) and c.get("ok") is True)
    return (
        f"The synthetic world `{manifest.get('world', '?')}` the model was trained on (seed "
        f"{manifest.get('seed', '?')}, scale {manifest.get('scale', '?')}): measurement bias is "
        f"switched {'on' if on else 'off'}; {n_ok} of its {len(calib)} calibration figures are "
        "within tolerance of the published figures, and every other one is explained; the "
        "full configuration is in an appendix."
    )


PARAGRAPHS = {
    "explain.html": (
        "What drives the model overall (SHAP importance and effects for both heads), how that "
        "differs between groups, and how each listed person's reasons are chosen."
    ),
    "model_card.html": (
        "The model in one document: intended and prohibited uses, inputs (including the "
        "sensitive inputs used by design), metrics with intervals, evaluation data and caveats."
    ),
    "transparency_record.html": (
        "The run described in the shape of the UK Algorithmic Transparency Recording Standard: "
        "owner, purpose, data, risks and mitigations, with the fields only the deploying "
        "organisation can fill marked as such."
    ),
    "datasheet.html": (
        "The synthetic world the model was trained on: how it was generated (including whether "
        "measurement bias was switched on), how it compares with the published figures it "
        "imitates, and its full configuration in an appendix."
    ),
}


# --- links back ---------------------------------------------------------------------------------
def add_backlink(page: Path, index: Path) -> None:
    """Put a link to ``index`` at the top of ``page`` (once; a relative link)."""
    text = page.read_text(encoding="utf-8")
    if f'id="{BACKLINK_ID}"' in text or "<main>" not in text:
        return
    href = os.path.relpath(index, page.parent)
    link = (
        f'<main>\n<p class="muted" id="{BACKLINK_ID}"><a href="{href}">&larr; all reports of '
        f"this run (index)</a></p>"
    )
    page.write_text(text.replace("<main>", link, 1), encoding="utf-8")


# --- the pack -----------------------------------------------------------------------------------
_MAIN = re.compile(r"<main>(.*)</main>", re.S)


def _main_of(page: Path) -> str:
    text = page.read_text(encoding="utf-8")
    m = _MAIN.search(text)
    body = m.group(1) if m else text
    # the link back to the index means nothing on paper
    return re.sub(rf'<p class="muted" id="{BACKLINK_ID}">.*?</p>', "", body, flags=re.S)


def _pack_html(run_id: str, pages: dict[str, Path], info: dict[str, Any]) -> str:
    from riskmodel.provenance import sha256_file
    from riskmodel.reports import render_html

    titles = {key: title for key, title, _who in DOCUMENTS}
    sections = []
    for key in PACK_SECTIONS:
        if key in pages:
            sections.append({"title": titles[key], "body": _main_of(pages[key])})
    files = [
        {"title": titles[key], "file": p.name, "sha256": sha256_file(p)}
        for key, p in pages.items()
        if key in PACK_SECTIONS
    ]
    return render_html(
        "panel_pack.html.j2",
        run_id=run_id,
        sections=sections,
        files=files,
        info=info,
        signoff_heading=SIGNOFF_HEADING,
        roles=SIGNOFF_ROLES,
        missing=[titles[k] for k in PACK_SECTIONS if k not in pages],
    )


def print_pdf(html: Path, pdf: Path) -> str | None:
    """Print ``html`` to ``pdf`` with headless Chromium; returns a warning instead of raising."""
    exe = chromium()
    if exe is None:
        return WARN_NO_CHROMIUM.format(html=html)
    with tempfile.TemporaryDirectory(prefix="riskmodel-chromium-") as profile:
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--user-data-dir={profile}",
            f"--print-to-pdf={pdf}",
            html.resolve().as_uri(),
        ]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=CHROMIUM_TIMEOUT_S)
        except (OSError, subprocess.SubprocessError) as exc:
            return WARN_CHROMIUM_FAILED.format(
                error=f"{type(exc).__name__}: {exc}"[:300], html=html
            )
    if not pdf.exists() or pdf.stat().st_size == 0:
        return WARN_CHROMIUM_FAILED.format(error="no PDF written", html=html)
    return None


def write_run_index(
    run: str | Path, *, summary_html: Path | None = None, pdf: bool = False
) -> IndexResult:
    """Write ``index.html`` of a run (and ``panel_pack.html`` / ``.pdf`` when ``pdf``).

    Parameters
    ----------
    run : run id (under ``reports/``) or a run directory
    summary_html : the eligibility summary to include; default the newest scored with this run
    pdf : also print ``panel_pack.pdf`` (skipped with a warning when Chromium is missing)
    """
    from riskmodel.data import write_text
    from riskmodel.paths import reports_dir
    from riskmodel.reports import render_html

    p = Path(run)
    run_dir = p if (p / "run.json").exists() else reports_dir() / str(run)
    if not (run_dir / "run.json").exists():
        raise FileNotFoundError(ERR_NO_RUN.format(run=str(run), dir=run_dir))
    info = _read_json(run_dir / "run.json") or {}
    run_id = str(info.get("run_id") or run_dir.name)
    result = IndexResult(index=run_dir / INDEX)

    for md, html, title in (
        ("transparency_record.md", "transparency_record.html", "Algorithmic transparency record"),
        ("datasheet.md", "datasheet.html", "Datasheet of the synthetic world"),
    ):
        if (run_dir / md).exists():
            markdown_page(run_dir / md, run_dir / html, title=f"{title}: run {run_id}")
    summary = summary_html or latest_summary(run_dir, run_id)
    pages: dict[str, Path] = {}
    for key, _title, _who in DOCUMENTS:
        path = summary if key == "summary" else run_dir / key
        if path is not None and path.exists():
            pages[key] = path
    result.pages = pages

    paragraphs = {
        **PARAGRAPHS,
        "summary": _summary_paragraph(summary),
        "report.html": _training_paragraph(run_dir),
        "fairness.html": _fairness_paragraph(run_dir),
        "limits.html": _limits_paragraph(run_dir),
        "datasheet.html": _datasheet_paragraph(info),
    }
    entries = [
        {
            "title": title,
            "who": who,
            "href": os.path.relpath(pages[key], run_dir) if key in pages else None,
            "paragraph": paragraphs.get(key, ""),
        }
        for key, title, who in DOCUMENTS
    ]
    data_files = [
        f.name
        for f in sorted(run_dir.iterdir())
        if f.is_file() and f.suffix in (".json", ".md", ".parquet")
    ]
    if pdf:
        result.pack_html = write_text(_pack_html(run_id, pages, info), run_dir / PACK_HTML)
        warning = print_pdf(result.pack_html, run_dir / PACK_PDF)
        if warning:
            result.warnings.append(warning)
        else:
            result.pack_pdf = run_dir / PACK_PDF
    index_html = render_html(
        "index.html.j2",
        run_id=run_id,
        info=info,
        entries=entries,
        data_files=data_files,
        pack_pdf=PACK_PDF if (run_dir / PACK_PDF).exists() else None,
        pack_html=PACK_HTML if (run_dir / PACK_HTML).exists() else None,
        warnings=result.warnings,
    )
    write_text(index_html, result.index)
    for page in pages.values():
        add_backlink(page, result.index)
    return result
