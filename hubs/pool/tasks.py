"""Reminder emails of the mutual-aid pool. Beat runs ``pool_reminders_send_all`` daily; it fans out one task per
open hub, which runs inside that hub (tenant-schemas-celery) and emails the people of each member organisation
whose instalment is due within three days or overdue (past the grace days, not paused). One email per loan, kind
and day (``Reminder``), so a second run the same day sends nothing."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import translation

from hubs.pool import selectors
from hubs.pool.models import Loan, LoanStatus, Reminder
from huoban.db import connection
from huoban.identity.models import OrganisationMember
from tenants.models import Hub, HubStatus

logger = logging.getLogger(__name__)
DUE_SOON_DAYS = 3


@shared_task(acks_late=True)
def pool_reminders_send() -> int:
    """Send today's reminders of this hub's pools; returns how many emails went out."""
    hub = connection.tenant
    if not isinstance(hub, Hub):
        raise RuntimeError("pool_reminders_send must run inside a hub")
    today = selectors.today()
    sent = 0
    loans = (
        Loan.objects.filter(status=LoanStatus.DISBURSED)
        .select_related("pool", "member__organisation", "rules")
        .prefetch_related("installments", "pauses")
    )
    for loan in loans:
        if selectors.loan_is_paused(loan=loan):
            continue
        nxt = selectors.loan_next_due(loan=loan)
        if nxt is None:
            continue
        days = selectors.loan_days_past_due(loan=loan, as_of=today)
        if days > loan.rules.grace_days:
            kind = "overdue"
        elif 0 <= (nxt.due_on - today).days <= DUE_SOON_DAYS:
            kind = "due_soon"
        else:
            continue
        emails = sorted(
            {
                email
                for email in OrganisationMember.objects.filter(organisation_id=loan.member.organisation_id).values_list(
                    "user__email", flat=True
                )
                if email
            }
        )
        if not emails:
            continue
        try:
            with transaction.atomic():
                Reminder.objects.create(loan=loan, kind=kind, sent_on=today, recipients=len(emails))
        except IntegrityError:
            continue  # already reminded today
        with translation.override(settings.LANGUAGE_CODE):
            body = render_to_string(
                "pool/email/reminder.txt",
                {
                    "loan": loan,
                    "kind": kind,
                    "due": nxt,
                    "days": days,
                    "owed": selectors.loan_outstanding(loan=loan).total,
                    "hub": hub,
                    "url": f"{hub.url}/pool/{loan.pool_id}/loans/{loan.pk}/",
                },
            )
            subject = body.splitlines()[0]
        send_mail(subject, "\n".join(body.splitlines()[2:]), None, emails)
        sent += 1
    logger.info("pool reminders sent: %s", sent)
    return sent


@shared_task
def pool_reminders_send_all() -> int:
    """Periodic: one reminder run per open hub, each inside its hub."""
    count = 0
    for hub in Hub.objects.filter(status=HubStatus.ACTIVE).only("schema_name"):
        with hub:
            pool_reminders_send.delay()
        count += 1
    return count


__all__ = ["DUE_SOON_DAYS", "pool_reminders_send", "pool_reminders_send_all"]
