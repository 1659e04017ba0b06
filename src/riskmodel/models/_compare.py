"""Experiments compared: trained runs side by side, and their differences with intervals.

Each run's test period is re-scored from its ``predictions.parquet`` with one person-level
bootstrap (all of a person's index events together), so every run's figures are on the same
footing whatever bootstrap unit its own report used. Differences against the first run (the
reference):

- **paired** when both runs scored the same index events (same world, e.g. a feature ablation):
  both models are scored on the same resampled people;
- **independent** otherwise (e.g. the measurement-bias twin of a world): each run is resampled on
  its own and the difference of the replicates gives a (wider) interval.

Every difference is worded by ``riskmodel.evaluation.verdict``. When both runs have a fairness
audit (``fairness.json``), the groups' figures are put side by side too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.evaluation import HIGHER_IS_BETTER, interval_json, percentile_interval, verdict
from riskmodel.models._heads import HEAD_LABELS
from riskmodel.models._paired import paired_comparison
from riskmodel.provenance import rng

COMPARE_METRICS = ("auc", "average_precision", "recall_top_k", "brier", "ece")
SCORES = {  # name -> prediction column per head
    "model": {"reoffend": "p_reoffend", "severe": "p_severe"},
    "rfg": {"reoffend": "score_rfg", "severe": "score_rfg_severe"},
    "logistic_age_priors": {
        "reoffend": "score_logistic_age_priors",
        "severe": "score_logistic_age_priors_severe",
    },
    "oracle": {"reoffend": "p_reoffend_true", "severe": "p_severe_true"},
}
TRUE_OUTCOME = "true_reoffend_12m"  # any true DA incident in 12 months, recorded or not
SHARED_MIN = 0.99
FAIRNESS_METRICS = ("selection_rate", "fpr", "fnr", "ppv")

ERR_TOO_FEW = "compare: give at least two runs (got {n})"

Progress = Callable[[str], None]


def _scores(pred: pd.DataFrame, head: str) -> dict[str, np.ndarray]:
    out = {}
    for name, cols in SCORES.items():
        col = cols[head]
        if col in pred.columns and pred[col].notna().all():
            out[name] = pred[col].to_numpy(dtype=float)
    return out


def _y(pred: pd.DataFrame, column: str) -> np.ndarray:
    return pred[column].astype(bool).to_numpy().astype(int)


def _shared(a: Any, b: Any) -> bool:
    """Same world and (almost) the same test index events: a paired comparison is possible."""
    wa, wb = a.info.get("world_dir"), b.info.get("world_dir")
    if not wa or wa != wb or "index_event_id" not in a.predictions:
        return False
    ea = set(a.predictions["index_event_id"].astype(str))
    eb = set(b.predictions["index_event_id"].astype(str))
    common = len(ea & eb)
    return common >= SHARED_MIN * max(len(ea), len(eb))


def _people_key(groups: np.ndarray) -> str:
    import hashlib

    return hashlib.sha256("\n".join(np.unique(groups)).encode()).hexdigest()[:16]


def _left_out(run: Any) -> list[str]:
    """Feature groups and names the experiment left out (feature builder and training)."""
    fc = run.experiment.features
    out = [f"group {g}" for g in getattr(fc, "exclude_groups", ())]
    out += list(getattr(fc, "exclude", ()))
    out += list(run.metrics.get("features.excluded") or [])
    return out


def _run_label(run: Any) -> str:
    return f"{run.experiment.name} ({run.id[:8]})"


def compare_runs(
    refs: Sequence[str | Path],
    *,
    out_dir: str | Path | None = None,
    n_boot: int = 500,
    ci_level: float = 0.95,
    seed: int = 0,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Score every run alike, difference each against the first, write compare.html/json."""
    import riskmodel
    from riskmodel.models._run import load_run
    from riskmodel.paths import reports_dir

    say = progress or (lambda _msg: None)
    if len(refs) < 2:
        raise ValueError(ERR_TOO_FEW.format(n=len(refs)))
    runs = []
    for r in refs:
        say(f"loading run {r}")
        runs.append(load_run(r))
    result: dict[str, Any] = {
        "runs": [
            {
                "run_id": r.id,
                "label": _run_label(r),
                "experiment": r.experiment.name,
                "description": r.experiment.description,
                "world": str(r.experiment.world or r.experiment.table),
                "n_rows": len(r.predictions),
                "n_people": int(r.predictions["person_id"].nunique()),
                "k": r.metrics.get("top_k.k"),
                "features_n": r.metrics.get("features.n"),
                "features_excluded": _left_out(r),
            }
            for r in runs
        ],
        "n_boot": n_boot,
        "ci_level": ci_level,
        "bootstrap_unit": "person",
        "seed": seed,
        "metrics": list(COMPARE_METRICS),
        "per_run": [],
        "differences": [],
    }
    reps: list[dict[str, Any]] = []
    for i, run in enumerate(runs):
        say(f"scoring {_run_label(run)} ({n_boot} person-level replicates)")
        pred = run.predictions
        groups = pred["person_id"].astype(str).to_numpy()
        k = run.metrics.get("top_k.k")
        entry: dict[str, Any] = {}
        rep_entry: dict[str, Any] = {}
        for head in HEAD_LABELS:
            res = paired_comparison(
                _y(pred, HEAD_LABELS[head]),
                _scores(pred, head),
                groups=groups,
                pairs={
                    f"model_vs_{b}": ("model", b)
                    for b in ("rfg", "logistic_age_priors", "oracle")
                    if b in _scores(pred, head)
                },
                metrics=COMPARE_METRICS,
                n_boot=n_boot,
                ci_level=ci_level,
                generator=rng(seed, f"compare.{i}.{head}"),
                k=k,
                keep_replicates=True,
            )
            rep_entry[head] = res.pop("replicates")
            entry[head] = res
        if TRUE_OUTCOME in pred.columns and pred[TRUE_OUTCOME].notna().all():
            res = paired_comparison(
                _y(pred, TRUE_OUTCOME),
                {"model": pred["p_reoffend"].to_numpy(dtype=float)},
                groups=groups,
                metrics=("auc",),
                n_boot=n_boot,
                ci_level=ci_level,
                # keyed by the test people: two runs of the same people draw the same resamples,
                # so their difference is paired; runs of different people stay independent
                generator=rng(seed, f"compare.true.{_people_key(groups)}"),
                keep_replicates=True,
            )
            rep_entry["true_outcome"] = res.pop("replicates")
            entry["true_outcome"] = res
            entry["true_outcome_rate"] = float(_y(pred, TRUE_OUTCOME).mean())
        entry["recorded_rate"] = float(_y(pred, HEAD_LABELS["reoffend"]).mean())
        entry["fairness"] = _fairness(run.dir)
        result["per_run"].append(entry)
        reps.append(rep_entry)

    ref = runs[0]
    for i, run in enumerate(runs[1:], start=1):
        paired = _shared(ref, run)
        say(f"differences: {_run_label(run)} vs {_run_label(ref)}")
        diff: dict[str, Any] = {"run": i, "reference": 0, "paired": paired, "heads": {}}
        for head in HEAD_LABELS:
            if paired:
                d = _paired_diff(ref, run, head, n_boot, ci_level, seed)
            else:
                d = _independent_diff(reps[0][head], reps[i][head], result["per_run"], i, head)
            diff["heads"][head] = d
        if "true_outcome" in reps[0] and "true_outcome" in reps[i]:
            diff["true_outcome"] = _independent_diff(
                reps[0]["true_outcome"],
                reps[i]["true_outcome"],
                None,
                i,
                "true_outcome",
                metrics=("auc",),
                values=(result["per_run"][0]["true_outcome"], result["per_run"][i]["true_outcome"]),
            )
        diff["fairness"] = _fairness_diff(
            result["per_run"][0]["fairness"], result["per_run"][i]["fairness"]
        )
        result["differences"].append(diff)
    result["headlines"] = headlines(result)
    out = (
        Path(out_dir) if out_dir else reports_dir() / f"compare-{runs[0].id[:8]}-{runs[-1].id[:8]}"
    )
    result["out_dir"] = str(out)
    from riskmodel.models._compare_report import write_compare_report

    say(f"writing {out / 'compare.html'}")
    write_compare_report(out, result, version=riskmodel.__version__)
    return result


