"""Exports of a call: one workbook (applications, scores per criterion, ranking) and the public results notice.

In a blind call, the scores and ranking sheets (and the API's ranking) name applications only by their code until
the call is decided; the applications sheet then leaves the organisation columns empty too.
"""

from __future__ import annotations

import io
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from hubs.calls import selectors
from hubs.calls.formspec import label_of, yuan
from hubs.calls.models import Call
from huoban.db import connection


def _sheet(wb: Workbook, title: str, header: list[str], rows: list[list[Any]], first: bool = False) -> None:
    ws = wb.active if first else wb.create_sheet()
    ws.title = title
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    ws.freeze_panes = "A2"


def call_workbook(*, call: Call) -> bytes:
    blind = selectors.is_blind_for_staff(call)
    wb = Workbook()
    language = None
    from django.utils.translation import get_language

    language = get_language()
    fields = call.form_fields
    rows = []
    for app in selectors.applications_of_call(call=call).order_by("pk"):
        answers = [
            yuan(app.answers.get(f["key"]))
            if f["type"] == "money" and app.answers.get(f["key"]) is not None
            else _answer_text(app.answers.get(f["key"]))
            for f in fields
        ]
        rows.append(
            [
                app.code,
                "" if blind else app.organisation.name,
                "" if blind else (app.organisation.credit_code or ""),
                app.title,
                app.get_status_display(),
                app.requested_amount / 100,
                (app.awarded_amount or 0) / 100,
                timezone.localtime(app.submitted_at).strftime("%Y-%m-%d %H:%M") if app.submitted_at else "",
                *answers,
            ]
        )
    _sheet(
        wb,
        _("申请"),
        [
            _("编号"),
            _("申报组织"),
            _("统一社会信用代码"),
            _("项目名称"),
            _("状态"),
            _("申请金额（元）"),
            _("资助金额（元）"),
            _("提交时间"),
            *[label_of(f, language) for f in fields],
        ],
        rows,
        first=True,
    )
    reviewer_numbers: dict[int, int] = {}
    score_rows = []
    for score in selectors.scores_of_call(call=call):
        app = score.assignment.application
        number = reviewer_numbers.setdefault(score.assignment.reviewer_id, len(reviewer_numbers) + 1)
        score_rows.append(
            [
                app.code,
                selectors.applicant_label(app, blind=blind) if not blind else "",
                _("评审专家 %(n)s") % {"n": number},
                score.criterion.name,
                score.criterion.weight,
                score.score,
                score.criterion.max_score,
                score.comment,
            ]
        )
    _sheet(
        wb,
        _("评分明细"),
        [_("编号"), _("申报组织"), _("评审专家"), _("评分标准"), _("权重"), _("得分"), _("满分"), _("评语")],
        score_rows,
    )
    rank_rows = []
    ranked: Any = selectors.ranking(call=call)
    for position, app in enumerate(ranked, start=1):
        rank_rows.append(
            [
                position,
                app.code,
                "" if blind else app.organisation.name,
                app.title,
                float(app.score) if app.score is not None else None,
                float(app.low) if app.low is not None else None,
                float(app.high) if app.high is not None else None,
                float(app.spread) if app.spread is not None else None,
                app.reviews,
                app.get_status_display(),
                (app.awarded_amount or 0) / 100,
            ]
        )
    _sheet(
        wb,
        _("排名"),
        [
            _("名次"),
            _("编号"),
            _("申报组织"),
            _("项目名称"),
            _("平均分"),
            _("最低分"),
            _("最高分"),
            _("分差"),
            _("评审数"),
            _("状态"),
            _("资助金额（元）"),
        ],
        rank_rows,
    )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _answer_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):  # a budget table
        return "; ".join(f"{row.get('item')}: {yuan(row.get('amount'))}" for row in value if isinstance(row, dict))
    if isinstance(value, dict):  # a file
        return str(value.get("name", ""))
    return str(value)


def call_results_pdf(*, call: Call) -> bytes:
    """The public notice of a call's results (awards with amounts), rendered by WeasyPrint."""
    from weasyprint import HTML

    awards = list(call.awards.select_related("application", "organisation").order_by("-amount", "pk"))
    html = render_to_string(
        "calls/results_pdf.html",
        {
            "hub": connection.tenant,
            "call": call,
            "awards": awards,
            "total": sum(a.amount for a in awards),
            "generated": timezone.localtime(),
        },
    )
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
