"""Dunning: what happens between a failed payment and either payment or a read-only hub.

1. Stripe reports a failed invoice payment: the hub's admins get an email, the grace period
   (``HUOBAN_BILLING_GRACE_DAYS``, default 14) starts from the failure.
2. A periodic task (``billing_dunning_check``) sends reminders every ``HUOBAN_BILLING_DUNNING_INTERVAL_DAYS``
   (default 3) and, once the grace period is over, makes the hub read-only through ``hub_status_set`` with the
   reason shown to everyone. Nothing is deleted; hub admins can still read everything and pay.
3. Payment succeeds (or the debt is voided, or the subscription ends and the hub is back on the free plan): the
   hub becomes active again, but only if billing made it read-only and it is still read-only; a status an
   operator set is never undone here. Every step is audited with why.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import BillingAccount, BillingInvoice, InvoiceStatus
from billing.services import billing_audit
from huoban.tasks import enqueue_on_commit
from tenants.models import Hub, HubStatus
from tenants.services import hub_status_set


def grace_days() -> int:
    return int(getattr(settings, "HUOBAN_BILLING_GRACE_DAYS", 14))


def reminder_interval_days() -> int:
    return int(getattr(settings, "HUOBAN_BILLING_DUNNING_INTERVAL_DAYS", 3))


def grace_ends_at(account: BillingAccount) -> datetime | None:
    if account.payment_failed_at is None:
        return None
    return account.payment_failed_at + timedelta(days=grace_days())


def _email(account: BillingAccount, kind: str) -> None:
    from billing.tasks import billing_dunning_email_send

    enqueue_on_commit(billing_dunning_email_send, hub_id=account.hub_id, kind=kind)


def _unpaid_failed_invoices(account: BillingAccount) -> int:
    return BillingInvoice.objects.filter(
        hub_id=account.hub_id, status=InvoiceStatus.OPEN, amount_due__gt=0, attempt_count__gt=0
    ).count()


def dunning_payment_failed(*, account: BillingAccount, invoice: BillingInvoice, failed_at: datetime) -> str:
    """Start dunning for a failed payment (once; later failures of the same debt only keep it going)."""
    if invoice.status != InvoiceStatus.OPEN:
        return "stale: invoice no longer open"
    with transaction.atomic():
        locked = BillingAccount.objects.select_for_update().select_related("hub").get(pk=account.pk)
        if locked.payment_failed_at is not None:
            return "dunning continues"
        locked.payment_failed_at = failed_at
        locked.dunning_emails_sent = 1
        locked.last_dunning_email_at = timezone.now()
        locked.save()
        billing_audit(
            actor=None,
            action="billing.payment_failed",
            hub=locked.hub,
            after={
                "invoice": invoice.stripe_invoice_id,
                "amount_due": invoice.amount_due,
                "grace_ends_at": str(grace_ends_at(locked)),
            },
        )
        _email(locked, "payment_failed")
    account.refresh_from_db()
    return "dunning started"


def _end_dunning(account: BillingAccount, *, why: str, invoice_id: str = "") -> str:
    """Clear dunning on a locked account; reactivate the hub if billing made it read-only. Returns the outcome."""
    was_read_only = account.read_only_by_billing
    failing = account.payment_failed_at is not None
    account.payment_failed_at = None
    account.dunning_emails_sent = 0
    account.last_dunning_email_at = None
    account.read_only_by_billing = False
    account.read_only_at = None
    account.save()
    if was_read_only:
        hub = Hub.objects.get(pk=account.hub_id)
        reactivated = hub.status == HubStatus.READ_ONLY
        if reactivated:
            hub_status_set(hub=hub, status=HubStatus.ACTIVE, reason="", actor=None)
        billing_audit(
            actor=None,
            action="billing.hub_reactivated" if reactivated else "billing.read_only_released",
            hub=account.hub,
            before={"status": HubStatus.READ_ONLY if reactivated else hub.status},
            after={"status": hub.status, "why": why, "invoice": invoice_id},
        )
        if reactivated:
            _email(account, "reactivated")
        return "hub reactivated" if reactivated else "read-only released (status set by an operator kept)"
    if failing:
        billing_audit(actor=None, action="billing.payment_recovered", hub=account.hub, after={"why": why})
        return "dunning ended"
    return "nothing owed"


def dunning_payment_succeeded(*, account: BillingAccount, invoice: BillingInvoice) -> str:
    """A paid (or voided) invoice ends dunning when no other failed invoice is still unpaid."""
    with transaction.atomic():
        locked = BillingAccount.objects.select_for_update().select_related("hub").get(pk=account.pk)
        if locked.payment_failed_at is None and not locked.read_only_by_billing:
            return "paid"
        if _unpaid_failed_invoices(locked):
            return "paid; other failed invoices still unpaid"
        outcome = _end_dunning(locked, why=f"invoice {invoice.status}", invoice_id=invoice.stripe_invoice_id)
    account.refresh_from_db()
    return outcome


def dunning_subscription_ended(*, account: BillingAccount) -> str:
    """The subscription ended (Stripe gave up or it was cancelled): the hub is on the free plan, owes nothing more
    for it, and is not held read-only for it."""
    if account.payment_failed_at is None and not account.read_only_by_billing:
        return "nothing owed"
    return _end_dunning(account, why="subscription ended; back on the free plan")


def dunning_reconcile(*, account: BillingAccount) -> str:
    """After reconciling invoices with Stripe: end dunning if no failed invoice is unpaid any more."""
    with transaction.atomic():
        locked = BillingAccount.objects.select_for_update().select_related("hub").get(pk=account.pk)
        if locked.payment_failed_at is None and not locked.read_only_by_billing:
            return "nothing owed"
        if _unpaid_failed_invoices(locked):
            return "still owed"
        return _end_dunning(locked, why="reconciled with Stripe: nothing unpaid")


def dunning_check(*, now: datetime | None = None) -> dict[str, int]:
    """Periodic: reminders during the grace period, read-only when it is over. Returns counts for the log."""
    now = now or timezone.now()
    counts = {"reminded": 0, "read_only": 0}
    for account_id in BillingAccount.objects.filter(payment_failed_at__isnull=False).values_list("pk", flat=True):
        with transaction.atomic():
            account = BillingAccount.objects.select_for_update().select_related("hub").get(pk=account_id)
            deadline = grace_ends_at(account)
            if deadline is None or account.read_only_by_billing:
                continue
            if now >= deadline:
                hub = Hub.objects.get(pk=account.hub_id)
                if hub.status != HubStatus.ACTIVE:
                    continue  # an operator's status stands; billing does not take it over
                hub_status_set(
                    hub=hub,
                    status=HubStatus.READ_ONLY,
                    reason=_("账单逾期未付，宽限期已过，枢纽暂为只读。付清账单后自动恢复。"),
                    actor=None,
                )
                account.read_only_by_billing = True
                account.read_only_at = now
                account.save()
                billing_audit(
                    actor=None,
                    action="billing.hub_read_only",
                    hub=hub,
                    before={"status": HubStatus.ACTIVE},
                    after={
                        "status": HubStatus.READ_ONLY,
                        "why": "grace period over with payment outstanding",
                        "payment_failed_at": str(account.payment_failed_at),
                    },
                )
                _email(account, "read_only")
                counts["read_only"] += 1
            elif account.last_dunning_email_at is None or now - account.last_dunning_email_at >= timedelta(
                days=reminder_interval_days()
            ):
                account.dunning_emails_sent += 1
                account.last_dunning_email_at = now
                account.save()
                _email(account, "reminder")
                counts["reminded"] += 1
    return counts
