"""Resident needs, project ideas, public notice and the matchmaking fair (hub schema).

The Shangcheng path: residents' needs come in through every channel (``Need``), staff merge duplicates and turn
needs into a ``ProjectIdea``; an expert panel scores ideas (``ReviewCriterion``, ``IdeaScore``); approved ideas go
on public notice (``NoticeRound``) where verified residents support them (``Support``) or object
(``Objection``); then a matchmaking fair (``Fair``) where funders claim them (``Claim``), optionally matched by
another funder (``MatchingRule``), until the money is received in the ledger and the idea becomes a project.

Personal data lives once, in ``Resident`` (name, phone); everything public shows it masked
(``hubs.needs.masking``).
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from huoban.discovery.models import ServiceArea

Category = ServiceArea


class Channel(models.TextChoices):
    ONLINE = "online", _("网上提交")
    VISIT = "visit", _("走访")
    LETTER = "letter", _("来信")
    PHONE = "phone", _("电话")
    SMS = "sms", _("短信")
    WECHAT = "wechat", _("微信")
    MEETING = "meeting", _("座谈会")
    SURVEY = "survey", _("问卷调查")


class NeedStatus(models.TextChoices):
    NEW = "new", _("待处理")
    ACCEPTED = "accepted", _("已受理")
    MERGED = "merged", _("已合并")
    REJECTED = "rejected", _("未采纳")
    IN_IDEA = "in_idea", _("已形成项目建议")


class IdeaStatus(models.TextChoices):
    DRAFT = "draft", _("草拟中")
    APPROVED = "approved", _("评审通过")
    ON_NOTICE = "on_notice", _("公示中")
    NOTICED = "noticed", _("公示完成")
    AT_FAIR = "at_fair", _("相亲会认领中")
    FUNDED = "funded", _("已资助")
    REJECTED = "rejected", _("未通过")


class ClaimStatus(models.TextChoices):
    PLEDGED = "pledged", _("已认领")
    AGREED = "agreed", _("已签约")
    RECEIVED = "received", _("已到账")
    WITHDRAWN = "withdrawn", _("已撤回")


class FairStatus(models.TextChoices):
    DRAFT = "draft", _("筹备中")
    OPEN = "open", _("进行中")
    CLOSED = "closed", _("已结束")


def new_token() -> str:
    return secrets.token_urlsafe(24)


def user_ref(verbose_name: Any, *, required: bool = False) -> models.ForeignKey:
    """A public-schema user who may be erased on request (PIPL): no database constraint, no cascade."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=not required,
        blank=not required,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=verbose_name,
    )


