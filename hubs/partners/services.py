"""Writes on a hub's partner network (run inside the hub's schema).

Three ways in: the hub invites an organisation by email (``partner_invite`` / ``partner_invitation_accept``), an
organisation applies (``partnership_apply``), or staff add one by hand (``partnership_staff_add``); bulk imports
live in ``hubs.partners.imports``. Every status change goes through ``_transition``, which enforces the state
machine below, records an audit event with before/after and emails the organisation's owners and admins once the
change commits.

Who may call what: the views check hub roles (staff for everything on the hub side); the organisation side
(apply, accept, leave) is checked here, against the organisation's managers in the public schema.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from hubs.partners.discovery import partnerships_index
from hubs.partners.models import (
    PartnerContact,
    PartnerInvitation,
    PartnerNote,
    Partnership,
    PartnershipSource,
    PartnershipStatus,
    ServiceArea,
)
from huoban.audit.services import audit_record, snapshot
from huoban.db import connection
from huoban.errors import ApplicationError
from huoban.identity.models import Organisation, OrganisationKind, OrganisationMember, OrganisationRole, User
from huoban.identity.services import organisation_create, user_create, user_find_by_login
from huoban.identity.validators import normalise_credit_code, validate_credit_code
from huoban.regions import region_validate
from huoban.tasks import enqueue_on_commit
from tenants.entitlements import Resource, entitlement_lock, entitlement_require, usage_record
from tenants.models import Hub

S = PartnershipStatus
STAFF_SIDE = "staff"
ORGANISATION_SIDE = "organisation"

# from → to → who may make the move. Anything not listed is refused with a clear message.
TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    S.INVITED: {S.APPLIED: frozenset({ORGANISATION_SIDE}), S.LEFT: frozenset({STAFF_SIDE, ORGANISATION_SIDE})},
    S.APPLIED: {
        S.UNDER_REVIEW: frozenset({STAFF_SIDE}),
        S.REJECTED: frozenset({STAFF_SIDE}),
        S.LEFT: frozenset({ORGANISATION_SIDE}),
    },
    S.UNDER_REVIEW: {
        S.ACTIVE: frozenset({STAFF_SIDE}),
        S.REJECTED: frozenset({STAFF_SIDE}),
        S.LEFT: frozenset({ORGANISATION_SIDE}),
    },
    S.ACTIVE: {S.SUSPENDED: frozenset({STAFF_SIDE}), S.LEFT: frozenset({STAFF_SIDE, ORGANISATION_SIDE})},
    S.SUSPENDED: {S.ACTIVE: frozenset({STAFF_SIDE}), S.LEFT: frozenset({STAFF_SIDE, ORGANISATION_SIDE})},
    S.REJECTED: {S.APPLIED: frozenset({ORGANISATION_SIDE}), S.INVITED: frozenset({STAFF_SIDE})},
    S.LEFT: {S.APPLIED: frozenset({ORGANISATION_SIDE}), S.INVITED: frozenset({STAFF_SIDE})},
}
REASON_REQUIRED = frozenset({S.REJECTED, S.SUSPENDED})
# An organisation that is (or is about to be) in the network cannot apply or be added again.
OPEN_STATUSES = frozenset({S.APPLIED, S.UNDER_REVIEW, S.ACTIVE, S.SUSPENDED})

_PHONE = re.compile(r"^[0-9+()\-\s转#]{3,30}$")


def current_hub() -> Hub:
    hub = getattr(connection, "tenant", None)
    if not isinstance(hub, Hub):
        raise RuntimeError("partner services run inside a hub")
    return hub


def active_partners_room(*, adding: int = 1) -> None:
    """Refuse (plan_limit, naming the limit and the upgrade page) when ``adding`` more active partners would pass
    the hub's plan. Call inside the transaction that activates them: the hub's entitlement lock is held until it
    ends, so two activations at the same moment cannot both take the last place."""
    if adding <= 0:
        return
    hub = current_hub()
    entitlement_lock(hub=hub)
    current = Partnership.objects.filter(status=S.ACTIVE).count()
    entitlement_require(hub=hub, resource=Resource.ACTIVE_PARTNERS, current=current, adding=adding)


def active_partners_report() -> None:
    """Keep the count of active partners that the hub admin's and the operator's billing pages show in step."""
    count = Partnership.objects.filter(status=S.ACTIVE).count()
    usage_record(hub=current_hub(), resource=Resource.ACTIVE_PARTNERS, amount=count)


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


def _label(partnership: Partnership) -> str:
    return partnership.organisation.name[:200]


# --- Checks shared with the import ---------------------------------------------------------------------------


def service_areas_check(areas: list[str] | tuple[str, ...] | None) -> list[str]:
    """The areas sorted and without duplicates, or a translated error naming the first unknown one."""
    areas = [a.strip() for a in (areas or []) if a and a.strip()]
    for area in areas:
        if area not in ServiceArea.values:
            raise ApplicationError(
                _("未知的服务领域：%(tag)s。") % {"tag": area},
                code="invalid_service_area",
                extra={"field": "service_areas"},
            )
    return sorted(set(areas), key=ServiceArea.values.index)


@dataclass(frozen=True)
class OrganisationData:
    """A validated organisation record, ready to be saved (what staff or an import register for a partner)."""

    name: str
    kind: str
    region_code: str
    credit_code: str | None
    name_en: str = ""
    description: str = ""
    website: str = ""
    contact_email: str = ""
    contact_phone: str = ""


def organisation_data_check(
    *,
    name: str,
    kind: str,
    region_code: str,
    credit_code: str | None = None,
    name_en: str = "",
    description: str = "",
    website: str = "",
    contact_email: str = "",
    contact_phone: str = "",
) -> OrganisationData:
    """The same rules as ``identity.services.organisation_create``, without touching the database except to see
    whether the credit code is already registered. Raises ApplicationError naming the field."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("请填写组织名称。"), code="invalid_name", extra={"field": "name"})
    if kind not in OrganisationKind.values:
        raise ApplicationError(_("请选择组织类型。"), code="invalid_kind", extra={"field": "kind"})
    region_code = (region_code or "").strip()
    try:
        region_validate(region_code)
    except ValidationError as exc:
        raise ApplicationError(
            " ".join(exc.messages), code="invalid_region_code", extra={"field": "region_code"}
        ) from exc
    code = normalise_credit_code(credit_code or "") or None
    if code is None and kind != OrganisationKind.VOLUNTEER_TEAM:
        raise ApplicationError(
            _("请填写统一社会信用代码。"), code="invalid_credit_code", extra={"field": "credit_code"}
        )
    if code:
        try:
            validate_credit_code(code)
        except ValidationError as exc:
            raise ApplicationError(
                " ".join(exc.messages), code="invalid_credit_code", extra={"field": "credit_code"}
            ) from exc
    return OrganisationData(
        name=name,
        kind=kind,
        region_code=region_code,
        credit_code=code,
        name_en=(name_en or "").strip(),
        description=description or "",
        website=website or "",
        contact_email=(contact_email or "").strip(),
        contact_phone=(contact_phone or "").strip(),
    )


