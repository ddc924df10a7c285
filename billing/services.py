"""Writes on billing: subscribing and changing plans, cancelling, payment methods, comps and credits, and applying
what Stripe tells us (subscriptions, invoices) to the local records and the hub's plan limits.

Who may: hub admins act on their own hub (the views check through ``billing.permissions``); operators grant comps
and credits (console and operator API check). Every change of a hub's plan, comp, credit or billing state is
audited in the public schema, where operators read it with the hub's other platform events.

Stripe is the authority on money. Local rows are what we last saw; an older Stripe state never overwrites a newer
one (``subscription_apply``, ``invoice_apply``), so webhooks may arrive twice, late or out of order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from billing import stripe_gateway as gateway
from billing.models import (
    ENTITLED_STATUSES,
    INVOICE_STATUS_RANK,
    BillingAccount,
    BillingCredit,
    BillingInvoice,
    SubscriptionStatus,
)
from billing.plans import CURRENCY, PAID_PLANS, PLANS, Plan, plan_for_price, plan_get, price_id_for
from billing.stripe_objects import (
    invoice_lines,
    invoice_subscription_id,
    item_price,
    obj_id,
    payment_method_label,
    subscription_item,
    subscription_period_end,
    subscription_quantity,
    ts,
)
from huoban.audit.services import audit_record
from huoban.errors import ApplicationError
from huoban.identity.models import User
from tenants.entitlements import FREE_PLAN, Resource, hub_entitlement, hub_limits_set, hub_usage
from tenants.models import Hub, HubAccess, HubRole

logger = logging.getLogger(__name__)

# Lifecycle order of subscription statuses, to break ties between two states Stripe stamped in the same second.
STATUS_RANK = {
    "incomplete": 0,
    "trialing": 1,
    "active": 2,
    "past_due": 3,
    "unpaid": 4,
    "paused": 4,
    "canceled": 5,
    "incomplete_expired": 5,
}
TERMINAL_STATUSES = frozenset({SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED})


def billing_audit(*, actor: Any, action: str, hub: Hub, before: dict | None = None, after: dict | None = None) -> None:
    """Billing events go to the public schema's trail under the hub, whichever host the change came from."""
    with schema_context(settings.PUBLIC_SCHEMA_NAME):
        audit_record(
            actor=actor,
            action=action,
            object_type="tenants.hub",
            object_id=str(hub.pk),
            object_label=hub.name_zh,
            before=before,
            after=after,
        )


def trial_days() -> int:
    return int(getattr(settings, "HUOBAN_BILLING_TRIAL_DAYS", 14))


def now_ts() -> datetime:
    """Our own clock, whole seconds, as the Stripe-time of a state we read straight from an API response."""
    return timezone.now().replace(microsecond=0)


def account_for_hub(*, hub: Hub) -> BillingAccount:
    account, _created = BillingAccount.objects.get_or_create(hub=hub)
    return account


def _locked_account(hub: Hub) -> BillingAccount:
    account_for_hub(hub=hub)
    return BillingAccount.objects.select_for_update().select_related("hub").get(hub=hub)


def _hub_admin_emails(hub: Hub) -> list[str]:
    rows = HubAccess.objects.filter(hub=hub, roles__contains=[HubRole.HUB_ADMIN]).select_related("user")
    return sorted({row.user.email for row in rows if row.user.email and row.user.is_active})


# --- plan limits ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EffectivePlan:
    plan: Plan
    seats: int
    source: str  # "comp", "subscription" or "free"


def effective_plan(account: BillingAccount) -> EffectivePlan:
    """What the hub is entitled to: a comp wins, then a live subscription to a known plan, else free."""
    comp = plan_get(account.comp_plan) if account.comp_plan else None
    if comp is not None:
        return EffectivePlan(comp, account.comp_seats or comp.min_seats, "comp")
    subscribed = plan_get(account.subscribed_plan) if account.subscribed_plan else None
    if subscribed is not None and account.subscription_status in ENTITLED_STATUSES:
        return EffectivePlan(subscribed, account.seats, "subscription")
    return EffectivePlan(PLANS[FREE_PLAN], 0, "free")