class Resident(models.Model):
    """A person who told the hub a need, supports or objects. The only place a resident's name and phone live.

    A resident is verified by a one-time SMS code (``phone_verified_at``) or by signing in (``user_id``)."""

    name = models.CharField(_("姓名"), max_length=100, blank=True)
    phone = models.CharField(_("手机号"), max_length=11, null=True, blank=True, unique=True)
    user_id = models.BigIntegerField(_("用户"), null=True, blank=True, unique=True)
    phone_verified_at = models.DateTimeField(_("手机验证时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("居民")
        verbose_name_plural = _("居民")

    def __str__(self) -> str:
        return f"resident #{self.pk}"


class PhoneCode(models.Model):
    """A one-time code sent by SMS; only its hash is kept."""

    phone = models.CharField(max_length=11, db_index=True)
    code_hash = models.CharField(max_length=64)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")

    def __str__(self) -> str:
        return f"code #{self.pk}"


class Need(models.Model):
    """One resident need, from any channel."""

    resident = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="needs", verbose_name=_("居民")
    )
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices, db_index=True)
    street = models.CharField(_("街道"), max_length=100, blank=True)
    community = models.CharField(_("社区"), max_length=100, blank=True)
    category = models.CharField(_("类别"), max_length=32, choices=Category.choices, db_index=True)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    photo_id = models.UUIDField(_("照片"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=NeedStatus.choices, default=NeedStatus.NEW)
    status_reason = models.CharField(_("状态说明"), max_length=500, blank=True)
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True, verbose_name=_("标签"))
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged", verbose_name=_("合并到")
    )
    idea = models.ForeignKey(
        "ProjectIdea", null=True, blank=True, on_delete=models.PROTECT, related_name="needs", verbose_name=_("项目建议")
    )
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    created_by = user_ref(_("录入人"))
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("民生需求")
        verbose_name_plural = _("民生需求")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="needs_need_status_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class ProjectIdea(models.Model):
    """A project shaped from one or more needs; what experts score, residents support and funders claim."""

    title = models.CharField(_("项目名称"), max_length=200)
    summary = models.TextField(_("项目简介"), blank=True)
    category = models.CharField(_("服务领域"), max_length=32, choices=Category.choices)
    street = models.CharField(_("街道"), max_length=100, blank=True)
    community = models.CharField(_("社区"), max_length=100, blank=True)
    budget = models.BigIntegerField(_("所需资金（分）"))
    implementer_id = models.BigIntegerField(_("执行机构"), null=True, blank=True)
    start_date = models.DateField(_("开始日期"), null=True, blank=True)
    end_date = models.DateField(_("结束日期"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=IdeaStatus.choices, default=IdeaStatus.DRAFT)
    status_reason = models.CharField(_("状态说明"), max_length=500, blank=True)
    notice_round = models.ForeignKey(
        "NoticeRound", null=True, blank=True, on_delete=models.PROTECT, related_name="ideas", verbose_name=_("公示")
    )
    fair = models.ForeignKey(
        "Fair", null=True, blank=True, on_delete=models.PROTECT, related_name="ideas", verbose_name=_("相亲会")
    )
    project_id = models.BigIntegerField(_("项目"), null=True, blank=True)
    funded_at = models.DateTimeField(_("资助完成时间"), null=True, blank=True)
    created_by = user_ref(_("创建人"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("项目建议")
        verbose_name_plural = _("项目建议")
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=models.Q(budget__gt=0), name="needs_idea_budget_positive")]

    def __str__(self) -> str:
        return self.title


class ReviewCriterion(models.Model):
    """One criterion of the hub's expert review, with its weight."""

    name = models.CharField(_("评审指标"), max_length=100, unique=True)
    weight = models.PositiveSmallIntegerField(_("权重"))
    max_score = models.PositiveSmallIntegerField(_("满分"), default=10)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("评审指标")
        verbose_name_plural = _("评审指标")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(weight__gt=0, max_score__gt=0), name="needs_criterion_positive")
        ]

    def __str__(self) -> str:
        return self.name


