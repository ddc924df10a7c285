from __future__ import annotations

from typing import Any

from django import template

from huoban.regions import region_label

register = template.Library()


@register.filter
def region(code: str) -> str:
    """A region code as its full name (四川省 成都市 武侯区)."""
    return region_label(code or "")


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key, "") if isinstance(mapping, dict) else ""
