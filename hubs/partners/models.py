"""A hub's partner network (hub schema): which organisations work with this hub, and how they got here.

The organisations themselves live once on the platform (public schema, ``identity.Organisation``); each hub keeps
its own ``Partnership`` with them, and everything staff know about a partner (contacts, notes) stays in the hub.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huoban.discovery.models import ServiceArea as DiscoveryServiceArea


class PartnershipStatus(models.TextChoices):
    INVITED = "invited", _("已邀请")
    APPLIED = "applied", _("已申请")
    UNDER_REVIEW = "under_review", _("审核中")
    ACTIVE = "active", _("合作中")
    REJECTED = "rejected", _("未通过")
    SUSPENDED = "suspended", _("已暂停")
    LEFT = "left", _("已退出")


# One vocabulary for partners, calls, projects and cross-hub discovery.
ServiceArea = DiscoveryServiceArea


class PartnershipSource(models.TextChoices):
    INVITATION = "invitation", _("枢纽邀请")
    APPLICATION = "application", _("组织申请")
    STAFF = "staff", _("工作人员添加")
    IMPORT = "import", _("批量导入")


class Partnership(models.Model):
    """An organisation's standing in this hub: invited → applied → under review → active (or rejected,
    suspended, left). Transitions go through ``hubs.partners.services`` only."""

    # DO_NOTHING: the organisation lives in the public schema, and Django's cascade would look for this hub table
    # there. An organisation is never deleted while hubs know it; the foreign key keeps that honest.
    organisation = models.ForeignKey(
        "identity.Organisation", on_delete=models.DO_NOTHING, related_name="+", verbose_name=_("组织")
    )
    status = models.CharField(_("状态"), max_length=16, choices=PartnershipStatus.choices, db_index=True)
    status_reason = models.CharField(_("状态说明"), max_length=500, blank=True)
    source = models.CharField(_("来源"), max_length=16, choices=PartnershipSource.choices)
    service_areas = ArrayField(
        models.CharField(max_length=32, choices=ServiceArea.choices),
        default=list,
        blank=True,
        verbose_name=_("服务领域"),
    )
    public_profile = models.TextField(_("公开简介"), blank=True)
    joined_at = models.DateTimeField(_("加入时间"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("伙伴关系")
        verbose_name_plural = _("伙伴关系")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation"], name="partners_partnership_one_per_organisation"),
        ]
        indexes = [models.Index(fields=["status", "joined_at"], name="partners_status_joined_idx")]

    def __str__(self) -> str:
        # Only a loaded organisation is named: str() must never query the public schema behind the caller's back.
        if "organisation" in self._state.fields_cache:
            return self.organisation.name
        return f"partnership #{self.pk}"

    @property
    def service_area_labels(self) -> list[str]:
        return [str(ServiceArea(area).label) for area in self.service_areas if area in ServiceArea.values]


class PartnerContact(models.Model):
    """A person to call at a partner. Personal data: only the hub's staff ever see it."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("姓名"), max_length=100)
    role = models.CharField(_("职务"), max_length=100, blank=True)
    phone = models.CharField(_("电话"), max_length=30, blank=True)
    email = models.EmailField(_("邮箱"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("联系人")
        verbose_name_plural = _("联系人")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class PartnerNote(models.Model):
    """A staff-only note on a partner."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="notes")
    # DO_NOTHING without a constraint: the author is a public-schema user who may be erased on request (PIPL);
    # the note keeps the author's name as it was.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("作者"),
    )
    author_label = models.CharField(_("作者"), max_length=200)
    body = models.TextField(_("内容"))
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("备注")
        verbose_name_plural = _("备注")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.author_label}: {self.body[:40]}"


class PartnerInvitation(models.Model):
    """A one-time link, emailed by staff, with which an organisation joins this hub's network.

    Only a hash of the secret is stored. It may name the organisation (then it is for that organisation only)
    or only an email address (the person accepting registers their organisation or picks one they manage).
    """

    email = models.EmailField(_("邮箱"))
    organisation = models.ForeignKey(
        "identity.Organisation",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,  # public schema: see Partnership.organisation
        related_name="+",
        verbose_name=_("组织"),
    )
    partnership = models.ForeignKey(
        Partnership, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations"
    )
    message = models.TextField(_("附言"), blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    created_at = models.DateTimeField(_("邀请时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("过期时间"))
    accepted_at = models.DateTimeField(_("接受时间"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("伙伴邀请")
        verbose_name_plural = _("伙伴邀请")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.email

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class ImportStatus(models.TextChoices):
    CHECKED = "checked", _("已预检")
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("导入中")
    SUCCEEDED = "succeeded", _("已完成")
    FAILED = "failed", _("失败")


class ImportJob(models.Model):
    """One uploaded partner file: its dry-run report, then the background import of it.

    The file's bytes are kept with the job so the confirmed import reads exactly what was checked. The import
    is all-or-nothing: it either writes every accepted row or nothing, and then ``error`` says why.
    """

    file_name = models.CharField(_("文件名"), max_length=200)
    file_format = models.CharField(max_length=8)  # "xlsx" or "csv"
    file_bytes = models.BinaryField()
    update_existing = models.BooleanField(_("更新已有伙伴"), default=True)
    status = models.CharField(_("状态"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.CHECKED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    total_rows = models.PositiveIntegerField(_("行数"), default=0)
    processed_rows = models.PositiveIntegerField(_("已处理"), default=0)
    created_count = models.PositiveIntegerField(_("新增"), default=0)
    updated_count = models.PositiveIntegerField(_("更新"), default=0)
    unchanged_count = models.PositiveIntegerField(_("无变化"), default=0)
    refused_count = models.PositiveIntegerField(_("拒绝"), default=0)
    report = models.JSONField(_("逐行结果"), default=list)
    error = models.TextField(_("错误"), blank=True)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED)
