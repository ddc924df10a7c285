"""Writes on the cross-hub index, all of them through the transactional outbox.

- ``discovery_publish`` / ``discovery_unpublish`` (hub code, inside its own transaction, hub schema active) and
  ``discovery_hub_visibility_set`` (hub status changes) add ``DiscoveryOutbox`` rows and, once the transaction
  commits, enqueue one drain. A rolled-back change leaves no row, so the index never shows it.
- ``outbox.discovery_outbox_drain`` applies the rows to the index; ``rebuild.discovery_hub_rebuild`` compares a
  hub's publishers with its entries and writes the outbox rows that repair the difference.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.translation import gettext as _

from huoban.db import connection
from huoban.discovery.models import (
    PUBLISHABLE_STATUSES,
    DiscoveryOutbox,
    EntryKind,
    EntryStatus,
    OutboxOp,
    ServiceArea,
)
from huoban.discovery.registry import Source, SourceRef, source_ref
from huoban.discovery.text import redact
from huoban.errors import ApplicationError
from huoban.regions import region_get

logger = logging.getLogger(__name__)

TITLE_MAX = 200
SUMMARY_MAX = 1000
# The fields of an item that may reach the index; discovery_publish accepts nothing else.
PUBLIC_FIELDS = (
    "title",
    "summary",
    "region_code",
    "service_areas",
    "amount",
    "currency",
    "opens_on",
    "closes_on",
    "deadline",
    "status",
    "link_url",
)
_SOURCE_APP_MAX, _SOURCE_ID_MAX = 50, 64
_url_validator = URLValidator(schemes=["http", "https"])


@dataclass(frozen=True)
class HubRef:
    """What discovery knows of a hub (huoban never imports tenants: callers pass these from their Hub)."""

    id: int
    slug: str
    name: str
    name_en: str = ""


def _invalid(message: str, field_name: str) -> ApplicationError:
    return ApplicationError(message, code="invalid_discovery_item", extra={"field": field_name})


def _clip(text: str, limit: int) -> str:
    text = " ".join((text or "").split())  # one line, single spaces: how a card shows it
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _date(value: date | None, field_name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise _invalid(_("日期格式不正确。"), field_name)
    return value.isoformat()


def publish_payload(
    *,
    hub: HubRef,
    kind: str,
    title: str,
    summary: str = "",
    region_code: str = "",
    service_areas: Iterable[str] = (),
    amount: int | None = None,
    currency: str = "CNY",
    opens_on: date | None = None,
    closes_on: date | None = None,
    deadline: date | None = None,
    status: str = EntryStatus.OPEN,
    link_url: str = "",
) -> dict[str, Any]:
    """The normalised, JSON-safe public payload of an item; raises ApplicationError for what cannot be indexed.

    Deterministic, so a drift check can compare a publisher's item with the entry by hash.
    """
    if kind not in EntryKind.values:
        raise _invalid(_("未知的条目类型。"), "kind")
    title, masked_title = redact(_clip(title, TITLE_MAX))
    summary, masked_summary = redact(_clip(summary, SUMMARY_MAX))
    if masked_title or masked_summary:
        logger.warning("discovery: masked %d personal data item(s) in a %s", masked_title + masked_summary, kind)
    if not title:
        raise _invalid(_("请填写标题。"), "title")
    region_code = (region_code or "").strip()
    if region_code and region_get(region_code) is None:
        raise _invalid(_("未知的地区代码：%(code)s。") % {"code": region_code}, "region_code")
    if isinstance(service_areas, str):
        raise _invalid(_("服务领域应为列表。"), "service_areas")
    areas = sorted(set(service_areas))
    unknown = [a for a in areas if a not in ServiceArea.values]
    if unknown:
        raise _invalid(_("未知的服务领域：%(areas)s。") % {"areas": ", ".join(unknown)}, "service_areas")
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int) or amount < 0):
        raise _invalid(_("金额应为以分计的非负整数。"), "amount")
    currency = (currency or "CNY").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise _invalid(_("币种应为三位字母代码。"), "currency")
    if status not in PUBLISHABLE_STATUSES:
        raise _invalid(_("状态应为进行中、即将开始或已截止。"), "status")
    link_url = (link_url or "").strip()
    if link_url:
        try:
            _url_validator(link_url)
        except ValidationError as exc:
            raise _invalid(_("链接应为 http(s) 网址。"), "link_url") from exc
    return {
        "hub_slug": hub.slug,
        "hub_name": hub.name,
        "hub_name_en": hub.name_en,
        "kind": kind,
        "title": title,
        "summary": summary,
        "region_code": region_code,
        "service_areas": areas,
        "amount": amount,
        "currency": currency,
        "opens_on": _date(opens_on, "opens_on"),
        "closes_on": _date(closes_on, "closes_on"),
        # a call's deadline is when it closes, unless it says otherwise
        "deadline": _date(deadline, "deadline") or _date(closes_on, "closes_on"),
        "status": status,
        "link_url": link_url,
    }


def content_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def source_check(ref: SourceRef) -> SourceRef:
    if not ref.app_label or len(ref.app_label) > _SOURCE_APP_MAX or not ref.object_id:
        raise _invalid(_("来源不正确。"), "source")
    if len(ref.object_id) > _SOURCE_ID_MAX:
        raise _invalid(_("来源不正确。"), "source")
    return ref


def _check_active_hub(hub_id: int) -> None:
    # Defence in depth: code running inside one hub never publishes as another.
    active = getattr(getattr(connection, "tenant", None), "pk", None)
    if active is not None and active != hub_id:
        raise ApplicationError(
            "discovery: publishing for another hub than the active one", code="discovery_wrong_hub", status=500
        )


def _enqueue_drain() -> None:
    from django_tenants.utils import get_public_schema_name, schema_context

    from huoban.discovery.tasks import discovery_outbox_drain

    # The index is public data: the drain runs in the public schema, whichever hub's commit enqueued it.
    with schema_context(get_public_schema_name()):
        discovery_outbox_drain.apply_async()


def drain_after_commit() -> None:
    """One drain per transaction, however many rows it wrote (a rebuild writes thousands)."""
    if connection.in_atomic_block and any(func is _enqueue_drain for _sids, func, _robust in connection.run_on_commit):
        return
    # robust: a broker outage must not fail the caller's committed change; the periodic drain catches up.
    transaction.on_commit(_enqueue_drain, robust=True)


def discovery_publish(
    *,
    hub_id: int,
    hub_slug: str,
    hub_name: str,
    hub_name_en: str = "",
    kind: str,
    source: Source,
    title: str,
    summary: str = "",
    region_code: str = "",
    service_areas: Iterable[str] = (),
    amount: int | None = None,
    currency: str = "CNY",
    opens_on: date | None = None,
    closes_on: date | None = None,
    deadline: date | None = None,
    status: str = EntryStatus.OPEN,
    link_url: str = "",
) -> DiscoveryOutbox:
    """Put an item of a hub in the cross-hub index (or update it), once the caller's transaction commits.

    Who calls: hub code, inside the transaction that changes the item, with that hub's schema active.
    What is checked: only public fields exist in this signature (a contact phone cannot be passed at all);
    kind, status, service areas from the platform vocabulary; a GB/T 2260 region code; amount in integer fen;
    an http(s) link. Personal contact data in the title or summary is masked. Title and summary are clipped to
    200 and 1000 characters. ``deadline`` defaults to ``closes_on``; an item past its deadline, or ``closed``,
    is kept in the index but not shown.
    """
    _check_active_hub(hub_id)
    ref = source_check(source_ref(source))
    hub = HubRef(hub_id, hub_slug, hub_name, hub_name_en)
    payload = publish_payload(
        hub=hub,
        kind=kind,
        title=title,
        summary=summary,
        region_code=region_code,
        service_areas=service_areas,
        amount=amount,
        currency=currency,
        opens_on=opens_on,
        closes_on=closes_on,
        deadline=deadline,
        status=status,
        link_url=link_url,
    )
    row = DiscoveryOutbox.objects.create(
        op=OutboxOp.PUBLISH, hub_id=hub_id, source_app=ref.app_label, source_id=ref.object_id, payload=payload
    )
    drain_after_commit()
    return row


def discovery_unpublish(*, hub_id: int, source: Source) -> DiscoveryOutbox:
    """Take an item of a hub out of the index once the caller's transaction commits (a no-op if it is not in)."""
    _check_active_hub(hub_id)
    ref = source_check(source_ref(source))
    row = DiscoveryOutbox.objects.create(
        op=OutboxOp.UNPUBLISH, hub_id=hub_id, source_app=ref.app_label, source_id=ref.object_id
    )
    drain_after_commit()
    return row


def discovery_hub_visibility_set(*, hub_id: int, visible: bool) -> DiscoveryOutbox:
    """Hide a hub's entries from search (suspended, archived) or show them again, once the transaction commits.

    The entries stay in the index, so a reopened hub is back in full without a rebuild.
    """
    row = DiscoveryOutbox.objects.create(op=OutboxOp.HUB_VISIBILITY, hub_id=hub_id, payload={"visible": visible})
    drain_after_commit()
    return row
