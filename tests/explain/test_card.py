"""Model card, transparency record and datasheet: permitted use, and numbers from the run."""

from __future__ import annotations

import re

import pytest

from riskmodel.explain import NOT_AUDITED, write_model_card
from riskmodel.notice import PERMITTED_PURPOSE, PROHIBITED_USES
from tests.explain.explain_fixtures import build_run, read_json

_NUM = r"(-?\d+\.\d+)"
_CELL = re.compile(rf"^{_NUM}(?: \[{_NUM}, {_NUM}\])?$")
_KEY = re.compile(r"`([A-Za-z0-9_]+)`")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _parse_tables(md: str, section_pattern: str):
    """Yield (section name, header keys, {row key: [cell, ...]}) for tables under headings
    matching ``section_pattern`` (a regex with one group naming the section)."""
    section = None
    lines = md.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(section_pattern, lines[i])
        if m:
            section = m.group(1)
        elif lines[i].startswith("#"):
            section = None
        if section and lines[i].startswith("|") and i + 1 < len(lines) and "---" in lines[i + 1]:
            header = _cells(lines[i])
            keys = [(_KEY.search(h).group(1) if _KEY.search(h) else h) for h in header]
            rows = {}
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                cells = _cells(lines[i])
                k = _KEY.search(cells[0])
                rows[k.group(1) if k else cells[0]] = cells[1:]
                i += 1
            yield section, keys[1:], rows
            continue
        i += 1


def _close(text: str, value: float, ci) -> None:
    m = _CELL.match(text)
    assert m, text
    assert float(m.group(1)) == pytest.approx(value, abs=5e-4 + 1e-12)
    if ci is not None:
        assert float(m.group(2)) == pytest.approx(ci[0], abs=5e-4 + 1e-12)
        assert float(m.group(3)) == pytest.approx(ci[1], abs=5e-4 + 1e-12)


@pytest.fixture(scope="module")
def card(run_root):
    paths = write_model_card(run_root)
    return {k: p.read_text() for k, p in paths.items()}


def test_card_names_the_permitted_use_and_every_prohibited_use(card):
    for name in ("model card", "model card (Markdown)", "transparency record", "datasheet"):
        text = card[name]
        assert PERMITTED_PURPOSE in text, name
        for use in PROHIBITED_USES:
            assert use in text, (name, use)
    md = card["model card (Markdown)"]
    section = md.split("## 3. Out-of-scope uses")[1].split("## 4.")[0]
    assert [ln[2:] for ln in section.splitlines() if ln.startswith("- ")] == list(PROHIBITED_USES)


def test_card_has_the_model_card_sections(card):
    md = card["model card (Markdown)"]
    for title in (
        "Model details",
        "Intended use",
        "Out-of-scope uses",
        "Factors",
        "Metrics",
        "Evaluation data",
        "Training data",
        "Quantitative analyses",
        "Ethical considerations",
        "Caveats and recommendations",
    ):
        assert re.search(rf"^## \d+\. {title}", md, re.M), title


def _metric_ci(metrics: dict, head: str, metric: str, model: str):
    return metrics.get(f"test.{head}.{metric}.{model}_ci") or metrics.get(
        f"test.{head}.{metric}_ci.{model}"
    )


def test_card_metrics_match_metrics_json(card, run_root):
    metrics = read_json(run_root / "metrics.json")
    seen = set()
    for head, keys, rows in _parse_tables(card["model card (Markdown)"], r"^### Head `(\w+)`"):
        for model, cells in rows.items():
            for metric, cell in zip(keys, cells, strict=True):
                key = f"test.{head}.{metric}.{model}"
                if key not in metrics:
                    assert cell == "–"  # e.g. the model's gain over itself
                    continue
                _close(cell, metrics[key], _metric_ci(metrics, head, metric, model))
                seen.add(key)
    expected = {
        k
        for k, v in metrics.items()
        if k.startswith("test.") and k.count(".") == 3 and not isinstance(v, list)
    }
    assert seen == expected
    assert len(expected) == 2 * (4 * 5 + 4)