def entitlements_refresh(*, account: BillingAccount, actor: Any = None, why: str = "") -> bool:
    """Write the hub's current plan and limits for hub code to check (``tenants.entitlements``)."""
    hub = account.hub
    current = effective_plan(account)
    before = hub_entitlement(hub=hub)
    limits = current.plan.limits_for(current.seats)
    changed = hub_limits_set(hub=hub, plan=current.plan.code, source=current.source, limits=limits)
    if changed:
        billing_audit(
            actor=actor,
            action="billing.plan_changed",
            hub=hub,
            before={"plan": before.plan, "source": before.source, "limits": before.limits.as_dict()},
            after={"plan": current.plan.code, "source": current.source, "limits": limits.as_dict(), "why": why},
        )
    return changed


# --- applying Stripe's objects ----------------------------------------------------------------------------


def subscription_apply(
    *, account: BillingAccount, sub: dict[str, Any], state_at: datetime, why: str = "", force: bool = False
) -> str:
    """Take a Stripe subscription into the account unless what we hold is newer. Returns what happened.

    Rules: a state older than the one held is ignored, except the end of the subscription, which is final; a
    cancelled subscription never comes back; another subscription replaces the held one only if the held one has
    ended or the other is newer and live. ``force`` (reconciliation with what Stripe says now) skips these checks.
    Call with the account locked (select_for_update) inside a transaction.
    """
    sub_id = str(sub.get("id") or "")
    status = str(sub.get("status") or "")
    if not sub_id or status not in SubscriptionStatus.values:
        return "ignored: not a subscription"
    same = sub_id == account.subscription_id
    if force:
        pass
    elif same:
        held_at = account.subscription_state_at
        ending = status in TERMINAL_STATUSES and account.subscription_status not in TERMINAL_STATUSES
        # An ended subscription never comes back, so its end is news whatever the clocks say.
        if held_at is not None and state_at < held_at and not ending:
            return "stale"
        if account.subscription_status in TERMINAL_STATUSES and status != account.subscription_status:
            return "stale: subscription already ended"
        if (
            held_at is not None
            and state_at == held_at
            and STATUS_RANK.get(status, 0) < STATUS_RANK.get(account.subscription_status, 0)
        ):
            return "stale: same second, earlier state"
    elif account.subscription_id:
        created = ts(sub.get("created"))
        held_live = account.subscription_status not in TERMINAL_STATUSES
        newer = created is not None and (account.subscription_created is None or created > account.subscription_created)
        if held_live and not (status in ENTITLED_STATUSES and newer):
            return "ignored: another subscription is current"
        if not held_live and not newer and status in TERMINAL_STATUSES:
            return "ignored: an older subscription"

    item = subscription_item(sub)
    price = item_price(item)
    price_id = str(price.get("id") or "")
    plan_code = plan_for_price(price_id, price)
    if not plan_code:
        logger.error("subscription %s uses price %s that belongs to no plan", sub_id, price_id)
    before = {
        "subscription": account.subscription_id,
        "status": account.subscription_status,
        "plan": account.subscribed_plan,
        "seats": account.seats,
        "cancel_at_period_end": account.cancel_at_period_end,
    }
    account.subscription_id = sub_id
    account.subscription_status = status
    account.subscription_item_id = str(item.get("id") or "")
    account.subscription_created = ts(sub.get("created"))
    account.price_id = price_id
    account.subscribed_plan = plan_code
    account.seats = subscription_quantity(sub)
    account.current_period_end = subscription_period_end(sub)
    account.cancel_at_period_end = bool(sub.get("cancel_at_period_end")) or bool(
        sub.get("cancel_at") and status not in TERMINAL_STATUSES
    )
    account.trial_end = ts(sub.get("trial_end"))
    account.trial_used = True  # one trial per hub: not again after cancelling and subscribing anew
    account.subscription_state_at = state_at
    if not account.stripe_customer_id:
        account.stripe_customer_id = obj_id(sub.get("customer")) or None
    account.save()
    after = {
        "subscription": sub_id,
        "status": status,
        "plan": plan_code,
        "seats": account.seats,
        "cancel_at_period_end": account.cancel_at_period_end,
    }
    if before != after:
        billing_audit(actor=None, action="billing.subscription_synced", hub=account.hub, before=before, after=after)
    entitlements_refresh(account=account, why=why or f"subscription {status}")
    if status in TERMINAL_STATUSES:
        from billing.dunning import dunning_subscription_ended

        dunning_subscription_ended(account=account)
    return "applied" if before != after else "unchanged"


