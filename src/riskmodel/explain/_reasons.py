"""Per-person reason codes: the factors that raise one person's estimated risk, in plain words.

Contributions are LightGBM's exact TreeSHAP (``pred_contrib=True``) for every row at once.
Features that count the same thing over nested windows (``n_da_90d``, ``n_da_1095d``,
``n_da_all``) form one *family*: their contributions are summed and the family gives at most one
reason, worded from its member that raised the score most. The top ``k`` families with a positive
sum are the reasons; sentences are written once per (feature, distinct value), never per row.

A reason states the fact that moved the score in the direction it moved it:

- where a value's meaning is presence or absence (a count, a harm total, days since a previous
  incident, a flag), a present value is worded as the presence ("a previous recorded DA incident
  (1,426 days before this one)"), an absent one as the absence ("no recorded non-DA harm in the
  last 365 days"); a presence is a reason only when the model's score with the whole family set
  to "none" is lower (checked per person on the booster), so the presence did raise it;
- other values (age, a category, a score) are stated as the person's value.

A factor that lowers risk is never given as a reason, and a row with fewer than ``k`` raising
families gets empty strings, never a made-up reason.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.models import ModelBundle

ERR_HEAD = "unknown head {head!r}; the model has heads: {heads}"
ERR_K = "k must be a positive integer, got {k}"
ERR_TEMPLATE = "reason template {template!r} must contain at most one field, written {{value}}"

#: shown for a value the model saw as missing (never the string "nan")
NOT_RECORDED = "not recorded"
#: shown for a categorical value the model never saw in training (it treats it as missing)
UNSEEN = "{value} (a value not seen in training, treated as not recorded)"

_UNIT_WORDS = {
    "days": ("day", "days"),
    "years": ("year", "years"),
    "harm_days": ("harm day", "harm days"),
}
# a pluralised noun after the number ends before one of these words ("... incidents in the last
# 90 days": only "incidents" agrees with the number)
_STOP_WORDS = frozenset(
    ["in", "of", "on", "since", "within", "over", "at", "for", "with", "before", "after", "per"]
    + ["during", "from", "to", "by", "than"]
)
# verbs that must agree with the noun made singular ("1 offence that was not DA")
_VERB_ONE = {"were": "was", "are": "is", "have": "has"}
# descriptions are written for the data dictionary; reasons and plots use their first clause
_ASIDE = re.compile(r"\s*\([^)]*\)")
# a look-back window at the end of a feature name: the family is the name without it
_WINDOW = re.compile(r"_(\d+[dwmy]|all)$")
_VALUE_FIELD = r"\{value[^}]*\}"

#: how a feature's value is read (see the module docstring)
AMOUNT = "amount"  # a count or total: 0 means none
GAP = "gap"  # days since an earlier event: missing means there was none
SINCE_FIRST = "since_first"  # days since the first event: 0 means this is the first
FLAG = "flag"  # yes / no
VALUE = "value"  # anything else: the value itself is the fact
#: kinds whose present value is worded (and checked) as a presence
PRESENCE_KINDS = frozenset({AMOUNT, GAP, SINCE_FIRST, FLAG})


def feature_family(feature: str) -> str:
    """The family of a feature: its name without a trailing look-back window (``_90d``,
    ``_1095d``, ``_5y``, ``_all``). Counts of the same thing over nested windows share one."""
    return _WINDOW.sub("", feature)


def feature_kind(feature: str, unit: str, *, is_flag: bool) -> str:
    """How a feature's value is read: ``amount``, ``gap``, ``since_first``, ``flag`` or ``value``."""
    if is_flag or unit == "flag":
        return FLAG
    if unit == "days" and feature.startswith("days_since_first"):
        return SINCE_FIRST
    if unit == "days" and "since" in feature:
        return GAP
    if unit == "count":
        return AMOUNT
    if unit == "harm_days" and not feature.startswith("index_") and "escalation" not in feature:
        return AMOUNT
    return VALUE


def is_absent(value: Any, kind: str) -> bool:
    """True when ``value`` means "none" for a feature of ``kind`` (never for ``value``)."""
    missing = value is None or (not isinstance(value, str) and bool(pd.isna(value)))
    if kind == GAP:
        return missing
    if missing or kind == VALUE:
        return False
    if kind == FLAG:
        return not bool(value)
    return float(value) == 0


def short_description(description: str) -> str:
    """A description without asides in brackets and without what follows a colon or semicolon."""
    text = _ASIDE.sub("", description)
    return re.split(r"[:;]", text, maxsplit=1)[0].strip() or description


