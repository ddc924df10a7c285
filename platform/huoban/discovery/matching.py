"""Writes on what people look for: saved searches, interests, and the daily digest of new matches."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from huoban.audit.services import audit_record
from huoban.discovery.models import DiscoveryInterest, EntryKind, SavedSearch, ServiceArea
from huoban.discovery.params import SearchParams, search_params_from_dict, web_query
from huoban.discovery.selectors import discovery_search_params
from huoban.errors import ApplicationError
from huoban.identity.models import User
from huoban.regions import region_get

logger = logging.getLogger(__name__)

SAVED_SEARCHES_MAX = 50
DIGEST_HITS_MAX = 20
# Entries published in the last moments before a digest may still be committing; they go in the next one.
DIGEST_SETTLE = timedelta(minutes=1)


def saved_search_create(*, user: User, name: str, params: SearchParams, email_digest: bool = False) -> SavedSearch:
    """Save a search for ``user`` (signed in; at most 50). With ``email_digest``, a daily email lists what is
    new since the previous one, starting from now."""
    name = " ".join((name or "").split())
    if not name:
        raise ApplicationError(_("请为这个搜索命名。"), code="invalid_name", extra={"field": "name"})
    if len(name) > 100:
        raise ApplicationError(_("名称最多 100 个字符。"), code="invalid_name", extra={"field": "name"})
    with transaction.atomic():
        # lock the person's row so two saves at once cannot both pass the limit
        User.objects.select_for_update().filter(pk=user.pk).first()
        if SavedSearch.objects.filter(user=user).count() >= SAVED_SEARCHES_MAX:
            raise ApplicationError(
                _("最多保存 %(n)d 个搜索，请先删除不需要的。") % {"n": SAVED_SEARCHES_MAX},
                code="too_many_saved_searches",
            )
        saved = SavedSearch.objects.create(
            user=user, name=name, params=params.to_dict(), email_digest=email_digest, last_sent_at=timezone.now()
        )
        audit_record(actor=user, action="discovery.saved_search.created", obj=saved, after={"params": saved.params})
    return saved


def saved_search_update(
    *, saved: SavedSearch, name: str | None = None, email_digest: bool | None = None
) -> SavedSearch:
    fields = ["updated_at"]
    if name is not None:
        name = " ".join(name.split())
        if not name or len(name) > 100:
            raise ApplicationError(
                _("请为这个搜索命名（最多 100 个字符）。"), code="invalid_name", extra={"field": "name"}
            )
        saved.name = name
        fields.append("name")
    if email_digest is not None:
        if email_digest and not saved.email_digest:
            saved.last_sent_at = timezone.now()  # a digest starts with what is new from now on
            fields.append("last_sent_at")
        saved.email_digest = email_digest
        fields.append("email_digest")
    saved.updated_at = timezone.now()
    saved.save(update_fields=fields)
    return saved


def saved_search_delete(*, saved: SavedSearch) -> None:
    with transaction.atomic():
        audit_record(actor=saved.user, action="discovery.saved_search.deleted", obj=saved)
        saved.delete()


def interests_set(
    *,
    user: User,
    service_areas: Sequence[str] = (),
    region_codes: Sequence[str] = (),
    kinds: Sequence[str] = (),
    amount_min: int | None = None,
    amount_max: int | None = None,
) -> DiscoveryInterest:
    """Set what ``user`` cares about (service areas, regions, kinds, amount range in fen) for recommendations."""
    areas = sorted(set(service_areas))
    if any(a not in ServiceArea.values for a in areas):
        raise ApplicationError(_("未知的服务领域。"), code="invalid_service_areas", extra={"field": "service_areas"})
    kinds_l = sorted(set(kinds))
    if any(k not in EntryKind.values for k in kinds_l):
        raise ApplicationError(_("未知的条目类型。"), code="invalid_kinds", extra={"field": "kinds"})
    regions = sorted({code.strip() for code in region_codes if code and code.strip()})
    unknown = [code for code in regions if region_get(code) is None]
    if unknown:
        raise ApplicationError(
            _("未知的地区代码：%(code)s。") % {"code": ", ".join(unknown)},
            code="invalid_region",
            extra={"field": "region_codes"},
        )
    if len(regions) > 20:
        raise ApplicationError(_("最多关注 20 个地区。"), code="invalid_region", extra={"field": "region_codes"})
    for field_name, value in (("amount_min", amount_min), ("amount_max", amount_max)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**15):
            raise ApplicationError(_("金额应为以分计的非负整数。"), code="invalid_amount", extra={"field": field_name})
    if amount_min is not None and amount_max is not None and amount_min > amount_max:
        raise ApplicationError(_("最低金额不能高于最高金额。"), code="invalid_amount", extra={"field": "amount_min"})
    interest, _created = DiscoveryInterest.objects.update_or_create(
        user=user,
        defaults={
            "service_areas": areas,
            "region_codes": regions,
            "kinds": kinds_l,
            "amount_min": amount_min,
            "amount_max": amount_max,
            "updated_at": timezone.now(),
        },
    )
    return interest


def discover_url(params: SearchParams) -> str:
    """The public discovery page showing this search."""
    query = web_query(params)
    return f"{settings.HUOBAN_SITE_URL}/discover/" + (f"?{query}" if query else "")


def saved_search_digest_send(*, saved_search_id: int, now: datetime | None = None) -> int:
    """Email the owner of a saved search what was published since the last digest; returns how many matches.

    Nothing new, no email. Idempotent within a run: the window moves forward in the same transaction as the
    send, so a retried task does not send the same matches twice (an email that left just before a crash may).
    """
    now = now or timezone.now()
    cutoff = now - DIGEST_SETTLE
    with transaction.atomic():
        saved = (
            SavedSearch.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user")
            .filter(pk=saved_search_id, email_digest=True)
            .first()
        )
        if saved is None:
            return 0
        user = saved.user
        since = saved.last_sent_at or saved.created_at
        if not user.is_active or not user.email or since >= cutoff:
            return 0
        try:
            params = search_params_from_dict(saved.params)
        except ApplicationError:
            logger.warning("saved search %s has parameters that are no longer valid", saved.pk)
            return 0
        language = user.preferred_language or settings.LANGUAGE_CODE
        with translation.override(language):
            result = discovery_search_params(
                params=params.with_changes(sort="relevance"),
                limit=DIGEST_HITS_MAX,
                published_between=(since, cutoff),
                with_facets=True,
            )
            if not result.hits:
                return 0
            context = {
                "saved": saved,
                "user": user,
                "result": result,
                "more": (result.total or 0) - len(result.hits),
                "search_url": discover_url(params),
                "manage_url": f"{settings.HUOBAN_SITE_URL}/discover/saved/",
            }
            count = result.total or len(result.hits)
            subject = ngettext("「%(name)s」有 %(n)d 条新结果", "「%(name)s」有 %(n)d 条新结果", count) % {
                "name": saved.name,
                "n": count,
            }
            body = render_to_string("discovery/email/digest.txt", context)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
        saved.last_sent_at = cutoff
        saved.save(update_fields=["last_sent_at"])
    return result.total or len(result.hits)