class IdeaScore(models.Model):
    idea = models.ForeignKey(ProjectIdea, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(ReviewCriterion, on_delete=models.PROTECT, related_name="+")
    reviewer = user_ref(_("评审专家"), required=True)
    score = models.PositiveSmallIntegerField(_("得分"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("评分")
        verbose_name_plural = _("评分")
        constraints = [
            models.UniqueConstraint(fields=["idea", "criterion", "reviewer"], name="needs_score_once"),
        ]

    def __str__(self) -> str:
        return f"{self.idea_id}/{self.criterion_id}: {self.score}"


class NoticeRound(models.Model):
    """A public notice (公示) with a start and an end; ``support_limit`` caps one resident's supports in it."""

    title = models.CharField(_("公示名称"), max_length=200)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    support_limit = models.PositiveSmallIntegerField(_("每位居民可支持项目数"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    created_by = user_ref(_("创建人"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("公示")
        verbose_name_plural = _("公示")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="needs_round_dates")
        ]

    def __str__(self) -> str:
        return self.title


class Support(models.Model):
    """One verified resident's support (点赞) for one idea: at most one, the database says so."""

    notice_round = models.ForeignKey(NoticeRound, on_delete=models.PROTECT, related_name="supports")
    idea = models.ForeignKey(ProjectIdea, on_delete=models.PROTECT, related_name="supports")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="supports")
    ip_prefix = models.CharField(max_length=64, blank=True)
    phone_prefix = models.CharField(max_length=7, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("支持")
        verbose_name_plural = _("支持")
        constraints = [models.UniqueConstraint(fields=["idea", "resident"], name="needs_support_once")]
        indexes = [
            models.Index(fields=["notice_round", "resident"], name="needs_support_round_res"),
            models.Index(fields=["notice_round", "ip_prefix", "created_at"], name="needs_support_ip"),
            models.Index(fields=["notice_round", "phone_prefix", "created_at"], name="needs_support_phone"),
        ]

    def __str__(self) -> str:
        return f"support #{self.pk}"


class FlagKind(models.TextChoices):
    IP_RANGE = "ip_range", _("同一网段")
    PHONE_PREFIX = "phone_prefix", _("同一号段")


class SupportFlag(models.Model):
    """A suspicious burst of supports for staff to look at; the supports themselves are kept and counted.

    Which supports a flag covers is not stored: they are the round's supports whose ``ip_prefix`` (``ip_range``)
    or ``phone_prefix`` (``phone_prefix``) equals ``prefix``."""

    notice_round = models.ForeignKey(NoticeRound, on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField(_("类型"), max_length=16, choices=FlagKind.choices)
    prefix = models.CharField(_("来源"), max_length=64)
    first_seen_at = models.DateTimeField(_("发现时间"), auto_now_add=True)
    reviewed_at = models.DateTimeField(_("核查时间"), null=True, blank=True)
    reviewed_by = user_ref(_("核查人"))
    note = models.CharField(_("核查说明"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("异常支持")
        verbose_name_plural = _("异常支持")
        constraints = [
            models.UniqueConstraint(fields=["notice_round", "kind", "prefix"], name="needs_flag_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.prefix}"


class Objection(models.Model):
    """A resident's objection to an idea on notice; staff answer it publicly before the notice closes."""

    notice_round = models.ForeignKey(NoticeRound, on_delete=models.PROTECT, related_name="objections")
    idea = models.ForeignKey(ProjectIdea, on_delete=models.PROTECT, related_name="objections")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="objections")
    body = models.TextField(_("异议内容"))
    answer = models.TextField(_("答复"), blank=True)
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    answered_by = user_ref(_("答复人"))
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("异议")
        verbose_name_plural = _("异议")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"objection #{self.pk}"


class Fair(models.Model):
    """A matchmaking fair (公益项目相亲会) with its list of ideas (``ProjectIdea.fair``)."""

    title = models.CharField(_("相亲会名称"), max_length=200)
    held_on = models.DateField(_("举办日期"))
    venue = models.CharField(_("地点"), max_length=200, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=FairStatus.choices, default=FairStatus.DRAFT)
    created_by = user_ref(_("创建人"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("相亲会")
        verbose_name_plural = _("相亲会")
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return self.title


class MatchingRule(models.Model):
    """A funder that matches other funders' claims at this fair: ``percent`` of each, up to ``cap`` in total."""

    fair = models.ForeignKey(Fair, on_delete=models.PROTECT, related_name="matching_rules")
    funder_id = models.BigIntegerField(_("配捐方"))
    percent = models.PositiveSmallIntegerField(_("配捐比例（%）"), default=100)
    cap = models.BigIntegerField(_("配捐上限（分）"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("配捐规则")
        verbose_name_plural = _("配捐规则")
        constraints = [
            models.UniqueConstraint(fields=["fair", "funder_id"], name="needs_matching_once"),
            models.CheckConstraint(
                condition=models.Q(cap__gt=0, percent__gt=0, percent__lte=1000), name="needs_matching_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"matching {self.funder_id} ≤ {self.cap}"


class Claim(models.Model):
    """A funder's claim on an idea at a fair: pledged → agreed → received (or withdrawn)."""

    fair = models.ForeignKey(Fair, on_delete=models.PROTECT, related_name="claims")
    idea = models.ForeignKey(ProjectIdea, on_delete=models.PROTECT, related_name="claims")
    funder_id = models.BigIntegerField(_("出资方"), db_index=True)
    amount = models.BigIntegerField(_("认领金额（分）"))
    status = models.CharField(_("状态"), max_length=16, choices=ClaimStatus.choices, default=ClaimStatus.PLEDGED)
    matched_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="matches", verbose_name=_("配捐自")
    )
    agreement_ref = models.CharField(_("协议编号"), max_length=100, blank=True)
    receipt_ref = models.CharField(_("收据编号"), max_length=100, blank=True)
    receipt_file_id = models.UUIDField(_("收据"), null=True, blank=True)
    ledger_transaction_id = models.BigIntegerField(_("记账凭证"), null=True, blank=True)
    received_at = models.DateTimeField(_("到账时间"), null=True, blank=True)
    created_by = user_ref(_("认领人"))
    created_at = models.DateTimeField(_("认领时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("认领")
        verbose_name_plural = _("认领")
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="needs_claim_positive")]

    def __str__(self) -> str:
        return f"claim #{self.pk}"