def reason_columns(k: int) -> list[str]:
    """Column names of :func:`reason_codes`' output, in order."""
    return (
        [f"reason_{i}" for i in range(1, k + 1)]
        + [f"reason_feature_{i}" for i in range(1, k + 1)]
        + [f"reason_contribution_{i}" for i in range(1, k + 1)]
    )


# --- sentences ---------------------------------------------------------------------------------
def _singular_word(word: str) -> str:
    core = word.rstrip(".,;:)")
    tail = word[len(core) :]
    low = core.lower()
    if len(core) <= 3 or not low.endswith("s") or low.endswith(("ss", "us", "is")):
        return word
    if low.endswith("ies"):
        return core[:-3] + "y" + tail
    if low.endswith(("ches", "shes", "xes", "sses")):
        return core[:-2] + tail
    return core[:-1] + tail


def _singularise(after: str) -> str:
    """Make the first plural noun after the number agree with 1 ("1 recorded incident")."""
    words = after.split(" ")
    for i, w in enumerate(words):
        if w.lower() in _STOP_WORDS:
            break
        new = _singular_word(w)
        if new != w:
            words[i] = new
            for j in range(i + 1, min(i + 3, len(words))):
                if words[j] in _VERB_ONE:
                    words[j] = _VERB_ONE[words[j]]
                    break
            break
    return " ".join(words)


def _number(value: float) -> str:
    """Plain number: whole numbers without decimals, others to one decimal place."""
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.1f}"


_ACRONYMS = {"da": "DA", "rfg": "RFG", "dash": "DASH", "marac": "MARAC", "matac": "MATAC"}


def _humanise(value: Any) -> str:
    words = str(value).replace("_", " ").split(" ")
    return " ".join(_ACRONYMS.get(w.lower(), w) for w in words)


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class _Template:
    """One feature's reason template split around its ``{value}`` field."""

    before: str
    spec: str | None  # None: the template has no {value}
    after: str
    after_one: str  # ``after`` with the noun made singular, used when the value reads "1"

    @classmethod
    def parse(cls, template: str) -> _Template:
        pieces = list(string.Formatter().parse(template))
        fields = [(name, spec, conv) for _lit, name, spec, conv in pieces if name is not None]
        if not fields:
            return cls(template, None, "", "")
        if len(fields) != 1 or fields[0][0] != "value" or fields[0][2]:
            raise ValueError(ERR_TEMPLATE.format(template=template))
        at = next(i for i, p in enumerate(pieces) if p[1] is not None)
        before = "".join(p[0] for p in pieces[: at + 1])
        after = "".join(p[0] for p in pieces[at + 1 :]).replace("(s)", "s")
        return cls(before, fields[0][1] or "", after, _singularise(after))

    def render(self, shown: str) -> str:
        if self.spec is None:
            return self.before
        after = self.after_one if shown.strip() in {"1", "1.0"} else self.after
        return f"{self.before}{shown}{after}"


