"""Project calls, applications, review and awards (hub schema).

A hub publishes a ``Call`` (government purchase of services, a foundation grant, a venture-philanthropy round);
organisations send ``Application``s; reviewers, after declaring conflicts, fill ``Score``s per ``Criterion`` through
their ``ReviewAssignment``; the committee's determination of an approved application makes an ``Award``.
Every change goes through ``hubs.calls.services``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from huoban.discovery.models import ServiceArea
from tenants.applications.models import ApplicationStatus


class CallType(models.TextChoices):
    GOVERNMENT_PURCHASE = "government_purchase", _("政府购买服务")
    FOUNDATION_GRANT = "foundation_grant", _("基金会资助")
    VENTURE_PHILANTHROPY = "venture_philanthropy", _("公益创投")


class CallStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    OPEN = "open", _("征集中")
    CLOSED = "closed", _("已截止")
    IN_REVIEW = "in_review", _("评审中")
    DECIDED = "decided", _("已决定")
    ARCHIVED = "archived", _("已归档")


class PartnerRule(models.TextChoices):
    BECOME = "become", _("须为伙伴或随申请加入")
    ACTIVE = "active", _("仅限合作中的伙伴")


def _user_fk(verbose: Any, **kwargs: Any) -> Any:
    # Users live in the public schema and may be erased on request; hub rows keep their id without a constraint.
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=verbose,
        **kwargs,
    )


class Call(models.Model):
    funder = models.ForeignKey(
        "identity.Organisation",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,  # public schema; see partners.Partnership.organisation
        related_name="+",
        verbose_name=_("资助方"),
        help_text=_("留空表示由本枢纽资助；否则须为合作中的伙伴（政府部门或基金会）。"),
    )
    call_type = models.CharField(_("类型"), max_length=32, choices=CallType.choices)
    title_zh = models.CharField(_("标题"), max_length=200)
    title_en = models.CharField(_("英文标题"), max_length=200, blank=True)
    description_zh = models.TextField(_("说明"), blank=True)
    description_en = models.TextField(_("英文说明"), blank=True)
    total_budget = models.BigIntegerField(_("总预算（分）"))
    project_cap = models.BigIntegerField(_("单个项目上限（分）"))
    eligible_kinds = ArrayField(models.CharField(max_length=32), default=list, blank=True, verbose_name=_("组织类型"))
    require_verified = models.BooleanField(_("须通过资质核验"), default=False)
    region_code = models.CharField(_("地区（含下级）"), max_length=6, blank=True)
    partner_rule = models.CharField(
        _("伙伴要求"), max_length=16, choices=PartnerRule.choices, default=PartnerRule.BECOME
    )
    service_areas = ArrayField(
        models.CharField(max_length=32, choices=ServiceArea.choices),
        default=list,
        blank=True,
        verbose_name=_("服务领域"),
    )
    opens_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    closes_at = models.DateTimeField(_("截止时间"))
    review_by = models.DateField(_("评审完成日期"), null=True, blank=True)
    decision_by = models.DateField(_("决定日期"), null=True, blank=True)
    required_documents = ArrayField(
        models.CharField(max_length=32), default=list, blank=True, verbose_name=_("所需材料")
    )
    form_fields = models.JSONField(_("申请表字段"), default=list, blank=True)
    allow_multiple = models.BooleanField(_("允许同一组织多次申报"), default=False)
    blind_review = models.BooleanField(_("匿名评审"), default=False)
    reviewers_per_application = models.PositiveSmallIntegerField(_("每份申请评审人数"), default=3)
    show_reviewer_comments = models.BooleanField(_("向申请方公开评审意见"), default=False)
    project_months = models.PositiveSmallIntegerField(_("项目周期（月）"), default=12)
    status = models.CharField(
        _("状态"), max_length=16, choices=CallStatus.choices, default=CallStatus.DRAFT, db_index=True
    )
    created_by = _user_fk(_("创建人"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("项目征集")
        verbose_name_plural = _("项目征集")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(total_budget__gt=0), name="calls_budget_positive"),
            models.CheckConstraint(
                condition=models.Q(project_cap__gt=0, project_cap__lte=models.F("total_budget")),
                name="calls_cap_within_budget",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return self.title_en if (get_language() or "").startswith("en") and self.title_en else self.title_zh

    @property
    def description(self) -> str:
        english = (get_language() or "").startswith("en") and self.description_en
        return self.description_en if english else self.description_zh


class Criterion(models.Model):
    """One line of a call's scoring rubric: scored 0..max_score, counted with ``weight``."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="criteria")
    name_zh = models.CharField(_("名称"), max_length=200)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    guidance = models.TextField(_("评分说明"), blank=True)
    weight = models.PositiveSmallIntegerField(_("权重"))
    max_score = models.PositiveSmallIntegerField(_("满分"), default=10)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("评分标准")
        verbose_name_plural = _("评分标准")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(weight__gt=0, max_score__gt=0), name="calls_criterion_positive")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") and self.name_en else self.name_zh


