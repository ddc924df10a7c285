from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.utils.translation import gettext

register = template.Library()


@register.filter
def human_join(items: Iterable[object]) -> str:
    """Join a list the way the active language does (、 in Chinese, a comma in English)."""
    return gettext("、").join(str(item) for item in items)