def contact_check(*, name: str, role: str = "", phone: str = "", email: str = "") -> dict[str, str]:
    name, role, phone, email = (name or "").strip(), (role or "").strip(), (phone or "").strip(), (email or "").strip()
    if not name:
        raise ApplicationError(_("请填写联系人姓名。"), code="invalid_contact_name", extra={"field": "name"})
    if phone and not _PHONE.match(phone):
        raise ApplicationError(
            _("联系电话格式不正确：%(phone)s。") % {"phone": phone}, code="invalid_phone", extra={"field": "phone"}
        )
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise ApplicationError(
                _("联系人邮箱格式不正确：%(email)s。") % {"email": email},
                code="invalid_email",
                extra={"field": "email"},
            ) from exc
    return {"name": name[:100], "role": role[:100], "phone": phone, "email": email.lower()}


# --- Organisations seen from a hub ---------------------------------------------------------------------------


def organisation_managers(organisation: Organisation) -> list[User]:
    """The owners and admins of ``organisation`` (public schema), who speak for it to hubs."""
    return [
        m.user
        for m in OrganisationMember.objects.filter(
            organisation=organisation, role__in=[OrganisationRole.OWNER, OrganisationRole.ADMIN]
        ).select_related("user")
    ]


def _require_manager(*, organisation: Organisation, user: User) -> None:
    managed = OrganisationMember.objects.filter(
        organisation=organisation, user=user, role__in=[OrganisationRole.OWNER, OrganisationRole.ADMIN]
    ).exists()
    if not managed:
        if OrganisationMember.objects.filter(organisation=organisation, user=user).exists():
            raise ApplicationError(_("只有组织负责人或管理员可以这样做。"), code="permission_denied", status=403)
        raise ApplicationError(_("未找到该组织。"), code="not_found", status=404)


