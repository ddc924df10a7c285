from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from huoban.identity.models import User
from huoban.identity.services import user_email_verification_token


@shared_task(bind=True, max_retries=5, default_retry_delay=60, acks_late=True)
def email_verification_send(self, *, user_id: int, language: str) -> None:
    user = User.objects.filter(pk=user_id).first()
    if user is None or not user.email or user.email_verified_at:
        return
    with translation.override(language):
        link = f"{settings.HUOBAN_SITE_URL}/accounts/verify-email/{user_email_verification_token(user=user)}/"
        body = render_to_string("identity/email/verify.txt", {"user": user, "link": link})
        subject = _("请验证您的邮箱")
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    except OSError as exc:
        raise self.retry(exc=exc) from exc
