"""Reads of a hub's partner network: the staff directory, the public list, statistics."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache

from django.contrib.postgres.search import TrigramWordSimilarity
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from hubs.partners.models import Partnership, PartnershipStatus, ServiceArea
from huoban.audit.models import AuditEvent
from huoban.audit.selectors import audit_event_list
from huoban.db import connection
from huoban.identity.models import Organisation, OrganisationKind, OrganisationMember, OrganisationRole, User
from huoban.regions import region_get

# How close a name must be to count as a fuzzy match (pg_trgm word similarity, 0..1). Substring matches are found
# by icontains regardless; this adds near misses such as a missing or swapped character.
TRIGRAM_THRESHOLD = 0.3

SORTS = {
    "name": ("organisation__name", "id"),
    "-name": ("-organisation__name", "-id"),
    "joined": ("joined_at", "id"),
    "-joined": ("-joined_at", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "status": ("status", "organisation__name"),
    "region": ("organisation__region_code", "organisation__name"),
}


@cache
def trigram_available() -> bool:
    """Whether pg_trgm is installed in the public schema (the partners migration creates it when it may)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pg_trgm' AND n.nspname = 'public'"
        )
        return cursor.fetchone() is not None


def region_prefix(code: str) -> str | None:
    """The code prefix that covers a region and everything under it: 51 for 510000, 5101 for 510100."""
    region = region_get((code or "").strip())
    if region is None:
        return None
    if region.level == "province":
        return region.code[:2]
    if region.level == "city":
        return region.code[:4]
    return region.code


def _search(qs: QuerySet[Partnership], q: str, *, rank: bool) -> QuerySet[Partnership]:
    """Names containing every word of ``q``; only when there are none, near misses by trigram similarity.

    Chinese organisation names share long common endings (服务中心, 基金会), so similarity alone would also return
    every "...服务中心" for a query that names one exactly; it is kept for typos and missing characters.
    """
    contains = Q()
    for term in q.split():  # every word somewhere in the name, the English name or the credit code
        contains &= (
            Q(organisation__name__icontains=term)
            | Q(organisation__name_en__icontains=term)
            | Q(organisation__credit_code__icontains=term)
        )
    exact = qs.filter(contains)
    if not trigram_available() or exact.exists():
        return exact
    similar = qs.annotate(similarity=TrigramWordSimilarity(q, "organisation__name")).filter(
        similarity__gte=TRIGRAM_THRESHOLD
    )
    return similar.order_by("-similarity", "organisation__name") if rank else similar


@dataclass(frozen=True)
class DirectoryFilters:
    q: str = ""
    kind: str = ""
    tag: str = ""
    status: str = ""
    region: str = ""
    verified: bool | None = None
    sort: str = ""


def partnership_list(*, filters: DirectoryFilters) -> QuerySet[Partnership]:
    """The staff directory: every partnership of this hub, searched, filtered and sorted.

    Search finds Chinese names by substring (every whitespace-separated word must occur) and, when nothing
    contains the words and pg_trgm is available, near misses by trigram similarity, closest first. A region
    filter includes every region under it (a province's cities and counties). ``verified`` keeps organisations
    whose every required document is verified.
    """
    qs = Partnership.objects.select_related("organisation")
    if filters.kind in OrganisationKind.values:
        qs = qs.filter(organisation__kind=filters.kind)
    if filters.tag in ServiceArea.values:
        qs = qs.filter(service_areas__contains=[filters.tag])
    if filters.status in PartnershipStatus.values:
        qs = qs.filter(status=filters.status)
    if filters.region:
        prefix = region_prefix(filters.region)
        qs = qs.filter(organisation__region_code__startswith=prefix) if prefix else qs.none()
    if filters.verified is not None:
        from hubs.partners.documents import verified_organisation_ids

        ids = verified_organisation_ids()
        qs = qs.filter(organisation_id__in=ids) if filters.verified else qs.exclude(organisation_id__in=ids)
    q = filters.q.strip()
    if q:
        qs = _search(qs, q, rank=filters.sort not in SORTS)
    if filters.sort in SORTS:
        return qs.order_by(*SORTS[filters.sort])
    return qs if q else qs.order_by(*SORTS["-created"])