def organisation_register_for_partner(*, actor: User | None, data: OrganisationData) -> Organisation:
    """Staff register an organisation on its behalf (by hand or by import).

    The record is the same platform-wide organisation an organisation registers itself, with the same checks
    (``organisation_data_check``), but nobody becomes its owner: the hub does not speak for the organisation. Its
    people take it over through a partner invitation (``partner_invitation_accept``). Records
    ``partners.organisation.registered`` in the hub's audit trail.
    """
    if actor is None:
        raise ApplicationError(_("需要登录。"), code="login_required", status=401)
    organisation = Organisation(
        name=data.name,
        name_en=data.name_en,
        kind=data.kind,
        credit_code=data.credit_code,
        region_code=data.region_code,
        description=data.description,
        website=data.website,
        contact_email=data.contact_email,
        contact_phone=data.contact_phone,
        created_by=actor,
    )
    try:
        with transaction.atomic():
            organisation.save()
            audit_record(
                actor=actor,
                action="partners.organisation.registered",
                obj=organisation,
                after=snapshot(organisation, ["name", "kind", "credit_code", "region_code"]),
            )
    except IntegrityError as exc:
        raise ApplicationError(
            _("该统一社会信用代码已登记。"), code="credit_code_taken", extra={"field": "credit_code"}
        ) from exc
    return organisation


# --- The state machine ----------------------------------------------------------------------------------------


def _notify(partnership: Partnership, event: str) -> None:
    from hubs.partners.tasks import partnership_notify

    enqueue_on_commit(partnership_notify, partnership_id=partnership.pk, event=event, language=_language())


