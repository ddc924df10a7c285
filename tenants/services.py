"""Writes on hubs: provisioning, status changes, invitations, and the public index of hub roles."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from huoban.audit.services import audit_record, snapshot
from huoban.db import connection
from huoban.errors import ApplicationError
from huoban.identity.models import User
from huoban.regions import region_validate
from huoban.tasks import enqueue_on_commit
from tenants import provisioning
from tenants.models import Domain, Hub, HubAccess, HubInvitation, HubKind, HubRole, HubStatus

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,28}[a-z0-9]$")
RESERVED_SLUGS = {"www", "api", "admin", "static", "media", "mail", "operator", "public", "template", "spare"}


@dataclass(frozen=True)
class ProvisionResult:
    hub: Hub
    created: bool  # False when the same request was retried after it had already succeeded
    method: str  # "spare", "clone" or "existing"
    invitation: HubInvitation | None
    invitation_token: str | None


def _schema_name_for(slug: str) -> str:
    return "hub_" + slug.replace("-", "_")


def hub_provision_validate(*, slug: str, name_zh: str, kind: str, region_code: str, admin_email: str) -> None:
    """Every input check of hub_provision, without touching the database; raises ApplicationError."""
    if not SLUG_RE.match(slug or "") or slug in RESERVED_SLUGS or "--" in slug:
        raise ApplicationError(
            _("标识只能用小写字母、数字和连字符，以字母开头，3 到 30 个字符，且不能是保留词。"),
            code="invalid_slug",
            extra={"field": "slug"},
        )
    if not (name_zh or "").strip():
        raise ApplicationError(_("请填写枢纽的中文名称。"), code="invalid_name", extra={"field": "name_zh"})
    if kind not in HubKind.values:
        raise ApplicationError(_("请选择枢纽类型。"), code="invalid_kind", extra={"field": "kind"})
    try:
        region_validate(region_code)
    except ValidationError as exc:
        raise ApplicationError(" ".join(exc.messages), code="invalid_region", extra={"field": "region_code"}) from exc
    try:
        validate_email(admin_email)
    except ValidationError as exc:
        raise ApplicationError(
            _("请填写第一位枢纽管理员的有效邮箱。"), code="invalid_email", extra={"field": "admin_email"}
        ) from exc


def hub_provision(
    *,
    slug: str,
    name_zh: str,
    name_en: str = "",
    kind: str,
    region_code: str,
    admin_email: str,
    actor: User | None,
) -> ProvisionResult:
    """Open a new hub: its schema, its domain, and an invitation for its first hub admin.

    Who may: operators (the console, the operator API and the CLI check before calling).
    What is checked: slug form and uniqueness, name, kind, GB/T 2260 region code in force, admin email.
    How: one transaction makes the Hub row, the schema (a renamed spare, else a clone of the template), the
    domain, the invitation and the audit event; any failure rolls all of it back, the schema included.
    Retrying a request that already succeeded returns the existing hub and sends no second invitation; the same
    slug with different details is refused.
    """
    slug = (slug or "").strip().lower()
    admin_email = (admin_email or "").strip().lower()
    hub_provision_validate(slug=slug, name_zh=name_zh, kind=kind, region_code=region_code, admin_email=admin_email)
    connection.set_schema_to_public()

    existing = Hub.objects.filter(slug=slug).first()
    if existing is not None:
        same = (existing.name_zh, existing.kind, existing.region_code) == (name_zh.strip(), kind, region_code)
        first_admin = existing.invitations.order_by("created_at").values_list("email", flat=True).first()
        if same and first_admin == admin_email and existing.status != HubStatus.PROVISIONING:
            return ProvisionResult(existing, False, "existing", None, None)
        raise ApplicationError(
            _("标识 %(slug)s 已被其他枢纽使用。") % {"slug": slug}, code="slug_taken", extra={"field": "slug"}
        )

    schema_name = _schema_name_for(slug)
    try:
        with transaction.atomic():
            hub = Hub(
                schema_name=schema_name,
                slug=slug,
                name_zh=name_zh.strip(),
                name_en=(name_en or "").strip(),
                kind=kind,
                region_code=region_code,
                status=HubStatus.PROVISIONING,
            )
            hub.save()
            method = provisioning.schema_materialise(schema_name)
            Domain.objects.create(domain=hub.host, tenant=hub, is_primary=True)
            hub.status = HubStatus.ACTIVE
            hub.save(update_fields=["status", "updated_at"])
            invitation, token = hub_invitation_create(
                hub=hub, email=admin_email, roles=[HubRole.HUB_ADMIN], invited_by=actor
            )
            audit_record(
                actor=actor,
                action="tenants.hub.provisioned",
                obj=hub,
                after={**snapshot(hub, ["slug", "name_zh", "kind", "region_code", "status"]), "method": method},
            )
    except IntegrityError as exc:  # the same slug provisioned concurrently
        raise ApplicationError(
            _("标识 %(slug)s 已被其他枢纽使用。") % {"slug": slug}, code="slug_taken", extra={"field": "slug"}
        ) from exc
    finally:
        connection.set_schema_to_public()
    from tenants.tasks import spare_schemas_refill

    enqueue_on_commit(spare_schemas_refill)
    return ProvisionResult(hub, True, method, invitation, token)


HUB_STATUS_TRANSITIONS: dict[str, set[str]] = {
    HubStatus.ACTIVE: {HubStatus.READ_ONLY, HubStatus.SUSPENDED, HubStatus.ARCHIVED},
    HubStatus.READ_ONLY: {HubStatus.ACTIVE, HubStatus.SUSPENDED, HubStatus.ARCHIVED},
    HubStatus.SUSPENDED: {HubStatus.ACTIVE, HubStatus.READ_ONLY, HubStatus.ARCHIVED},
    HubStatus.ARCHIVED: {HubStatus.READ_ONLY},
    HubStatus.PROVISIONING: set(),
}


def hub_status_set(*, hub: Hub, status: str, reason: str = "", actor: User | None) -> Hub:
    """Move a hub between active, read-only, suspended and archived (operators only; callers check).

    Suspending needs a reason, shown to everyone who visits the hub. Archived hubs can only be reopened read-only.
    """
    if status not in HubStatus.values:
        raise ApplicationError(_("未知的状态。"), code="invalid_status", extra={"field": "status"})
    if status == hub.status:
        return hub
    if status not in HUB_STATUS_TRANSITIONS[hub.status]:
        raise ApplicationError(
            _("枢纽不能从“%(old)s”变为“%(new)s”。")
            % {"old": HubStatus(hub.status).label, "new": HubStatus(status).label},
            code="invalid_transition",
        )
    reason = (reason or "").strip()
    if status == HubStatus.SUSPENDED and not reason:
        raise ApplicationError(_("暂停枢纽时请说明原因。"), code="reason_required", extra={"field": "reason"})
    before = snapshot(hub, ["status", "status_reason"])
    with transaction.atomic():
        locked = Hub.objects.select_for_update().get(pk=hub.pk)
        previous = locked.status
        locked.status = status
        locked.status_reason = reason
        locked.save(update_fields=["status", "status_reason", "updated_at"])
        # Cross-hub discovery: a suspended or archived hub's entries leave search (kept, not deleted) and come
        # back when it reopens; the index learns it through its outbox once this transaction commits.
        if apps.is_installed("huoban.discovery"):
            from huoban.discovery.services import discovery_hub_visibility_set

            shown = (HubStatus.ACTIVE, HubStatus.READ_ONLY)
            if (previous in shown) != (status in shown):
                discovery_hub_visibility_set(hub_id=locked.pk, visible=status in shown)
        audit_record(
            actor=actor,
            action="tenants.hub.status_changed",
            obj=locked,
            before=before,
            after=snapshot(locked, ["status", "status_reason"]),
        )
    hub.status, hub.status_reason = locked.status, locked.status_reason
    return hub


def hub_invitation_create(
    *, hub: Hub, email: str, roles: list[str], invited_by: User | None
) -> tuple[HubInvitation, str]:
    """Make a one-time invitation to ``roles`` in ``hub`` and email its link after commit. Returns it and the
    secret token (which is stored only as a hash)."""
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ApplicationError(_("请填写有效的邮箱。"), code="invalid_email", extra={"field": "email"}) from exc
    if not roles or any(role not in HubRole.values for role in roles):
        raise ApplicationError(_("请选择至少一个有效角色。"), code="invalid_roles", extra={"field": "roles"})
    token = secrets.token_urlsafe(32)
    invitation = HubInvitation.objects.create(
        hub=hub,
        email=email,
        roles=sorted(set(roles)),
        token_hash=HubInvitation.hash_token(token),
        invited_by=invited_by,
        expires_at=timezone.now() + timedelta(days=settings.HUOBAN_INVITATION_DAYS),
    )
    from tenants.tasks import hub_invitation_send

    enqueue_on_commit(
        hub_invitation_send,
        invitation_id=invitation.pk,
        token=token,
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )
    return invitation, token


def hub_invitation_find(*, hub: Hub, token: str) -> HubInvitation:
    """The open invitation of ``hub`` for ``token``; a clear error if it is unknown, used, revoked or expired."""
    invitation = HubInvitation.objects.filter(hub=hub, token_hash=HubInvitation.hash_token(token or "")).first()
    if invitation is None or invitation.revoked_at is not None:
        raise ApplicationError(_("邀请链接无效。"), code="invitation_invalid", status=404)
    if invitation.accepted_at is not None:
        raise ApplicationError(_("该邀请已被接受过，请直接登录。"), code="invitation_used", status=410)
    if invitation.expires_at <= timezone.now():
        raise ApplicationError(_("邀请已过期，请联系枢纽管理员重新邀请。"), code="invitation_expired", status=410)
    return invitation


def hub_access_sync(*, hub: Hub, user: User, roles: list[str]) -> None:
    """Mirror a user's roles in ``hub`` into the public index (called by the membership services)."""
    if roles:
        HubAccess.objects.update_or_create(hub=hub, user=user, defaults={"roles": sorted(set(roles))})
    else:
        HubAccess.objects.filter(hub=hub, user=user).delete()
