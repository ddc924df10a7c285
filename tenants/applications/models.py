"""One row per project application in any hub (public schema), always written by the hub that owns it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ApplicationStatus(models.TextChoices):
    """The life of an application; hubs.calls uses these values so the public index can name them."""

    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    INFO_REQUESTED = "info_requested", _("待补充材料")
    IN_REVIEW = "in_review", _("评审中")
    INELIGIBLE = "ineligible", _("资格审查未通过")
    APPROVED = "approved", _("已立项")
    REJECTED = "rejected", _("未获资助")
    WAITLISTED = "waitlisted", _("候补")
    WITHDRAWN = "withdrawn", _("已撤回")


class ApplicationIndex(models.Model):
    """What the applicant's cross-hub page shows about one application: no answers, scores or reviewer data."""

    hub = models.ForeignKey("tenants.Hub", on_delete=models.CASCADE, related_name="+")
    application_id = models.BigIntegerField()
    call_id = models.BigIntegerField()
    organisation = models.ForeignKey("identity.Organisation", on_delete=models.CASCADE, related_name="+")
    call_title = models.CharField(_("项目征集"), max_length=200)
    call_title_en = models.CharField(max_length=200, blank=True)
    title = models.CharField(_("申请项目"), max_length=200, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=ApplicationStatus.choices)
    status_reason = models.CharField(_("状态说明"), max_length=500, blank=True)
    requested_amount = models.BigIntegerField(_("申请金额（分）"), default=0)
    awarded_amount = models.BigIntegerField(_("资助金额（分）"), null=True, blank=True)
    closes_at = models.DateTimeField(_("截止时间"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    link_url = models.URLField(max_length=500, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("申请索引")
        verbose_name_plural = _("申请索引")
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["hub", "application_id"], name="hub_applications_one_row_per_application")
        ]
        indexes = [models.Index(fields=["organisation", "-updated_at"], name="hub_applications_org_idx")]

    def __str__(self) -> str:
        return f"{self.hub_id}/{self.application_id}: {self.status}"