def _transition(*, partnership: Partnership, to: str, actor: User | None, side: str, reason: str = "") -> Partnership:
    reason = (reason or "").strip()
    if to not in S.values:
        raise ApplicationError(_("未知的状态。"), code="invalid_status", extra={"field": "status"})
    with transaction.atomic():
        locked = Partnership.objects.select_for_update().select_related("organisation").get(pk=partnership.pk)
        allowed = TRANSITIONS.get(locked.status, {})
        if to not in allowed:
            raise ApplicationError(
                _("伙伴关系不能从“%(old)s”变为“%(new)s”。") % {"old": S(locked.status).label, "new": S(to).label},
                code="invalid_transition",
                extra={"from": locked.status, "to": to},
                status=409,
            )
        if side not in allowed[to]:
            message = _("这一步只能由组织自己操作。") if side == STAFF_SIDE else _("这一步只能由枢纽工作人员操作。")
            raise ApplicationError(message, code="transition_not_yours", status=403)
        if to in REASON_REQUIRED and not reason:
            raise ApplicationError(_("请说明原因（会告知该组织）。"), code="reason_required", extra={"field": "reason"})
        if to == S.ACTIVE:
            active_partners_room()
        before = snapshot(locked, ["status", "status_reason"])
        if to == S.ACTIVE and locked.status != S.SUSPENDED:
            locked.joined_at = timezone.now()  # (re)joining; coming back from a suspension keeps the join date
        locked.status = to
        locked.status_reason = reason[:500]
        locked.save(update_fields=["status", "status_reason", "joined_at", "updated_at"])
        audit_record(
            actor=actor,
            action="partners.partnership.status_changed",
            obj=locked,
            object_label=_label(locked),
            before=before,
            after=snapshot(locked, ["status", "status_reason"]),
        )
        partnerships_index([locked])
        if S.ACTIVE in (to, before["status"]):
            active_partners_report()
        if to == S.LEFT:
            PartnerInvitation.objects.filter(
                partnership=locked, accepted_at__isnull=True, revoked_at__isnull=True
            ).update(revoked_at=timezone.now())
        if to != S.INVITED:  # an invitation is told by its own email
            _notify(locked, "status_changed")
    return locked


def partnership_review_start(*, partnership: Partnership, actor: User) -> Partnership:
    """Staff take an application into review (applied → under review)."""
    return _transition(partnership=partnership, to=S.UNDER_REVIEW, actor=actor, side=STAFF_SIDE)


def partnership_approve(*, partnership: Partnership, actor: User) -> Partnership:
    """Staff accept a reviewed application (under review → active); the join date is set now."""
    return _transition(partnership=partnership, to=S.ACTIVE, actor=actor, side=STAFF_SIDE)


def partnership_reject(*, partnership: Partnership, actor: User, reason: str) -> Partnership:
    """Staff turn an application down, with a reason the organisation is told. It may apply again later."""
    return _transition(partnership=partnership, to=S.REJECTED, actor=actor, side=STAFF_SIDE, reason=reason)


def partnership_suspend(*, partnership: Partnership, actor: User, reason: str) -> Partnership:
    """Staff suspend an active partner, with a reason the organisation is told."""
    return _transition(partnership=partnership, to=S.SUSPENDED, actor=actor, side=STAFF_SIDE, reason=reason)


def partnership_reinstate(*, partnership: Partnership, actor: User) -> Partnership:
    """Staff lift a suspension; the original join date is kept."""
    return _transition(partnership=partnership, to=S.ACTIVE, actor=actor, side=STAFF_SIDE)


def partnership_end(*, partnership: Partnership, actor: User, reason: str = "") -> Partnership:
    """Staff end a partnership (or withdraw an invitation that was not answered yet)."""
    return _transition(partnership=partnership, to=S.LEFT, actor=actor, side=STAFF_SIDE, reason=reason)


def partnership_transition(*, partnership: Partnership, status: str, actor: User, reason: str = "") -> Partnership:
    """A staff move named by its target status (the API's one endpoint for all of them)."""
    return _transition(partnership=partnership, to=status, actor=actor, side=STAFF_SIDE, reason=reason)


def partnership_leave(*, partnership: Partnership, actor: User, reason: str = "") -> Partnership:
    """An organisation's owner or admin withdraws its application, declines an invitation, or leaves."""
    _require_manager(organisation=partnership.organisation, user=actor)
    return _transition(partnership=partnership, to=S.LEFT, actor=actor, side=ORGANISATION_SIDE, reason=reason)


# --- Ways in ----------------------------------------------------------------------------------------------------


