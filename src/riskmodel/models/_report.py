"""The training report: plain-language summary, figures and the full metric table."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from riskmodel.evaluation import (
    BETTER,
    HIGHER_IS_BETTER,
    NO_CLEAR_DIFFERENCE,
    VERDICTS,
    WORSE,
    capacity_curve,
    reliability_table,
    verdict,
)
from riskmodel.models._fit import MODEL_ORDER, Trained

MODEL_LABELS = {
    "model": "model (LightGBM, calibrated)",
    "base_rate": "base rate (everyone alike)",
    "rfg": "RFG score",
    "decile_score": "COMPAS decile score",
    "logistic_age_priors": "logistic: age + prior DA count",
    "logistic": "logistic: all features",
    "oracle": "oracle (world's true probability)",
}
METRIC_LABELS = {
    "auc": ("AUC", "chance a random person who reoffended is ranked above one who did not"),
    "average_precision": ("average precision", "precision averaged over every list length"),
    "precision_top_k": ("precision in top k", "share of the k listed people with the outcome"),
    "recall_top_k": ("recall in top k", "share of everyone with the outcome found in the top k"),
    "harm_share_top_k": ("harm share in top k", "share of all harm (days) held by the top k"),
    "brier": ("Brier score", "mean squared error of the probability (lower is better)"),
    "log_loss": ("log-loss", "penalty for confident wrong probabilities (lower is better)"),
    "ece": ("calibration error (ECE)", "average gap between predicted and observed rates"),
    "npr": (
        "negative prediction rate",
        "share of those called low risk who had the outcome (lower is better)",
    ),
}
HEAD_WORDS = {
    "reoffend": "a new recorded DA offence within 12 months",
    "severe": "a severe recorded DA offence (serious violence or sexual) within 12 months",
}
FIG_DPI = 90
COLOURS = {
    "model": "#1f4e79",
    "base_rate": "#999999",
    "rfg": "#c0504d",
    "decile_score": "#8064a2",
    "logistic_age_priors": "#f79646",
    "logistic": "#4bacc6",
    "oracle": "#2e7d32",
}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _y(trained: Trained, head: str) -> np.ndarray:
    from riskmodel.models._heads import HEAD_LABELS

    return trained.predictions[HEAD_LABELS[head]].astype(bool).to_numpy().astype(int)


def _roc_figure(trained: Trained) -> str:
    from sklearn.metrics import roc_curve

    from riskmodel.reports import figure_to_data_uri as _to_uri

    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
    for ax, head in zip(axes, ("reoffend", "severe"), strict=True):
        y = _y(trained, head)
        for name in trained.models(head):
            if name == "base_rate":
                continue
            fpr, tpr, _ = roc_curve(y, trained.scores["test"][head][name].rank)
            auc = trained.metrics.get(f"test.{head}.auc.{name}")
            ax.plot(
                fpr,
                tpr,
                color=COLOURS[name],
                lw=1.6 if name == "model" else 1.1,
                label=f"{name} ({auc:.3f})" if auc is not None else name,
            )
        ax.plot([0, 1], [0, 1], ls=":", color="#999999", lw=1, label="chance")
        ax.set_title(f"{head}: ROC curve (AUC in brackets)")
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.legend(fontsize=8, loc="lower right")
    return _to_uri(fig, dpi=FIG_DPI)


def binomial_interval(k: np.ndarray, n: np.ndarray, level: float = 0.95) -> np.ndarray:
    """Jeffreys interval of an observed rate ``k / n`` (scipy's beta quantiles), shape (2, len)."""
    from scipy.stats import beta

    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    a = (1 - level) / 2
    lo = np.where(k > 0, beta.ppf(a, k + 0.5, n - k + 0.5), 0.0)
    hi = np.where(k < n, beta.ppf(1 - a, k + 0.5, n - k + 0.5), 1.0)
    return np.vstack([lo, hi])


def _reliability_figure(trained: Trained, n_bins: int, level: float = 0.95) -> str:
    from riskmodel.reports import figure_to_data_uri as _to_uri

    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
    for ax, head in zip(axes, ("reoffend", "severe"), strict=True):
        y = _y(trained, head)
        top = 0.0
        for name in ("model", "logistic", "rfg", "decile_score", "oracle"):
            if name not in trained.scores["test"][head]:
                continue
            t = reliability_table(y, trained.scores["test"][head][name].proba, n_bins=n_bins)
            top = max(
                top, float(np.nanmax(t["mean_predicted"])), float(np.nanmax(t["observed_rate"]))
            )
            if name == "model":
                ci = binomial_interval(t["observed_rate"] * t["n"], t["n"], level)
                top = max(top, float(np.nanmax(ci[1])))
                ax.errorbar(
                    t["mean_predicted"],
                    t["observed_rate"],
                    yerr=np.abs(ci - t["observed_rate"]),
                    marker="o",
                    ms=4,
                    capsize=3,
                    color=COLOURS[name],
                    lw=1.8,
                    label=f"model ({round(level * 100)}% interval of each group's rate)",
                    zorder=3,
                )
                continue
            ax.plot(
                t["mean_predicted"],
                t["observed_rate"],
                marker="o",
                ms=3,
                color=COLOURS[name],
                lw=0.9,
                alpha=0.7,
                label=name,
            )
        top = min(1.0, top * 1.08 + 0.01)
        ax.plot([0, top], [0, top], ls=":", color="#999999", lw=1, label="perfect calibration")
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.set_title(f"{head}: reliability ({n_bins} equal-size groups)")
        ax.set_xlabel("mean predicted probability")
        ax.set_ylabel("observed rate")
        ax.legend(fontsize=7.5, loc="upper left")
    return _to_uri(fig, dpi=FIG_DPI)


def _ks(n: int, points: int, k: int) -> np.ndarray:
    """List lengths for the curves: from 1 to five times the capacity (at least a tenth of n)."""
    top = min(n, max(5 * k, n // 10, 10))
    return np.unique(np.linspace(1, max(top, 1), points).round())


def _capacity_figure(trained: Trained, points: int) -> str:
    from riskmodel.reports import figure_to_data_uri as _to_uri

    plt = _plt()
    y = _y(trained, "reoffend")
    ks = _ks(len(y), points, trained.k)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for name in trained.models("reoffend"):
        c = capacity_curve(y, trained.scores["test"]["reoffend"][name].rank, ks)
        style = {"color": COLOURS[name], "lw": 1.6 if name == "model" else 1.0, "label": name}
        axes[0].plot(ks, c["precision"], **style)
        axes[1].plot(ks, c["recall"], **style)
    for ax, what in zip(axes, ("precision", "recall"), strict=True):
        ax.axvline(trained.k, color="#333333", ls="--", lw=1, label=f"capacity k = {trained.k}")
        ax.set_xlabel("people listed (k)")
        ax.set_ylabel(f"{what} in top k")
        ax.set_title(f"reoffend: {what} in the top k (dashed: k = {trained.k})", fontsize=10)
        ax.legend(fontsize=8)
    return _to_uri(fig, dpi=FIG_DPI)


def _harm_figure(trained: Trained, points: int) -> str | None:
    from riskmodel.reports import figure_to_data_uri as _to_uri

    if "harm_days_12m" not in trained.predictions:
        return None
    plt = _plt()
    y = _y(trained, "severe")
    harm = trained.predictions["harm_days_12m"].to_numpy(dtype=float, na_value=0.0)
    ks = _ks(len(y), points, trained.k)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name in trained.models("severe"):
        c = capacity_curve(y, trained.scores["test"]["severe"][name].rank, ks, harm=harm)
        ax.plot(
            ks, c["harm_share"], color=COLOURS[name], lw=1.6 if name == "model" else 1.0, label=name
        )
    ax.axvline(trained.k, color="#333333", ls="--", lw=1, label=f"capacity k = {trained.k}")
    ax.set_xlabel("people ranked highest by severity risk (k)")
    ax.set_ylabel("share of all harm days in the next 12 months")
    ax.set_title("severe: harm captured by the top k")
    ax.legend(fontsize=8)
    return _to_uri(fig, dpi=FIG_DPI)


def _fmt(v: Any, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def _ci(v: Any, digits: int = 3) -> str:
    if not v or v[0] is None:
        return ""
    return f"{v[0]:.{digits}f} to {v[1]:.{digits}f}"


# --- calibration: slope and intercept with intervals ---------------------------------------------
#: calibration rows reported (period prefix in metrics.json, words)
CAL_PERIODS = {"test": "test period", "person_disjoint": "people not seen in training"}
ERR_CAL_LENGTHS = "calibration_fit: y, p and weights must have the same length, got {lens}"


def _logit_clip(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def calibration_fit(
    y: np.ndarray, p: np.ndarray, weights: np.ndarray | None = None
) -> tuple[float, float]:
    """``(slope, intercept)`` of a probability's calibration on outcomes ``y``.

    The slope is the coefficient of a logistic regression of ``y`` on ``logit(p)`` (1: the spread
    of the probabilities is right; below 1: too extreme; above 1: too timid). The intercept is
    calibration-in-the-large: the constant ``a`` of a logistic fit with ``logit(p)`` as a fixed
    offset (0: the average is right; above 0: risk under-stated; below 0: over-stated).
    Returns NaN for both when ``y`` has one class only.
    """
    from scipy.optimize import brentq
    from scipy.special import expit
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(y, dtype=float)
    x = _logit_clip(p)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=float)
    if not (len(y) == len(x) == len(w)):
        raise ValueError(ERR_CAL_LENGTHS.format(lens=[len(y), len(x), len(w)]))
    keep = w > 0
    y, x, w = y[keep], x[keep], w[keep]
    if len(y) == 0 or y.min() == y.max():
        return float("nan"), float("nan")
    fit = LogisticRegression(C=np.inf, max_iter=200, tol=1e-8)
    fit.fit(x[:, None], y.astype(int), sample_weight=w)
    slope = float(fit.coef_[0, 0])

    def score(a: float) -> float:  # derivative of the log-likelihood in the offset model
        return float(np.sum(w * (y - expit(a + x))))

    intercept = float(brentq(score, -20.0, 20.0, xtol=1e-10))
    return slope, intercept


def calibration_fit_replicates(
    y: np.ndarray, p: np.ndarray, W: np.ndarray, *, iterations: int = 30
) -> np.ndarray:
    """:func:`calibration_fit` for many bootstrap replicates at once: ``W`` (replicates x rows)
    of counts; returns (replicates, 2) of slope and intercept.

    The same two maximum-likelihood fits, solved by Newton's method on every replicate together
    (scikit-learn fits one weighted model at a time, which for hundreds of replicates of a
    Kent-sized test period is most of the training report's time). Replicates with one class
    only give NaN.
    """
    from scipy.special import expit

    y = np.asarray(y, dtype=float)
    x = _logit_clip(p)
    W = np.atleast_2d(np.asarray(W, dtype=float))
    B = W.shape[0]
    a, b = np.zeros(B), np.ones(B)
    c = np.zeros(B)
    with np.errstate(all="ignore"):
        for _ in range(iterations):
            q = expit(a[:, None] + b[:, None] * x)
            r = W * (y - q)
            w2 = W * q * (1 - q)
            ga, gb = r.sum(1), (r * x).sum(1)
            haa, hab, hbb = w2.sum(1), (w2 * x).sum(1), (w2 * x * x).sum(1)
            det = haa * hbb - hab**2
            da, db = (hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det
            qc = expit(c[:, None] + x)
            dc = (W * (y - qc)).sum(1) / (W * qc * (1 - qc)).sum(1)
            a, b, c = a + da, b + db, c + dc
            step = np.abs(np.concatenate([da, db, dc]))
            if np.all(step[np.isfinite(step)] < 1e-10):
                break
    pos = (W * y).sum(1)
    one_class = (pos == 0) | (pos == W.sum(1))
    out = np.column_stack([b, c])
    out[one_class | ~np.isfinite(out).all(axis=1)] = np.nan
    return out


def calibration_metrics(trained: Trained, experiment: Any) -> dict[str, Any]:
    """``<period>.<head>.calibration_slope.model`` / ``calibration_intercept`` and their ``_ci``,
    for the test period and for people not seen in training, bootstrapped like every other
    interval in ``metrics.json`` (same unit, own named random stream)."""
    from riskmodel.evaluation import interval_json, percentile_interval, replicate_weights
    from riskmodel.provenance import rng

    ev = experiment.evaluation
    out: dict[str, Any] = {}
    unseen = ~np.asarray(trained.split.seen_in_fitting, dtype=bool)
    pid = trained.predictions["person_id"].to_numpy()
    jobs = []
    for period in CAL_PERIODS:
        rows = np.ones(len(pid), bool) if period == "test" else unseen
        if rows.sum() == 0:
            continue
        for head in ("reoffend", "severe"):
            y = _y(trained, head)[rows]
            p = trained.scores["test"][head]["model"].proba[rows]
            slope, intercept = calibration_fit(y, p)
            key = f"{period}.{head}.calibration_{{}}.model"
            out[key.format("slope")] = None if np.isnan(slope) else slope
            out[key.format("intercept")] = None if np.isnan(intercept) else intercept
            if ev.n_boot > 0:
                jobs.append((period, head, y, p, pid[rows]))

    def replicates(job) -> np.ndarray:
        period, head, y, p, people = job
        weights = replicate_weights(
            len(y),
            ev.n_boot,
            rng(experiment.seed, f"bootstrap.calibration.{period}.{head}"),
            unit=ev.bootstrap_unit,
            groups=people if ev.bootstrap_unit == "person" else None,
        )
        return np.vstack([calibration_fit_replicates(y, p, W) for W in weights])

    # each job has its own named random stream, so running them side by side changes no figure;
    # numpy and scipy release the GIL in the array work, so the threads use both cores
    with ThreadPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1) or 1) as pool:
        results = list(pool.map(replicates, jobs))
    for (period, head, *_), arr in zip(jobs, results, strict=True):
        for j, what in enumerate(("slope", "intercept")):
            vals = arr[:, j][~np.isnan(arr[:, j])]
            out[f"{period}.{head}.calibration_{what}_ci.model"] = (
                interval_json(*percentile_interval(vals, ev.ci_level)) if len(vals) else None
            )
    return out


# --- comparisons: one rule, all shown ------------------------------------------------------------
#: the periods every comparison is made on, in report order
PERIODS = {"test": "test period", "person_disjoint": "people not seen in training"}
#: metric words for the comparison sentences (the metrics with a paired interval)
GAIN_WORDS = {
    "auc": "AUC",
    "average_precision": "average precision",
    "recall_top_k": "recall in the top k",
    "harm_share_top_k": "harm share in the top k",
    "brier": "Brier score",
}
#: baselines compared in the plain-words list (the oracle is the ceiling, not a competitor)
CEILING = "oracle"


def comparisons(m: dict[str, Any], models_by_head: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Every model-vs-baseline comparison with a paired interval, each with its verdict.

    One row per period x head x baseline x metric, in report order; the verdict comes from
    :func:`riskmodel.evaluation.verdict` on the paired interval and nothing else.
    """
    rows = []
    for period, period_words in PERIODS.items():
        for head, models in models_by_head.items():
            for other in models:
                if other == "model":
                    continue
                for metric in GAIN_WORDS:
                    gain = m.get(f"{period}.{head}.{metric}_gain.{other}")
                    if gain is None:
                        continue
                    ci = m.get(f"{period}.{head}.{metric}_gain_ci.{other}") or [None, None]
                    rows.append(
                        {
                            "period": period,
                            "period_words": period_words,
                            "head": head,
                            "other": other,
                            "metric": metric,
                            "metric_words": GAIN_WORDS[metric],
                            "model_value": m.get(f"{period}.{head}.{metric}.model"),
                            "other_value": m.get(f"{period}.{head}.{metric}.{other}"),
                            "gain": gain,
                            "gain_ci": ci,
                            "verdict": verdict(
                                ci[0], ci[1], higher_is_better=HIGHER_IS_BETTER[metric]
                            ),
                        }
                    )
    return rows


def _decimals(*values: float) -> int:
    """Decimals that show the first two significant digits of the smallest non-zero value
    (at least 3, at most 6), so a tiny difference or interval end never reads as zero."""
    small = [abs(v) for v in values if v is not None and v == v and v != 0]
    if not small or min(small) >= 0.01:
        return 3
    return int(min(6, max(3, -np.floor(np.log10(min(small))) + 1)))


def _diff(v: float) -> str:
    """A signed difference; tiny ones keep enough digits not to read as zero."""
    return f"{v:+.{_decimals(v)}f}"


def _diff_ci(ci: Any) -> str:
    if not ci or ci[0] is None:
        return ""
    d = _decimals(*ci)
    return f"{ci[0]:.{d}f} to {ci[1]:.{d}f}"


def _cmp_text(c: dict[str, Any], labels: dict[str, str] = MODEL_LABELS) -> str:
    return (
        f"{labels.get(c['other'], c['other'])} ({_fmt(c['model_value'])} vs "
        f"{_fmt(c['other_value'])}, difference {_diff(c['gain'])}, interval "
        f"{_diff_ci(c['gain_ci'])})"
    )


def comparison_sentences(
    rows: list[dict[str, Any]], labels: dict[str, str] = MODEL_LABELS
) -> list[str]:
    """One finding per period x head x metric: the baselines the model is worse than, better
    than, and not clearly different from. Every row of ``rows`` appears exactly once."""
    out = []
    keys: list[tuple[str, str, str]] = []
    for r in rows:
        key = (r["period"], r["head"], r["metric"])
        if key not in keys:
            keys.append(key)
    for period, head, metric in keys:
        group = [r for r in rows if (r["period"], r["head"], r["metric"]) == (period, head, metric)]
        first = group[0]
        parts = []
        for v, words in (
            (WORSE, "<strong>worse</strong> than"),
            (BETTER, "<strong>better</strong> than"),
            (NO_CLEAR_DIFFERENCE, "not clearly different from"),
        ):
            these = [r for r in group if r["verdict"] == v]
            if these:
                parts.append(
                    f"<li>{words}: " + "; ".join(_cmp_text(r, labels) for r in these) + ".</li>"
                )
        out.append(
            f"{_capitalise(first['period_words'])}, {head} head, {first['metric_words']}: "
            f"the model is<ul>" + "".join(parts) + "</ul>"
        )
    return out


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def verdict_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {v: sum(r["verdict"] == v for r in rows) for v in VERDICTS}


def calibration_sentences(m: dict[str, Any]) -> list[str]:
    """Calibration in the words a reader needs: slope and intercept with intervals, each judged by
    whether its interval reaches the ideal value (1 and 0), and ECE beside a constant's ECE."""
    out = []
    for period, words in CAL_PERIODS.items():
        for head in ("reoffend", "severe"):
            s = m.get(f"{period}.{head}.calibration_slope.model")
            a = m.get(f"{period}.{head}.calibration_intercept.model")
            if s is None or a is None:
                continue
            s_ci = m.get(f"{period}.{head}.calibration_slope_ci.model") or [None, None]
            a_ci = m.get(f"{period}.{head}.calibration_intercept_ci.model") or [None, None]
            s_lo = None if s_ci[0] is None else s_ci[0] - 1
            s_hi = None if s_ci[1] is None else s_ci[1] - 1
            slope_v = verdict(s_lo, s_hi)  # "better": above 1; "worse": below 1
            slope_words = {
                BETTER: "above 1: the probabilities are too timid (real risks are more spread out)",
                WORSE: "below 1: the probabilities are too extreme (high ones too high, low ones "
                "too low)",
                NO_CLEAR_DIFFERENCE: "its interval reaches 1: no clear sign that the spread is wrong",
            }[slope_v]
            int_v = verdict(a_ci[0], a_ci[1])  # "better": above 0
            int_words = {
                BETTER: "above 0: on average the model <strong>under-states</strong> risk",
                WORSE: "below 0: on average the model <strong>over-states</strong> risk",
                NO_CLEAR_DIFFERENCE: "its interval reaches 0: no clear sign the average is off",
            }[int_v]
            out.append(
                f"{_capitalise(words)}, {head} head: calibration slope {_fmt(s, 2)} "
                f"({_ci(s_ci, 2)}), {slope_words}; calibration intercept {_fmt(a, 2)} "
                f"({_ci(a_ci, 2)}), {int_words}."
            )
    for head in ("reoffend", "severe"):
        ece = m.get(f"test.{head}.ece.model")
        const = m.get(f"test.{head}.ece.base_rate")
        if ece is not None and const is not None:
            out.append(
                f"Calibration error (ECE) of the {head} head on the test period is {_fmt(ece)} "
                f"({_ci(m.get(f'test.{head}.ece_ci.model'))}); a constant that gives everyone the "
                f"training base rate scores {_fmt(const)}. A low ECE alone does not make a model "
                "useful (the constant ranks nobody), so read it with the slope, the intercept and "
                "the reliability plot below."
            )
    return out


def model_labels(experiment: Any) -> dict[str, str]:
    """Labels of the compared models; the small logistic baseline named by its actual inputs."""
    try:
        baselines = experiment.train.baselines
    except AttributeError:
        return dict(MODEL_LABELS)
    if list(baselines.age_priors_features) == list(type(baselines)().age_priors_features):
        return dict(MODEL_LABELS)  # the default pair keeps its short, familiar label
    return {**MODEL_LABELS, "logistic_age_priors": f"logistic: {baselines.age_priors_description}"}


def summary_sentences(
    trained: Trained, level: float, labels: dict[str, str] = MODEL_LABELS
) -> list[str]:
    """The plain-language findings that open the report.

    Every comparison on AUC (both heads, the test period and people not seen in training) is a
    sentence; then the count of all comparisons by verdict and every one that is worse.
    """
    m = trained.metrics
    rows = comparisons(m, {h: trained.models(h) for h in ("reoffend", "severe")})
    out = comparison_sentences([r for r in rows if r["metric"] == "auc"], labels)
    counts = verdict_counts(rows)
    worse = [r for r in rows if r["verdict"] == WORSE]
    s = (
        f"Across all {len(rows)} comparisons with a paired interval (every baseline, "
        f"{len(GAIN_WORDS)} metrics, both heads, both periods): {counts[BETTER]} better, "
        f"{counts[WORSE]} worse, {counts[NO_CLEAR_DIFFERENCE]} no clear difference."
    )
    if worse:
        s += (
            " Where the model is <strong>worse</strong>: "
            + "; ".join(
                f"{r['period_words']}, {r['head']} head, {r['metric_words']}: worse than "
                f"{labels.get(r['other'], r['other'])} (difference {_diff(r['gain'])}, "
                f"{_diff_ci(r['gain_ci'])})"
                for r in worse
            )
            + "."
        )
    out.append(s)
    p_model = m.get("test.reoffend.precision_top_k.model")
    p_rfg = m.get("test.reoffend.precision_top_k.rfg")
    if p_model is not None:
        s = (
            f"Of the {trained.k} people the model would list first (programme capacity scaled "
            f"to the test period), {p_model * 100:.0f}% had a new recorded DA offence"
        )
        if p_rfg is not None:
            s += f", against {p_rfg * 100:.0f}% of the RFG score's top {trained.k}"
        out.append(s + ".")
    out += calibration_sentences(m)
    share = m.get("person_disjoint.share_test_rows_seen_in_fitting")
    if share is not None:
        out.append(
            f"{share * 100:.0f}% of test rows (index events) belong to people who also appear in "
            f"the training or validation periods; the comparisons on people not seen in training "
            f"use the other {m['person_disjoint.n']} index events."
        )
    return out


def metric_tables(
    metrics: dict[str, Any], models_by_head: dict[str, list[str]], prefix: str = "test"
) -> list[dict[str, Any]]:
    """Rows of the metric x model table, one block per head."""
    blocks = []
    for head, models in models_by_head.items():
        rows = []
        for metric, (label, explain) in METRIC_LABELS.items():
            if f"{prefix}.{head}.{metric}.model" not in metrics:
                continue
            cells = []
            for name in models:
                v = metrics.get(f"{prefix}.{head}.{metric}.{name}")
                ci = metrics.get(f"{prefix}.{head}.{metric}_ci.{name}")
                cells.append({"value": _fmt(v), "ci": _ci(ci)})
            rows.append({"metric": label, "explain": explain, "cells": cells})
        blocks.append({"head": head, "words": HEAD_WORDS[head], "models": models, "rows": rows})
    return blocks


def gain_table(metrics: dict[str, Any], head: str, models: list[str]) -> list[dict[str, Any]]:
    rows = []
    for name in models:
        if name == "model":
            continue
        row = {"model": name, "cells": []}
        for metric in ("auc", "average_precision", "recall_top_k", "harm_share_top_k", "brier"):
            v = metrics.get(f"test.{head}.{metric}_gain.{name}")
            row["cells"].append(
                {
                    "value": "–" if v is None else f"{v:+.3f}",
                    "ci": _ci(metrics.get(f"test.{head}.{metric}_gain_ci.{name}")),
                }
            )
        rows.append(row)
    return rows


def build_context(trained: Trained, *, info: dict[str, Any], experiment: Any) -> dict[str, Any]:
    """Everything the template needs."""
    ev = experiment.evaluation
    m = trained.metrics
    models_by_head = {h: trained.models(h) for h in ("reoffend", "severe")}
    periods = []
    for p in ("train", "validation", "test"):
        periods.append(
            {
                "name": p,
                "start": m.get(f"split.{p}_first_index_date", m.get(f"split.{p}_start", "")),
                "end": m.get(f"split.{p}_last_index_date", m.get(f"split.{p}_end", "")),
                "rows": m[f"n.{p}"],
                "people": m[f"n_people.{p}"],
                "reoffend": m[f"base_rate.{p}.reoffend"],
                "severe": m[f"base_rate.{p}.severe"],
            }
        )
    return {
        "title": f"Training report: {experiment.name}",
        "experiment": experiment,
        "info": info,
        "summary": summary_sentences(trained, ev.ci_level, model_labels(experiment)),
        "comparisons": comparisons(m, models_by_head),
        "calibration": [
            {
                "period": words,
                "head": head,
                "slope": m.get(f"{period}.{head}.calibration_slope.model"),
                "slope_ci": m.get(f"{period}.{head}.calibration_slope_ci.model"),
                "intercept": m.get(f"{period}.{head}.calibration_intercept.model"),
                "intercept_ci": m.get(f"{period}.{head}.calibration_intercept_ci.model"),
            }
            for period, words in CAL_PERIODS.items()
            for head in ("reoffend", "severe")
            if m.get(f"{period}.{head}.calibration_slope.model") is not None
        ],
        "figures": {
            "roc": _roc_figure(trained),
            "reliability": _reliability_figure(trained, ev.ece_bins, ev.ci_level),
            "capacity": _capacity_figure(trained, ev.curve_points),
            "harm": _harm_figure(trained, ev.curve_points),
        },
        "tables": metric_tables(m, models_by_head),
        "disjoint_tables": metric_tables(m, models_by_head, prefix="person_disjoint"),
        "gains": {h: gain_table(m, h, models_by_head[h]) for h in models_by_head},
        "gain_metrics": [
            "AUC",
            "average precision",
            "recall in top k",
            "harm share in top k",
            "Brier",
        ],
        "model_labels": model_labels(experiment),
        "model_order": MODEL_ORDER,
        "periods": periods,
        "m": m,
        "level_pct": f"{round(ev.ci_level * 100)}%",
        "feature_names": trained.feature_names,
        "excluded_features": trained.excluded_features,
        "heads": {h: trained.heads[h] for h in trained.heads},
        "train_config": experiment.train,
    }


def write_training_report(
    run_dir: Path, trained: Trained, *, info: dict[str, Any], experiment: Any, version: str
) -> tuple[Path, Path]:
    """``report.html`` and ``metrics.json`` (its JSON twin: the flat metrics) in ``run_dir``."""
    from riskmodel.data import write_json, write_text
    from riskmodel.notice import permitted_use_notice
    from riskmodel.reports import render_html

    trained.metrics.update(calibration_metrics(trained, experiment))
    ctx = build_context(trained, info=info, experiment=experiment)
    # the notice names the sensitive inputs this model actually uses
    notice = permitted_use_notice(list(trained.feature_names))
    from riskmodel.notice import sensitive_input_statement

    statement = sensitive_input_statement(list(trained.feature_names))
    html = render_html(
        "train_report.html.j2",
        version=version,
        **{"notice": notice, "sensitive_statement": statement, **ctx},
    )
    html_path = write_text(html, run_dir / "report.html")
    payload = {"permitted_use": notice, "run_id": info["run_id"], **trained.metrics}
    json_path = write_json(payload, run_dir / "metrics.json")
    return html_path, json_path