def invoice_apply(*, hub: Hub, inv: dict[str, Any], state_at: datetime) -> tuple[BillingInvoice | None, str]:
    """Take a Stripe invoice into the hub's invoice list; its status only moves forward."""
    invoice_id = str(inv.get("id") or "")
    status = str(inv.get("status") or "")
    if not invoice_id or status not in INVOICE_STATUS_RANK:
        return None, "ignored: not a stored invoice"
    row = BillingInvoice.objects.select_for_update().filter(stripe_invoice_id=invoice_id).first()
    if row is not None:
        if row.hub_id != hub.pk:
            logger.error("invoice %s belongs to hub %s, not %s", invoice_id, row.hub_id, hub.pk)
            return None, "ignored: another hub's invoice"
        rank_new, rank_held = INVOICE_STATUS_RANK[status], INVOICE_STATUS_RANK.get(row.status, 0)
        if rank_new < rank_held or (rank_new == rank_held and state_at < row.state_at):
            return row, "stale"
    fields = {
        "hub": hub,
        "number": str(inv.get("number") or ""),
        "status": status,
        "currency": str(inv.get("currency") or CURRENCY),
        "total": int(inv.get("total") or 0),
        "amount_due": int(inv.get("amount_due") or 0),
        "amount_paid": int(inv.get("amount_paid") or 0),
        "billing_reason": str(inv.get("billing_reason") or ""),
        "subscription_id": invoice_subscription_id(inv),
        "period_start": ts(inv.get("period_start")),
        "period_end": ts(inv.get("period_end")),
        "created": ts(inv.get("created") or inv.get("date")) or timezone.now(),
        "paid_at": ts((inv.get("status_transitions") or {}).get("paid_at")),
        "hosted_invoice_url": str(inv.get("hosted_invoice_url") or ""),
        "invoice_pdf": str(inv.get("invoice_pdf") or ""),
        "lines": invoice_lines(inv),
        "attempt_count": int(inv.get("attempt_count") or 0),
        "state_at": state_at,
    }
    if row is None:
        row = BillingInvoice.objects.create(stripe_invoice_id=invoice_id, **fields)
        return row, "created"
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    return row, "updated"


# --- customer and payment method ----------------------------------------------------------------------------


def customer_ensure(*, account: BillingAccount, email: str = "") -> str:
    """The hub's Stripe customer, made once (with the account locked, and an idempotency key for retries)."""
    if account.stripe_customer_id:
        return account.stripe_customer_id
    hub = account.hub
    customer = gateway.customer_create(
        name=hub.name_zh,
        email=email or account.billing_email,
        metadata={"hub_id": str(hub.pk), "hub_slug": hub.slug},
        idempotency_key=f"huoban-customer-{hub.pk}",
    )
    account.stripe_customer_id = customer["id"]
    if email and not account.billing_email:
        account.billing_email = email
    account.save(update_fields=["stripe_customer_id", "billing_email", "updated_at"])
    return account.stripe_customer_id


