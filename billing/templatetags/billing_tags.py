from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def yuan(fen: int | None) -> str:
    """An amount in fen shown in yuan: 159200 → ¥1,592.00 (integers all the way; no floats). Thousands are
    grouped with commas in every language, as on Chinese invoices and receipts."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"
