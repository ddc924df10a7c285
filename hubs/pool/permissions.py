"""Who sees a pool, in one place for the pages and the API.

A pool is seen by the hub's staff, its committee and treasurer, and the people of partner organisations of this
hub (to join, borrow and read their own statements). Anyone else - an outsider from another hub, a resident -
is told nothing exists (404); someone who sees the pool but lacks the role an action needs gets 403 from the
service (``pool_role_required``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import Http404, HttpRequest

from hubs.core.models import STAFF_ROLES, HubMembership
from hubs.core.permissions import request_membership
from hubs.partners.models import Partnership, PartnershipStatus
from hubs.pool import selectors
from hubs.pool.models import MemberStatus, Pool, PoolMember, PoolRoleKind
from huoban.identity.models import Organisation, OrganisationMember


@dataclass
class PoolAccess:
    pool: Pool | None
    staff: bool = False
    committee: bool = False
    treasurer: bool = False
    hub_member: bool = False
    organisations: list[Organisation] = field(default_factory=list)  # the person's partner organisations here
    members: list[PoolMember] = field(default_factory=list)  # their organisations' memberships of this pool

    @property
    def officer(self) -> bool:
        return self.staff or self.committee or self.treasurer

    @property
    def sees(self) -> bool:
        return self.officer or bool(self.organisations) or self.hub_member

    @property
    def member(self) -> PoolMember | None:
        return next((m for m in self.members if m.status == MemberStatus.ACTIVE), None)


def sees_pools(request: HttpRequest) -> bool:
    """Whether the signed-in person sees this hub's pools at all (``PoolAccess.sees`` without a pool), in at most
    two cheap queries, for the navigation: a hub member, or someone of an active partner organisation."""
    if request_membership(request) is not None:
        return True
    organisations = OrganisationMember.objects.filter(user_id=request.user.pk or 0).values("organisation_id")
    return Partnership.objects.filter(organisation_id__in=organisations, status=PartnershipStatus.ACTIVE).exists()


def access_for(user: Any, pool: Pool | None = None) -> PoolAccess:
    access = PoolAccess(pool=pool)
    if not getattr(user, "is_authenticated", False):
        return access
    membership = HubMembership.objects.filter(user_id=user.pk).first()
    access.hub_member = membership is not None
    access.staff = bool(membership and membership.has_any(set(STAFF_ROLES)))
    org_ids = selectors.user_organisation_ids(user=user)
    partner_ids = set(
        Partnership.objects.filter(organisation_id__in=org_ids, status=PartnershipStatus.ACTIVE).values_list(
            "organisation_id", flat=True
        )
    )
    access.organisations = list(Organisation.objects.filter(pk__in=partner_ids).order_by("name"))
    if pool is not None:
        roles = selectors.user_pool_roles(pool=pool, user=user)
        access.committee = PoolRoleKind.COMMITTEE in roles
        access.treasurer = PoolRoleKind.TREASURER in roles
        access.members = list(
            pool.members.filter(organisation_id__in=org_ids).select_related("organisation").order_by("-id")
        )
    return access


def pool_access(user: Any, pk: int) -> PoolAccess:
    """The pool and what the person may see of it; 404 if the pool does not exist here or they see nothing."""
    pool = Pool.objects.filter(pk=pk).first()
    if pool is None:
        raise Http404
    access = access_for(user, pool)
    if not access.sees:
        raise Http404
    return access


def member_visible(access: PoolAccess, member: PoolMember) -> bool:
    """Officers see every member; a member organisation's people see their own."""
    return access.officer or any(m.pk == member.pk for m in access.members)
