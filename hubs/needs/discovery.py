"""What the needs app puts in cross-hub discovery.

- an idea on public notice: kind ``project_notice`` (open until the round ends);
- an idea at a fair seeking funds: kind ``project_seeking_funds``, with the amount still needed;
- a fair once it opens: kind ``fair`` (closed when it ends).
One idea is one entry (its source), whose kind changes as it moves on; a funded idea leaves the index (the project
it became publishes itself). Only titles, summaries, amounts and dates leave the hub: never a resident.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Q, Sum

from hubs.needs.masking import mask_text
from hubs.needs.models import Claim, ClaimStatus, Fair, FairStatus, IdeaStatus, ProjectIdea
from huoban.db import connection
from huoban.discovery.registry import DiscoveryItem
from huoban.discovery.services import discovery_publish, discovery_unpublish


def _hub_fields() -> dict[str, object]:
    hub = connection.tenant
    return {"hub_id": hub.pk, "hub_slug": hub.slug, "hub_name": hub.name_zh, "hub_name_en": hub.name_en}


def notice_item(idea: ProjectIdea) -> DiscoveryItem:
    hub = connection.tenant
    notice_round = idea.notice_round
    assert notice_round is not None
    return DiscoveryItem(
        source=idea,
        title=idea.title,
        summary=mask_text(idea.summary),
        region_code=hub.region_code,
        service_areas=(idea.category,),
        amount=idea.budget,
        opens_on=notice_round.starts_at.date(),
        closes_on=notice_round.ends_at.date(),
        status="open",
        link_url=f"{hub.url}/needs/notice/{notice_round.pk}/",
    )


def seeking_item(idea: ProjectIdea) -> DiscoveryItem:
    hub = connection.tenant
    fair = idea.fair
    assert fair is not None
    claimed = Claim.objects.filter(~Q(status=ClaimStatus.WITHDRAWN), idea=idea).aggregate(t=Sum("amount"))["t"] or 0
    return DiscoveryItem(
        source=idea,
        title=idea.title,
        summary=mask_text(idea.summary),
        region_code=hub.region_code,
        service_areas=(idea.category,),
        amount=max(idea.budget - claimed, 0),
        closes_on=fair.held_on,
        deadline=fair.held_on,
        status="closed" if fair.status == FairStatus.CLOSED else "open",
        link_url=f"{hub.url}/needs/fairs/{fair.pk}/",
    )


def fair_item(fair: Fair) -> DiscoveryItem:
    hub = connection.tenant
    titles = "、".join(fair.ideas.order_by("pk").values_list("title", flat=True)[:10])
    return DiscoveryItem(
        source=fair,
        title=fair.title,
        summary=mask_text(f"{fair.venue} {titles}".strip()),
        region_code=hub.region_code,
        opens_on=fair.held_on,
        closes_on=fair.held_on,
        status="closed" if fair.status == FairStatus.CLOSED else "open",
        link_url=f"{hub.url}/needs/fairs/{fair.pk}/",
    )


def idea_index(idea: ProjectIdea) -> None:
    """Publish or unpublish an idea after a change, inside the transaction that made it."""
    if idea.status == IdeaStatus.ON_NOTICE:
        discovery_publish(kind="project_notice", **_hub_fields(), **notice_item(idea).fields())  # type: ignore[arg-type]
    elif idea.status == IdeaStatus.AT_FAIR:
        discovery_publish(kind="project_seeking_funds", **_hub_fields(), **seeking_item(idea).fields())  # type: ignore[arg-type]
    else:
        discovery_unpublish(hub_id=connection.tenant.pk, source=idea)


def fair_index(fair: Fair) -> None:
    if fair.status == FairStatus.DRAFT:
        discovery_unpublish(hub_id=connection.tenant.pk, source=fair)
    else:
        discovery_publish(kind="fair", **_hub_fields(), **fair_item(fair).fields())  # type: ignore[arg-type]


def public_notice_ideas() -> Iterator[DiscoveryItem]:
    ideas = ProjectIdea.objects.filter(status=IdeaStatus.ON_NOTICE).select_related("notice_round")
    for idea in ideas.order_by("pk").iterator(chunk_size=500):
        yield notice_item(idea)


def public_seeking_funds() -> Iterator[DiscoveryItem]:
    ideas = ProjectIdea.objects.filter(status=IdeaStatus.AT_FAIR).select_related("fair")
    for idea in ideas.order_by("pk").iterator(chunk_size=500):
        yield seeking_item(idea)


def public_fairs() -> Iterator[DiscoveryItem]:
    for fair in Fair.objects.exclude(status=FairStatus.DRAFT).order_by("pk").iterator(chunk_size=500):
        yield fair_item(fair)
