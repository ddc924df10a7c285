"""Small charts as inline SVG, drawn on the server: no JavaScript, no CDN, readable by screen readers (each chart
has a title and the page shows the same figures in a table). Scales with the page width (viewBox)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

BRAND = "#c2410c"
MUTED = "#94a3b8"
INK = "#1f2933"
LINE = "#e4e7eb"


def _nice_max(value: int) -> int:
    if value <= 5:
        return 5
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value


def bar_chart(*, title: str, rows: Sequence[tuple[str, int]], width: int = 420) -> SafeString:
    """Horizontal bars, one per (label, value)."""
    bar_h, gap, label_w, top = 22, 10, 110, 8
    height = top + len(rows) * (bar_h + gap) + 4
    peak = _nice_max(max((v for _l, v in rows), default=0))
    plot_w = width - label_w - 48
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet"><title>{escape(title)}</title>'
    ]
    for i, (label, value) in enumerate(rows):
        y = top + i * (bar_h + gap)
        w = 0 if peak == 0 else round(plot_w * value / peak, 1)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + bar_h * 0.72}" text-anchor="end" font-size="13" fill="{INK}">'
            f"{escape(label)}</text>"
            f'<rect x="{label_w}" y="{y}" width="{plot_w}" height="{bar_h}" fill="{LINE}" rx="3"/>'
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="{BRAND}" rx="3"/>'
            f'<text x="{label_w + w + 6}" y="{y + bar_h * 0.72}" font-size="13" fill="{INK}">{value}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every label is escaped above; numbers are ints


def growth_chart(
    *, title: str, points: Sequence[tuple[date, int, int]], width: int = 720, height: int = 260
) -> SafeString:
    """Columns for partners joined each month, a line for the running total (each on its own scale)."""
    left, right, top, bottom = 40, 44, 12, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(points), 1)
    step = plot_w / n
    peak_new = _nice_max(max((p[1] for p in points), default=0))
    peak_total = _nice_max(max((p[2] for p in points), default=0))
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet"><title>{escape(title)}</title>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="{MUTED}"/>',
        f'<text x="{left - 6}" y="{top + 10}" text-anchor="end" font-size="11" fill="{MUTED}">{peak_new}</text>',
        f'<text x="{left + plot_w + 6}" y="{top + 10}" font-size="11" fill="{INK}">{peak_total}</text>',
    ]
    line = []
    for i, (month, new, total) in enumerate(points):
        x = left + i * step
        h = plot_h * new / peak_new if peak_new else 0
        parts.append(
            f'<rect x="{x + step * 0.15:.1f}" y="{top + plot_h - h:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}" '
            f'fill="{BRAND}" opacity="0.55"><title>{month:%Y-%m}: +{new}</title></rect>'
        )
        line.append(f"{x + step / 2:.1f},{top + plot_h - (plot_h * total / peak_total if peak_total else 0):.1f}")
        if i % max(1, n // 8) == 0 or i == n - 1:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{height - 14}" text-anchor="middle" font-size="11" '
                f'fill="{MUTED}">{month:%Y-%m}</text>'
            )
    if line:
        parts.append(f'<polyline points="{" ".join(line)}" fill="none" stroke="{INK}" stroke-width="2"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - only numbers, dates and escaped labels
