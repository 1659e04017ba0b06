"""Rendering of self-contained HTML reports and their JSON twins."""

from riskmodel.reports._render import figure_to_data_uri, render_html, write_report

__all__ = ["figure_to_data_uri", "render_html", "write_report"]
