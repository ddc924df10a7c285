"""Writes on people, organisations and API tokens (public schema)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from huoban.audit.services import audit_record, snapshot
from huoban.errors import ApplicationError
from huoban.identity.models import (
    ApiToken,
    Organisation,
    OrganisationKind,
    OrganisationMember,
    OrganisationRole,
    User,
)
from huoban.identity.validators import (
    normalise_credit_code,
    normalise_mobile,
    validate_credit_code,
    validate_mobile,
)
from huoban.regions import region_validate
from huoban.sms import sms_sender

EMAIL_VERIFY_SALT = "huoban.identity.email-verify"
EMAIL_VERIFY_MAX_AGE = 3 * 24 * 3600


def _raise_validation(exc: ValidationError, field: str) -> None:
    raise ApplicationError(" ".join(exc.messages), code=f"invalid_{field}", extra={"field": field}) from exc


def login_normalise(login: str) -> tuple[str | None, str | None]:
    """Split what someone typed into (email, mobile): an address has an @, anything else is a mobile number."""
    login = (login or "").strip()
    if "@" in login:
        return login.lower(), None
    return None, normalise_mobile(login)


def user_find_by_login(login: str) -> User | None:
    email, mobile = login_normalise(login)
    if email:
        return User.objects.filter(email__iexact=email).first()
    if mobile:
        return User.objects.filter(mobile=mobile).first()
    return None


def user_create(
    *,
    name: str,
    password: str,
    email: str | None = None,
    mobile: str | None = None,
    is_operator: bool = False,
    email_verified: bool = False,
) -> User:
    """Create an account that signs in with an email address, a mainland mobile number, or either.

    Checks: a name, at least one login, the email and mobile are well-formed and not taken, and the password
    passes the password policy. Records an ``identity.user.created`` platform event.
    """
    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("请填写姓名。"), code="invalid_name", extra={"field": "name"})
    email = (email or "").strip().lower() or None
    mobile = normalise_mobile(mobile or "") or None
    if not email and not mobile:
        raise ApplicationError(_("请填写邮箱或手机号。"), code="missing_login", extra={"field": "email"})
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            _raise_validation(exc, "email")
        if User.objects.filter(email__iexact=email).exists():
            raise ApplicationError(_("该邮箱已注册，请直接登录。"), code="email_taken", extra={"field": "email"})
    if mobile:
        try:
            validate_mobile(mobile)
        except ValidationError as exc:
            _raise_validation(exc, "mobile")
        if User.objects.filter(mobile=mobile).exists():
            raise ApplicationError(_("该手机号已注册，请直接登录。"), code="mobile_taken", extra={"field": "mobile"})
    user = User(name=name, email=email, mobile=mobile, is_operator=is_operator)
    if email_verified:
        user.email_verified_at = timezone.now()
    try:
        validate_password(password, user)
    except ValidationError as exc:
        _raise_validation(exc, "password")
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
            audit_record(actor=user, action="identity.user.created", obj=user, after={"name": name})
    except IntegrityError as exc:  # two sign-ups with the same login at the same moment
        raise ApplicationError(_("该账号已注册，请直接登录。"), code="login_taken") from exc
    return user


# --- password reset by SMS (accounts that sign in with a mobile number) ---------------------------------------

RESET_CODE_SECONDS = 600
RESET_CODE_ATTEMPTS = 5


def _reset_key(mobile: str) -> str:
    return f"identity:password-reset:{mobile}"


def _reset_digest(mobile: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{mobile}:{code}".encode(), hashlib.sha256).hexdigest()


def password_reset_code_send(*, mobile: str) -> str:
    """Text a six-digit code to ``mobile`` if an active account signs in with it; returns the normalised number.

    Says nothing about whether such an account exists (the caller answers the same either way). The code is kept
    only as a keyed digest, for ``RESET_CODE_SECONDS``, and allows ``RESET_CODE_ATTEMPTS`` tries; asking again
    replaces it. Callers limit how often a client and a number may ask (``HUOBAN_PASSWORD_RESET_RATE``)."""
    mobile = normalise_mobile(mobile)
    try:
        validate_mobile(mobile)
    except ValidationError as exc:
        _raise_validation(exc, "mobile")
    user = User.objects.filter(mobile=mobile, is_active=True, erased_at__isnull=True).first()
    if user is None:
        return mobile
    code = f"{secrets.randbelow(10**6):06d}"
    cache.set(_reset_key(mobile), {"digest": _reset_digest(mobile, code), "tries": 0}, RESET_CODE_SECONDS)
    with translation.override(user.preferred_language or settings.LANGUAGE_CODE):
        text = _("【伙伴】验证码 %(code)s，用于重设密码，%(minutes)d 分钟内有效。如非本人操作，请忽略。") % {
            "code": code,
            "minutes": RESET_CODE_SECONDS // 60,
        }
    sms_sender().send(phone=mobile, text=text)
    return mobile


def password_reset_with_code(*, mobile: str, code: str, password: str) -> User:
    """Set a new password for the account of ``mobile`` with the code texted to it.

    Refuses a wrong or expired code (``invalid_code``; the code is used up after ``RESET_CODE_ATTEMPTS`` tries,
    ``too_many_attempts``) and a password the validators reject (``invalid_password``), changing nothing. On
    success the code is used up, every other session of the account ends (its session hash changes with the
    password) and ``identity.password.reset`` is recorded."""
    mobile = normalise_mobile(mobile)
    code = (code or "").strip()
    key = _reset_key(mobile)
    entry = cache.get(key)
    wrong = ApplicationError(_("验证码不正确或已过期，请重新获取。"), code="invalid_code", extra={"field": "code"})
    if not entry:
        raise wrong
    if entry["tries"] >= RESET_CODE_ATTEMPTS:
        cache.delete(key)
        raise ApplicationError(
            _("尝试次数过多，该验证码已失效，请重新获取。"), code="too_many_attempts", extra={"field": "code"}
        )
    if not hmac.compare_digest(entry["digest"], _reset_digest(mobile, code)):
        entry["tries"] += 1
        cache.set(key, entry, RESET_CODE_SECONDS)
        raise wrong
    user = User.objects.filter(mobile=mobile, is_active=True, erased_at__isnull=True).first()
    if user is None:
        cache.delete(key)
        raise wrong
    try:
        validate_password(password, user)
    except ValidationError as exc:
        _raise_validation(exc, "password")
    user.set_password(password)
    with transaction.atomic():
        user.save(update_fields=["password"])
        audit_record(actor=user, action="identity.password.reset", obj=user, after={"by": "sms"})
    cache.delete(key)
    return user


def user_update(*, user: User, name: str | None = None, preferred_language: str | None = None) -> User:
    before = snapshot(user, ["name", "preferred_language"])
    if name is not None:
        name = name.strip()
        if not name:
            raise ApplicationError(_("请填写姓名。"), code="invalid_name", extra={"field": "name"})
        user.name = name
    if preferred_language is not None:
        if preferred_language not in ("", "zh-hans", "en"):
            raise ApplicationError(_("不支持的语言。"), code="invalid_language", extra={"field": "language"})
        user.preferred_language = preferred_language
    with transaction.atomic():
        user.save(update_fields=["name", "preferred_language"])
        audit_record(
            actor=user,
            action="identity.user.updated",
            obj=user,
            before=before,
            after=snapshot(user, ["name", "preferred_language"]),
        )
    return user


def user_email_verification_token(*, user: User) -> str:
    return signing.dumps({"u": user.pk, "e": user.email}, salt=EMAIL_VERIFY_SALT)


def user_email_verify(*, token: str) -> User:
    """Mark the email verified if the signed token is fresh and still names the account's current address."""
    try:
        data = signing.loads(token, salt=EMAIL_VERIFY_SALT, max_age=EMAIL_VERIFY_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise ApplicationError(_("验证链接已过期，请重新发送。"), code="token_expired") from exc
    except signing.BadSignature as exc:
        raise ApplicationError(_("验证链接无效。"), code="token_invalid") from exc
    user = User.objects.filter(pk=data.get("u"), email=data.get("e")).first()
    if user is None:
        raise ApplicationError(_("验证链接无效。"), code="token_invalid")
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        with transaction.atomic():
            user.save(update_fields=["email_verified_at"])
            audit_record(actor=user, action="identity.user.email_verified", obj=user)
    return user


def organisation_create(
    *,
    creator: User,
    name: str,
    kind: str,
    region_code: str,
    credit_code: str | None = None,
    name_en: str = "",
    description: str = "",
    website: str = "",
    contact_email: str = "",
    contact_phone: str = "",
) -> Organisation:
    """Register an organisation; its creator becomes its owner.

    Checks: a name, a known kind, a region code in force, and a valid, not yet registered unified social credit
    code (required for every kind except volunteer teams).
    """
    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("请填写组织名称。"), code="invalid_name", extra={"field": "name"})
    if kind not in OrganisationKind.values:
        raise ApplicationError(_("请选择组织类型。"), code="invalid_kind", extra={"field": "kind"})
    try:
        region_validate(region_code)
    except ValidationError as exc:
        _raise_validation(exc, "region_code")
    code = normalise_credit_code(credit_code or "") or None
    if code is None and kind != OrganisationKind.VOLUNTEER_TEAM:
        raise ApplicationError(
            _("请填写统一社会信用代码。"), code="invalid_credit_code", extra={"field": "credit_code"}
        )
    if code:
        try:
            validate_credit_code(code)
        except ValidationError as exc:
            _raise_validation(exc, "credit_code")
        if Organisation.objects.filter(credit_code=code).exists():
            raise ApplicationError(
                _("该统一社会信用代码已登记，请联系该组织的管理员把您加入组织。"),
                code="credit_code_taken",
                extra={"field": "credit_code"},
            )
    org = Organisation(
        name=name,
        name_en=name_en.strip(),
        kind=kind,
        credit_code=code,
        region_code=region_code,
        description=description,
        website=website,
        contact_email=contact_email,
        contact_phone=contact_phone,
        created_by=creator,
    )
    try:
        with transaction.atomic():
            org.save()
            OrganisationMember.objects.create(organisation=org, user=creator, role=OrganisationRole.OWNER)
            audit_record(
                actor=creator,
                action="identity.organisation.created",
                obj=org,
                after=snapshot(org, ["name", "kind", "credit_code", "region_code"]),
            )
    except IntegrityError as exc:
        raise ApplicationError(
            _("该统一社会信用代码已登记。"), code="credit_code_taken", extra={"field": "credit_code"}
        ) from exc
    return org


