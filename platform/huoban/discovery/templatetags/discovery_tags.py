from __future__ import annotations

from django import template

from huoban.regions import region_label

register = template.Library()


@register.filter
def discovery_region(code: str) -> str:
    """四川省 雅安市 雨城区 for 511802; the empty code is nationwide."""
    from django.utils.translation import gettext

    return region_label(code) if code else gettext("全国")
