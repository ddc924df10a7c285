from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from huoban.retention import PUBLIC, retention_apply_schema
from tenants import provisioning, retention
from tenants.models import HubInvitation

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=5, default_retry_delay=60, acks_late=True)
def hub_invitation_send(self, *, invitation_id: int, token: str, language: str) -> None:
    """Email an invitation link. Sending twice after a retry is harmless: the link is the same."""
    invitation = HubInvitation.objects.select_related("hub", "invited_by").filter(pk=invitation_id).first()
    if invitation is None or invitation.accepted_at or invitation.revoked_at:
        return
    with translation.override(language):
        link = f"{invitation.hub.url}/invitations/{token}/"
        context = {"invitation": invitation, "hub": invitation.hub, "link": link}
        subject = _("邀请您加入 %(hub)s") % {"hub": invitation.hub.display_name}
        body = render_to_string("tenants/email/invitation.txt", context)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])
    except OSError as exc:
        raise self.retry(exc=exc) from exc


@shared_task(acks_late=True)
def spare_schemas_refill() -> int:
    """Keep the pool of pre-migrated spare schemas full (periodic, and after each provisioning)."""
    made = provisioning.spares_refill()
    if made:
        logger.info("made %d spare hub schemas", made)
    return made


@shared_task(acks_late=True)
def retention_apply_hub() -> dict[str, int]:
    """Apply the personal-data retention rules in the hub this task runs in (idempotent)."""
    counts = retention.retention_apply_hub(dry_run=False)
    logger.info("retention applied: %s", {name: n for name, n in counts.items() if n})
    return counts


@shared_task
def retention_apply_all() -> int:
    """Periodic (daily): the public schema's retention rules, then one ``retention_apply_hub`` per hub, each
    running inside its hub. Returns the number of hubs."""
    counts = retention_apply_schema(scope=PUBLIC, dry_run=False)
    logger.info("retention applied (public): %s", {name: n for name, n in counts.items() if n})
    count = 0
    for hub in retention.retention_hubs().only("schema_name"):
        with hub:
            retention_apply_hub.delay()
        count += 1
    return count
