"""Stored files and organisations' documents (public schema).

A file belongs to exactly one owner scope: a hub (its id and schema name; public-schema data that belongs to a hub
always carries the hub), an organisation, or, with neither, the person who uploaded it. Nothing is public: the
bytes live under a private key in the default storage and are read through short-lived signed links.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _


class FilePurpose(models.TextChoices):
    REGISTRATION_CERTIFICATE = "registration_certificate", _("登记证书")
    CHARTER = "charter", _("章程")
    ANNUAL_REPORT = "annual_report", _("年度报告")
    AUDIT_REPORT = "audit_report", _("审计报告")
    RECEIPT = "receipt", _("票据")
    PHOTO = "photo", _("照片")
    IMPORT = "import", _("导入文件")
    OTHER = "other", _("其他")


class StoredFile(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    hub_id = models.BigIntegerField(_("枢纽"), null=True, blank=True)
    hub_schema = models.CharField(_("枢纽 schema"), max_length=63, blank=True, default="")
    organisation = models.ForeignKey(
        "identity.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stored_files",
        verbose_name=_("组织"),
    )
    purpose = models.CharField(_("用途"), max_length=32, choices=FilePurpose.choices)
    key = models.CharField(_("存储键"), max_length=300, unique=True)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    content_type = models.CharField(_("文件类型"), max_length=120)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    original_name = models.CharField(_("原文件名"), max_length=255)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,  # the person may be erased on request (PIPL); the file's owner scope remains
        related_name="+",
        verbose_name=_("上传人"),
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    deleted_at = models.DateTimeField(_("删除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("文件")
        verbose_name_plural = _("文件")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(hub_id__isnull=True) & Q(hub_schema="")) | (Q(hub_id__isnull=False) & ~Q(hub_schema="")),
                name="storage_file_hub_id_and_schema_together",
            ),
            models.CheckConstraint(
                condition=Q(hub_id__isnull=True) | Q(organisation__isnull=True),
                name="storage_file_one_owner_scope",
            ),
        ]
        indexes = [
            # quota sums: live files of one hub / one organisation
            models.Index(fields=["hub_id"], condition=Q(deleted_at__isnull=True), name="storage_file_hub_live"),
            models.Index(fields=["organisation"], condition=Q(deleted_at__isnull=True), name="storage_file_org_live"),
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_live(self) -> bool:
        return self.deleted_at is None


class DocumentKind(models.TextChoices):
    REGISTRATION_CERTIFICATE = "registration_certificate", _("登记证书")
    CHARTER = "charter", _("章程")
    ANNUAL_REPORT = "annual_report", _("年度报告")
    AUDIT_REPORT = "audit_report", _("审计报告")
    OTHER = "other", _("其他")


# Kinds that are per year; the others have no year.
YEARLY_KINDS = ("annual_report", "audit_report")
# What a hub looks for before it trusts an organisation (see selectors.organisation_verification_summary).
REQUIRED_KINDS = (DocumentKind.REGISTRATION_CERTIFICATE, DocumentKind.CHARTER, DocumentKind.ANNUAL_REPORT)


# Stored as data on platform reviews; shown translated (see OrganisationDocument.reviewer_display).
PLATFORM_REVIEWER_LABEL = gettext_noop("平台运营")


class DocumentStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    VERIFIED = "verified", _("已核验")
    REJECTED = "rejected", _("未通过")


class OrganisationDocument(models.Model):
    """A registration certificate, charter, annual or audit report an organisation shows to hubs.

    An upload of the same kind (and year) supersedes the current one; the old row stays as history. One review
    decides the status: by a platform operator or by a hub the organisation works with, recorded by id and label.
    """

    organisation = models.ForeignKey(
        "identity.Organisation", on_delete=models.CASCADE, related_name="documents", verbose_name=_("组织")
    )
    kind = models.CharField(_("类型"), max_length=32, choices=DocumentKind.choices)
    year = models.PositiveSmallIntegerField(_("年度"), null=True, blank=True)
    file = models.ForeignKey(StoredFile, on_delete=models.PROTECT, related_name="+", verbose_name=_("文件"))
    status = models.CharField(_("状态"), max_length=16, choices=DocumentStatus.choices, default=DocumentStatus.PENDING)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("审核人"),
    )
    reviewer_hub_id = models.BigIntegerField(_("审核枢纽"), null=True, blank=True)
    reviewer_label = models.CharField(_("审核方"), max_length=200, blank=True)
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_note = models.TextField(_("审核意见"), blank=True)
    review_notified_at = models.DateTimeField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("上传人"),
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    superseded_at = models.DateTimeField(_("被替换时间"), null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("替换为")
    )

    class Meta:
        verbose_name = _("组织资质文件")
        verbose_name_plural = _("组织资质文件")
        ordering = ["kind", "-year", "-created_at"]
        constraints = [
            # One current document per kind and year ("other" documents do not replace each other).
            models.UniqueConstraint(
                fields=["organisation", "kind", "year"],
                condition=Q(superseded_at__isnull=True) & ~Q(kind="other"),
                nulls_distinct=False,
                name="storage_orgdoc_one_current",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=YEARLY_KINDS, year__isnull=False)
                | (~Q(kind__in=YEARLY_KINDS) & Q(year__isnull=True)),
                name="storage_orgdoc_year_for_yearly_kinds",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "superseded_at"], name="storage_orgdoc_current")]

    def __str__(self) -> str:
        label = str(self.get_kind_display())
        return f"{label} {self.year}" if self.year else label

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None

    @property
    def reviewer_display(self) -> str:
        """Who reviewed, for people: a hub's name as recorded, or "platform operations" in the reader's language."""
        return gettext(self.reviewer_label) if self.reviewer_label == PLATFORM_REVIEWER_LABEL else self.reviewer_label