def _paired_diff(ref: Any, run: Any, head: str, n_boot: int, ci_level: float, seed: int):
    a = ref.predictions.assign(_e=ref.predictions["index_event_id"].astype(str))
    b = run.predictions.assign(_e=run.predictions["index_event_id"].astype(str))
    j = a.merge(b[["_e", f"p_{head}"]], on="_e", suffixes=("_ref", "_run"))
    res = paired_comparison(
        _y(j, HEAD_LABELS[head]),
        {
            "run": j[f"p_{head}_run"].to_numpy(float),
            "reference": j[f"p_{head}_ref"].to_numpy(float),
        },
        groups=j["person_id"].astype(str).to_numpy(),
        pairs={"d": ("run", "reference")},
        metrics=COMPARE_METRICS,
        n_boot=n_boot,
        ci_level=ci_level,
        generator=rng(seed, f"compare.paired.{head}"),
        k=ref.metrics.get("top_k.k"),
    )
    return {
        "diff": res["diff"]["d"],
        "ci": res["diff_ci"]["d"],
        "verdict": res["verdict"]["d"],
        "n_rows": res["n_rows"],
    }


def _independent_diff(rep_ref, rep_run, per_run, i, head, *, metrics=COMPARE_METRICS, values=None):
    if values is None:
        values = (per_run[0][head], per_run[i][head])
    out: dict[str, Any] = {"diff": {}, "ci": {}, "verdict": {}}
    for m in metrics:
        a, b = values[1]["value"][m]["model"], values[0]["value"][m]["model"]
        ra, rb = rep_run[m]["model"], rep_ref[m]["model"]
        n = min(len(ra), len(rb))
        ci = interval_json(*percentile_interval(ra[:n] - rb[:n], values[0]["ci_level"]))
        out["diff"][m] = None if a is None or b is None else a - b
        out["ci"][m] = ci
        out["verdict"][m] = verdict(*ci, higher_is_better=HIGHER_IS_BETTER[m])
    return out


