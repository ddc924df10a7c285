"""Erasing a person on request (PIPL art. 47): the account is anonymised, not deleted.

Rows elsewhere (audit events, ledger postings, reviews, supports) keep the person's id, because what happened must
stay true, but nothing that identifies them remains: the user row is scrubbed (name, email, mobile, password), their
tokens, two-factor devices, saved searches, interests, organisation memberships and own files go, and every app that
keeps personal data about people registers a hook (``erasure_hook_register``) that scrubs its own rows — hub apps
do so in every hub's schema (memberships, residents' names and phone numbers, audit labels). Layers above the
platform register from their ``AppConfig.ready``; this module never imports them.

Everything happens in one transaction: if any hook refuses (e.g. the person is a hub's last administrator), nothing
is erased and the refusal says why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huoban.audit.models import AuditEvent
from huoban.audit.services import audit_record
from huoban.errors import ApplicationError
from huoban.identity.models import ApiToken, OrganisationMember, OrganisationRole, User


@dataclass(frozen=True)
class ErasedPerson:
    """Who is being erased, as they were before the scrub: hooks match their own rows on these."""

    user_id: int
    name: str
    email: str | None
    mobile: str | None
    label: str  # what audit labels and names become


ErasureHook = Callable[[ErasedPerson, User | None], None]
_hooks: list[tuple[str, ErasureHook]] = []


def erasure_hook_register(name: str, hook: ErasureHook) -> None:
    """Register ``hook(person, actor)``; called inside the erasure's transaction, once per erasure."""
    if name not in [n for n, _h in _hooks]:
        _hooks.append((name, hook))


def erased_label(user_id: int) -> str:
    return f"已注销用户 #{user_id}"


def person_erase(*, user: User, actor: User | None, reason: str) -> User:
    """Anonymise ``user`` and everything the platform and its apps keep about them. Idempotent.

    ``reason`` (e.g. the request's reference) is recorded in the platform audit trail, without personal data.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("请填写注销原因或申请编号。"), code="reason_required", extra={"field": "reason"})
    if len(reason) > 200:
        raise ApplicationError(_("原因不能超过 200 个字。"), code="reason_too_long", extra={"field": "reason"})
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.erased_at is not None:
            return locked
        _refuse_sole_owner(locked)
        person = ErasedPerson(
            user_id=locked.pk,
            name=locked.name,
            email=locked.email,
            mobile=locked.mobile,
            label=erased_label(locked.pk),
        )
        # Scrub first, so that whatever the hooks record about this person carries the erased label.
        locked.name = person.label
        locked.email = f"erased-{locked.pk}@erased.invalid"
        locked.mobile = None
        locked.set_unusable_password()  # also ends every session: the session's hash no longer matches
        locked.is_active = False
        locked.is_operator = False
        locked.is_superuser = False
        locked.email_verified_at = None
        locked.preferred_language = ""
        locked.erased_at = timezone.now()
        locked.save()
        ApiToken.objects.filter(user=locked).delete()
        OrganisationMember.objects.filter(user=locked).delete()
        _platform_scrub(locked)
        for _name, hook in _hooks:
            hook(person, actor)
        audit_labels_scrub(person)
        audit_record(
            actor=actor,
            action="identity.person.erased",
            object_type="identity.user",
            object_id=str(locked.pk),
            object_label=person.label,
            after={"reason": reason, "hooks": [n for n, _h in _hooks]},
        )
    return locked


def _refuse_sole_owner(user: User) -> None:
    """An organisation must keep someone who answers for it: its only owner hands it over first."""
    owned = OrganisationMember.objects.filter(user=user, role=OrganisationRole.OWNER).select_related("organisation")
    sole = [
        m.organisation.name
        for m in owned
        if not OrganisationMember.objects.filter(organisation=m.organisation, role=OrganisationRole.OWNER)
        .exclude(user=user)
        .exists()
    ]
    if sole:
        raise ApplicationError(
            _("您是组织「%(names)s」唯一的负责人，请先指定其他负责人，再注销账号。") % {"names": "、".join(sole)},
            code="sole_owner",
            status=409,
            extra={"organisations": sole},
        )


def audit_labels_scrub(person: ErasedPerson) -> None:
    """In the active schema: audit events that name the person (as actor, or as the object's label) name the
    erased label instead. What happened stays; who it was does not."""
    AuditEvent.objects.filter(actor_id=person.user_id).update(actor_label=person.label)
    names = [v for v in (person.name, person.email, person.mobile) if v]
    if names:
        AuditEvent.objects.filter(object_label__in=names).update(object_label=person.label)


def _platform_scrub(user: User) -> None:
    """The platform's own personal data beyond the user row: two-factor devices, discovery's saved searches and
    interests, and the person's own files (files of a hub or an organisation belong to them and stay)."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from huoban.discovery.models import DiscoveryInterest, SavedSearch
    from huoban.storage.models import StoredFile
    from huoban.storage.services import file_delete

    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    SavedSearch.objects.filter(user=user).delete()
    DiscoveryInterest.objects.filter(user=user).delete()
    for stored in StoredFile.objects.filter(
        uploaded_by=user, hub_id__isnull=True, organisation__isnull=True, deleted_at__isnull=True
    ):
        file_delete(stored_file=stored, actor=None)