ORGANISATION_EDITABLE = ["name", "name_en", "region_code", "description", "website", "contact_email", "contact_phone"]


def _organisation_manager(*, organisation: Organisation, user: User) -> None:
    member = OrganisationMember.objects.filter(organisation=organisation, user=user).first()
    if member is None:
        raise ApplicationError(_("未找到该组织。"), code="not_found", status=404)
    if not member.can_manage:
        raise ApplicationError(_("只有组织负责人或管理员可以这样做。"), code="permission_denied", status=403)


def organisation_update(*, organisation: Organisation, actor: User, **changes: str) -> Organisation:
    """Change an organisation's profile. Only its owner or admins may; the credit code and kind are fixed."""
    _organisation_manager(organisation=organisation, user=actor)
    unknown = set(changes) - set(ORGANISATION_EDITABLE)
    if unknown:
        raise ApplicationError(_("这些字段不能修改：%s") % ", ".join(sorted(unknown)), code="invalid_field")
    if "name" in changes and not (changes["name"] or "").strip():
        raise ApplicationError(_("请填写组织名称。"), code="invalid_name", extra={"field": "name"})
    if "region_code" in changes:
        try:
            region_validate(changes["region_code"])
        except ValidationError as exc:
            _raise_validation(exc, "region_code")
    before = snapshot(organisation, list(changes))
    for field, value in changes.items():
        setattr(organisation, field, value.strip() if isinstance(value, str) else value)
    with transaction.atomic():
        organisation.save()
        audit_record(
            actor=actor,
            action="identity.organisation.updated",
            obj=organisation,
            before=before,
            after=snapshot(organisation, list(changes)),
        )
    return organisation