def _create(
    *,
    organisation: Organisation,
    status: str,
    source: str,
    actor: User | None,
    service_areas: list[str],
    public_profile: str = "",
) -> Partnership:
    partnership = Partnership(
        organisation=organisation,
        status=status,
        source=source,
        service_areas=service_areas,
        public_profile=(public_profile or "").strip(),
        joined_at=timezone.now() if status == S.ACTIVE else None,
    )
    with transaction.atomic():
        if status == S.ACTIVE:
            active_partners_room()
        try:
            with transaction.atomic():
                partnership.save()
        except IntegrityError as exc:  # the same organisation added twice at the same moment
            raise ApplicationError(
                _("「%(name)s」已在本枢纽的伙伴名录中。") % {"name": organisation.name},
                code="already_partner",
                status=409,
            ) from exc
        audit_record(
            actor=actor,
            action="partners.partnership.created",
            obj=partnership,
            object_label=organisation.name[:200],
            after={
                "organisation": organisation.pk,
                "status": status,
                "source": source,
                "service_areas": service_areas,
            },
        )
        if status == S.ACTIVE:
            partnerships_index([partnership])
            active_partners_report()
        if status != S.INVITED:  # an invitation is told by its own email
            _notify(partnership, "created")
    return partnership


def _already(partnership: Partnership) -> ApplicationError:
    return ApplicationError(
        _("「%(name)s」已在本枢纽（状态：%(status)s）。")
        % {"name": partnership.organisation.name, "status": S(partnership.status).label},
        code="already_partner",
        extra={"partnership": partnership.pk, "status": partnership.status},
        status=409,
    )


def partnership_apply(
    *,
    organisation: Organisation,
    actor: User,
    service_areas: list[str] | None = None,
    public_profile: str = "",
    source: str = PartnershipSource.APPLICATION,
) -> Partnership:
    """An organisation asks to join this hub's network (its owner or an admin does).

    A first application makes an ``applied`` partnership; an organisation that was invited, rejected or has left
    moves (back) to ``applied``. One already applied, under review, active or suspended is refused.
    """
    _require_manager(organisation=organisation, user=actor)
    areas = service_areas_check(service_areas)
    with transaction.atomic():
        existing = (
            Partnership.objects.select_for_update()
            .select_related("organisation")
            .filter(organisation=organisation)
            .first()
        )
        if existing is None:
            return _create(
                organisation=organisation,
                status=S.APPLIED,
                source=source,
                actor=actor,
                service_areas=areas,
                public_profile=public_profile,
            )
        if existing.status in OPEN_STATUSES:
            raise _already(existing)
        if areas or public_profile:
            partnership_update(
                partnership=existing, actor=actor, service_areas=areas or None, public_profile=public_profile or None
            )
        return _transition(partnership=existing, to=S.APPLIED, actor=actor, side=ORGANISATION_SIDE)


def partnership_staff_add(
    *,
    actor: User,
    credit_code: str = "",
    organisation_data: OrganisationData | None = None,
    service_areas: list[str] | None = None,
    public_profile: str = "",
    status: str = S.ACTIVE,
    contact: dict[str, str] | None = None,
) -> Partnership:
    """Staff add a partner by hand: an organisation already on the platform (found by its credit code), or a new
    organisation record registered for it (``organisation_register_for_partner``).

    The partner starts ``active`` (joined now) or, if staff want to check it first, ``under_review``.
    """
    if status not in (S.ACTIVE, S.UNDER_REVIEW):
        raise ApplicationError(
            _("手动添加的伙伴只能是“合作中”或“审核中”。"), code="invalid_status", extra={"field": "status"}
        )
    areas = service_areas_check(service_areas)
    checked_contact = contact_check(**contact) if contact and contact.get("name") else None
    code = normalise_credit_code(credit_code or "")
    with transaction.atomic():
        organisation = Organisation.objects.filter(credit_code=code).first() if code else None
        if organisation is None:
            if organisation_data is None:
                raise ApplicationError(
                    _("平台上没有这个统一社会信用代码的组织；请填写组织信息以登记。"),
                    code="organisation_not_found",
                    extra={"field": "credit_code"},
                )
            if code and organisation_data.credit_code != code:
                organisation_data = OrganisationData(**{**organisation_data.__dict__, "credit_code": code})
            if organisation_data.credit_code is None:
                same = Partnership.objects.filter(
                    organisation__credit_code__isnull=True, organisation__name=organisation_data.name
                ).first()
                if same is not None:
                    raise _already(same)
            organisation = organisation_register_for_partner(actor=actor, data=organisation_data)
        existing = Partnership.objects.select_related("organisation").filter(organisation=organisation).first()
        if existing is not None:
            raise _already(existing)
        partnership = _create(
            organisation=organisation,
            status=status,
            source=PartnershipSource.STAFF,
            actor=actor,
            service_areas=areas,
            public_profile=public_profile,
        )
        if checked_contact:
            partner_contact_add(partnership=partnership, actor=actor, **checked_contact)
    return partnership


