"""Exports of a notice round for staff: its supports and its flags, as CSV (UTF-8 with a byte-order mark, so Excel
reads the Chinese) or xlsx. Residents appear by their record number and masked phone, as on every other page
outside the resident's own record."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from hubs.needs import selectors
from hubs.needs.masking import mask_phone
from hubs.needs.models import FlagKind, NoticeRound, SupportFlag

Table = tuple[list[str], list[list[Any]]]


def _when(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def supports_table(*, notice_round: NoticeRound) -> Table:
    """One row per support of the round; ``flagged`` says whether its IP range or phone prefix is flagged."""
    flagged = set(SupportFlag.objects.filter(notice_round=notice_round).values_list("kind", "prefix"))
    header = [
        _("编号"),
        _("时间"),
        _("项目编号"),
        _("项目名称"),
        _("居民编号"),
        _("手机号"),
        _("网段"),
        _("号段"),
        _("被标记"),
    ]
    rows = []
    for support in selectors.round_supports(notice_round=notice_round).iterator(chunk_size=2000):
        is_flagged = (FlagKind.IP_RANGE, support.ip_prefix) in flagged or (
            FlagKind.PHONE_PREFIX,
            support.phone_prefix,
        ) in flagged
        rows.append(
            [
                support.pk,
                _when(support.created_at),
                support.idea_id,
                support.idea.title,
                support.resident_id,
                mask_phone(support.resident.phone),
                support.ip_prefix,
                support.phone_prefix,
                _("是") if is_flagged else _("否"),
            ]
        )
    return header, rows


def flags_table(*, notice_round: NoticeRound, reviewer_names: dict[int, str]) -> Table:
    header = [
        _("编号"),
        _("类型"),
        _("来源"),
        _("发现时间"),
        _("支持数"),
        _("居民数"),
        _("项目数"),
        _("最近一次支持"),
        _("核查时间"),
        _("核查人"),
        _("核查说明"),
    ]
    rows = []
    for row in selectors.round_flags(notice_round=notice_round):
        flag = row.flag
        rows.append(
            [
                flag.pk,
                flag.get_kind_display(),
                flag.prefix,
                _when(flag.first_seen_at),
                row.supports,
                row.residents,
                row.ideas,
                _when(row.last_support_at),
                _when(flag.reviewed_at),
                reviewer_names.get(flag.reviewed_by_id or 0, ""),
                flag.note,
            ]
        )
    return header, rows


def as_csv(table: Table) -> bytes:
    header, rows = table
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def as_xlsx(table: Table, *, title: str) -> bytes:
    header, rows = table
    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


FORMATS: dict[str, tuple[str, Callable[..., bytes]]] = {
    "csv": ("text/csv; charset=utf-8", as_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", as_xlsx),
}