def _fairness(run_dir: Path) -> dict[str, Any] | None:
    """``groups.<attribute>.<group>.<metric>`` (and ``_ci``) of the run's fairness.json, if any."""
    path = Path(run_dir) / "fairness.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    groups = data.get("groups")
    if not isinstance(groups, dict):
        return None
    out: dict[str, Any] = {}
    for attr, by_group in groups.items():
        if not isinstance(by_group, dict):
            continue
        for group, vals in by_group.items():
            if not isinstance(vals, dict):
                continue
            row = {"n": vals.get("n")}
            for m in FAIRNESS_METRICS:
                if m in vals:
                    row[m] = vals.get(m)
                    row[f"{m}_ci"] = vals.get(f"{m}_ci")
            out.setdefault(attr, {})[group] = row
    return {"groups": out, **_audit_findings(data)}


def _audit_findings(data: dict[str, Any]) -> dict[str, Any]:
    """The audit's own counts of flagged differences and its label-bias findings."""
    counts = (data.get("summary") or {}).get("counts") or {}
    findings = []
    attrs = ((data.get("label_bias") or {}).get("attributes")) or {}
    for attr, body in attrs.items():
        for f in (body or {}).get("findings") or []:
            findings.append(
                {
                    "attribute": attr,
                    "group": f.get("group"),
                    "finding": f.get("finding"),
                    "metric": f.get("metric"),
                    "ratio": f.get("ratio", f.get("recorded_ratio")),
                    "ci": f.get("ci", f.get("recorded_ci")),
                }
            )
    return {"counts": counts, "label_bias": findings}


def _fairness_diff(a: dict | None, b: dict | None) -> dict[str, Any] | None:
    """Group figures of both runs side by side (the groups hold different people: no interval of
    the difference is claimed; each run's own intervals are shown)."""
    if not a or not b:
        return None
    ga, gb = a["groups"], b["groups"]
    out: dict[str, Any] = {}
    for attr in ga:
        if attr not in gb:
            continue
        for group in ga[attr]:
            if group in gb[attr]:
                out.setdefault(attr, {})[group] = {
                    "reference": ga[attr][group],
                    "run": gb[attr][group],
                }
    return {
        "groups": out,
        "counts": {"reference": a["counts"], "run": b["counts"]},
        "label_bias": {"reference": a["label_bias"], "run": b["label_bias"]},
    }


def headlines(result: dict[str, Any]) -> list[str]:
    """One sentence per compared run: AUC and calibration against the reference, worded."""
    lines = []
    ref = result["runs"][0]
    for d in result["differences"]:
        run = result["runs"][d["run"]]
        for head in ("reoffend", "severe"):
            h = d["heads"][head]
            a = result["per_run"][d["run"]][head]["value"]
            b = result["per_run"][0][head]["value"]
            kind = "paired" if d["paired"] else "independent samples"
            lines.append(
                f"{head}: {run['label']} vs {ref['label']}: AUC {_f(a['auc']['model'])} vs "
                f"{_f(b['auc']['model'])}, difference {_f(h['diff']['auc'], sign=True)} "
                f"({_iv(h['ci']['auc'])}, {kind}): {h['verdict']['auc']}; ECE "
                f"{_f(a['ece']['model'])} vs {_f(b['ece']['model'])}: {h['verdict']['ece']}."
            )
        if "true_outcome" in d:
            t = d["true_outcome"]
            lines.append(
                f"reoffend model against true reoffending (any DA incident, recorded or not): AUC "
                f"difference "
                f"{_f(t['diff']['auc'], sign=True)} ({_iv(t['ci']['auc'])}): {t['verdict']['auc']}."
            )
    return lines


def _f(x: Any, *, sign: bool = False) -> str:
    if x is None:
        return "–"
    return f"{x:+.3f}" if sign else f"{x:.3f}"


def _iv(p: Any) -> str:
    if not p or p[0] is None:
        return "no interval"
    return f"{p[0]:+.3f} to {p[1]:+.3f}"
