"""What a hub's partner network puts in cross-hub discovery: each active partner's public profile.

Only the organisation's name, kind-free public profile, region and service areas leave the hub; contacts, notes,
documents and the partnership's history never do. A partnership that stops being active (suspended, left) is
taken out of the index in the same transaction that changes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from urllib.parse import urlencode

from hubs.partners.models import Partnership, PartnershipStatus
from huoban.db import connection
from huoban.discovery.registry import DiscoveryItem
from huoban.discovery.services import discovery_publish, discovery_unpublish

KIND = "partner"


def partner_item(partnership: Partnership) -> DiscoveryItem:
    """The public face of an active partner (its organisation must be loaded)."""
    organisation = partnership.organisation
    hub = connection.tenant
    return DiscoveryItem(
        source=partnership,
        title=organisation.name,
        summary=partnership.public_profile,
        region_code=organisation.region_code,
        service_areas=tuple(partnership.service_areas or ()),
        status="open",
        link_url=f"{hub.url}/partners/public/?{urlencode({'q': organisation.name})}",
    )


def public_partners() -> Iterator[DiscoveryItem]:
    """Publisher for discovery rebuilds and drift checks: every active partner of the active hub."""
    active = Partnership.objects.filter(status=PartnershipStatus.ACTIVE).select_related("organisation")
    for partnership in active.order_by("pk").iterator(chunk_size=500):
        yield partner_item(partnership)


def partnerships_index(partnerships: Iterable[Partnership]) -> None:
    """Publish the active ones, unpublish the rest; call inside the transaction that changed them."""
    hub = connection.tenant
    for partnership in partnerships:
        if partnership.status == PartnershipStatus.ACTIVE:
            discovery_publish(
                hub_id=hub.pk,
                hub_slug=hub.slug,
                hub_name=hub.name_zh,
                hub_name_en=hub.name_en,
                kind=KIND,
                **partner_item(partnership).fields(),
            )
        else:
            discovery_unpublish(hub_id=hub.pk, source=partnership)