def payment_method_set(*, hub: Hub, payment_method_id: str, actor: Any) -> BillingAccount:
    """Keep a payment method the hub saved with Stripe (Stripe.js or Checkout) as its default for invoices."""
    with transaction.atomic():
        account = _locked_account(hub)
        customer_id = customer_ensure(account=account, email=getattr(actor, "email", "") or "")
        pm = gateway.payment_method_retrieve(payment_method_id)
        if obj_id(pm.get("customer")) != customer_id:
            pm = gateway.payment_method_attach(payment_method_id=payment_method_id, customer_id=customer_id)
        gateway.customer_default_payment_method_set(customer_id=customer_id, payment_method_id=payment_method_id)
        account.default_payment_method = payment_method_id
        account.payment_method_label = payment_method_label(pm)
        account.save(update_fields=["default_payment_method", "payment_method_label", "updated_at"])
        billing_audit(
            actor=actor, action="billing.payment_method_set", hub=hub, after={"label": account.payment_method_label}
        )
    return account


def billing_setup_intent_create(*, hub: Hub, actor: User) -> dict[str, str]:
    """A SetupIntent for Stripe.js (or a mobile SDK) to collect a payment method; then ``payment_method_set``."""
    with transaction.atomic():
        account = _locked_account(hub)
        customer_id = customer_ensure(account=account, email=actor.email or "")
    intent = gateway.setup_intent_create(customer_id=customer_id, metadata={"hub_id": str(hub.pk)})
    return {"id": str(intent["id"]), "client_secret": str(intent.get("client_secret") or "")}


# --- plan changes -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanChangeResult:
    outcome: str  # "checkout", "subscribed", "changed", "unchanged", "cancel_scheduled"
    account: BillingAccount
    checkout_url: str = ""
    invoice: BillingInvoice | None = None
    message: str = ""


def _check_plan_fits(*, hub: Hub, plan: Plan, seats: int) -> None:
    """A hub cannot move to a plan its current usage already exceeds (nothing is ever deleted to make room)."""
    limits = plan.limits_for(seats)
    usage = hub_usage(hub=hub)
    for resource in Resource.values:
        used, limit = usage.get(resource), limits.get(resource)
        if used is not None and limit is not None and used > limit:
            raise ApplicationError(
                _("%(resource)s目前已用 %(used)s，超过“%(plan)s”的上限 %(limit)s，请先减少后再更换。")
                % {
                    "resource": Resource(resource).label,
                    "used": used,
                    "plan": plan.display_name,
                    "limit": limit,
                },
                code="plan_too_small",
                extra={"field": "seats" if resource == Resource.STAFF_SEATS else "plan", "resource": resource},
            )


def _validated_plan(plan_code: str, seats: int) -> Plan:
    plan = plan_get(plan_code)
    if plan is None:
        raise ApplicationError(_("未知的套餐。"), code="invalid_plan", extra={"field": "plan"})
    if not plan.is_free and not (plan.min_seats <= seats <= plan.max_seats):
        raise ApplicationError(
            _("“%(plan)s”的席位数应在 %(min)s 到 %(max)s 之间。")
            % {"plan": plan.display_name, "min": plan.min_seats, "max": plan.max_seats},
            code="invalid_seats",
            extra={"field": "seats"},
        )
    return plan


def _return_url(hub: Hub, outcome: str) -> str:
    return f"{hub.url}/billing/?checkout={outcome}"