def organisation_member_add(
    *, organisation: Organisation, actor: User, user: User, role: str = OrganisationRole.MEMBER
) -> OrganisationMember:
    _organisation_manager(organisation=organisation, user=actor)
    if role not in OrganisationRole.values:
        raise ApplicationError(_("未知的角色。"), code="invalid_role", extra={"field": "role"})
    with transaction.atomic():
        member, created = OrganisationMember.objects.get_or_create(
            organisation=organisation, user=user, defaults={"role": role}
        )
        if not created:
            raise ApplicationError(_("该用户已是组织成员。"), code="already_member")
        audit_record(
            actor=actor,
            action="identity.organisation.member_added",
            obj=organisation,
            after={"user": user.pk, "role": role},
        )
    return member


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown to the user once


def api_token_create(*, user: User, name: str, expires_at: datetime | None = None) -> IssuedToken:
    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("请为令牌命名。"), code="invalid_name", extra={"field": "name"})
    if expires_at is not None and expires_at <= timezone.now():
        raise ApplicationError(_("过期时间必须晚于现在。"), code="invalid_expiry", extra={"field": "expires_at"})
    key_id = secrets.token_hex(6)
    secret = f"{ApiToken.PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name, key_id=key_id, key_hash=ApiToken.hash_secret(secret), expires_at=expires_at
        )
        audit_record(actor=user, action="identity.api_token.created", obj=token)
    return IssuedToken(token=token, secret=secret)


def api_token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    if token.user_id != actor.pk:
        raise ApplicationError(_("未找到该令牌。"), code="not_found", status=404)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        with transaction.atomic():
            token.save(update_fields=["revoked_at"])
            audit_record(actor=actor, action="identity.api_token.revoked", obj=token)
    return token
