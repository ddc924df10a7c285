"""Retention rules of resident needs and public notice (``huoban.retention``), run in every hub.

- one-time SMS codes: deleted a day after they were sent (only the phone and a hash; they expire in ten minutes);
- residents' contact data (name, phone): blanked once nothing of theirs is in progress — no need of theirs is
  new or accepted (nor merged into one that is), no round they supported or objected in is still open — and the
  last of those (the need's last change, the round's close, the verification) is older than the period. The row
  stays: needs, supports and objections point at it, so counts and public answers stay true;
- where supports came from (IP range, phone prefix): blanked once the round has been closed for the period and
  every flag of it is reviewed. The supports stay, so support counts are exact.

Registered from ``NeedsConfig.ready``.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from hubs.needs.models import Need, NeedStatus, NoticeRound, Objection, PhoneCode, Resident, Support, SupportFlag
from huoban.retention import HUB, RetentionRule, purge, scrub

OPEN_NEEDS = (NeedStatus.NEW, NeedStatus.ACCEPTED)


def _rounds_concluded_before(cutoff: datetime) -> QuerySet[NoticeRound]:
    """Rounds closed (or, never closed by staff, ended) before ``cutoff``."""
    return NoticeRound.objects.filter(Q(closed_at__lt=cutoff) | Q(closed_at__isnull=True, ends_at__lt=cutoff))


def phone_codes(cutoff: datetime, dry_run: bool) -> int:
    return purge(PhoneCode.objects.filter(created_at__lt=cutoff), dry_run)


def resident_contacts(cutoff: datetime, dry_run: bool) -> int:
    in_progress_needs = (
        Need.objects.filter(resident_id__isnull=False)  # NOT IN (… NULL …) would match nothing
        .filter(Q(status__in=OPEN_NEEDS) | Q(merged_into__status__in=OPEN_NEEDS) | Q(updated_at__gte=cutoff))
        .values("resident_id")
    )
    recent_rounds = NoticeRound.objects.exclude(pk__in=_rounds_concluded_before(cutoff).values("pk"))
    recent_supports = Support.objects.filter(notice_round__in=recent_rounds).values("resident_id")
    recent_objections = Objection.objects.filter(notice_round__in=recent_rounds).values("resident_id")
    expired = (
        Resident.objects.filter(created_at__lt=cutoff)
        .filter(Q(phone_verified_at__isnull=True) | Q(phone_verified_at__lt=cutoff))
        .filter(~Q(name="") | Q(phone__isnull=False))
        .exclude(pk__in=in_progress_needs)
        .exclude(pk__in=recent_supports)
        .exclude(pk__in=recent_objections)
    )
    return scrub(expired, dry_run, name="", phone=None)


def support_sources(cutoff: datetime, dry_run: bool) -> int:
    unreviewed = SupportFlag.objects.filter(reviewed_at__isnull=True).values("notice_round_id")
    rounds = _rounds_concluded_before(cutoff).exclude(pk__in=unreviewed)
    supports = Support.objects.filter(notice_round__in=rounds).exclude(ip_prefix="", phone_prefix="")
    return scrub(supports, dry_run, ip_prefix="", phone_prefix="")


RULES = [
    RetentionRule(
        name="needs.phone_codes",
        label=_("短信验证码"),
        scopes=frozenset({HUB}),
        days_setting="HUOBAN_RETENTION_PHONE_CODE_DAYS",
        apply=phone_codes,
    ),
    RetentionRule(
        name="needs.resident_contacts",
        label=_("居民的姓名和手机号"),
        scopes=frozenset({HUB}),
        days_setting="HUOBAN_RETENTION_RESIDENT_DAYS",
        apply=resident_contacts,
    ),
    RetentionRule(
        name="needs.support_sources",
        label=_("支持记录的网段和号段"),
        scopes=frozenset({HUB}),
        days_setting="HUOBAN_RETENTION_SUPPORT_SOURCE_DAYS",
        apply=support_sources,
    ),
]