class Application(models.Model):
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="applications")
    organisation = models.ForeignKey(
        "identity.Organisation", on_delete=models.DO_NOTHING, related_name="+", verbose_name=_("申报组织")
    )
    created_by = _user_fk(_("填写人"), null=True)
    title = models.CharField(_("项目名称"), max_length=200, blank=True)
    summary = models.TextField(_("项目简介"), blank=True)
    requested_amount = models.BigIntegerField(_("申请金额（分）"), default=0)
    answers = models.JSONField(_("申请表"), default=dict, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=ApplicationStatus.choices, default=ApplicationStatus.DRAFT, db_index=True
    )
    status_reason = models.CharField(_("状态说明"), max_length=500, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    saved_at = models.DateTimeField(_("保存时间"), auto_now=True)
    awarded_amount = models.BigIntegerField(_("资助金额（分）"), null=True, blank=True)
    decided_by = _user_fk(_("决定人"), null=True, blank=True)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("项目申请")
        verbose_name_plural = _("项目申请")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["call", "status"], name="calls_app_call_status_idx")]

    def __str__(self) -> str:
        return self.title or f"#{self.pk}"

    @property
    def code(self) -> str:
        """The anonymous reference reviewers of a blind call see instead of the applicant."""
        return f"A-{self.call_id:03d}-{self.pk:05d}"


class InfoRequest(models.Model):
    """Staff ask the applicant for more information; the applicant answers."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="info_requests")
    question = models.TextField(_("需补充的内容"))
    asked_by = _user_fk(_("提出人"), null=True)
    asked_at = models.DateTimeField(_("提出时间"), auto_now_add=True)
    answer = models.TextField(_("答复"), blank=True)
    answered_by = _user_fk(_("答复人"), null=True, blank=True)
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    # Where the application goes back to once answered (submitted, or in review if it was screened in).
    return_status = models.CharField(max_length=16, choices=ApplicationStatus.choices)

    class Meta:
        ordering = ["asked_at", "id"]

    def __str__(self) -> str:
        return self.question[:40]


class ReviewerTie(models.Model):
    """A reviewer's declared tie to an organisation: never assigned its applications in this hub."""

    reviewer = _user_fk(_("评审专家"))
    organisation = models.ForeignKey("identity.Organisation", on_delete=models.DO_NOTHING, related_name="+")
    note = models.CharField(_("说明"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["reviewer", "organisation"], name="calls_tie_unique")]

    def __str__(self) -> str:
        return f"{self.reviewer_id}~{self.organisation_id}"


class AssignmentStatus(models.TextChoices):
    PENDING = "pending", _("待声明利益冲突")
    CONFLICT = "conflict", _("已回避")
    REVIEWING = "reviewing", _("评审中")
    SUBMITTED = "submitted", _("已提交评分")


class ReviewAssignment(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="assignments")
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="+")  # denormalised for queues
    reviewer = _user_fk(_("评审专家"))
    status = models.CharField(
        _("状态"), max_length=16, choices=AssignmentStatus.choices, default=AssignmentStatus.PENDING
    )
    conflict_note = models.CharField(_("冲突说明"), max_length=500, blank=True)
    declared_at = models.DateTimeField(_("声明时间"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    total = models.DecimalField(_("加权得分"), max_digits=6, decimal_places=2, null=True, blank=True)
    assigned_by = _user_fk(_("分配人"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["application", "reviewer"], name="calls_assignment_unique"),
        ]
        indexes = [models.Index(fields=["reviewer", "status"], name="calls_assign_reviewer_idx")]

    def __str__(self) -> str:
        return f"{self.application_id}/{self.reviewer_id}"


class Score(models.Model):
    assignment = models.ForeignKey(ReviewAssignment, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField(_("得分"))
    comment = models.TextField(_("评语"), blank=True)

    class Meta:
        ordering = ["criterion__position", "criterion_id"]
        constraints = [models.UniqueConstraint(fields=["assignment", "criterion"], name="calls_score_unique")]

    def __str__(self) -> str:
        return f"{self.assignment_id}:{self.criterion_id}={self.score}"


class Award(models.Model):
    """An approved application's grant: the amount, and the project it became (when hubs.projects runs)."""

    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="award")
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="awards")
    organisation = models.ForeignKey("identity.Organisation", on_delete=models.DO_NOTHING, related_name="+")
    amount = models.BigIntegerField(_("资助金额（分）"))
    project_id = models.BigIntegerField(_("项目"), null=True, blank=True)
    created_by = _user_fk(_("决定人"), null=True)
    created_at = models.DateTimeField(_("立项时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("资助")
        verbose_name_plural = _("资助")
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="calls_award_positive")]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.amount}"
