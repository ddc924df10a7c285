"""What a hub's calls put in cross-hub discovery: open calls (and, once closed, the same entry marked closed).

Drafts never reach the index; an archived call is taken out. Only the public face leaves the hub: title, summary,
region, service areas, per-project cap, dates and the link to the call's public page.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.utils import timezone

from hubs.calls.models import Call, CallStatus
from huoban.db import connection
from huoban.discovery.registry import DiscoveryItem
from huoban.discovery.services import discovery_publish, discovery_unpublish

KIND = "call"
PUBLISHED = (CallStatus.OPEN, CallStatus.CLOSED, CallStatus.IN_REVIEW, CallStatus.DECIDED)


def call_item(call: Call) -> DiscoveryItem:
    hub = connection.tenant
    opens = timezone.localdate(call.opens_at) if call.opens_at else None
    status = "closed"
    if call.status == CallStatus.OPEN:
        status = "upcoming" if call.opens_at and call.opens_at > timezone.now() else "open"
    return DiscoveryItem(
        source=call,
        title=call.title_zh,
        summary=call.description_zh,
        region_code=call.region_code or hub.region_code,
        service_areas=tuple(call.service_areas or ()),
        amount=call.project_cap,
        opens_on=opens,
        closes_on=timezone.localdate(call.closes_at),
        status=status,
        link_url=f"{hub.url}/calls/{call.pk}/public/",
    )


def public_calls() -> Iterator[DiscoveryItem]:
    """Publisher for rebuilds and drift checks: every call of the active hub past its draft and not archived."""
    for call in Call.objects.filter(status__in=PUBLISHED).order_by("pk").iterator(chunk_size=500):
        yield call_item(call)


def calls_index(calls: Iterable[Call]) -> None:
    """Publish or unpublish; call inside the transaction that changed the calls."""
    hub = connection.tenant
    for call in calls:
        if call.status in PUBLISHED:
            discovery_publish(
                hub_id=hub.pk,
                hub_slug=hub.slug,
                hub_name=hub.name_zh,
                hub_name_en=hub.name_en,
                kind=KIND,
                **call_item(call).fields(),
            )
        else:
            discovery_unpublish(hub_id=hub.pk, source=call)
