"""What project delivery puts in cross-hub discovery.

- an approved project looking for money: kind ``project_seeking_funds``, with the amount still needed (budget less
  what funders have pledged or paid);
- a funded or in-progress project: kind ``funded_project``, with the money received; once completed or evaluated
  the same entry stays, marked closed (search no longer lists it).
One project is one entry (source ``("projects", id)``) whose kind changes as it moves on. A draft, suspended or
cancelled project is taken out. Only the public face leaves the hub: the titles, the masked summary, the hub's
region, the service area, amounts, dates and the link to the public project page — never private notes, people,
receipts or documents. Every write happens inside the transaction that changed the project
(``project_index``), after the change.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Sum

from hubs.projects.models import BudgetLine, FundingSource, Project, ProjectStatus
from hubs.projects.selectors import mask_text, project_money
from huoban.db import connection
from huoban.discovery.registry import DiscoveryItem
from huoban.discovery.services import discovery_publish, discovery_unpublish

SEEKING_KIND = "project_seeking_funds"
FUNDED_KIND = "funded_project"
SEEKING_STATUSES = (ProjectStatus.APPROVED,)
FUNDED_STATUSES = (ProjectStatus.FUNDED, ProjectStatus.IN_PROGRESS)
CLOSED_STATUSES = (ProjectStatus.COMPLETED, ProjectStatus.EVALUATED)


def _kind(project: Project) -> str | None:
    if project.status in SEEKING_STATUSES:
        return SEEKING_KIND
    if project.status in FUNDED_STATUSES or project.status in CLOSED_STATUSES:
        return FUNDED_KIND
    return None  # draft, suspended, cancelled: not public in discovery


def _title(project: Project) -> str:
    # The index has one title field, searched in both languages: the English name rides along after the Chinese.
    title_en = project.title_en.strip()
    return f"{project.title_zh} · {title_en}" if title_en else project.title_zh


def project_item(project: Project) -> DiscoveryItem:
    """The public face of a project in a published status."""
    hub = connection.tenant
    money = project_money(project=project)
    if project.status in SEEKING_STATUSES:
        budget = BudgetLine.objects.filter(project=project).aggregate(t=Sum("amount"))["t"] or 0
        pledged = FundingSource.objects.filter(project=project).aggregate(t=Sum("amount"))["t"] or 0
        amount = max(budget - max(pledged, money.received), 0)
    else:
        amount = money.received
    return DiscoveryItem(
        source=("projects", str(project.pk)),
        title=_title(project),
        summary=mask_text(project.summary),
        region_code=hub.region_code,
        service_areas=(project.service_area,),
        amount=amount,
        opens_on=project.start_date,
        closes_on=project.end_date,
        status="closed" if project.status in CLOSED_STATUSES else "open",
        link_url=f"{hub.url}/projects/public/{project.pk}/",
    )


def project_index(project: Project) -> None:
    """Publish or unpublish ``project`` as it is now; call inside the transaction that changed it."""
    hub = connection.tenant
    kind = _kind(project)
    if kind is None:
        discovery_unpublish(hub_id=hub.pk, source=("projects", str(project.pk)))
        return
    discovery_publish(
        hub_id=hub.pk,
        hub_slug=hub.slug,
        hub_name=hub.name_zh,
        hub_name_en=hub.name_en,
        kind=kind,
        **project_item(project).fields(),
    )


def _published(statuses: tuple[str, ...]) -> Iterator[DiscoveryItem]:
    for project in Project.objects.filter(status__in=statuses).order_by("pk").iterator(chunk_size=200):
        yield project_item(project)


def public_seeking_projects() -> Iterator[DiscoveryItem]:
    """Publisher for rebuilds and drift checks: approved projects of the active hub."""
    return _published(SEEKING_STATUSES)


def public_funded_projects() -> Iterator[DiscoveryItem]:
    """Publisher for rebuilds and drift checks: funded, in-progress, completed and evaluated projects."""
    return _published((*FUNDED_STATUSES, *CLOSED_STATUSES))
