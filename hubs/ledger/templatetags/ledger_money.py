"""``{% load ledger_money %}{{ amount|fen }}`` → ``¥1,234.56``; ``{{ amount|fen:"USD" }}`` for another currency."""

from __future__ import annotations

from django import template

from hubs.ledger.money import money_format

register = template.Library()


@register.filter
def fen(value: int | None, currency: str = "CNY") -> str:
    if value is None or isinstance(value, bool) or not isinstance(value, int):
        return "—"
    return money_format(value, currency or "CNY")