def billing_plan_change(*, hub: Hub, plan_code: str, seats: int, actor: User) -> PlanChangeResult:
    """Subscribe, or move the hub's subscription to another plan or number of seats (hub admins).

    Checks: billing on, no operator comp in force, a known plan, seats within the plan's range, usage fits.
    - No live subscription: with a payment method on file, Stripe subscribes at once (a trial the first time);
      without one, the result is a Stripe Checkout page to finish on.
    - A live one: the item changes and Stripe prorates; a dearer plan's prorations are invoiced and charged now,
      a cheaper one's credit goes onto the next invoice.
    - The free plan: the subscription is cancelled at the end of the period already paid.
    """
    plan = _validated_plan(plan_code, seats)
    if plan.is_free:
        return billing_cancel(hub=hub, actor=actor)
    if not gateway.billing_enabled():
        gateway.stripe_client()  # raises billing_disabled
    price_id = price_id_for(plan.code)
    if not price_id:
        raise ApplicationError(
            _("该套餐尚未配置价格，请联系平台运营方。"), code="plan_unavailable", extra={"field": "plan"}
        )
    _check_plan_fits(hub=hub, plan=plan, seats=seats)
    with transaction.atomic():
        account = _locked_account(hub)
        if account.comp_plan:
            raise ApplicationError(
                _("平台运营方已为本枢纽赠送套餐，如需调整请联系运营方。"), code="plan_comped", status=409
            )
        customer_id = customer_ensure(account=account, email=actor.email or "")
        metadata = {"hub_id": str(hub.pk), "hub_slug": hub.slug, "plan": plan.code}
        if not account.has_live_subscription:
            days = 0 if account.trial_used else trial_days()
            if not account.default_payment_method:
                session = gateway.checkout_session_create(
                    mode="subscription",
                    customer_id=customer_id,
                    price_id=price_id,
                    quantity=seats,
                    trial_days=days,
                    success_url=_return_url(hub, "done"),
                    cancel_url=_return_url(hub, "cancelled"),
                    metadata=metadata,
                    client_reference_id=str(hub.pk),
                )
                billing_audit(
                    actor=actor, action="billing.checkout_started", hub=hub, after={"plan": plan.code, "seats": seats}
                )
                return PlanChangeResult("checkout", account, checkout_url=str(session.get("url") or ""))
            sub = gateway.subscription_create(
                customer_id=customer_id,
                price_id=price_id,
                quantity=seats,
                trial_days=days,
                metadata=metadata,
                idempotency_key=f"huoban-subscribe-{hub.pk}-{account.subscription_id or 'first'}-{plan.code}-{seats}",
            )
            invoice = _apply_latest_invoice(hub, sub)
            billing_audit(actor=actor, action="billing.subscribed", hub=hub, after={"plan": plan.code, "seats": seats})
            subscription_apply(account=account, sub=sub, state_at=now_ts(), why="subscribed")
            return PlanChangeResult("subscribed", account, invoice=invoice)

        if plan.code == account.subscribed_plan and seats == account.seats:
            return PlanChangeResult("unchanged", account)
        old_plan = plan_get(account.subscribed_plan)
        old_monthly = old_plan.monthly_fen(account.seats) if old_plan else 0
        sub = gateway.subscription_item_change(
            subscription_id=account.subscription_id,
            item_id=account.subscription_item_id,
            price_id=price_id,
            quantity=seats,
        )
        billing_audit(
            actor=actor,
            action="billing.plan_change_requested",
            hub=hub,
            before={"plan": account.subscribed_plan, "seats": account.seats},
            after={"plan": plan.code, "seats": seats},
        )
        subscription_apply(account=account, sub=sub, state_at=now_ts(), why="plan changed by hub admin")
        invoice = None
        message = ""
        if plan.monthly_fen(seats) > old_monthly and account.subscription_status != SubscriptionStatus.TRIALING:
            invoice, message = _invoice_prorations_now(hub=hub, account=account)
        return PlanChangeResult("changed", account, invoice=invoice, message=message)


def _apply_latest_invoice(hub: Hub, sub: dict[str, Any]) -> BillingInvoice | None:
    latest = sub.get("latest_invoice")
    if isinstance(latest, dict):
        row, _result = invoice_apply(hub=hub, inv=latest, state_at=now_ts())
        return row
    return None


