"""Project delivery (hub schema): projects, their money flows (through the ledger), supervision by ambassadors
(公益使者), progress, results and evaluation.

Money is never stored here: receipts, tranches and expenses keep the id of the ledger transaction that moved the
money (``hubs.ledger``), and every figure shown is derived from the ledger's entries. Organisations (implementer,
funders) are public-schema ``identity.Organisation`` rows referenced without cascades (Django's cascade would
look for hub tables in the public schema). Users likewise (``db_constraint=False``: a person may be erased on
request under PIPL; the rows keep a label).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from huoban.discovery.models import ServiceArea


def _user_fk(verbose: Any, **kwargs: object) -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=verbose,
        **kwargs,  # type: ignore[arg-type]
    )


class ProjectStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    APPROVED = "approved", _("已立项")
    FUNDED = "funded", _("已筹资")
    IN_PROGRESS = "in_progress", _("执行中")
    COMPLETED = "completed", _("已结项")
    EVALUATED = "evaluated", _("已评估")
    SUSPENDED = "suspended", _("已暂停")
    CANCELLED = "cancelled", _("已取消")


# Statuses shown on the public transparency pages.
PUBLIC_STATUSES = (
    ProjectStatus.APPROVED,
    ProjectStatus.FUNDED,
    ProjectStatus.IN_PROGRESS,
    ProjectStatus.COMPLETED,
    ProjectStatus.EVALUATED,
    ProjectStatus.SUSPENDED,
)


class Project(models.Model):
    """A project delivered by a partner organisation. Transitions go through ``hubs.projects.services`` only."""

    title_zh = models.CharField(_("项目名称"), max_length=200)
    title_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    summary = models.TextField(_("项目简介"), blank=True)
    implementer = models.ForeignKey(
        "identity.Organisation", on_delete=models.DO_NOTHING, related_name="+", verbose_name=_("执行机构")
    )
    service_area = models.CharField(_("服务领域"), max_length=32, choices=ServiceArea.choices)
    community = models.CharField(_("社区/街道"), max_length=200, blank=True)
    beneficiaries = models.CharField(_("受益对象"), max_length=300, blank=True)
    beneficiary_count = models.PositiveIntegerField(_("受益人数"), default=0)
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"))
    status = models.CharField(
        _("状态"), max_length=16, choices=ProjectStatus.choices, default=ProjectStatus.DRAFT, db_index=True
    )
    # Where a suspended project returns to when resumed.
    status_before_suspension = models.CharField(max_length=16, blank=True)
    # What made the project: "" (staff), "call_award:12", "need:7" ... idempotent per source.
    source = models.CharField(_("来源"), max_length=100, blank=True)
    private_notes = models.TextField(_("内部备注"), blank=True)  # staff only, never public
    created_by = _user_fk(_("创建人"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("项目")
        verbose_name_plural = _("项目")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source"], condition=~models.Q(source=""), name="projects_project_source_unique"
            ),
            models.CheckConstraint(condition=models.Q(end_date__gte=models.F("start_date")), name="projects_dates"),
        ]

    def __str__(self) -> str:
        return self.title_zh

    @property
    def subject(self) -> str:
        """The ledger subject key of this project."""
        return f"project:{self.pk}"

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES


class BudgetLine(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="budget_lines")
    name = models.CharField(_("预算科目"), max_length=200)
    amount = models.BigIntegerField(_("预算金额（分）"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("预算科目")
        verbose_name_plural = _("预算科目")
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="projects_budget_positive")]

    def __str__(self) -> str:
        return self.name

    @property
    def purpose(self) -> str:
        return f"project:{self.project_id}/line:{self.pk}"


class FundingSource(models.Model):
    """A funder's commitment to the project. Its money sits in its own ledger account (``account_id``)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="funding_sources")
    funder = models.ForeignKey(
        "identity.Organisation", on_delete=models.DO_NOTHING, related_name="+", verbose_name=_("资助方")
    )
    amount = models.BigIntegerField(_("承诺金额（分）"))
    restricted = models.BooleanField(_("限定用于本项目"), default=True)
    account_id = models.BigIntegerField(_("资金账户"))
    income_account_id = models.BigIntegerField(_("收入账户"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("资金来源")
        verbose_name_plural = _("资金来源")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="projects_funding_positive"),
            models.UniqueConstraint(fields=["project", "funder"], name="projects_funding_one_per_funder"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id}/{self.funder_id}"


class FundReceipt(models.Model):
    """Money received from a funder, with its receipt document, posted to the ledger."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="receipts")
    funding_source = models.ForeignKey(FundingSource, on_delete=models.PROTECT, related_name="receipts")
    amount = models.BigIntegerField(_("金额（分）"))
    received_on = models.DateField(_("到账日期"))
    receipt_file_id = models.UUIDField(_("票据"), null=True, blank=True)
    transaction_id = models.BigIntegerField(_("记账凭证"), null=True, blank=True)
    recorded_by = _user_fk(_("登记人"), null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("到账记录")
        verbose_name_plural = _("到账记录")
        ordering = ["received_on", "id"]

    def __str__(self) -> str:
        return f"{type(self).__name__} #{self.pk}"


class Milestone(models.Model):
    """A step of the project: what is delivered by when, and the tranche planned against it (``amount``, fen; 0:
    none). Tranches requested against a milestone never add up to more than its amount when it has one."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("里程碑"), max_length=200)  # Chinese title
    title_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    due_date = models.DateField(_("计划日期"))
    deliverable = models.TextField(_("交付成果"), blank=True)
    amount = models.BigIntegerField(_("对应拨付金额（分）"), default=0)
    completed_on = models.DateField(_("完成日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("里程碑")
        verbose_name_plural = _("里程碑")
        ordering = ["due_date", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="projects_milestone_amount_nonnegative")
        ]

    def __str__(self) -> str:
        return self.title


class TrancheStatus(models.TextChoices):
    REQUESTED = "requested", _("待审批")
    QUERIED = "queried", _("有疑问")
    RELEASED = "released", _("已拨付")
    REJECTED = "rejected", _("已驳回")


class Tranche(models.Model):
    """A disbursement to the implementer against a milestone and a budget line, paid from one funding source.
    Released (posted to the ledger) when an assigned ambassador and a staff member, two different people and
    neither from the implementing organisation, have both approved."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tranches")
    milestone = models.ForeignKey(
        Milestone, null=True, blank=True, on_delete=models.PROTECT, related_name="tranches", verbose_name=_("里程碑")
    )
    budget_line = models.ForeignKey(BudgetLine, on_delete=models.PROTECT, related_name="+", verbose_name=_("预算科目"))
    funding_source = models.ForeignKey(
        FundingSource, on_delete=models.PROTECT, related_name="tranches", verbose_name=_("资金来源")
    )
    amount = models.BigIntegerField(_("金额（分）"))
    title = models.CharField(_("名称"), max_length=200)
    status = models.CharField(
        _("状态"), max_length=16, choices=TrancheStatus.choices, default=TrancheStatus.REQUESTED, db_index=True
    )
    ambassador_approver = _user_fk(_("公益使者审批"), null=True, blank=True)
    staff_approver = _user_fk(_("工作人员审批"), null=True, blank=True)
    transaction_id = models.BigIntegerField(_("记账凭证"), null=True, blank=True)
    released_at = models.DateTimeField(_("拨付时间"), null=True, blank=True)
    requested_by = _user_fk(_("申请人"), null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("拨付")
        verbose_name_plural = _("拨付")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="projects_tranche_positive"),
            # the database backs up the two-person rule
            models.CheckConstraint(
                condition=models.Q(ambassador_approver__isnull=True)
                | models.Q(staff_approver__isnull=True)
                | ~models.Q(ambassador_approver=models.F("staff_approver")),
                name="projects_tranche_two_people",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ReviewDecision(models.TextChoices):
    APPROVE = "approve", _("同意")
    QUERY = "query", _("提出疑问")


class Review(models.Model):
    """An approval or a query on a tranche or an expense, by an ambassador or a staff member."""

    tranche = models.ForeignKey(Tranche, null=True, blank=True, on_delete=models.CASCADE, related_name="reviews")
    expense = models.ForeignKey("Expense", null=True, blank=True, on_delete=models.CASCADE, related_name="reviews")
    capacity = models.CharField(_("身份"), max_length=16)  # "ambassador" | "staff"
    decision = models.CharField(_("意见"), max_length=16, choices=ReviewDecision.choices)
    note = models.TextField(_("说明"), blank=True)
    reviewer = _user_fk(_("审核人"), null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{type(self).__name__} #{self.pk}"


class ExpenseStatus(models.TextChoices):
    REPORTED = "reported", _("已报告")
    ACCEPTED = "accepted", _("已确认")
    QUERIED = "queried", _("有疑问")


class Expense(models.Model):
    """Money the implementer spent from what was disbursed, with its receipt; posted to the ledger when reported."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="expenses")
    budget_line = models.ForeignKey(BudgetLine, on_delete=models.PROTECT, related_name="+", verbose_name=_("预算科目"))
    amount = models.BigIntegerField(_("金额（分）"))
    description = models.CharField(_("说明"), max_length=300)
    spent_on = models.DateField(_("支出日期"))
    receipt_file_id = models.UUIDField(_("票据"))
    status = models.CharField(_("状态"), max_length=16, choices=ExpenseStatus.choices, default=ExpenseStatus.REPORTED)
    transaction_id = models.BigIntegerField(_("记账凭证"), null=True, blank=True)
    reported_by = _user_fk(_("报告人"), null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("支出")
        verbose_name_plural = _("支出")
        ordering = ["spent_on", "id"]

    def __str__(self) -> str:
        return f"{type(self).__name__} #{self.pk}"


class AmbassadorAssignment(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="ambassadors")
    user = _user_fk(_("公益使者"))
    assigned_by = _user_fk(_("指派人"), null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="projects_ambassador_once")]

    def __str__(self) -> str:
        return f"{type(self).__name__} #{self.pk}"


class SiteVisit(models.Model):
    """An ambassador's visit: public findings, a checklist, photos; ``private_notes`` stay inside the hub."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="visits")
    ambassador = _user_fk(_("公益使者"), null=True)
    visited_at = models.DateTimeField(_("走访时间"))
    findings = models.TextField(_("走访发现"))
    private_notes = models.TextField(_("内部备注"), blank=True)
    checklist = models.JSONField(_("检查清单"), default=list, blank=True)  # [{"item": str, "ok": bool}]
    photo_ids = ArrayField(models.UUIDField(), default=list, blank=True)
    # Photos staff chose to show on the public project page (a subset of photo_ids).
    public_photo_ids = ArrayField(models.UUIDField(), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-visited_at", "-id"]

    def __str__(self) -> str:
        return f"{type(self).__name__} #{self.pk}"


class ReportKind(models.TextChoices):
    PERIODIC = "periodic", _("阶段报告")
    FINAL = "final", _("结项报告")


class ProgressReport(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="reports")
    kind = models.CharField(_("类型"), max_length=16, choices=ReportKind.choices)
    period_end = models.DateField(_("截至日期"))
    text = models.TextField(_("进展"))
    figures = models.JSONField(_("数据"), default=dict, blank=True)  # {"服务人次": 120}
    fund_usage = models.TextField(_("资金使用说明"), blank=True)
    photo_ids = ArrayField(models.UUIDField(), default=list, blank=True)
    public_photo_ids = ArrayField(models.UUIDField(), default=list, blank=True)
    submitted_by = _user_fk(_("提交人"), null=True)
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_end", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project"], condition=models.Q(kind="final"), name="projects_one_final_report"
            )
        ]

    def __str__(self) -> str:
        return f"{type(self).__name__} #{self.pk}"


class Indicator(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="indicators")
    name = models.CharField(_("指标"), max_length=200)
    unit = models.CharField(_("单位"), max_length=30, blank=True)
    baseline = models.DecimalField(_("基线值"), max_digits=14, decimal_places=2, default=0)
    target = models.DecimalField(_("目标值"), max_digits=14, decimal_places=2)
    actual = models.DecimalField(_("实际值"), max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{type(self).__name__} #{self.pk}"


class RespondentKind(models.TextChoices):
    RESIDENT = "resident", _("居民")
    BENEFICIARY = "beneficiary", _("受益人")


class SurveyResponse(models.Model):
    """One satisfaction answer per verified respondent (a signed-in person with a verified email) and project."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="survey_responses")
    respondent = _user_fk(_("答卷人"))
    kind = models.CharField(_("身份"), max_length=16, choices=RespondentKind.choices)
    satisfaction = models.PositiveSmallIntegerField(_("满意度"))
    comment = models.TextField(_("意见"), blank=True)  # private: never shown publicly
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "respondent"], name="projects_one_answer_per_respondent"),
            models.CheckConstraint(
                condition=models.Q(satisfaction__gte=1, satisfaction__lte=5), name="projects_satisfaction_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{type(self).__name__} #{self.pk}"


class EvaluatorKind(models.TextChoices):
    STAFF = "staff", _("枢纽工作人员")
    THIRD_PARTY = "third_party", _("第三方评估")


class Evaluation(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="evaluations")
    evaluator = _user_fk(_("评估人"), null=True)
    evaluator_kind = models.CharField(_("评估方"), max_length=16, choices=EvaluatorKind.choices)
    evaluator_organisation = models.CharField(_("评估机构"), max_length=200, blank=True)
    score = models.PositiveSmallIntegerField(_("综合评分"))
    summary = models.TextField(_("评估结论"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(score__lte=100), name="projects_evaluation_score_range")
        ]

    def __str__(self) -> str:
        return f"{type(self).__name__} #{self.pk}"


class DisclosureReminder(models.Model):
    """A disclosure reminder that was sent (one per project, kind and period: the beat task is idempotent)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=ReportKind.choices)
    period_key = models.CharField(max_length=20)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "kind", "period_key"], name="projects_reminder_once")]

    def __str__(self) -> str:
        return f"{type(self).__name__} #{self.pk}"