def with_verified(qs: QuerySet[Partnership]) -> QuerySet[Partnership]:
    """Annotate ``verified``: every required document of the organisation is verified (by any hub or the platform)."""
    from hubs.partners.documents import verified_organisation_ids

    return qs.annotate(
        verified=ExpressionWrapper(Q(organisation_id__in=verified_organisation_ids()), output_field=BooleanField())
    )


def partnership_public_list(*, q: str = "", kind: str = "", tag: str = "", region: str = "") -> QuerySet[Partnership]:
    """Active partners, for the public page: callers show only the public profile (never contacts or notes)."""
    filters = DirectoryFilters(q=q, kind=kind, tag=tag, region=region, status=PartnershipStatus.ACTIVE, sort="name")
    return partnership_list(filters=filters)


def partnership_history(*, partnership: Partnership) -> QuerySet[AuditEvent]:
    return audit_event_list(object_type="partners.partnership").filter(object_id=str(partnership.pk))


def organisations_managed_by(*, user: User) -> QuerySet[Organisation]:
    """Organisations ``user`` may speak for to a hub (owner or admin)."""
    return Organisation.objects.filter(
        members__user=user, members__role__in=[OrganisationRole.OWNER, OrganisationRole.ADMIN]
    ).order_by("name")


def partnerships_of_user(*, user: User) -> QuerySet[Partnership]:
    """This hub's partnerships with organisations ``user`` belongs to (the applicant's own view)."""
    org_ids = OrganisationMember.objects.filter(user=user).values_list("organisation_id", flat=True)
    return Partnership.objects.select_related("organisation").filter(organisation_id__in=list(org_ids))


@dataclass
class NetworkStats:
    total: int
    by_status: list[tuple[str, str, int]]  # (status, label, count)
    by_kind: list[tuple[str, str, dict[str, int], int]]  # (kind, label, {status: count}, total)
    growth: list[tuple[date, int, int]]  # (month, joined that month, cumulative)
    statuses: list[tuple[str, str]] = field(default_factory=list)


def network_stats(*, months: int = 24) -> NetworkStats:
    """Partners by type and status, and how many joined each month (with the running total) over ``months``."""
    cells = Partnership.objects.values_list("organisation__kind", "status").annotate(n=Count("id"))
    by_kind_status: dict[str, dict[str, int]] = {}
    status_totals: dict[str, int] = {}
    for kind, status, n in cells:
        by_kind_status.setdefault(kind, {})[status] = n
        status_totals[status] = status_totals.get(status, 0) + n
    by_kind = [
        (kind, str(label), by_kind_status.get(kind, {}), sum(by_kind_status.get(kind, {}).values()))
        for kind, label in OrganisationKind.choices
    ]
    by_status = [(s, str(label), status_totals.get(s, 0)) for s, label in PartnershipStatus.choices]

    tz = timezone.get_current_timezone()
    now = timezone.localtime()
    first = _add_months(date(now.year, now.month, 1), -(months - 1))
    joined = Partnership.objects.filter(joined_at__isnull=False)
    before = joined.filter(joined_at__date__lt=first).count()
    per_month = dict(
        joined.filter(joined_at__date__gte=first)
        .annotate(month=TruncMonth("joined_at", tzinfo=tz))
        .values_list("month")
        .annotate(n=Count("id"))
        .values_list("month", "n")
    )
    counts = {m.date() if hasattr(m, "date") else m: n for m, n in per_month.items()}
    growth = []
    running = before
    for i in range(months):
        month = _add_months(first, i)
        n = counts.get(month, 0)
        running += n
        growth.append((month, n, running))
    return NetworkStats(
        total=sum(status_totals.values()),
        by_status=by_status,
        by_kind=by_kind,
        growth=growth,
        statuses=[(s, str(label)) for s, label in PartnershipStatus.choices],
    )


def _add_months(d: date, n: int) -> date:
    index = d.year * 12 + d.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)