def partnership_update(
    *,
    partnership: Partnership,
    actor: User,
    service_areas: list[str] | None = None,
    public_profile: str | None = None,
) -> Partnership:
    """Change a partner's service areas or public profile (staff; the organisation when it applies)."""
    fields = ["service_areas", "public_profile"]
    with transaction.atomic():
        locked = Partnership.objects.select_for_update().select_related("organisation").get(pk=partnership.pk)
        before = snapshot(locked, fields)
        if service_areas is not None:
            locked.service_areas = service_areas_check(service_areas)
        if public_profile is not None:
            locked.public_profile = public_profile.strip()
        after = snapshot(locked, fields)
        if after != before:
            locked.save(update_fields=[*fields, "updated_at"])
            audit_record(
                actor=actor,
                action="partners.partnership.updated",
                obj=locked,
                object_label=_label(locked),
                before=before,
                after=after,
            )
            partnerships_index([locked])
    return locked


# --- Contacts and notes (staff only; never shown outside the hub's staff) ---------------------------------------


CONTACT_FIELDS = ["name", "role", "phone", "email"]


def partner_contact_add(
    *, partnership: Partnership, actor: User, name: str, role: str = "", phone: str = "", email: str = ""
) -> PartnerContact:
    data = contact_check(name=name, role=role, phone=phone, email=email)
    with transaction.atomic():
        contact = PartnerContact.objects.create(partnership=partnership, **data)
        audit_record(
            actor=actor,
            action="partners.contact.added",
            obj=contact,
            object_label=_label(partnership),
            after={"partnership": partnership.pk, **data},
        )
    return contact


def partner_contact_update(*, contact: PartnerContact, actor: User, **changes: str) -> PartnerContact:
    unknown = set(changes) - set(CONTACT_FIELDS)
    if unknown:
        raise ApplicationError(_("这些字段不能修改：%s") % ", ".join(sorted(unknown)), code="invalid_field")
    data = contact_check(**{**snapshot(contact, CONTACT_FIELDS), **changes})
    with transaction.atomic():
        before = snapshot(contact, CONTACT_FIELDS)
        for field, value in data.items():
            setattr(contact, field, value)
        contact.save()
        audit_record(
            actor=actor,
            action="partners.contact.updated",
            obj=contact,
            object_label=_label(contact.partnership),
            before=before,
            after=snapshot(contact, CONTACT_FIELDS),
        )
    return contact


def partner_contact_remove(*, contact: PartnerContact, actor: User) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="partners.contact.removed",
            obj=contact,
            object_label=_label(contact.partnership),
            before=snapshot(contact, CONTACT_FIELDS),
        )
        contact.delete()


def partner_note_add(*, partnership: Partnership, actor: User, body: str) -> PartnerNote:
    body = (body or "").strip()
    if not body:
        raise ApplicationError(_("备注不能为空。"), code="invalid_body", extra={"field": "body"})
    with transaction.atomic():
        note = PartnerNote.objects.create(
            partnership=partnership, author=actor, author_label=str(actor)[:200], body=body
        )
        audit_record(
            actor=actor,
            action="partners.note.added",
            obj=note,
            object_label=_label(partnership),
            after={"partnership": partnership.pk, "length": len(body)},
        )
    return note