def test_card_group_analysis_matches_fairness_json(card, run_root):
    fairness = read_json(run_root / "fairness.json")["groups"]
    seen = 0
    for attr, keys, rows in _parse_tables(card["model card (Markdown)"], r"^#### (\w+)$"):
        assert set(rows) == set(fairness[attr])
        for group, cells in rows.items():
            for metric, cell in zip(keys, cells, strict=True):
                want = fairness[attr][group][metric]
                if fairness[attr][group].get("suppressed"):
                    n_below = fairness[attr][group]["n_below"]
                    assert cell == (f"fewer than {n_below}" if metric == "n" else "suppressed")
                elif metric == "n":
                    assert int(cell) == want
                else:
                    _close(cell, want, fairness[attr][group].get(f"{metric}_ci"))
                seen += 1
    assert seen == sum(
        1
        for a in fairness.values()
        for g in a.values()
        for k in g
        if not k.endswith("_ci") and k not in ("suppressed", "n_below")
    )


def test_html_card_carries_the_same_numbers_and_is_self_contained(card, run_root):
    html = card["model card"]
    metrics = read_json(run_root / "metrics.json")
    for k, v in metrics.items():
        if k.startswith("test.") and isinstance(v, float):
            assert f"{v:.3f}" in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?https?:""", html, re.I)
    assert html.index("Permitted use only") < html.index("Model details")


def test_recorded_against_true_rates_are_the_runs_own(card, test_frame):
    md = card["model card (Markdown)"]
    block = md.split("### Recorded against true reoffending")[1].split("### What drives")[0]
    sex = block.split("**sex**")[1].split("**")[0]
    for group, sub in test_frame.groupby("sex"):
        row = next(ln for ln in sex.splitlines() if ln.startswith(f"| {group} |"))
        cells = _cells(row)
        assert int(cells[1]) == len(sub)
        assert float(cells[2]) == pytest.approx(sub["reoffend_12m"].mean(), abs=5e-4)
        assert float(cells[3]) == pytest.approx(sub["true_reoffend_12m"].mean(), abs=5e-4)


def test_unaudited_run_says_so(tmp_path, bundle, test_frame):
    d = build_run(tmp_path, bundle, test_frame, run_id="run-unaudited", fairness=False, world=False)
    paths = write_model_card(d)
    md = paths["model card (Markdown)"].read_text()
    assert NOT_AUDITED.format(run_id="run-unaudited") in md
    assert "riskmodel audit --run run-unaudited" in paths["model card"].read_text()
    sheet = paths["datasheet"].read_text()
    assert "data owner should supply a datasheet" in sheet


def test_transparency_record_has_the_atrs_sections(card):
    text = card["transparency record"]
    for title in (
        "Tier 1",
        "Tier 2",
        "Owner and responsibility",
        "Description and rationale",
        "Decision-making process",
        "Human decisions and review",
        "Data",
        "Risks, mitigations and impact assessments",
    ):
        assert title in text, title


def test_datasheet_is_built_from_the_world_manifest(card, run_root):
    sheet = card["datasheet"]
    world = read_json(run_root.parent / "world" / "manifest.json")
    calibration = read_json(run_root.parent / "world" / "calibration.json")
    for title in (
        "Motivation",
        "Composition",
        "Collection process",
        "Preprocessing",
        "Uses",
        "Distribution",
        "Maintenance",
    ):
        assert re.search(rf"^## {title}", sheet, re.M), title
    for table, n in world["row_counts"].items():
        assert f"| {table} | {n} |" in sheet
    assert f"| seed | {world['seed']} |" in sheet
    for f, digest in world["files"].items():
        assert digest in sheet and f in sheet
    row = calibration[0]
    assert (
        f"| {row['name']} | {row['target']} | {row['generated']:.3f} | {row['tolerance']} | yes |"
        in sheet
    )


def test_protected_characteristics_statement_follows_the_inputs(card):
    md = card["model card (Markdown)"]
    assert "None of the 9 inputs is a protected characteristic" in md
    assert "age_at_index" in md.split("**Age is an input by design.**")[1].split("\n- ")[0]
