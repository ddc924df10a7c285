"""Background work of the partner network. Each task runs inside the hub it was enqueued in (tenant-schemas-celery),
takes ids, and calls one service or sends one kind of email."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from hubs.partners.models import PartnerInvitation, Partnership
from hubs.partners.services import current_hub, organisation_managers

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=5, default_retry_delay=60, acks_late=True)
def partnership_notify(self, *, partnership_id: int, event: str, language: str) -> int:
    """Tell an organisation's owners and admins (or, with nobody managing it yet, its contact address) where it
    stands with this hub. Each person gets it in their own language when they chose one. Sending again after a
    retry repeats the same facts, so it is harmless. Returns the number of messages sent."""
    partnership = Partnership.objects.select_related("organisation").filter(pk=partnership_id).first()
    if partnership is None:
        return 0
    hub = current_hub()
    organisation = partnership.organisation
    recipients = [(u.email, u.preferred_language or language) for u in organisation_managers(organisation) if u.email]
    if not recipients and organisation.contact_email:
        recipients = [(organisation.contact_email, language)]
    sent = 0
    for email, lang in recipients:
        with translation.override(lang):
            context = {
                "hub": hub,
                "organisation": organisation,
                "partnership": partnership,
                "status": partnership.get_status_display(),
                "event": event,
                "link": f"{hub.url}/partners/apply/",
            }
            subject = _("%(hub)s：「%(organisation)s」的伙伴状态为“%(status)s”") % {
                "hub": hub.display_name,
                "organisation": organisation.name,
                "status": context["status"],
            }
            body = render_to_string("partners/email/status.txt", context)
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
        except OSError as exc:
            raise self.retry(exc=exc) from exc
        sent += 1
    return sent


@shared_task(bind=True, max_retries=5, default_retry_delay=60, acks_late=True)
def partner_invitation_send(self, *, invitation_id: int, token: str, language: str) -> None:
    """Email a partner invitation's link (the same link again after a retry)."""
    invitation = PartnerInvitation.objects.select_related("organisation").filter(pk=invitation_id).first()
    if invitation is None or not invitation.is_open:
        return
    hub = current_hub()
    with translation.override(language):
        context = {"invitation": invitation, "hub": hub, "link": f"{hub.url}/partners/join/{token}/"}
        subject = _("%(hub)s 邀请您的组织加入伙伴网络") % {"hub": hub.display_name}
        body = render_to_string("partners/email/invitation.txt", context)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])
    except OSError as exc:
        raise self.retry(exc=exc) from exc


@shared_task(acks_late=True)
def partner_import_run(*, job_id: int, language: str) -> str:
    """Run a confirmed import (all-or-nothing; the job records the outcome). Not retried: a failure is about the
    data, and the job tells staff what to fix."""
    from hubs.partners.imports import import_job_run

    with translation.override(language):
        job = import_job_run(job_id=job_id)
    logger.info("partner import %s: %s", job_id, job.status)
    return str(job.status)