class _Sentences:
    """Turns one feature's values into reason sentences (built once per feature)."""

    def __init__(self, feature: str, entry: dict[str, Any] | None, *, is_flag: bool) -> None:
        entry = entry or {}
        self.description = short_description(str(entry.get("description") or _humanise(feature)))
        self.unit = str(entry.get("unit") or "")
        self.is_flag = is_flag or self.unit == "flag"
        reason = entry.get("reason")
        self.reason = str(reason) if reason else ""
        self.template = _Template.parse(reason) if reason else None
        self.kind = feature_kind(feature, self.unit, is_flag=self.is_flag)

    def _label(self) -> str:
        return _capitalise(self.description)

    def _show(self, value: Any) -> str:
        """The value as a person reads it, formatted by the template's spec when it fits."""
        if self.is_flag:
            return "yes" if bool(value) else "no"
        spec = self.template.spec if self.template is not None else ""
        if isinstance(value, str):
            return _humanise(value)
        if spec:
            try:
                return format(value, spec)
            except (TypeError, ValueError):
                pass
        return _number(value) if isinstance(value, int | float | np.number) else _humanise(value)

    def sentence(self, value: Any) -> str:
        return _capitalise(self._sentence(value))

    def _absence(self) -> str:
        """The words for "none" of this feature ("no recorded non-DA harm in the last 365 days")."""
        t = self.reason
        if self.kind == FLAG:
            for verb, negated in (("was ", "was not "), ("has ", "has not "), ("is ", "is not ")):
                if t.startswith(verb):
                    return negated + t[len(verb) :]
            if t.startswith("completed "):
                return "has not completed " + t[len("completed ") :]
            return f"no {t}" if t else f"{self._label()}: no"
        if self.kind == GAP:
            m = re.fullmatch(_VALUE_FIELD + r" days since (?:the )?(.*)", t)
            return f"no {m.group(1)}" if m else f"{self._label()}: none"
        if self.kind == SINCE_FIRST:
            m = re.fullmatch(r"(?:the )?(.*?) " + _VALUE_FIELD + r" days ago", t)
            return f"this is the {m.group(1)}" if m else f"{self._label()}: 0 (this is the first)"
        m = re.fullmatch(r"(?:an? )?(.*?) of " + _VALUE_FIELD + r"(?: harm days)?(.*)", t)
        if m:
            return f"no {m.group(1)}{m.group(2)}"
        m = re.fullmatch(_VALUE_FIELD + r" (?:different )?(.*)", t)
        if m:
            return f"no {m.group(1)}"
        return f"{self._label()}: none"

    def _presence(self, value: Any) -> str | None:
        """Presence words for a gap or a first-event feature; None: use the template."""
        shown = _number(float(value))
        if self.kind == GAP:
            m = re.fullmatch(_VALUE_FIELD + r" days since (?:the )?(.*)", self.reason)
            if m:
                return (
                    f"a {m.group(1)} ({shown} {'day' if shown == '1' else 'days'} before this one)"
                )
        if self.kind == SINCE_FIRST:
            m = re.fullmatch(r"(?:the )?(.*?) " + _VALUE_FIELD + r" days ago", self.reason)
            if m:
                return (
                    f"an earlier recorded history: the {m.group(1)} {shown} "
                    f"{'day' if shown == '1' else 'days'} before this one"
                )
        return None

    def _sentence(self, value: Any) -> str:
        if isinstance(value, np.bool_ | bool):
            value = bool(value)
        if self.kind in PRESENCE_KINDS and is_absent(value, self.kind):
            return self._absence()
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return f"{self._label()}: {NOT_RECORDED}"
        if self.kind in (GAP, SINCE_FIRST):
            words = self._presence(value)
            if words is not None:
                return words
        if (
            self.kind == VALUE
            and "rising" in self.reason
            and isinstance(value, int | float | np.number)
            and not isinstance(value, bool)
            and float(value) <= 0
        ):
            # an escalation slope: the template says "rising"; a fall or no change needs its own
            if float(value) == 0:
                m = re.fullmatch(
                    r"(.*?) rising by " + _VALUE_FIELD + r"[^,]*? per incident(.*)", self.reason
                )
                if m:
                    return f"no rise in {m.group(1)}{m.group(2)} (or fewer than two)"
            value = -float(value)
            return self.template.render(self._show(value)).replace("rising", "falling")
        if isinstance(value, np.bool_ | bool):
            value = bool(value)
        elif isinstance(value, np.integer):
            value = int(value)
        elif isinstance(value, np.floating):
            value = float(value)
        shown = self._show(value)
        if self.template is not None and (self.template.spec is not None or self.is_flag):
            return self.template.render(shown)
        if self.template is not None:  # fixed text with no value slot
            return self.template.before
        singular, plural = _UNIT_WORDS.get(self.unit, ("", ""))
        unit = (singular if shown == "1" else plural) if singular else ""
        return f"{self._label()}: {shown}{' ' + unit if unit else ''}"


def sentence_makers(
    bundle: ModelBundle, frame: pd.DataFrame | None = None
) -> dict[str, Callable[[Any], str]]:
    """``feature -> function(value) -> sentence`` from the bundle's feature dictionary."""
    dictionary = (bundle.feature_spec or {}).get("dictionary", {}) or {}
    out: dict[str, Callable[[Any], str]] = {}
    for f in bundle.feature_names:
        is_flag = frame is not None and f in frame.columns and frame[f].dtype == bool
        out[f] = _Sentences(f, dictionary.get(f), is_flag=is_flag).sentence
    return out


def feature_labels(bundle: ModelBundle) -> dict[str, str]:
    """``feature -> short plain description`` (the feature name in words when the dictionary
    lacks one)."""
    dictionary = (bundle.feature_spec or {}).get("dictionary", {}) or {}
    out = {}
    for f in bundle.feature_names:
        d = str((dictionary.get(f) or {}).get("description") or _humanise(f))
        out[f] = _capitalise(short_description(d))
    return out


