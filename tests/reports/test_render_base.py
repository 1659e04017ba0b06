"""The renderer every report goes through: the notice first, self-contained HTML, user text
escaped, a JSON twin that carries the notice too."""

from __future__ import annotations

import base64
import json
import math
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from markupsafe import escape  # noqa: E402

from riskmodel.notice import PERMITTED_USE_NOTICE  # noqa: E402
from riskmodel.reports import (  # noqa: E402
    figure_to_data_uri,
    format_ci,
    format_number,
    format_percent,
    render_html,
    write_report,
)

HOSTILE = '<script>alert("x")</script><img src="https://example.org/t.png">'


def test_the_notice_comes_before_anything_else_in_the_body():
    html = render_html("base.html.j2", version="1.0")
    body = html[html.index("<body>") :]
    first = re.search(r"<(?!/?main\b)[a-z][^>]*>", body[len("<body>") :])
    assert first is not None and 'class="notice"' in first.group(0)
    assert str(escape(PERMITTED_USE_NOTICE)) in body


def test_user_text_is_escaped_and_nothing_is_fetched():
    html = render_html("base.html.j2", version=HOSTILE, generated_at=HOSTILE)
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html, re.I)
    assert "<link" not in html


def test_the_json_twin_carries_the_notice_and_the_payload(tmp_path):
    payload = {"note": HOSTILE, "value": 0.25}
    html_path, json_path = write_report(tmp_path, "r", "base.html.j2", payload, version="t")
    data = json.loads(json_path.read_text())
    assert data == {"permitted_use": PERMITTED_USE_NOTICE, **payload}
    assert html_path.read_text().count("Permitted use only") == 1


def test_figures_are_embedded_as_png_data():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    uri = figure_to_data_uri(fig)
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert not plt.get_fignums()  # closed after embedding


def test_numbers_in_words_never_show_nan():
    assert format_number(None) == format_number(math.nan) == "–"
    assert format_number(0.12345) == "0.123" and format_number(7) == "7"
    assert format_percent(0.256) == "25.6%" and format_percent(math.nan) == "–"
    assert format_ci([0.1, 0.23456]) == "[0.100, 0.235]" and format_ci([None, None]) == ""
