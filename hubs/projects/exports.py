"""Exports of the public project data: the list as CSV or xlsx (openpyxl), one project's public report as PDF
(WeasyPrint, from the same context as the public page: nothing private can reach it)."""

from __future__ import annotations

import csv
import io

from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from openpyxl import Workbook

from hubs.ledger.money import money_format
from hubs.projects import selectors
from hubs.projects.models import Project
from hubs.projects.public import public_detail_context

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def projects_rows() -> list[list[str | int]]:
    projects = list(selectors.public_projects())
    orgs = selectors.organisations_by_id([p.implementer_id for p in projects])
    rows: list[list[str | int]] = [
        [
            _("项目名称"),
            _("执行机构"),
            _("状态"),
            _("开始日期"),
            _("结束日期"),
            _("预算（元）"),
            _("到账（元）"),
            _("支出（元）"),
            _("结余（元）"),
        ]
    ]
    for p in projects:
        money = selectors.project_money(project=p)
        budget = sum(line.amount for line in p.budget_lines.all())
        org = orgs.get(p.implementer_id)
        rows.append(
            [
                p.title_zh,
                org.name if org else "",
                p.get_status_display(),
                p.start_date.isoformat(),
                p.end_date.isoformat(),
                money_format(budget, symbol=False),
                money_format(money.received, symbol=False),
                money_format(money.spent, symbol=False),
                money_format(money.balance, symbol=False),
            ]
        )
    return rows


def _safe(value: str | int) -> str | int:
    # A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def projects_table(*, file_format: str) -> bytes:
    rows = [[_safe(v) for v in row] for row in projects_rows()]
    if file_format == "csv":
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        return ("\ufeff" + out.getvalue()).encode()  # BOM: Excel opens UTF-8 Chinese correctly
    if file_format != "xlsx":
        raise ValueError(file_format)
    book = Workbook()
    sheet = book.active
    sheet.title = _("项目")
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def project_pdf(*, project: Project, base_url: str = "") -> bytes:
    from weasyprint import HTML

    html = render_to_string("projects/report_pdf.html", {**public_detail_context(project), "for_pdf": True})
    return bytes(HTML(string=html, base_url=base_url or None).write_pdf())
