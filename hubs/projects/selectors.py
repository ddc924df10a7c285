"""Reads on projects. Money figures come from the ledger's entries (``hubs.ledger.selectors``), never from
amounts stored here; the rows here only say which ledger transaction belongs to which receipt, tranche or
expense. ``public_*`` functions return only what the public transparency pages may show: no private notes, no
survey comments, people's names masked, phone numbers and emails in free text masked."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Avg, Count, QuerySet

from hubs.ledger.models import Account, LedgerEntry
from hubs.ledger.selectors import balances
from hubs.projects.models import (
    PUBLIC_STATUSES,
    Expense,
    FundingSource,
    FundReceipt,
    Project,
    ProjectStatus,
    Tranche,
    TrancheStatus,
)
from huoban.identity.models import Organisation, User

_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})-?\d{4}(\d{3,4})(?!\d)")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_ID_CARD = re.compile(r"(?<!\d)(\d{4})\d{10}(\d{3}[\dXx])(?!\d)")


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***, Alice Smith → A****."""
    name = (name or "").strip()
    if not name:
        return "*"
    return name[0] + "*" * (len(name) - 1 if len(name) <= 4 and not name.isascii() else 4)


def mask_text(text: str) -> str:
    """Free text as the public may read it: mobile and landline numbers, emails and ID numbers masked."""
    text = _ID_CARD.sub(r"\1**********\2", text or "")
    text = _PHONE.sub(r"\1****\2", text)
    text = _LANDLINE.sub(r"\1-****\2", text)
    return _EMAIL.sub(r"\1***@\2", text)


@dataclass
class ProjectMoney:
    received: int = 0
    disbursed: int = 0
    spent: int = 0
    held: int = 0  # still in the project's fund accounts
    advance: int = 0  # disbursed and not yet accounted for by expenses
    by_funder: list[dict[str, Any]] = field(default_factory=list)

    @property
    def balance(self) -> int:
        """Received and not yet spent: what the hub holds plus what the implementer holds."""
        return self.held + self.advance


def project_money(*, project: Project) -> ProjectMoney:
    sources = list(FundingSource.objects.filter(project=project).order_by("id"))
    account_ids = [s.account_id for s in sources] + [s.income_account_id for s in sources]
    advance = Account.objects.filter(code=f"PRJ{project.pk}/ADVANCE").first()
    expense = Account.objects.filter(code=f"PRJ{project.pk}/EXPENSE").first()
    accounts = list(Account.objects.filter(pk__in=account_ids))
    extra = [a for a in (advance, expense) if a is not None]
    figures = balances(accounts=accounts + extra)
    money = ProjectMoney()
    orgs = {o.pk: o for o in Organisation.objects.filter(pk__in=[s.funder_id for s in sources])}
    for source in sources:
        received = figures.get(source.income_account_id, 0)
        held = figures.get(source.account_id, 0)
        money.received += received
        money.held += held
        funder = orgs.get(source.funder_id)
        money.by_funder.append(
            {
                "funder": funder.name if funder else "",
                "funder_id": source.funder_id,
                "pledged": source.amount,
                "received": received,
                "held": held,
                "restricted": source.restricted,
            }
        )
    money.advance = figures.get(advance.pk, 0) if advance else 0
    money.spent = figures.get(expense.pk, 0) if expense else 0
    money.disbursed = money.advance + money.spent
    return money


@dataclass(frozen=True)
class TimelineRow:
    on: date
    kind: str  # "in" | "tranche" | "expense"
    label: str
    amount_in: int
    amount_out: int
    balance: int


def funds_timeline(*, project: Project) -> list[TimelineRow]:
    """Money in by funder, out by tranche (to the implementer) and expense, with the running balance the project
    has left (received − spent). Amounts come from each row's ledger transaction."""
    receipts = list(FundReceipt.objects.filter(project=project).select_related("funding_source"))
    tranches = list(Tranche.objects.filter(project=project, status=TrancheStatus.RELEASED))
    expenses = list(Expense.objects.filter(project=project))
    txn_ids = [r.transaction_id for r in receipts if r.transaction_id]
    txn_ids += [t.transaction_id for t in tranches if t.transaction_id]
    txn_ids += [e.transaction_id for e in expenses if e.transaction_id]
    moved = _transaction_amounts(txn_ids)
    orgs = {
        o.pk: o.name
        for o in Organisation.objects.filter(pk__in=[r.funding_source.funder_id for r in receipts]).only("name")
    }
    events: list[tuple[Any, int, str, str, int, int]] = []
    for r in receipts:
        events.append(
            (r.received_on, 0, "in", orgs.get(r.funding_source.funder_id, ""), moved.get(r.transaction_id or 0, 0), 0)
        )
    for t in tranches:
        on = t.released_at.date() if t.released_at else t.created_at.date()
        events.append((on, 1, "tranche", t.title, 0, moved.get(t.transaction_id or 0, 0)))
    for e in expenses:
        events.append((e.spent_on, 2, "expense", e.description, 0, moved.get(e.transaction_id or 0, 0)))
    events.sort(key=lambda ev: (ev[0], ev[1]))
    rows: list[TimelineRow] = []
    balance = 0
    for on, _order, kind, label, amount_in, amount_out in events:
        balance += amount_in
        if kind == "expense":
            balance -= amount_out
        rows.append(
            TimelineRow(on=on, kind=kind, label=label, amount_in=amount_in, amount_out=amount_out, balance=balance)
        )
    return rows


