"""Who may see and do what on a project: the one place, used by the pages and the API.

A project's private pages are open to the people who work on it, in one or more *capacities*:
- ``staff``: a hub admin or staff member of this hub (everything);
- ``ambassador``: a 公益使者 of this hub assigned to the project (supervision: visits, approving or querying);
- ``implementer``: a member of the implementing organisation (reports, expenses, tranche requests);
- ``funder``: a member of a funding organisation (reads);
- ``evaluator``: a reviewer of this hub (third-party evaluation).
Anyone else who is a member of this hub gets 403; someone with no role here and no part in the project
(an outsider, e.g. another hub's admin) gets 404, as for every other private object of a hub.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from hubs.core.models import HubMembership
from hubs.core.permissions import STAFF
from hubs.projects.models import AmbassadorAssignment, FundingSource, Project
from huoban.errors import ApplicationError
from huoban.identity.models import OrganisationMember
from tenants.models import HubRole

STAFF_CAP = "staff"
AMBASSADOR_CAP = "ambassador"
IMPLEMENTER_CAP = "implementer"
FUNDER_CAP = "funder"
EVALUATOR_CAP = "evaluator"


def _membership(user: Any) -> HubMembership | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    cached = getattr(user, "_projects_membership", "unset")
    if cached != "unset":
        return cached if isinstance(cached, HubMembership) else None
    membership = HubMembership.objects.filter(user_id=user.pk).first()
    user._projects_membership = membership
    return membership


def user_organisation_ids(user: Any) -> set[int]:
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    return set(OrganisationMember.objects.filter(user_id=user.pk).values_list("organisation_id", flat=True))


def is_staff(user: Any) -> bool:
    membership = _membership(user)
    return membership is not None and membership.has_any(STAFF)


def has_hub_role(user: Any, role: str) -> bool:
    membership = _membership(user)
    return membership is not None and role in membership.roles


def project_capacities(*, user: Any, project: Project) -> set[str]:
    """The capacities in which ``user`` works on ``project`` (empty: none)."""
    caps: set[str] = set()
    if user is None or not getattr(user, "is_authenticated", False):
        return caps
    if is_staff(user):
        caps.add(STAFF_CAP)
    if (
        has_hub_role(user, HubRole.AMBASSADOR)
        and AmbassadorAssignment.objects.filter(project=project, user_id=user.pk).exists()
    ):
        caps.add(AMBASSADOR_CAP)
    if has_hub_role(user, HubRole.REVIEWER):
        caps.add(EVALUATOR_CAP)
    orgs = user_organisation_ids(user)
    if project.implementer_id in orgs:
        caps.add(IMPLEMENTER_CAP)
    if orgs and FundingSource.objects.filter(project=project, funder_id__in=orgs).exists():
        caps.add(FUNDER_CAP)
    return caps


def project_access(*, user: Any, project: Project, needs: set[str] | None = None) -> set[str]:
    """Raise unless ``user`` may act on ``project`` in one of ``needs`` (None: any capacity, i.e. read).

    No capacity at all: 404 for someone with no role in this hub (nothing private is confirmed to exist), 403 for
    a member of this hub. A capacity, but not a needed one: 403. Returns the user's capacities.
    """
    caps = project_capacities(user=user, project=project)
    if not caps:
        if _membership(user) is None:
            raise ApplicationError(_not_found(), code="not_found", status=404)
        raise ApplicationError(_forbidden(), code="forbidden", status=403)
    if needs is not None and not (caps & needs):
        raise ApplicationError(_forbidden(), code="forbidden", status=403)
    return caps


def visible_projects(*, user: Any) -> QuerySet[Project]:
    """The projects ``user`` may open (staff: all)."""
    if is_staff(user):
        return Project.objects.all()
    orgs = user_organisation_ids(user)
    cond = Q(implementer_id__in=orgs) | Q(funding_sources__funder_id__in=orgs)
    if has_hub_role(user, HubRole.AMBASSADOR):
        cond |= Q(ambassadors__user_id=user.pk)
    if has_hub_role(user, HubRole.REVIEWER):
        cond |= ~Q(status="draft")
    return Project.objects.filter(cond).distinct()


def _not_found() -> str:
    from django.utils.translation import gettext as _

    return _("未找到该项目。")


def _forbidden() -> str:
    from django.utils.translation import gettext as _

    return _("您不能对该项目进行此操作。")
