"""Retention rule of the partner network (``huoban.retention``), run in every hub: invitations (an email address
and a message) are deleted once they were accepted, revoked or expired longer ago than the period; the audit trail
keeps that they were sent and accepted. Registered from ``PartnersConfig.ready``."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext_lazy as _

from hubs.partners.models import PartnerInvitation
from huoban.retention import HUB, RetentionRule, invitation_finished_before, purge


def partner_invitations(cutoff: datetime, dry_run: bool) -> int:
    return purge(PartnerInvitation.objects.filter(invitation_finished_before(cutoff)), dry_run)


RULES = [
    RetentionRule(
        name="partners.invitations",
        label=_("已结束的伙伴邀请"),
        scopes=frozenset({HUB}),
        days_setting="HUOBAN_RETENTION_INVITATION_DAYS",
        apply=partner_invitations,
    )
]