def _transaction_amounts(ids: list[int]) -> dict[int, int]:
    from django.db.models import Sum

    rows = (
        LedgerEntry.objects.filter(transaction_id__in=ids, amount__gt=0)
        .values("transaction_id")
        .annotate(total=Sum("amount"))
        .values_list("transaction_id", "total")
    )
    return {int(t): int(total) for t, total in rows}


def project_list(*, qs: QuerySet[Project] | None = None, status: str = "", q: str = "") -> QuerySet[Project]:
    qs = qs if qs is not None else Project.objects.all()
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(title_zh__icontains=q) | qs.filter(title_en__icontains=q)
    return qs.order_by("-created_at", "-id")


def public_projects() -> QuerySet[Project]:
    return Project.objects.filter(status__in=PUBLIC_STATUSES).order_by("-start_date", "-id")


def public_project(*, pk: int) -> Project | None:
    return public_projects().filter(pk=pk).first()


@dataclass(frozen=True)
class PublicPhoto:
    file_id: str
    source: str  # "visit" | "report"
    on: date


def public_photos(*, project: Project) -> list[PublicPhoto]:
    """The photos staff chose to show publicly (site visits, then reports), newest first; only ids that are
    still among the visit's or report's own photos."""
    photos: list[PublicPhoto] = []
    for visit in project.visits.exclude(public_photo_ids=[]).order_by("-visited_at", "-id"):
        own = set(visit.photo_ids)
        photos += [PublicPhoto(str(x), "visit", visit.visited_at.date()) for x in visit.public_photo_ids if x in own]
    for report in project.reports.exclude(public_photo_ids=[]).order_by("-period_end", "-id"):
        own = set(report.photo_ids)
        photos += [PublicPhoto(str(x), "report", report.period_end) for x in report.public_photo_ids if x in own]
    return photos


def organisations_by_id(ids: list[int]) -> dict[int, Organisation]:
    return {o.pk: o for o in Organisation.objects.filter(pk__in=set(ids))}


def user_labels(ids: list[int | None], *, masked: bool) -> dict[int, str]:
    users = User.objects.filter(pk__in={i for i in ids if i})
    return {u.pk: (mask_name(u.name) if masked else u.name) for u in users}


@dataclass(frozen=True)
class HubTotals:
    projects: int
    budget: int
    raised: int
    spent: int
    partners: int
    by_status: list[tuple[str, int]]


def hub_totals() -> HubTotals:
    """Totals for the public page: public projects, their budgets, money raised and spent, organisations involved
    (implementers and funders)."""
    from django.db.models import Sum

    from hubs.projects.models import BudgetLine

    projects = list(public_projects().values_list("pk", "implementer_id"))
    ids = [pk for pk, _impl in projects]
    budget = BudgetLine.objects.filter(project_id__in=ids).aggregate(total=Sum("amount"))["total"] or 0
    sources = FundingSource.objects.filter(project_id__in=ids)
    income = Account.objects.filter(pk__in=sources.values("income_account_id"))
    expense = Account.objects.filter(code__in=[f"PRJ{pk}/EXPENSE" for pk in ids])
    figures = balances(accounts=list(income) + list(expense))
    raised = sum(figures.get(a, 0) for a in sources.values_list("income_account_id", flat=True))
    spent = sum(figures.get(a.pk, 0) for a in expense)
    partners = {impl for _pk, impl in projects} | set(sources.values_list("funder_id", flat=True))
    by_status = [
        (str(ProjectStatus(row["status"]).label), row["n"])
        for row in public_projects().values("status").annotate(n=Count("id")).order_by("status")
    ]
    return HubTotals(
        projects=len(ids), budget=int(budget), raised=raised, spent=spent, partners=len(partners), by_status=by_status
    )


def survey_summary(*, project: Project) -> dict[str, Any]:
    agg = project.survey_responses.aggregate(n=Count("id"), avg=Avg("satisfaction"))
    return {"count": agg["n"] or 0, "average": round(float(agg["avg"]), 2) if agg["avg"] is not None else None}
