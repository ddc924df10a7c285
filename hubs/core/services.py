"""Writes on hub membership (run inside the hub's schema)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hubs.core.models import HubMembership
from huoban.audit.services import audit_record
from huoban.db import connection
from huoban.errors import ApplicationError
from huoban.identity.models import User
from huoban.identity.services import user_create, user_find_by_login
from tenants.entitlements import Resource, entitlement_lock, entitlement_require, staff_seats_in_use, takes_new_seat
from tenants.models import Hub, HubInvitation, HubRole
from tenants.services import hub_access_sync, hub_invitation_create, hub_invitation_find


def _check_roles(roles: list[str]) -> list[str]:
    if not roles or any(role not in HubRole.values for role in roles):
        raise ApplicationError(_("请选择至少一个有效角色。"), code="invalid_roles", extra={"field": "roles"})
    return sorted(set(roles))


def _current_hub() -> Hub:
    hub = getattr(connection, "tenant", None)
    if not isinstance(hub, Hub):
        raise RuntimeError("membership services run inside a hub")
    return hub


def _seat_check(*, hub: Hub, before: list[str], after: list[str]) -> None:
    """A role change that gives someone a staff seat must fit the hub's plan (serialised per hub)."""
    if takes_new_seat(roles_before=before, roles_after=after):
        entitlement_lock(hub=hub)
        entitlement_require(hub=hub, resource=Resource.STAFF_SEATS, current=staff_seats_in_use(hub=hub))


def membership_grant(*, user: User, roles: list[str], actor: User | None) -> HubMembership:
    """Give ``user`` these roles in the current hub, keeping any roles they already hold.

    A new staff seat (hub admin or staff) must fit the hub's plan: refused with ``plan_limit`` otherwise.
    """
    roles = _check_roles(roles)
    hub = _current_hub()
    with transaction.atomic():
        membership = HubMembership.objects.select_for_update().filter(user=user).first()
        before = sorted(membership.roles) if membership else []
        _seat_check(hub=hub, before=before, after=sorted(set(before) | set(roles)))
        if membership is None:
            membership = HubMembership.objects.create(user=user, roles=roles)
        else:
            membership.roles = sorted(set(membership.roles) | set(roles))
            membership.save(update_fields=["roles", "updated_at"])
        hub_access_sync(hub=hub, user=user, roles=membership.roles)
        audit_record(
            actor=actor,
            action="hubcore.membership.granted",
            obj=membership,
            object_label=str(user),
            before={"roles": before},
            after={"roles": membership.roles},
        )
    return membership


def membership_set_roles(*, membership: HubMembership, roles: list[str], actor: User) -> HubMembership:
    """Replace a member's roles. A hub must keep at least one hub admin."""
    roles = _check_roles(roles)
    hub = _current_hub()
    with transaction.atomic():
        locked = HubMembership.objects.select_for_update().get(pk=membership.pk)
        before = list(locked.roles)
        if HubRole.HUB_ADMIN in before and HubRole.HUB_ADMIN not in roles:
            _ensure_another_admin(locked)
        _seat_check(hub=hub, before=before, after=roles)
        locked.roles = roles
        locked.save(update_fields=["roles", "updated_at"])
        hub_access_sync(hub=hub, user=locked.user, roles=roles)
        audit_record(
            actor=actor,
            action="hubcore.membership.roles_changed",
            obj=locked,
            object_label=str(locked.user),
            before={"roles": before},
            after={"roles": roles},
        )
    return locked


def membership_remove(*, membership: HubMembership, actor: User) -> None:
    hub = _current_hub()
    with transaction.atomic():
        locked = HubMembership.objects.select_for_update().select_related("user").get(pk=membership.pk)
        if HubRole.HUB_ADMIN in locked.roles:
            _ensure_another_admin(locked)
        before = list(locked.roles)
        hub_access_sync(hub=hub, user=locked.user, roles=[])
        audit_record(
            actor=actor,
            action="hubcore.membership.removed",
            obj=locked,
            object_label=str(locked.user),
            before={"roles": before},
            after=None,
        )
        locked.delete()


def _ensure_another_admin(membership: HubMembership) -> None:
    others = (
        HubMembership.objects.select_for_update().filter(roles__contains=[HubRole.HUB_ADMIN]).exclude(pk=membership.pk)
    )
    if not others.exists():
        raise ApplicationError(_("枢纽至少需要一位管理员。"), code="last_admin")


def member_invite(*, email: str, roles: list[str], actor: User) -> HubInvitation:
    """Invite someone by email to roles in the current hub (hub admins; the view checks)."""
    hub = _current_hub()
    roles = _check_roles(roles)
    if takes_new_seat(roles_before=[], roles_after=roles):  # an early, friendly refusal; accepting checks again
        entitlement_require(hub=hub, resource=Resource.STAFF_SEATS, current=staff_seats_in_use(hub=hub))
    with transaction.atomic():
        invitation, _token = hub_invitation_create(hub=hub, email=email, roles=roles, invited_by=actor)
        audit_record(
            actor=actor,
            action="hubcore.invitation.created",
            obj=invitation,
            after={"email": invitation.email, "roles": invitation.roles},
        )
    return invitation


def invitation_accept(
    *, token: str, user: User | None, name: str = "", password: str = ""
) -> tuple[HubMembership, User]:
    """Accept an invitation to the current hub.

    A signed-in user accepts for themselves. Someone without an account gives a name and password, and the
    account is created with the invited email (already verified: the link proves it). An invitation is used once:
    the row is locked, so two clicks at the same moment give one membership.
    """
    hub = _current_hub()
    with transaction.atomic():
        invitation = hub_invitation_find(hub=hub, token=token)
        invitation = HubInvitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None:
            raise ApplicationError(_("该邀请已被接受过，请直接登录。"), code="invitation_used", status=410)
        if user is None:
            if user_find_by_login(invitation.email) is not None:
                raise ApplicationError(_("该邮箱已有账号，请先登录再接受邀请。"), code="login_required", status=401)
            user = user_create(name=name, password=password, email=invitation.email, email_verified=True)
        membership = membership_grant(user=user, roles=list(invitation.roles), actor=user)
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        audit_record(actor=user, action="hubcore.invitation.accepted", obj=invitation)
    return membership, user
