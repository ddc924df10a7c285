from __future__ import annotations

from typing import Any

from django import template

from hubs.calls.formspec import yuan as _yuan

register = template.Library()


@register.filter
def yuan(fen: Any) -> str:
    """Fen as yuan: 1234550 → "12,345.50"."""
    if fen in (None, ""):
        return ""
    return _yuan(int(fen))


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None
