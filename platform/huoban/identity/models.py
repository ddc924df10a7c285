"""People and organisations, shared by every hub (public schema)."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from huoban.identity.validators import validate_credit_code, validate_mobile


class UserManager(BaseUserManager["User"]):
    # Creation rules live in services.user_create; this keeps Django's createsuperuser working.
    def create_user(self, email: str | None = None, password: str | None = None, **extra: Any) -> User:
        user = self.model(email=self.normalize_email(email) if email else None, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str | None = None, password: str | None = None, **extra: Any) -> User:
        extra.update(is_operator=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """One person across all hubs. Signs in with an email address or a mainland mobile number."""

    email = models.EmailField(_("邮箱"), null=True, blank=True)
    mobile = models.CharField(_("手机号"), max_length=11, null=True, blank=True, validators=[validate_mobile])
    name = models.CharField(_("姓名"), max_length=100)
    is_active = models.BooleanField(_("有效"), default=True)
    is_operator = models.BooleanField(
        _("平台运营人员"), default=False, help_text=_("可进入运营控制台、开通和管理枢纽。")
    )
    email_verified_at = models.DateTimeField(_("邮箱验证时间"), null=True, blank=True)
    preferred_language = models.CharField(_("语言"), max_length=10, blank=True, default="")
    date_joined = models.DateTimeField(_("注册时间"), default=timezone.now)
    erased_at = models.DateTimeField(_("注销时间"), null=True, blank=True)  # anonymised on request (PIPL)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["name"]

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="identity_user_email_ci_unique"),
            models.UniqueConstraint(fields=["mobile"], name="identity_user_mobile_unique"),
            models.CheckConstraint(
                condition=models.Q(email__isnull=False) | models.Q(mobile__isnull=False),
                name="identity_user_has_login",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.mobile or f"#{self.pk}"

    @property
    def is_staff(self) -> bool:  # Django admin access
        return self.is_operator

    @property
    def login_name(self) -> str:
        return self.email or self.mobile or ""


class OrganisationKind(models.TextChoices):
    SOCIAL_ORGANISATION = "social_organisation", _("社会组织")
    FOUNDATION = "foundation", _("基金会")
    ENTERPRISE = "enterprise", _("企业")
    GOVERNMENT = "government", _("政府部门")
    MASS_ORGANISATION = "mass_organisation", _("群团组织")
    VOLUNTEER_TEAM = "volunteer_team", _("志愿服务队")


class Organisation(models.Model):
    """An NGO, foundation, enterprise, government department, mass organisation or volunteer team.

    Registered once on the platform and recognised by every hub it works with. Volunteer teams are often not
    registered and may have no credit code; every other kind must have a valid one.
    """

    name = models.CharField(_("名称"), max_length=200)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    kind = models.CharField(_("类型"), max_length=32, choices=OrganisationKind.choices)
    credit_code = models.CharField(
        _("统一社会信用代码"), max_length=18, null=True, blank=True, validators=[validate_credit_code]
    )
    region_code = models.CharField(_("所在地区代码"), max_length=6)
    description = models.TextField(_("简介"), blank=True)
    website = models.URLField(_("网站"), blank=True)
    contact_email = models.EmailField(_("联系邮箱"), blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    created_by = models.ForeignKey(
        "identity.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("创建人")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("组织")
        verbose_name_plural = _("组织")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["credit_code"], name="identity_organisation_credit_code_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class OrganisationRole(models.TextChoices):
    OWNER = "owner", _("负责人")
    ADMIN = "admin", _("管理员")
    MEMBER = "member", pgettext_lazy("organisation role", "成员")


class OrganisationMember(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey("identity.User", on_delete=models.CASCADE, related_name="organisation_memberships")
    role = models.CharField(_("角色"), max_length=16, choices=OrganisationRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("组织成员")
        verbose_name_plural = _("组织成员")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "user"], name="identity_orgmember_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.role})"

    @property
    def can_manage(self) -> bool:
        return self.role in (OrganisationRole.OWNER, OrganisationRole.ADMIN)


class ApiToken(models.Model):
    """A personal API token. Only a hash is stored; the secret is shown once, when the token is made."""

    PREFIX = "hb_"

    user = models.ForeignKey("identity.User", on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=100)
    key_id = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.PREFIX}{self.key_id}_…)"

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
