"""Reads on billing: a hub's summary (plan, usage against limits, subscription, invoices) and operators' revenue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from billing import stripe_gateway as gateway
from billing.dunning import grace_ends_at
from billing.models import BillingAccount, BillingCredit, BillingInvoice, InvoiceStatus
from billing.plans import PAID_PLANS, PLANS, Plan, price_id_for
from billing.services import effective_plan
from tenants.entitlements import Resource, hub_entitlement, hub_usage
from tenants.models import Hub


@dataclass(frozen=True)
class UsageRow:
    resource: str
    label: str
    used: int | None
    limit: int | None
    is_bytes: bool

    @property
    def percent(self) -> int:
        if self.used is None or not self.limit:
            return 0
        return min(100, round(100 * self.used / self.limit))

    @property
    def full(self) -> bool:
        return self.used is not None and self.limit is not None and self.used >= self.limit


@dataclass(frozen=True)
class PlanOption:
    plan: Plan
    available: bool  # has a Stripe price


@dataclass(frozen=True)
class BillingSummary:
    hub: Hub
    enabled: bool
    plan: Plan
    source: str
    seats: int
    monthly_fen: int
    usage: list[UsageRow]
    account: BillingAccount | None
    invoices: list[BillingInvoice]
    options: list[PlanOption]
    grace_ends_at: datetime | None

    @property
    def open_invoices(self) -> list[BillingInvoice]:
        return [i for i in self.invoices if i.status == InvoiceStatus.OPEN and i.amount_due > 0]


def billing_account_get(*, hub: Hub) -> BillingAccount | None:
    return BillingAccount.objects.filter(hub=hub).first()


def hub_invoices(*, hub: Hub) -> QuerySet[BillingInvoice]:
    return BillingInvoice.objects.filter(hub=hub).exclude(status=InvoiceStatus.DRAFT).order_by("-created", "-id")


def billing_summary(*, hub: Hub, invoices: int = 24) -> BillingSummary:
    """Everything a hub admin's billing page shows. No Stripe call: it reads what webhooks and actions stored."""
    account = billing_account_get(hub=hub)
    entitlement = hub_entitlement(hub=hub)
    plan = PLANS.get(entitlement.plan, PLANS["free"])
    seats = effective_plan(account).seats if account else 0
    usage = hub_usage(hub=hub)
    rows = [
        UsageRow(
            resource=resource,
            label=str(label),
            used=usage.get(resource),
            limit=entitlement.limits.get(resource),
            is_bytes=resource == Resource.STORAGE_BYTES,
        )
        for resource, label in Resource.choices
    ]
    enabled = gateway.billing_enabled()
    return BillingSummary(
        hub=hub,
        enabled=enabled,
        plan=plan,
        source=entitlement.source,
        seats=seats,
        monthly_fen=plan.monthly_fen(seats) if entitlement.source == "subscription" else 0,
        usage=rows,
        account=account,
        invoices=list(hub_invoices(hub=hub)[:invoices]),
        options=[PlanOption(PLANS[code], enabled and bool(price_id_for(code))) for code in PAID_PLANS],
        grace_ends_at=grace_ends_at(account) if account else None,
    )


@dataclass(frozen=True)
class RevenueRow:
    hub: Hub
    plan: Plan
    source: str
    seats: int
    status: str
    mrr_fen: int
    paid_30d_fen: int
    paid_total_fen: int
    open_fen: int
    credits_fen: int
    account: BillingAccount | None


def billing_revenue_all_hubs(*, now: datetime | None = None) -> list[RevenueRow]:
    """Operators: plan, status and revenue of every hub (fen, CNY). Monthly recurring revenue counts paying
    subscriptions only (not comps, not trials)."""
    now = now or timezone.now()
    since = now - timedelta(days=30)
    accounts = {a.hub_id: a for a in BillingAccount.objects.all()}
    paid: dict[int, dict[str, Any]] = {
        row["hub_id"]: dict(row)
        for row in BillingInvoice.objects.values("hub_id").annotate(
            total=Sum("amount_paid", filter=Q(status=InvoiceStatus.PAID)),
            recent=Sum("amount_paid", filter=Q(status=InvoiceStatus.PAID, paid_at__gte=since)),
            open=Sum("amount_due", filter=Q(status=InvoiceStatus.OPEN)),
        )
    }
    credits = dict(BillingCredit.objects.values("hub_id").annotate(total=Sum("amount")).values_list("hub_id", "total"))
    rows = []
    for hub in Hub.objects.order_by("slug"):
        account = accounts.get(hub.pk)
        current = effective_plan(account) if account else None
        plan = current.plan if current else PLANS["free"]
        source = current.source if current else "free"
        seats = current.seats if current else 0
        status = account.subscription_status if account else ""
        paying = source == "subscription" and status in ("active", "past_due")
        figures = paid.get(hub.pk) or {}
        rows.append(
            RevenueRow(
                hub=hub,
                plan=plan,
                source=source,
                seats=seats,
                status=status,
                mrr_fen=plan.monthly_fen(seats) if paying else 0,
                paid_30d_fen=int(figures.get("recent") or 0),
                paid_total_fen=int(figures.get("total") or 0),
                open_fen=int(figures.get("open") or 0),
                credits_fen=int(credits.get(hub.pk) or 0),
                account=account,
            )
        )
    return rows