# --- Invitations ----------------------------------------------------------------------------------------------


def partner_invite(
    *, actor: User, email: str, credit_code: str = "", message: str = ""
) -> tuple[PartnerInvitation, str]:
    """Staff invite an organisation by email; the link is emailed once the invitation commits.

    With a credit code the invitation is for that (registered) organisation, which is marked ``invited`` here;
    without one, whoever accepts registers their organisation or picks one they manage. Returns the invitation
    and its secret token (only a hash is stored).
    """
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ApplicationError(_("请填写有效的邮箱。"), code="invalid_email", extra={"field": "email"}) from exc
    code = normalise_credit_code(credit_code or "")
    organisation = None
    partnership = None
    with transaction.atomic():
        if code:
            organisation = Organisation.objects.filter(credit_code=code).first()
            if organisation is None:
                raise ApplicationError(
                    _("平台上没有这个统一社会信用代码的组织；可以只填邮箱邀请，由对方登记组织。"),
                    code="organisation_not_found",
                    extra={"field": "credit_code"},
                )
            partnership = (
                Partnership.objects.select_for_update()
                .select_related("organisation")
                .filter(organisation=organisation)
                .first()
            )
            if partnership is not None and partnership.status in OPEN_STATUSES:
                raise _already(partnership)
            if partnership is None:
                partnership = _create(
                    organisation=organisation,
                    status=S.INVITED,
                    source=PartnershipSource.INVITATION,
                    actor=actor,
                    service_areas=[],
                )
            elif partnership.status != S.INVITED:
                partnership = _transition(partnership=partnership, to=S.INVITED, actor=actor, side=STAFF_SIDE)
        token = secrets.token_urlsafe(32)
        invitation = PartnerInvitation.objects.create(
            email=email,
            organisation=organisation,
            partnership=partnership,
            message=(message or "").strip(),
            token_hash=PartnerInvitation.hash_token(token),
            invited_by=actor,
            expires_at=timezone.now() + timedelta(days=settings.HUOBAN_INVITATION_DAYS),
        )
        audit_record(
            actor=actor,
            action="partners.invitation.created",
            obj=invitation,
            object_label=organisation.name[:200] if organisation else email,
            after={"email": email, "organisation": organisation.pk if organisation else None},
        )
        from hubs.partners.tasks import partner_invitation_send

        enqueue_on_commit(partner_invitation_send, invitation_id=invitation.pk, token=token, language=_language())
    return invitation, token


def partner_invitation_find(*, token: str) -> PartnerInvitation:
    """The open invitation for ``token``; a clear error if it is unknown, used, revoked or expired."""
    invitation = (
        PartnerInvitation.objects.select_related("organisation")
        .filter(token_hash=PartnerInvitation.hash_token(token or ""))
        .first()
    )
    if invitation is None or invitation.revoked_at is not None:
        raise ApplicationError(_("邀请链接无效。"), code="invitation_invalid", status=404)
    if invitation.accepted_at is not None:
        raise ApplicationError(_("该邀请已被接受过。"), code="invitation_used", status=410)
    if invitation.expires_at <= timezone.now():
        raise ApplicationError(_("邀请已过期，请联系枢纽工作人员重新邀请。"), code="invitation_expired", status=410)
    return invitation


def partner_invitation_revoke(*, invitation: PartnerInvitation, actor: User) -> PartnerInvitation:
    with transaction.atomic():
        locked = PartnerInvitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at is not None:
            raise ApplicationError(_("该邀请已被接受，不能撤销。"), code="invitation_used", status=409)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at"])
            audit_record(actor=actor, action="partners.invitation.revoked", obj=locked, object_label=locked.email)
    return locked


@dataclass(frozen=True)
class NewAccount:
    name: str
    password: str


