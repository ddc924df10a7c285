"""Background work of calls: letters to applicants. Runs inside the hub it was enqueued in and takes ids."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from hubs.calls import selectors
from hubs.calls.models import Application, Call, CallStatus
from hubs.calls.services import call_close_due, current_hub
from hubs.partners.services import organisation_managers


@shared_task(bind=True, max_retries=5, default_retry_delay=60, acks_late=True)
def application_letter_send(self, *, application_id: int, event: str, language: str) -> int:
    """Email the applicant organisation's owners and admins: a decision letter, a screening result, or a request for
    more information. Reviewer comments are included only where the call allows it (and never who wrote them).
    Sending again after a retry repeats the same facts. Returns the number of messages sent."""
    application = Application.objects.select_related("call", "organisation").filter(pk=application_id).first()
    if application is None:
        return 0
    hub = current_hub()
    comments = selectors.applicant_comments(application=application)
    sent = 0
    for user in organisation_managers(application.organisation):
        if not user.email:
            continue
        with translation.override(user.preferred_language or language):
            context = {
                "hub": hub,
                "application": application,
                "call": application.call,
                "status": application.get_status_display(),
                "event": event,
                "comments": comments,
                "link": f"{hub.url}/calls/applications/{application.pk}/",
            }
            subject = _("%(hub)s：您对“%(call)s”的申请：%(status)s") % {
                "hub": hub.display_name,
                "call": application.call.title,
                "status": context["status"],
            }
            body = render_to_string("calls/email/letter.txt", context)
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
        except OSError as exc:
            raise self.retry(exc=exc) from exc
        sent += 1
    return sent


@shared_task(acks_late=True)
def calls_close_due() -> int:
    """Close the open calls of this hub whose deadline has passed (submissions are refused after it anyway)."""
    if not Call.objects.filter(status=CallStatus.OPEN).exists():
        return 0
    return call_close_due()
