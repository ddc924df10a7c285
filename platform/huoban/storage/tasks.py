"""Side effects of storage services, run after their transaction commits."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from huoban.identity.models import OrganisationMember, OrganisationRole
from huoban.storage.models import OrganisationDocument


@shared_task(bind=True, max_retries=5, default_retry_delay=60, acks_late=True)
def organisation_document_review_notify(self, *, document_id: int, reviewed_at: str) -> None:
    """Email the organisation's owners that a document was verified or rejected.

    Idempotent: it sends once per review (``reviewed_at`` names the review; a later review makes this one moot) and
    marks the document notified in the same transaction, so a retry after a sent email does not send it again.
    """
    with transaction.atomic():
        document = (
            OrganisationDocument.objects.select_for_update(of=("self",))
            .select_related("organisation")
            .filter(pk=document_id)
            .first()
        )
        if document is None or document.reviewed_at is None or document.review_notified_at is not None:
            return
        if document.reviewed_at.isoformat() != reviewed_at:
            return
        owners = (
            OrganisationMember.objects.filter(
                organisation_id=document.organisation_id, role=OrganisationRole.OWNER, user__is_active=True
            )
            .exclude(user__email__isnull=True)
            .select_related("user")
        )
        try:
            for owner in owners:
                user = owner.user
                if not user.email:
                    continue
                with translation.override(user.preferred_language or settings.LANGUAGE_CODE):
                    context = {
                        "user": user,
                        "document": document,
                        "organisation": document.organisation,
                        "link": f"{settings.HUOBAN_SITE_URL}/files/organisations/{document.organisation_id}/documents/",
                    }
                    subject = _("资质文件审核结果：%(organisation)s") % {"organisation": document.organisation.name}
                    body = render_to_string("storage/email/document_reviewed.txt", context)
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
        except OSError as exc:
            raise self.retry(exc=exc) from exc
        document.review_notified_at = timezone.now()
        document.save(update_fields=["review_notified_at"])
