"""The Hub tenant and what the public schema keeps about each hub (always filtered by the hub)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin


class HubKind(models.TextChoices):
    PROVINCIAL_CENTRE = "provincial_centre", _("省级服务中心")
    CITY = "city", _("市级枢纽")
    DISTRICT_BUREAU = "district_bureau", _("区县民政局")
    OTHER = "other", _("其他")


class HubStatus(models.TextChoices):
    PROVISIONING = "provisioning", _("开通中")
    ACTIVE = "active", _("运行中")
    READ_ONLY = "read_only", _("只读")
    SUSPENDED = "suspended", _("已暂停")
    ARCHIVED = "archived", _("已归档")


class HubRole(models.TextChoices):
    HUB_ADMIN = "hub_admin", _("枢纽管理员")
    STAFF = "staff", _("工作人员")
    REVIEWER = "reviewer", _("评审专家")
    AMBASSADOR = "ambassador", _("公益使者")
    FUND_COMMITTEE = "fund_committee", _("互助金委员")
    TREASURER = "treasurer", _("财务")


class Hub(TenantMixin):
    """A provincial centre, city hub or district bureau, with its own PostgreSQL schema."""

    # The schema is made by tenants.provisioning (renaming a spare or cloning the template), never on save().
    auto_create_schema = False
    auto_drop_schema = False

    slug = models.SlugField(_("标识"), max_length=30, unique=True)
    name_zh = models.CharField(_("中文名称"), max_length=200)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    kind = models.CharField(_("类型"), max_length=32, choices=HubKind.choices)
    region_code = models.CharField(_("行政区划代码"), max_length=6)
    status = models.CharField(_("状态"), max_length=16, choices=HubStatus.choices, default=HubStatus.PROVISIONING)
    status_reason = models.CharField(_("状态说明"), max_length=500, blank=True)
    plan = models.CharField(_("套餐"), max_length=32, default="free")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("枢纽")
        verbose_name_plural = _("枢纽")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name_zh

    @property
    def display_name(self) -> str:
        from django.utils.translation import get_language

        return self.name_en if (get_language() or "").startswith("en") and self.name_en else self.name_zh

    @property
    def host(self) -> str:
        return f"{self.slug}.{settings.HUOBAN_BASE_DOMAIN}"

    @property
    def url(self) -> str:
        port = f":{settings.HUOBAN_URL_PORT}" if settings.HUOBAN_URL_PORT else ""
        return f"{settings.HUOBAN_URL_SCHEME}://{self.host}{port}"

    @property
    def accepts_writes(self) -> bool:
        return self.status == HubStatus.ACTIVE


class Domain(DomainMixin):
    class Meta:
        verbose_name = _("域名")
        verbose_name_plural = _("域名")


class HubAccess(models.Model):
    """Which hubs a user has roles in: a public-schema index of every hub's HubMembership.

    Written only by the membership services, in the same transaction as the membership, so "my hubs" is one
    query instead of a visit to every hub schema. The membership in the hub schema stays the authority.
    """

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="accesses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hub_accesses")
    roles = ArrayField(models.CharField(max_length=32, choices=HubRole.choices), default=list)

    class Meta:
        verbose_name = _("枢纽成员索引")
        verbose_name_plural = _("枢纽成员索引")
        constraints = [models.UniqueConstraint(fields=["hub", "user"], name="tenants_hubaccess_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.hub}"

    @property
    def role_labels(self) -> list[str]:
        return [str(HubRole(role).label) for role in self.roles]


class HubInvitation(models.Model):
    """A one-time link that gives roles in a hub to whoever holds it, creating their account if needed.

    Only a hash of the secret is stored. Accepted once; expires after HUOBAN_INVITATION_DAYS.
    """

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("邮箱"))
    roles = ArrayField(models.CharField(max_length=32, choices=HubRole.choices))
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("邀请时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("过期时间"))
    accepted_at = models.DateTimeField(_("接受时间"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("枢纽邀请")
        verbose_name_plural = _("枢纽邀请")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.hub}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def role_labels(self) -> list[str]:
        return [str(HubRole(role).label) for role in self.roles]


class HubUsage(models.Model):
    """Usage figures of a hub for the operator console, refreshed by a task running inside the hub."""

    hub = models.OneToOneField(Hub, on_delete=models.CASCADE, related_name="usage", primary_key=True)
    members = models.PositiveIntegerField(_("成员数"), default=0)
    audit_events = models.PositiveIntegerField(_("审计事件数"), default=0)
    schema_bytes = models.BigIntegerField(_("数据库占用（字节）"), default=0)
    refreshed_at = models.DateTimeField(_("统计时间"), auto_now=True)

    class Meta:
        verbose_name = _("枢纽用量")
        verbose_name_plural = _("枢纽用量")

    def __str__(self) -> str:
        return f"usage of {self.hub_id}"


class HubPlanLimits(models.Model):
    """The limits of the plan a hub is on now, kept up to date by billing (public schema).

    Hub code checks them through ``tenants.entitlements`` without knowing about billing. No row means the free
    plan's limits. An empty limit (NULL) means unlimited.
    """

    hub = models.OneToOneField(Hub, on_delete=models.CASCADE, related_name="plan_limits", primary_key=True)
    plan = models.CharField(_("套餐"), max_length=32)
    source = models.CharField(_("来源"), max_length=16)  # "free", "subscription" or "comp"
    active_partners = models.PositiveIntegerField(_("合作伙伴上限"), null=True, blank=True)
    staff_seats = models.PositiveIntegerField(_("工作人员席位"), null=True, blank=True)
    storage_bytes = models.PositiveBigIntegerField(_("存储空间（字节）"), null=True, blank=True)
    open_calls = models.PositiveIntegerField(_("进行中的项目征集上限"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("枢纽套餐额度")
        verbose_name_plural = _("枢纽套餐额度")

    def __str__(self) -> str:
        return f"limits of {self.hub_id}: {self.plan}"


class HubResourceUsage(models.Model):
    """The latest count of a limited resource in a hub, reported by the hub code that owns the resource."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="resource_usage")
    resource = models.CharField(_("资源"), max_length=32)
    amount = models.BigIntegerField(_("用量"), default=0)
    refreshed_at = models.DateTimeField(_("统计时间"), auto_now=True)

    class Meta:
        verbose_name = _("枢纽资源用量")
        verbose_name_plural = _("枢纽资源用量")
        constraints = [models.UniqueConstraint(fields=["hub", "resource"], name="tenants_hubresourceusage_unique")]

    def __str__(self) -> str:
        return f"{self.resource} of {self.hub_id}: {self.amount}"