# --- contributions -----------------------------------------------------------------------------
def contributions(bundle: ModelBundle, X: pd.DataFrame, head: str) -> np.ndarray:
    """Exact TreeSHAP for every row, computed once per distinct row (identical inputs have
    identical contributions, and count-valued feature tables repeat rows often)."""
    n = len(X)
    if n == 0:
        return np.zeros((0, len(bundle.feature_names) + 1))
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(X), use_na_sentinel=False)
    if len(uniques) > 0.8 * n:
        return bundle.contributions(X, head)
    first = np.full(len(uniques), -1, dtype=np.int64)
    # first row of each distinct input (reverse assignment keeps the earliest index)
    first[codes[::-1]] = np.arange(n - 1, -1, -1)
    return bundle.contributions(X.iloc[first], head)[codes]


def top_positive(phi: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``k`` largest positive entries of each row, largest first.

    Returns ``(idx, val)`` of shape ``(n, k)``; ``idx`` is -1 and ``val`` NaN where a row has
    fewer than ``k`` positive entries. Ties are broken by the lower feature index.
    """
    n, p = phi.shape
    kk = min(k, p)
    if kk < p:
        idx = np.argpartition(-phi, kk - 1, axis=1)[:, :kk]
    else:
        idx = np.broadcast_to(np.arange(p), (n, p)).copy()
    idx.sort(axis=1)
    val = np.take_along_axis(phi, idx, axis=1)
    order = np.argsort(-val, axis=1, kind="stable")
    idx = np.take_along_axis(idx, order, axis=1)
    val = np.take_along_axis(val, order, axis=1)
    keep = val > 0
    idx = np.where(keep, idx, -1)
    val = np.where(keep, val, np.nan)
    if kk < k:
        pad = k - kk
        idx = np.hstack([idx, np.full((n, pad), -1)])
        val = np.hstack([val, np.full((n, pad), np.nan)])
    return idx, val


def _display_values(frame: pd.DataFrame, X: pd.DataFrame, feature: str, rows: np.ndarray):
    """Values to show for ``rows``: the person's own value; unseen categories marked."""
    shown = X[feature].iloc[rows]
    if isinstance(shown.dtype, pd.CategoricalDtype) and feature in frame.columns:
        original = frame[feature].iloc[rows].astype("object").to_numpy()
        values = shown.astype("object").to_numpy()
        unseen = pd.isna(values) & ~pd.isna(original)
        if unseen.any():
            values = values.copy()
            values[unseen] = [UNSEEN.format(value=_humanise(v)) for v in original[unseen]]
        return values
    if feature in frame.columns and frame[feature].dtype == bool:
        return frame[feature].iloc[rows].to_numpy()
    return shown.to_numpy()


def _check(bundle: ModelBundle, head: str, k: int) -> None:
    if head not in bundle.boosters:
        raise ValueError(ERR_HEAD.format(head=head, heads=", ".join(sorted(bundle.boosters))))
    if not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(ERR_K.format(k=k))


def _families(bundle: ModelBundle) -> tuple[list[str], np.ndarray]:
    """Family names in feature order and each feature's family index."""
    fams: list[str] = []
    index = []
    for f in bundle.feature_names:
        fam = feature_family(f)
        if fam not in fams:
            fams.append(fam)
        index.append(fams.index(fam))
    return fams, np.asarray(index, dtype=np.int64)


def _kinds(bundle: ModelBundle, frame: pd.DataFrame) -> list[str]:
    dictionary = (bundle.feature_spec or {}).get("dictionary", {}) or {}
    out = []
    for f in bundle.feature_names:
        unit = str((dictionary.get(f) or {}).get("unit") or "")
        is_flag = f in frame.columns and frame[f].dtype == bool
        out.append(feature_kind(f, unit, is_flag=is_flag))
    return out


def absent_value(kind: str) -> float:
    """The prepared-input value that means "none" for a presence kind."""
    return np.nan if kind == GAP else 0.0


def _presence_raises(
    bundle: ModelBundle,
    X: pd.DataFrame,
    head: str,
    rows: np.ndarray,
    members: list[int],
    kinds: list[str],
) -> np.ndarray:
    """For ``rows``: does the booster score fall when every member of the family is set to
    "none"? (The presence, not the number, is then what raised it.)"""
    Xr = X.iloc[rows].copy()
    raw = bundle.boosters[head].predict(Xr, raw_score=True)
    for j in members:
        col = bundle.feature_names[j]
        Xr[col] = Xr[col].astype("float64")
        Xr[col] = absent_value(kinds[j])
    cf = bundle.boosters[head].predict(Xr, raw_score=True)
    return raw > cf


def reasons_from_contributions(
    bundle: ModelBundle,
    frame: pd.DataFrame,
    X: pd.DataFrame,
    phi: np.ndarray,
    *,
    k: int,
    head: str = "reoffend",
) -> pd.DataFrame:
    """Reason-code frame from precomputed contributions ``phi`` (n, n_features) of ``head``.

    Contributions are summed per family; a family is a candidate when its sum and its
    strongest member's contribution are positive and, for a present value of a presence
    kind, setting the family to "none" lowers the score. The top ``k`` candidates are the
    reasons, each worded from its strongest member, with the family's summed contribution.
    """
    n, p = phi.shape
    fams, fam_of = _families(bundle)
    kinds = _kinds(bundle, frame)
    onehot = np.zeros((p, len(fams)))
    onehot[np.arange(p), fam_of] = 1.0
    phi_fam = phi @ onehot
    rep = np.zeros((n, len(fams)), dtype=np.int64)
    rep_val = np.full((n, len(fams)), -np.inf)
    for j in range(p):
        f = fam_of[j]
        better = phi[:, j] > rep_val[:, f]
        rep[better, f] = j
        rep_val[better, f] = phi[better, j]
    valid = (phi_fam > 0) & (rep_val > 0)
    for f in range(len(fams)):
        members = [j for j in range(p) if fam_of[j] == f]
        for j in members:
            if kinds[j] not in PRESENCE_KINDS:
                continue
            rows = np.flatnonzero(valid[:, f] & (rep[:, f] == j))
            if len(rows) == 0:
                continue
            values = X.iloc[rows][bundle.feature_names[j]].to_numpy(
                dtype="float64", na_value=np.nan
            )
            absent = np.isnan(values) if kinds[j] == GAP else (values == 0) | np.isnan(values)
            check = rows[~absent]
            if len(check):
                valid[check, f] = _presence_raises(bundle, X, head, check, members, kinds)
    fam_idx, val = top_positive(np.where(valid, phi_fam, 0.0), k)
    idx = np.where(fam_idx >= 0, np.take_along_axis(rep, np.maximum(fam_idx, 0), axis=1), -1)
    names = np.asarray(bundle.feature_names, dtype=object)
    makers = sentence_makers(bundle, frame)
    sentences = np.full(idx.shape, "", dtype=object)
    for j in np.unique(idx[idx >= 0]):
        mask = idx == j
        rows = np.nonzero(mask)[0]
        values = _display_values(frame, X, names[j], rows)
        codes, uniques = pd.factorize(pd.Series(values, dtype="object"), use_na_sentinel=True)
        make = makers[names[j]]
        texts = np.array([make(v) for v in uniques] + [make(None)], dtype=object)
        sentences[mask] = texts[codes]  # code -1 (missing) picks the last entry
    features = np.where(idx >= 0, names[np.maximum(idx, 0)], "")
    out: dict[str, Any] = {}
    for i in range(k):
        out[f"reason_{i + 1}"] = pd.Series(sentences[:, i], index=frame.index, dtype="str")
    for i in range(k):
        out[f"reason_feature_{i + 1}"] = pd.Series(features[:, i], index=frame.index, dtype="str")
    for i in range(k):
        out[f"reason_contribution_{i + 1}"] = pd.Series(val[:, i], index=frame.index)
    return pd.DataFrame(out, index=frame.index)


def reason_codes(
    bundle: ModelBundle, frame: pd.DataFrame, *, head: str = "reoffend", k: int = 3
) -> pd.DataFrame:
    """The top ``k`` factors that raise each person's estimated risk, in plain words.

    Parameters
    ----------
    bundle : the trained model (its feature dictionary supplies the words)
    frame : one row per person at their index event, with the model's feature columns
    head : ``reoffend`` (12-month recorded DA reoffending) or ``severe``
    k : how many reasons at most

    Returns
    -------
    DataFrame indexed like ``frame`` with ``reason_1..k`` (sentences such as "3 recorded DA
    incidents in the last 90 days"), ``reason_feature_1..k`` (feature names) and
    ``reason_contribution_1..k`` (the family's summed TreeSHAP contribution to the log-odds
    score, > 0). Only factors that raise the score are reasons, at most one per family;
    unused slots hold ``""`` and NaN.
    """
    _check(bundle, head, k)
    X = bundle.prepare(frame)
    phi = contributions(bundle, X, head)[:, :-1]
    return reasons_from_contributions(bundle, frame, X, phi, k=int(k), head=head)
