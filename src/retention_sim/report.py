"""A small self-contained HTML report: headings, tables and figures (PNG inlined).

>>> from retention_sim.report import Report
>>> r = Report("What-if")
>>> r.text("Baseline against three changes.")
>>> html = r.html()
"""

from __future__ import annotations

import base64
import html as _html
import io
from pathlib import Path
from typing import Any

import pandas as pd

from .kernel.atomic import atomic_write_text

__all__ = ["Report"]

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.9em;margin:.6em 0}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}img{max-width:100%}p.note{color:#555}
"""


class Report:
    """Collects sections and writes one HTML file with everything inlined."""

    def __init__(self, title: str) -> None:
        self.title = title
        self._parts: list[str] = []

    def heading(self, text: str) -> Report:
        self._parts.append(f"<h2>{_html.escape(text)}</h2>")
        return self

    def text(self, text: str, note: bool = False) -> Report:
        cls = ' class="note"' if note else ""
        self._parts.append(f"<p{cls}>{_html.escape(text)}</p>")
        return self

    def table(self, frame: pd.DataFrame, float_format: str = "{:,.4g}", **kwargs: Any) -> Report:
        self._parts.append(frame.to_html(float_format=float_format.format, border=0, **kwargs))
        return self

    def figure(self, fig: Any, alt: str = "figure") -> Report:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        data = base64.b64encode(buf.getvalue()).decode()
        self._parts.append(f'<img alt="{_html.escape(alt)}" src="data:image/png;base64,{data}">')
        return self

    def html(self) -> str:
        body = "\n".join(self._parts)
        return (f"<!doctype html><html><head><meta charset='utf-8'><title>"
                f"{_html.escape(self.title)}</title><style>{_STYLE}</style></head><body>"
                f"<h1>{_html.escape(self.title)}</h1>\n{body}\n</body></html>\n")

    def write(self, path: str | Path) -> Path:
        """Write the report atomically; returns the path."""
        return atomic_write_text(Path(path), self.html())
