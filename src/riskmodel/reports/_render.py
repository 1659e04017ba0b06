"""Self-contained HTML reports: jinja2 templates, matplotlib figures embedded as data URIs.

Every report extends ``base.html.j2``, which prints the permitted-use notice first. Nothing is
fetched when a report opens: no external CSS, fonts, scripts or images.
"""

from __future__ import annotations

import base64
import datetime as _dt
import io
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from riskmodel.data import write_json, write_text
from riskmodel.notice import PERMITTED_PURPOSE, PERMITTED_USE_NOTICE, PROHIBITED_USES

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("riskmodel.reports", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if value != value:  # NaN
            return "–"
        return f"{value:.{digits}f}"
    return str(value)


def _pct(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    return f"{100 * float(value):.{digits}f}%"


def _ci(pair: Any, digits: int = 3) -> str:
    if not pair or pair[0] is None:
        return ""
    return f"[{_fmt(float(pair[0]), digits)}, {_fmt(float(pair[1]), digits)}]"


def _count(value: Any) -> str:
    """A count of people or rows with thousands separators (``24,652``); anything else as is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "–" if value is None else str(value)
    return f"{int(value):,}" if float(value).is_integer() else str(value)


_ENV.filters.update(fmt=_fmt, pct=_pct, ci=_ci, count=_count)


def figure_to_data_uri(fig: Any, *, dpi: int = 110, close: bool = True) -> str:
    """PNG data URI of a matplotlib figure, for embedding in a self-contained report."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def render_html(template: str, **context: Any) -> str:
    """Render a template from ``reports/templates`` with the notice and common context."""
    base = {
        "notice": PERMITTED_USE_NOTICE,
        "permitted_purpose": PERMITTED_PURPOSE,
        "prohibited_uses": PROHIBITED_USES,
        "generated_at": context.pop(
            "generated_at", _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        ),
    }
    return _ENV.get_template(template).render(**{**base, **context})  # context may name its notice


def write_report(
    out_dir: str | Path, stem: str, template: str, payload: dict[str, Any], **context: Any
) -> tuple[Path, Path]:
    """Write ``<stem>.html`` and its JSON twin ``<stem>.json`` (``payload`` plus the notice)."""
    out_dir = Path(out_dir)
    payload = {"permitted_use": PERMITTED_USE_NOTICE, **payload}
    json_path = write_json(payload, out_dir / f"{stem}.json")
    html_path = write_text(render_html(template, data=payload, **context), out_dir / f"{stem}.html")
    return html_path, json_path


def markdown_to_html(text: str) -> Markup:
    """CommonMark with tables to HTML; raw HTML in the text is escaped, links are not made."""
    from markdown_it import MarkdownIt

    return Markup(MarkdownIt("commonmark", {"html": False}).enable("table").render(text))