def _invoice_prorations_now(*, hub: Hub, account: BillingAccount) -> tuple[BillingInvoice | None, str]:
    """Invoice an upgrade's prorations and try to charge them at once. A declined card leaves the invoice open
    (Stripe's payment_failed webhook then starts dunning); the plan change itself stands."""
    assert account.stripe_customer_id
    draft = gateway.invoice_create_for_pending(
        customer_id=account.stripe_customer_id, subscription_id=account.subscription_id
    )
    message = ""
    try:
        paid = gateway.invoice_pay(str(draft["id"])) if int(draft.get("amount_due") or 0) > 0 else draft
    except ApplicationError as exc:
        if exc.code != "card_declined":
            raise
        paid = gateway.invoice_retrieve(str(draft["id"]))
        message = str(exc.message)
    row, _result = invoice_apply(hub=hub, inv=paid, state_at=now_ts())
    if row is not None and row.status == "open" and not message:
        message = _("升级差额账单尚未付清，请在账单列表中完成付款。")
    return row, message


def billing_cancel(*, hub: Hub, actor: User) -> PlanChangeResult:
    """Cancel the hub's subscription at the end of the period already paid (hub admins); the plan and its limits
    stay until then, and the hub returns to the free plan when Stripe ends the subscription."""
    with transaction.atomic():
        account = _locked_account(hub)
        if not account.has_live_subscription:
            raise ApplicationError(_("本枢纽没有可取消的订阅。"), code="no_subscription", status=409)
        if account.cancel_at_period_end:
            return PlanChangeResult("cancel_scheduled", account)
        sub = gateway.subscription_cancel_at_period_end(subscription_id=account.subscription_id, cancel=True)
        billing_audit(
            actor=actor,
            action="billing.cancel_requested",
            hub=hub,
            after={"plan": account.subscribed_plan, "ends_at": str(subscription_period_end(sub) or "")},
        )
        subscription_apply(account=account, sub=sub, state_at=now_ts(), why="cancellation requested")
    return PlanChangeResult("cancel_scheduled", account)


def billing_resume(*, hub: Hub, actor: User) -> BillingAccount:
    """Undo a cancellation that has not taken effect yet (hub admins)."""
    with transaction.atomic():
        account = _locked_account(hub)
        if not (account.has_live_subscription and account.cancel_at_period_end):
            raise ApplicationError(_("订阅没有待生效的取消。"), code="not_cancelling", status=409)
        sub = gateway.subscription_cancel_at_period_end(subscription_id=account.subscription_id, cancel=False)
        billing_audit(actor=actor, action="billing.cancel_undone", hub=hub, after={"plan": account.subscribed_plan})
        subscription_apply(account=account, sub=sub, state_at=now_ts(), why="cancellation undone")
    return account


def billing_payment_method_checkout(*, hub: Hub, actor: User) -> str:
    """A Stripe Checkout page (setup mode) where a hub admin saves a new payment method; returns its address."""
    with transaction.atomic():
        account = _locked_account(hub)
        customer_id = customer_ensure(account=account, email=actor.email or "")
    session = gateway.checkout_session_create(
        mode="setup",
        customer_id=customer_id,
        success_url=_return_url(hub, "payment_method_saved"),
        cancel_url=_return_url(hub, "cancelled"),
        metadata={"hub_id": str(hub.pk), "hub_slug": hub.slug},
        client_reference_id=str(hub.pk),
    )
    return str(session.get("url") or "")


# --- operators: comps and credits ---------------------------------------------------------------------------


