"""Rendering of self-contained HTML reports and their JSON twins."""

from __future__ import annotations

from typing import TYPE_CHECKING

from riskmodel._lazy import lazy_exports

#: public name -> the private module defining it (``module:attr`` when exported under another
#: name); loaded on first use, so ``riskmodel --help`` and config loading stay light
_WHERE = {
    "figure_to_data_uri": "_render",
    "markdown_to_html": "_render",
    "render_html": "_render",
    "write_report": "_render",
    "format_ci": "_render:_ci",
    "format_number": "_render:_fmt",
    "format_percent": "_render:_pct",
}

__all__ = [
    "figure_to_data_uri",
    "format_ci",
    "format_number",
    "format_percent",
    "markdown_to_html",
    "render_html",
    "write_report",
]

if TYPE_CHECKING:  # pragma: no cover
    from riskmodel.reports._render import (
        _ci as format_ci,
    )
    from riskmodel.reports._render import (
        _fmt as format_number,
    )
    from riskmodel.reports._render import (
        _pct as format_percent,
    )
    from riskmodel.reports._render import (
        figure_to_data_uri,
        markdown_to_html,
        render_html,
        write_report,
    )

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())
