"""Reconcile local billing with Stripe: print every difference; fix them with --apply.

huoban manage billing_sync                      # report only
huoban manage billing_sync --apply              # take Stripe's subscriptions and invoices, refresh limits
huoban manage billing_sync --create-prices      # report which plans have no Stripe price
huoban manage billing_sync --create-prices --apply   # create the missing prices (monthly, per seat, CNY)
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from billing import stripe_gateway as gateway
from billing.dunning import dunning_reconcile
from billing.models import BillingAccount, BillingInvoice, StripePrice
from billing.plans import CURRENCY, PAID_PLANS, PLANS, plan_for_price, price_id_for
from billing.services import effective_plan, entitlements_refresh, invoice_apply, now_ts, subscription_apply
from billing.stripe_objects import item_price, subscription_item, subscription_period_end, subscription_quantity
from tenants.entitlements import hub_entitlement

LIVE = ("trialing", "active", "past_due", "unpaid", "paused")


def _current_subscription(subs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The subscription that counts: the newest live one, else the newest of any."""
    ordered = sorted(subs, key=lambda s: int(s.get("created") or 0), reverse=True)
    live = [s for s in ordered if s.get("status") in LIVE]
    candidates = live or ordered
    return candidates[0] if candidates else None


class Command(BaseCommand):
    help = "Reconcile hubs' billing with Stripe (prints differences; --apply fixes them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--apply", action="store_true", help="fix the differences (default: only print them)")
        parser.add_argument("--create-prices", action="store_true", help="check (and with --apply create) prices")
        parser.add_argument("--hub", default="", help="only this hub (slug)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not gateway.billing_enabled():
            self.stdout.write("billing is off (no STRIPE_SECRET_KEY): every hub is on the free plan or a comp.")
            return
        apply: bool = options["apply"]
        differences = 0
        if options["create_prices"]:
            differences += self._prices(apply)
        accounts = BillingAccount.objects.select_related("hub").order_by("hub__slug")
        if options["hub"]:
            accounts = accounts.filter(hub__slug=options["hub"])
        for account in accounts:
            differences += self._account(account, apply)
        verb = "fixed" if apply else "found"
        self.stdout.write(self.style.SUCCESS(f"{differences} difference(s) {verb}"))

    def _say(self, slug: str, what: str) -> None:
        self.stdout.write(f"{slug}: {what}")

    def _prices(self, apply: bool) -> int:
        found = 0
        for code in PAID_PLANS:
            plan = PLANS[code]
            price_id = price_id_for(code) or f"huoban-{code}-{CURRENCY}-monthly"
            if gateway.price_find(price_id) is not None:
                if not price_id_for(code) and apply:
                    StripePrice.objects.update_or_create(plan=code, defaults={"price_id": price_id})
                continue
            found += 1
            self._say("prices", f"{code} has no Stripe price {price_id}")
            if apply:
                gateway.price_create(
                    price_id=price_id,
                    plan_code=code,
                    name=f"Huoban {plan.name_en} / {plan.name_zh}",
                    unit_amount=plan.seat_price_fen,
                    currency=CURRENCY,
                )
                StripePrice.objects.update_or_create(plan=code, defaults={"price_id": price_id})
                self._say("prices", f"created {price_id} ({plan.seat_price_fen} fen per seat per month)")
        return found

    def _account(self, account: BillingAccount, apply: bool) -> int:
        slug = account.hub.slug
        found = 0
        if account.stripe_customer_id:
            subs = gateway.subscriptions_of_customer(account.stripe_customer_id)
            current = _current_subscription(subs)
            if current is not None:
                price = item_price(subscription_item(current))
                stripe_view = {
                    "subscription": current["id"],
                    "status": current.get("status"),
                    "plan": plan_for_price(str(price.get("id") or ""), price),
                    "seats": subscription_quantity(current),
                    "cancel_at_period_end": bool(current.get("cancel_at_period_end")),
                    "period_end": subscription_period_end(current),
                }
                local_view = {
                    "subscription": account.subscription_id,
                    "status": account.subscription_status,
                    "plan": account.subscribed_plan,
                    "seats": account.seats,
                    "cancel_at_period_end": account.cancel_at_period_end,
                    "period_end": account.current_period_end,
                }
                for key, value in stripe_view.items():
                    if local_view[key] != value:
                        found += 1
                        self._say(slug, f"{key}: local {local_view[key]!r}, Stripe {value!r}")
                if apply and local_view != stripe_view:
                    with transaction.atomic():
                        locked = BillingAccount.objects.select_for_update().select_related("hub").get(pk=account.pk)
                        subscription_apply(
                            account=locked, sub=current, state_at=now_ts(), why="billing_sync", force=True
                        )
            elif account.subscription_id:
                found += 1
                self._say(slug, f"subscription {account.subscription_id} is unknown to Stripe")
            for inv in gateway.invoices_of_customer(account.stripe_customer_id):
                local = BillingInvoice.objects.filter(stripe_invoice_id=inv["id"]).first()
                if local is None or local.status != inv.get("status") or local.amount_paid != inv.get("amount_paid"):
                    found += 1
                    held = f"{local.status} {local.amount_paid}" if local else "missing"
                    self._say(
                        slug, f"invoice {inv['id']}: local {held}, Stripe {inv.get('status')} {inv.get('amount_paid')}"
                    )
                    if apply:
                        with transaction.atomic():
                            invoice_apply(hub=account.hub, inv=inv, state_at=now_ts())
            if apply:
                outcome = dunning_reconcile(account=account)
                if outcome not in ("nothing owed", "still owed"):
                    found += 1
                    self._say(slug, f"dunning: {outcome}")
        account.refresh_from_db()
        expected = effective_plan(account)
        entitlement = hub_entitlement(hub=account.hub)
        if (entitlement.plan, entitlement.source, entitlement.limits) != (
            expected.plan.code,
            expected.source,
            expected.plan.limits_for(expected.seats),
        ):
            found += 1
            held = f"{entitlement.plan}/{entitlement.source}"
            self._say(slug, f"limits: held {held}, expected {expected.plan.code}/{expected.source}")
            if apply:
                with transaction.atomic():
                    entitlements_refresh(account=account, why="billing_sync")
        return found