def partner_invitation_accept(
    *,
    token: str,
    user: User | None,
    account: NewAccount | None = None,
    organisation_id: int | None = None,
    new_organisation: dict[str, Any] | None = None,
    service_areas: list[str] | None = None,
    public_profile: str = "",
) -> tuple[Partnership, User]:
    """Accept a partner invitation: the organisation's application is then with the hub's staff (``applied``).

    Someone without an account gives a name and password; the account is made with the invited email (verified:
    the link proves it). An invitation that names an organisation is for that organisation: the person must be
    one of its owners or admins, or, if nobody manages it yet (staff registered it), they become its owner.
    Otherwise they pick an organisation they manage or register a new one (``identity.organisation_create``).
    All of it happens in one transaction: a refused organisation leaves no account behind. Used once.
    """
    with transaction.atomic():
        invitation = partner_invitation_find(token=token)
        invitation = (
            PartnerInvitation.objects.select_for_update(of=("self",))
            .select_related("organisation")
            .get(pk=invitation.pk)
        )
        if invitation.accepted_at is not None:
            raise ApplicationError(_("该邀请已被接受过。"), code="invitation_used", status=410)
        if user is None:
            if user_find_by_login(invitation.email) is not None:
                raise ApplicationError(_("该邮箱已有账号，请先登录再接受邀请。"), code="login_required", status=401)
            if account is None:
                raise ApplicationError(_("请填写姓名和密码。"), code="account_required", extra={"field": "name"})
            user = user_create(
                name=account.name, password=account.password, email=invitation.email, email_verified=True
            )
        organisation = _organisation_for_acceptance(
            invitation=invitation, user=user, organisation_id=organisation_id, new_organisation=new_organisation
        )
        partnership = partnership_apply(
            organisation=organisation,
            actor=user,
            service_areas=service_areas,
            public_profile=public_profile,
            source=PartnershipSource.INVITATION,
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.partnership = partnership
        invitation.save(update_fields=["accepted_at", "accepted_by", "partnership"])
        audit_record(
            actor=user,
            action="partners.invitation.accepted",
            obj=invitation,
            object_label=organisation.name[:200],
            after={"organisation": organisation.pk, "partnership": partnership.pk},
        )
    return partnership, user


def _organisation_for_acceptance(
    *,
    invitation: PartnerInvitation,
    user: User,
    organisation_id: int | None,
    new_organisation: dict[str, Any] | None,
) -> Organisation:
    if invitation.organisation is not None:
        organisation = invitation.organisation
        if not organisation_managers(organisation):
            # Registered by the hub's staff and managed by nobody yet: the invited person takes it over.
            # identity has no "claim" service yet; this is the one direct write to its membership table.
            OrganisationMember.objects.update_or_create(
                organisation=organisation, user=user, defaults={"role": OrganisationRole.OWNER}
            )
            audit_record(
                actor=user,
                action="partners.organisation.claimed",
                obj=organisation,
                after={"owner": user.pk, "invitation": invitation.pk},
            )
            return organisation
        try:
            _require_manager(organisation=organisation, user=user)
        except ApplicationError as exc:
            raise ApplicationError(
                _("这份邀请是发给「%(name)s」的，请用该组织负责人或管理员的账号接受。") % {"name": organisation.name},
                code="not_organisation_manager",
                status=403,
            ) from exc
        return organisation
    if organisation_id:
        picked = Organisation.objects.filter(pk=organisation_id).first()
        if picked is None:
            raise ApplicationError(_("未找到该组织。"), code="not_found", status=404, extra={"field": "organisation"})
        _require_manager(organisation=picked, user=user)
        return picked
    if new_organisation:
        return organisation_create(creator=user, **new_organisation)
    raise ApplicationError(
        _("请选择您管理的组织，或登记一个新组织。"), code="organisation_required", extra={"field": "organisation"}
    )
