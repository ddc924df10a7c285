"""Stripe webhooks: receive (verify, store once, enqueue) and process (apply to the hub's billing, once).

Receiving: the signature is checked with ``stripe.Webhook.construct_event`` and ``STRIPE_WEBHOOK_SECRET``; a bad
one is refused and nothing is stored. Each event is stored once under Stripe's unique event id; a replay is
answered 200 and changes nothing. Processing runs in a Celery task enqueued on commit.

Processing is idempotent and order-proof: an event already processed is skipped, and every state it carries is
compared with the Stripe time of the state held (``subscription_apply``, ``invoice_apply``), so a late or
out-of-order delivery never moves a hub's billing backwards.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import stripe
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import stripe_gateway as gateway
from billing.dunning import dunning_payment_failed, dunning_payment_succeeded
from billing.models import BillingAccount, StripeEvent
from billing.services import (
    account_for_customer,
    billing_audit,
    invoice_apply,
    now_ts,
    subscription_apply,
)
from billing.stripe_objects import obj_id, payment_method_label, ts
from huoban.errors import ApplicationError
from huoban.tasks import enqueue_on_commit
from tenants.models import Hub

logger = logging.getLogger(__name__)


def stripe_event_receive(*, payload: bytes, signature: str) -> tuple[StripeEvent, bool]:
    """Verify and store one webhook delivery. Returns the stored event and whether it was new."""
    secret = getattr(settings, "STRIPE_WEBHOOK_SECRET", "") or ""
    if not secret:
        raise ApplicationError(_("未配置 Stripe 回调密钥。"), code="webhook_not_configured", status=503)
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret)
    except stripe.SignatureVerificationError as exc:
        raise ApplicationError(_("签名无效。"), code="invalid_signature", status=400) from exc
    except ValueError as exc:  # not JSON
        raise ApplicationError(_("内容无法解析。"), code="invalid_payload", status=400) from exc
    data = event.to_dict()
    event_id = str(data.get("id") or "")
    if not event_id.startswith("evt_"):
        raise ApplicationError(_("内容无法解析。"), code="invalid_payload", status=400)
    from billing.tasks import stripe_event_process_task

    with transaction.atomic():
        row, created = StripeEvent.objects.get_or_create(
            event_id=event_id,
            defaults={
                "type": str(data.get("type") or ""),
                "created": ts(data.get("created")) or timezone.now(),
                "livemode": bool(data.get("livemode")),
                # the body as Stripe sent it (json round trip keeps it JSON-safe)
                "payload": json.loads(payload),
            },
        )
        if row.processed_at is None:
            enqueue_on_commit(stripe_event_process_task, event_pk=row.pk)
    return row, created


def stripe_event_process(*, event_pk: int) -> str:
    """Apply one stored event, once. Returns what happened (kept on the event row)."""
    with transaction.atomic():
        row = StripeEvent.objects.select_for_update().get(pk=event_pk)
        if row.processed_at is not None:
            return row.result
        row.attempts += 1
        result, hub = _dispatch(row)
        row.processed_at = timezone.now()
        row.result = result[:200]
        row.error = ""
        row.hub = hub
        row.save(update_fields=["attempts", "processed_at", "result", "error", "hub"])
    logger.info("stripe event %s %s: %s", row.event_id, row.type, result)
    return result


def stripe_event_failed(*, event_pk: int, error: str) -> None:
    """Keep a failed attempt's error and count the attempt (the attempt's own transaction, with its count, was
    rolled back by the failure)."""
    StripeEvent.objects.filter(pk=event_pk).update(error=error[:2000], attempts=F("attempts") + 1)


def stripe_events_requeue(*, older_than: timedelta, limit: int = 500) -> int:
    """Enqueue again the stored events still unprocessed ``older_than`` after they arrived: Stripe (needed by some
    events) or the broker was down for longer than the task's own retries, or a message was lost. Processing is
    idempotent (the row is locked and marked), so an event enqueued twice is applied once. Returns how many."""
    from billing.tasks import stripe_event_process_task

    cutoff = timezone.now() - older_than
    pending = list(
        StripeEvent.objects.filter(processed_at__isnull=True, received_at__lt=cutoff)
        .order_by("created", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in pending:
        enqueue_on_commit(stripe_event_process_task, event_pk=pk)
    return len(pending)


def _object(row: StripeEvent) -> dict[str, Any]:
    obj: dict[str, Any] = (row.payload.get("data") or {}).get("object") or {}
    return obj


def _locked(account: BillingAccount) -> BillingAccount:
    return BillingAccount.objects.select_for_update().select_related("hub").get(pk=account.pk)


def _dispatch(row: StripeEvent) -> tuple[str, Hub | None]:
    obj = _object(row)
    kind = row.type
    if kind.startswith("customer.subscription."):
        account = account_for_customer(obj_id(obj.get("customer")), obj.get("metadata"))
        if account is None:
            return "ignored: unknown customer", None
        return subscription_apply(account=_locked(account), sub=obj, state_at=row.created, why=kind), account.hub
    if kind.startswith("invoice."):
        account = account_for_customer(obj_id(obj.get("customer")), obj.get("metadata"))
        if account is None:
            return "ignored: unknown customer", None
        invoice, result = invoice_apply(hub=account.hub, inv=obj, state_at=row.created)
        if invoice is None:
            return result, account.hub
        if kind == "invoice.payment_failed":
            return f"{result}; {dunning_payment_failed(account=account, invoice=invoice, failed_at=row.created)}", (
                account.hub
            )
        if kind in ("invoice.paid", "invoice.payment_succeeded", "invoice.voided") and invoice.status in (
            "paid",
            "void",
        ):
            return f"{result}; {dunning_payment_succeeded(account=account, invoice=invoice)}", account.hub
        return result, account.hub
    if kind == "checkout.session.completed":
        return _checkout_completed(obj)
    if kind == "customer.updated":
        return _customer_updated(obj)
    return "ignored: not used", None


def _checkout_completed(session: dict[str, Any]) -> tuple[str, Hub | None]:
    metadata = dict(session.get("metadata") or {})
    if not metadata.get("hub_id") and str(session.get("client_reference_id") or "").isdigit():
        metadata["hub_id"] = session["client_reference_id"]
    account = account_for_customer(obj_id(session.get("customer")), metadata)
    if account is None:
        return "ignored: unknown customer", None
    mode = session.get("mode")
    if mode == "subscription" and session.get("subscription"):
        # The session carries only the id: read the subscription as it is now.
        sub = gateway.subscription_retrieve(obj_id(session.get("subscription")))
        result = subscription_apply(account=_locked(account), sub=sub, state_at=now_ts(), why="checkout completed")
        return f"subscription {result}", account.hub
    if mode == "setup" and session.get("setup_intent"):
        intent = gateway.setup_intent_retrieve(obj_id(session.get("setup_intent")))
        pm_id = obj_id(intent.get("payment_method"))
        if pm_id and account.stripe_customer_id:
            gateway.customer_default_payment_method_set(customer_id=account.stripe_customer_id, payment_method_id=pm_id)
            pm = gateway.payment_method_retrieve(pm_id)
            locked = _locked(account)
            locked.default_payment_method = pm_id
            locked.payment_method_label = payment_method_label(pm)
            locked.save(update_fields=["default_payment_method", "payment_method_label", "updated_at"])
            billing_audit(
                actor=None,
                action="billing.payment_method_set",
                hub=locked.hub,
                after={"label": locked.payment_method_label},
            )
            _retry_failed_invoices(locked)
            return "payment method saved", account.hub
    return "ignored: checkout without result", account.hub


def _retry_failed_invoices(account: BillingAccount) -> None:
    """With a new payment method on file, try the open invoices again now rather than at Stripe's next retry."""
    for invoice in account.hub.billing_invoices.filter(status="open", amount_due__gt=0):
        try:
            paid = gateway.invoice_pay(invoice.stripe_invoice_id)
        except ApplicationError as exc:
            logger.info("retrying invoice %s: %s", invoice.stripe_invoice_id, exc.code)
            continue
        row, _result = invoice_apply(hub=account.hub, inv=paid, state_at=now_ts())
        if row is not None and row.status == "paid":
            dunning_payment_succeeded(account=account, invoice=row)


def _customer_updated(customer: dict[str, Any]) -> tuple[str, Hub | None]:
    account = account_for_customer(str(customer.get("id") or ""), customer.get("metadata"))
    if account is None:
        return "ignored: unknown customer", None
    pm_id = obj_id((customer.get("invoice_settings") or {}).get("default_payment_method"))
    locked = _locked(account)
    if pm_id == locked.default_payment_method:
        return "unchanged", account.hub
    label = payment_method_label(gateway.payment_method_retrieve(pm_id)) if pm_id else ""
    locked.default_payment_method, locked.payment_method_label = pm_id, label
    locked.save(update_fields=["default_payment_method", "payment_method_label", "updated_at"])
    return "payment method updated", account.hub
