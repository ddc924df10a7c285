"""Statements and reports of a pool: member and pool statements as xlsx (openpyxl) and PDF (WeasyPrint), and an
anonymised annual report (no organisation is named: members are counted, loans are summed)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Q, Sum
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from hubs.ledger.models import LedgerEntry
from hubs.pool import selectors
from hubs.pool.models import Contribution, Loan, LoanStatus, Pool, PoolMember, Repayment


def _yuan(fen: int) -> float:
    # Spreadsheets show yuan with two decimals; the fen figures stay in their own column for exact sums.
    return fen / 100


def _sheet(wb: Workbook, title: str, header: list[str], rows: list[list[Any]], first: bool = False) -> None:
    ws = wb.active if first else wb.create_sheet()
    ws.title = title[:31]
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)


def _bytes(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def member_statement_rows(*, member: PoolMember) -> list[selectors.StatementRow]:
    if member.equity_account_id is None:
        return []
    return selectors.account_statement(account_id=member.equity_account_id)


def member_statement_xlsx(*, member: PoolMember) -> bytes:
    wb = Workbook()
    rows = member_statement_rows(member=member)
    _sheet(
        wb,
        _("权益明细"),
        [_("日期"), _("摘要"), _("增加（分）"), _("减少（分）"), _("余额（分）"), _("余额（元）"), _("凭证号")],
        [[r.occurred_on, r.memo, r.debit, r.credit, r.balance, _yuan(r.balance), r.transaction_id] for r in rows],
        first=True,
    )
    _sheet(
        wb,
        _("借款"),
        [_("编号"), _("状态"), _("金额（分）"), _("服务费（分）"), _("放款日期"), _("结清日期"), _("尚欠（分）")],
        [
            [
                loan.pk,
                loan.get_status_display(),
                loan.amount,
                loan.fee,
                loan.disbursed_on,
                loan.closed_on,
                selectors.loan_outstanding(loan=loan).total,
            ]
            for loan in member.loans.order_by("id")
        ],
    )
    return _bytes(wb)


POOL_COLUMNS = ("cash", "reserved", "loans", "income", "writeoffs", "equity")


def pool_statement_rows(*, pool: Pool) -> list[dict[str, Any]]:
    """Every pool transaction, oldest first, with its effect on each part of the balance sheet (fen; assets and
    expenses debit-positive, equity and income credit-positive)."""
    column_of = {
        pool.cash_account_id: "cash",
        pool.reserved_account_id: "reserved",
        pool.loans_account_id: "loans",
        pool.income_account_id: "income",
        pool.writeoff_account_id: "writeoffs",
    }
    credit_normal = {"income", "equity"}
    rows: dict[int, dict[str, Any]] = {}
    entries = (
        LedgerEntry.objects.filter(account__subject=pool.subject)
        .select_related("transaction")
        .order_by("seq")
        .values_list("transaction_id", "account_id", "amount", "transaction__occurred_at", "transaction__memo")
    )
    for txn_id, account_id, amount, occurred, memo in entries:
        row = rows.setdefault(
            txn_id,
            {"id": txn_id, "on": timezone.localtime(occurred).date(), "memo": memo, **dict.fromkeys(POOL_COLUMNS, 0)},
        )
        column = column_of.get(account_id, "equity")
        row[column] += -amount if column in credit_normal else amount
    return list(rows.values())


def pool_statement_xlsx(*, pool: Pool) -> bytes:
    rows = pool_statement_rows(pool=pool)
    labels = [_("现金"), _("已批准待放款"), _("在贷本金"), _("服务费收入"), _("核销损失"), _("成员权益")]
    totals = {c: sum(r[c] for r in rows) for c in POOL_COLUMNS}
    wb = Workbook()
    _sheet(
        wb,
        _("资金池流水"),
        [_("凭证号"), _("日期"), _("摘要"), *[f"{label}（分）" for label in labels]],
        [[r["id"], r["on"], r["memo"], *[r[c] for c in POOL_COLUMNS]] for r in rows]
        + [["", "", _("合计"), *[totals[c] for c in POOL_COLUMNS]]],
        first=True,
    )
    members = selectors.members_of(pool=pool, status=None)
    equities = selectors.member_equities(pool=pool)
    _sheet(
        wb,
        _("成员权益"),
        [_("成员"), _("状态"), _("缴款合计（分）"), _("权益（分）")],
        [
            [m.organisation.name, m.get_status_display(), selectors.member_contributed(member=m), equities.get(m.pk, 0)]
            for m in members
        ],
    )
    return _bytes(wb)


def statement_pdf(*, pool: Pool, member: PoolMember | None = None) -> bytes:
    """A printable statement (WeasyPrint renders the same data as the xlsx; Noto CJK fonts give the Chinese)."""
    from weasyprint import HTML  # imported here: it loads Pango, which only the PDF needs

    context: dict[str, Any] = {
        "pool": pool,
        "member": member,
        "figures": selectors.pool_figures(pool=pool),
        "generated": timezone.localtime(),
    }
    if member is not None:
        context["rows"] = member_statement_rows(member=member)
        context["equity"] = selectors.member_equity(member=member)
    else:
        context["pool_rows"] = pool_statement_rows(pool=pool)
    html = render_to_string("pool/statement_pdf.html", context)
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


@dataclass(frozen=True)
class AnnualReport:
    year: int
    members_start: int
    members_end: int
    joined: int
    left: int
    contributions: int
    loans_disbursed: int
    amount_disbursed: int
    amount_repaid: int
    fees: int
    written_off_count: int
    written_off_amount: int
    average_loan: int
    median_days_to_repay: int | None
    figures_end: selectors.PoolFigures
    by_month: list[dict[str, int | str]]


def annual_report(*, pool: Pool, year: int) -> AnnualReport:
    """The year in figures, with no organisation named or identifiable (no single loan is listed)."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    members = pool.members.exclude(joined_at=None)
    local = timezone.get_current_timezone()

    def at(day: date) -> Any:
        return timezone.make_aware(datetime(day.year, day.month, day.day), local)

    members_start = members.filter(joined_at__lt=at(start)).exclude(left_at__lt=at(start)).count()
    next_year = at(date(year + 1, 1, 1))
    members_end = members.filter(joined_at__lt=next_year).exclude(left_at__lt=next_year).count()
    joined = members.filter(joined_at__gte=at(start), joined_at__lt=next_year).count()
    left = members.filter(left_at__gte=at(start), left_at__lt=next_year).count()
    contributions = int(
        Contribution.objects.filter(member__pool=pool, received_on__range=(start, end)).aggregate(t=Sum("amount"))["t"]
        or 0
    )
    disbursed = Loan.objects.filter(pool=pool, disbursed_on__range=(start, end)).aggregate(
        n=Count("id"), t=Sum("amount")
    )
    repaid = Repayment.objects.filter(loan__pool=pool, received_on__range=(start, end)).aggregate(
        p=Sum("principal"), f=Sum("fee")
    )
    written = Loan.objects.filter(pool=pool, status=LoanStatus.WRITTEN_OFF, closed_on__range=(start, end))
    written_amount = int(
        LedgerEntry.objects.filter(
            account_id=pool.writeoff_account_id or 0,
            transaction__occurred_at__gte=at(start),
            transaction__occurred_at__lt=next_year,
        ).aggregate(t=Sum("amount"))["t"]
        or 0
    )
    days = sorted(
        (loan.closed_on - loan.disbursed_on).days
        for loan in Loan.objects.filter(
            pool=pool, status=LoanStatus.REPAID, closed_on__range=(start, end), disbursed_on__isnull=False
        )
        if loan.closed_on and loan.disbursed_on
    )
    n = int(disbursed["n"] or 0)
    total = int(disbursed["t"] or 0)
    by_month: list[dict[str, int | str]] = []
    for month in range(1, 13):
        q = Q(disbursed_on__year=year, disbursed_on__month=month)
        got = Loan.objects.filter(q, pool=pool).aggregate(n=Count("id"), t=Sum("amount"))
        by_month.append({"month": f"{year}-{month:02d}", "loans": int(got["n"] or 0), "amount": int(got["t"] or 0)})
    return AnnualReport(
        year=year,
        members_start=members_start,
        members_end=members_end,
        joined=joined,
        left=left,
        contributions=contributions,
        loans_disbursed=n,
        amount_disbursed=total,
        amount_repaid=int(repaid["p"] or 0),
        fees=int(repaid["f"] or 0),
        written_off_count=written.count(),
        written_off_amount=written_amount,
        average_loan=total // n if n else 0,
        median_days_to_repay=days[len(days) // 2] if days else None,
        figures_end=selectors.pool_figures(pool=pool),
        by_month=by_month,
    )
