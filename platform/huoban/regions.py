"""Administrative region codes (GB/T 2260) with their names and parents.

The code table is the one python-stdnum ships for resident identity numbers (``stdnum/cn/loc.dat``), which marks
abolished codes with their end year (``[-2010]崇文区``). A code is valid for new records only while in force.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_CODE = re.compile(r"^\d{6}$")
_SPAN = re.compile(r"^\[(\d{4})?-(\d{4})?\]")


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str  # province, city or county
    in_force: bool

    @property
    def parent_codes(self) -> list[str]:
        """Codes of the enclosing province and city (never including itself)."""
        parents = []
        if self.level in ("city", "county"):
            parents.append(self.code[:2] + "0000")
        if self.level == "county" and self.code[2:4] != "00":
            parents.append(self.code[:4] + "00")
        return parents


@cache
def _table() -> dict[str, Region]:
    from stdnum import numdb

    db = numdb.get("cn/loc")
    regions: dict[str, Region] = {}
    for province_prefix, province_props, counties in _walk(db):
        province_name = province_props.get("province", "")
        regions[province_prefix + "0000"] = Region(province_prefix + "0000", province_name, "province", True)
        for suffix, props in counties:
            code = province_prefix + suffix
            raw = props.get("county", "")
            span = _SPAN.match(raw)
            name = raw[span.end() :] if span else raw
            in_force = not (span and span.group(2))
            if suffix == "0000":
                continue
            level = "city" if suffix.endswith("00") else "county"
            regions[code] = Region(code, name, level, in_force)
    return regions


def _walk(db):
    # numdb keeps a tree of (length, low, high, props, children); here: 2-digit province -> 4-digit rest.
    for _length, low, high, props, children in db.prefixes:
        if low != high:
            continue
        yield low, props, [(c_low, c_props) for _l, c_low, c_high, c_props, _c in children if c_low == c_high]


def region_get(code: str) -> Region | None:
    return _table().get(code)


def region_validate(code: str) -> Region:
    """Return the region for a six-digit code in force, or raise a translated ValidationError."""
    if not _CODE.match(code or ""):
        raise ValidationError(_("地区代码应为六位数字（GB/T 2260）。"), code="invalid_region")
    region = region_get(code)
    if region is None:
        raise ValidationError(_("未知的地区代码：%(code)s。"), code="invalid_region", params={"code": code})
    if not region.in_force:
        raise ValidationError(
            _("地区代码 %(code)s（%(name)s）已撤销，请使用现行代码。"),
            code="invalid_region",
            params={"code": code, "name": region.name},
        )
    return region


def region_label(code: str) -> str:
    """Full name with parents, e.g. 浙江省 杭州市 上城区."""
    region = region_get(code)
    if region is None:
        return code
    names = [r.name for c in region.parent_codes if (r := region_get(c)) and r.name not in ("市辖区", "县")]
    return " ".join([*names, region.name])
