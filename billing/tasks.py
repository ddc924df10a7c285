"""Billing's tasks: processing stored Stripe events, the periodic dunning check, dunning emails.

All of them work on public-schema records and take ids, never objects.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from billing import dunning, events
from billing.models import BillingAccount, BillingInvoice, InvoiceStatus
from tenants.models import HubAccess, HubRole

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=8, acks_late=True)
def stripe_event_process_task(self, *, event_pk: int) -> str:
    """Apply one stored Stripe event. Safe to run twice: the event row is locked and marked processed."""
    try:
        return events.stripe_event_process(event_pk=event_pk)
    except Exception as exc:
        events.stripe_event_failed(event_pk=event_pk, error=repr(exc))
        if self.request.is_eager:
            raise
        raise self.retry(exc=exc, countdown=min(3600, 30 * 2**self.request.retries)) from exc


@shared_task(acks_late=True)
def stripe_events_retry_pending() -> int:
    """Periodic (beat): stored Stripe events still unprocessed after ten minutes are enqueued again."""
    requeued = events.stripe_events_requeue(older_than=timedelta(minutes=10))
    if requeued:
        logger.info("stripe events enqueued again: %s", requeued)
    return requeued


@shared_task(acks_late=True)
def billing_dunning_check() -> dict[str, int]:
    """Periodic (beat): reminders during the grace period, read-only after it."""
    counts = dunning.dunning_check()
    if any(counts.values()):
        logger.info("dunning: %s", counts)
    return counts


SUBJECTS = {
    "payment_failed": gettext_noop("%(hub)s：账单付款未成功"),
    "reminder": gettext_noop("%(hub)s：账单仍未付清"),
    "read_only": gettext_noop("%(hub)s：因账单逾期，枢纽已转为只读"),
    "reactivated": gettext_noop("%(hub)s：已收到付款，枢纽已恢复正常"),
}


@shared_task(bind=True, max_retries=5, default_retry_delay=60, acks_late=True)
def billing_dunning_email_send(self, *, hub_id: int, kind: str) -> int:
    """Email the hub's admins (from the public role index) about its billing; each in their own language."""
    account = BillingAccount.objects.select_related("hub").filter(pk=hub_id).first()
    if account is None or kind not in SUBJECTS:
        return 0
    hub = account.hub
    recipients = {
        access.user.email: access.user.preferred_language or settings.LANGUAGE_CODE
        for access in HubAccess.objects.filter(hub=hub, roles__contains=[HubRole.HUB_ADMIN]).select_related("user")
        if access.user.email and access.user.is_active
    }
    if account.billing_email and account.billing_email not in recipients:
        recipients[account.billing_email] = settings.LANGUAGE_CODE
    unpaid = BillingInvoice.objects.filter(hub=hub, status=InvoiceStatus.OPEN, amount_due__gt=0)
    context = {
        "hub": hub,
        "account": account,
        "amount_due": sum(invoice.amount_due for invoice in unpaid),
        "grace_ends_at": dunning.grace_ends_at(account),
        "billing_url": f"{hub.url}/billing/",
    }
    sent = 0
    for email, language in sorted(recipients.items()):
        with translation.override(language):
            subject = _(SUBJECTS[kind]) % {"hub": hub.display_name}
            body = render_to_string(f"billing/email/{kind}.txt", context)
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
        except OSError as exc:
            raise self.retry(exc=exc) from exc
        sent += 1
    return sent