def billing_comp_set(*, hub: Hub, plan_code: str, seats: int | None, reason: str, actor: User) -> BillingAccount:
    """Give a hub a plan free of charge (operators). A reason is required; the comp wins over any subscription
    until it is cleared (Stripe is not touched: cancel a paying subscription separately if that is the intent)."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("赠送套餐时请说明原因。"), code="reason_required", extra={"field": "reason"})
    if plan_code not in PAID_PLANS:
        raise ApplicationError(_("请选择要赠送的付费套餐。"), code="invalid_plan", extra={"field": "plan"})
    plan = PLANS[plan_code]
    seats = int(seats or plan.min_seats)
    _validated_plan(plan_code, seats)
    with transaction.atomic():
        account = _locked_account(hub)
        before = {"comp_plan": account.comp_plan, "comp_seats": account.comp_seats, "reason": account.comp_reason}
        account.comp_plan, account.comp_seats, account.comp_reason = plan_code, seats, reason
        account.comp_by, account.comp_at = actor, timezone.now()
        account.save()
        billing_audit(
            actor=actor,
            action="billing.comp_set",
            hub=hub,
            before=before,
            after={"comp_plan": plan_code, "comp_seats": seats, "reason": reason},
        )
        entitlements_refresh(account=account, actor=actor, why=f"comp: {reason}")
    return account


def billing_comp_clear(*, hub: Hub, reason: str, actor: User) -> BillingAccount:
    """End a comp (operators); the hub falls back to its subscription or the free plan."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("取消赠送时请说明原因。"), code="reason_required", extra={"field": "reason"})
    with transaction.atomic():
        account = _locked_account(hub)
        if not account.comp_plan:
            raise ApplicationError(_("本枢纽没有赠送的套餐。"), code="no_comp", status=409)
        before = {"comp_plan": account.comp_plan, "comp_seats": account.comp_seats, "reason": account.comp_reason}
        account.comp_plan, account.comp_seats, account.comp_reason = "", None, ""
        account.comp_by, account.comp_at = None, None
        account.save()
        billing_audit(actor=actor, action="billing.comp_cleared", hub=hub, before=before, after={"reason": reason})
        entitlements_refresh(account=account, actor=actor, why=f"comp cleared: {reason}")
    return account


def billing_credit_grant(*, hub: Hub, amount_fen: int, reason: str, actor: User) -> BillingCredit:
    """Credit a hub (operators): Stripe takes the amount off the hub's next invoice. Audited with the reason."""
    reason = (reason or "").strip()
    if amount_fen <= 0:
        raise ApplicationError(_("抵扣金额必须大于零。"), code="invalid_amount", extra={"field": "amount"})
    if not reason:
        raise ApplicationError(_("请说明抵扣原因。"), code="reason_required", extra={"field": "reason"})
    with transaction.atomic():
        account = _locked_account(hub)
        customer_id = customer_ensure(account=account)
        credit = BillingCredit.objects.create(
            hub=hub, amount=amount_fen, currency=CURRENCY, reason=reason, created_by=actor
        )
        item = gateway.invoice_item_credit(
            customer_id=customer_id,
            amount=amount_fen,
            currency=CURRENCY,
            description=reason[:200],
            idempotency_key=f"huoban-credit-{credit.pk}",
        )
        credit.stripe_invoice_item_id = str(item.get("id") or "")
        credit.save(update_fields=["stripe_invoice_item_id"])
        billing_audit(
            actor=actor, action="billing.credit_granted", hub=hub, after={"amount_fen": amount_fen, "reason": reason}
        )
    return credit


# --- webhook-driven helpers ---------------------------------------------------------------------------------


def account_for_customer(customer_id: str, metadata: dict[str, Any] | None = None) -> BillingAccount | None:
    """The account of a Stripe customer; by the hub id we put in metadata if the customer is not linked yet."""
    if customer_id:
        account = BillingAccount.objects.select_related("hub").filter(stripe_customer_id=customer_id).first()
        if account is not None:
            return account
    hub_id = str((metadata or {}).get("hub_id") or "")
    if hub_id.isdigit():
        hub = Hub.objects.filter(pk=int(hub_id)).first()
        if hub is not None:
            account = account_for_hub(hub=hub)
            if customer_id and not account.stripe_customer_id:
                account.stripe_customer_id = customer_id
                account.save(update_fields=["stripe_customer_id", "updated_at"])
            return account
    return None
