"""The partner mutual-aid fund pool (伙伴互助, hub schema).

Partner organisations pool money so that a member whose government payment is late can borrow against it. Every
movement of money is a transaction in the hub ledger (``hubs.ledger``); these models hold the rules, the people,
the decisions and the schedule, never a second balance. Per pool the ledger holds:

- ``pool:<id>/cash``        asset, no overdraft: money the pool holds and may lend
- ``pool:<id>/reserved``    asset, no overdraft: money set aside by an approval until it is disbursed
- ``pool:<id>/loans``       asset, no overdraft: principal lent and not yet repaid or written off
- ``pool:<id>/income``      income: fees received
- ``pool:<id>/writeoffs``   expense: principal written off by committee decision
- ``pool:<id>/member:<m>``  net assets, no overdraft: one member's equity (contributions less what was returned)

so that, at every moment, cash + reserved + loans = equity + income − write-offs (the pool's balance sheet).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

USER = settings.AUTH_USER_MODEL


class Pool(models.Model):
    """One fund pool of the hub. Its rules are versioned in ``PoolRules``; the row itself is the lock that
    serialises decisions that use the pool's liquidity (approvals, payouts)."""

    name = models.CharField(_("名称"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    is_open = models.BooleanField(_("接受申请"), default=True)
    cash_account = models.ForeignKey(
        "ledger.Account", null=True, editable=False, on_delete=models.PROTECT, related_name="+"
    )
    reserved_account = models.ForeignKey(
        "ledger.Account", null=True, editable=False, on_delete=models.PROTECT, related_name="+"
    )
    loans_account = models.ForeignKey(
        "ledger.Account", null=True, editable=False, on_delete=models.PROTECT, related_name="+"
    )
    income_account = models.ForeignKey(
        "ledger.Account", null=True, editable=False, on_delete=models.PROTECT, related_name="+"
    )
    writeoff_account = models.ForeignKey(
        "ledger.Account", null=True, editable=False, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )

    class Meta:
        verbose_name = _("互助金池")
        verbose_name_plural = _("互助金池")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def subject(self) -> str:
        return f"pool:{self.pk}"

    @property
    def rules(self) -> PoolRules:
        """The current rules (the highest version)."""
        current: PoolRules = self.rule_versions.order_by("-version").first()  # type: ignore[assignment]
        return current


class PoolRules(models.Model):
    """One version of a pool's written rules. Never edited: a change is a new version, and a loan keeps the
    version it was approved under. Ratios are integers (percent or basis points), money is fen."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="rule_versions")
    version = models.PositiveIntegerField(_("版本"))
    min_partnership_months = models.PositiveIntegerField(_("最短合作月数"), default=0)
    joining_contribution = models.BigIntegerField(_("入会缴款（分）"), default=0)
    periodic_contribution = models.BigIntegerField(_("定期缴款（分）"), default=0)
    contribution_period_months = models.PositiveIntegerField(_("缴款周期（月）"), default=12)
    limit_multiple_pct = models.PositiveIntegerField(_("借款上限为本人缴款的百分比"), default=300)
    limit_cap = models.BigIntegerField(_("单笔借款上限（分）"), default=5_000_000)
    lendable_share_pct = models.PositiveIntegerField(_("可出借资金比例（%）"), default=80)
    one_open_loan = models.BooleanField(_("每个成员同时只能有一笔借款"), default=True)
    term_days = models.PositiveIntegerField(_("借款期限（天）"), default=180)
    installments = models.PositiveIntegerField(_("还款期数"), default=1)
    fee_bps = models.PositiveIntegerField(_("服务费（基点，按本金一次收取）"), default=0)
    grace_days = models.PositiveIntegerField(_("宽限天数"), default=7)
    guarantors_required = models.PositiveIntegerField(_("需要担保成员数"), default=0)
    guarantee_hold_pct = models.PositiveIntegerField(_("担保冻结比例（占本金 %）"), default=0)
    quorum = models.PositiveIntegerField(_("表决法定人数"), default=3)
    approval_threshold_pct = models.PositiveIntegerField(_("通过比例（%）"), default=67)
    reserve_standard_pct = models.PositiveIntegerField(_("正常类拨备（%）"), default=1)
    reserve_substandard_pct = models.PositiveIntegerField(_("次级类拨备（%）"), default=25)
    reserve_doubtful_pct = models.PositiveIntegerField(_("可疑类拨备（%）"), default=50)
    reserve_loss_pct = models.PositiveIntegerField(_("损失类拨备（%）"), default=100)
    note = models.CharField(_("修订说明"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("生效时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )

    class Meta:
        verbose_name = _("互助金规则")
        verbose_name_plural = _("互助金规则")
        ordering = ["pool", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["pool", "version"], name="pool_rules_one_per_version"),
            models.CheckConstraint(
                condition=models.Q(lendable_share_pct__lte=100, approval_threshold_pct__lte=100, quorum__gte=1),
                name="pool_rules_ratios_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pool_id} v{self.version}"


class PoolRoleKind(models.TextChoices):
    COMMITTEE = "committee", _("委员")
    TREASURER = "treasurer", _("司库")


class PoolRole(models.Model):
    """A person's seat on a pool's committee or as its treasurer (assigned by a hub admin)."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="roles")
    user = models.ForeignKey(USER, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    role = models.CharField(_("角色"), max_length=16, choices=PoolRoleKind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("互助金职务")
        verbose_name_plural = _("互助金职务")
        constraints = [models.UniqueConstraint(fields=["pool", "user", "role"], name="pool_role_unique")]

    def __str__(self) -> str:
        return f"{self.pool_id}:{self.user_id}:{self.role}"


class MemberStatus(models.TextChoices):
    APPLIED = "applied", _("申请中")
    ACTIVE = "active", _("成员")
    REJECTED = "rejected", _("未通过")
    LEFT = "left", _("已退出")


class PoolMember(models.Model):
    """A partner organisation's membership of a pool."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="members")
    organisation = models.ForeignKey(
        "identity.Organisation", on_delete=models.DO_NOTHING, related_name="+", verbose_name=_("组织")
    )
    status = models.CharField(_("状态"), max_length=16, choices=MemberStatus.choices, db_index=True)
    equity_account = models.ForeignKey(
        "ledger.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    applied_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    joined_at = models.DateTimeField(_("加入时间"), null=True, blank=True)
    left_at = models.DateTimeField(_("退出时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    decision_note = models.CharField(_("说明"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("互助金成员")
        verbose_name_plural = _("互助金成员")
        ordering = ["id"]
        constraints = [
            # One live membership per organisation and pool; a member who left may apply again.
            models.UniqueConstraint(
                fields=["pool", "organisation"],
                condition=models.Q(status__in=["applied", "active"]),
                name="pool_member_one_live",
            ),
        ]

    def __str__(self) -> str:
        if "organisation" in self._state.fields_cache:
            return self.organisation.name
        return f"member #{self.pk}"


class Contribution(models.Model):
    """Money a member paid into the pool, recorded by the treasurer with its proof."""

    class Kind(models.TextChoices):
        JOINING = "joining", _("入会缴款")
        PERIODIC = "periodic", _("定期缴款")
        EXTRA = "extra", _("追加缴款")

    member = models.ForeignKey(PoolMember, on_delete=models.PROTECT, related_name="contributions")
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    amount = models.BigIntegerField(_("金额（分）"))
    received_on = models.DateField(_("到账日期"))
    proof = models.ForeignKey(
        "storage.StoredFile", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    ledger_transaction = models.OneToOneField("ledger.LedgerTransaction", on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("缴款")
        verbose_name_plural = _("缴款")
        ordering = ["-received_on", "-id"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="pool_contribution_positive")]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.amount}"


class LoanStatus(models.TextChoices):
    APPLIED = "applied", _("待表决")
    APPROVED = "approved", _("已批准待放款")
    REJECTED = "rejected", _("未通过")
    CANCELLED = "cancelled", _("已撤回")
    DISBURSED = "disbursed", _("还款中")
    REPAID = "repaid", _("已还清")
    WRITTEN_OFF = "written_off", _("已核销")


OPEN_LOAN_STATUSES = (LoanStatus.APPLIED, LoanStatus.APPROVED, LoanStatus.DISBURSED)


class Loan(models.Model):
    """A member's loan, bridging a receivable (usually a late government payment)."""

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="loans")
    member = models.ForeignKey(PoolMember, on_delete=models.PROTECT, related_name="loans")
    rules = models.ForeignKey(PoolRules, on_delete=models.PROTECT, related_name="+", verbose_name=_("规则版本"))
    status = models.CharField(_("状态"), max_length=16, choices=LoanStatus.choices, db_index=True)
    amount = models.BigIntegerField(_("借款金额（分）"))
    fee = models.BigIntegerField(_("服务费（分）"), default=0)
    purpose = models.CharField(_("用途"), max_length=500)
    receivable_payer = models.CharField(_("付款方"), max_length=200)
    receivable_contract = models.CharField(_("合同或项目"), max_length=200)
    receivable_expected_on = models.DateField(_("预计回款日期"))
    receivable_document = models.ForeignKey(
        "storage.StoredFile", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    receivable_paid_on = models.DateField(_("实际回款日期"), null=True, blank=True)
    applied_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    applied_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_at = models.DateTimeField(_("表决时间"), null=True, blank=True)
    disbursed_on = models.DateField(_("放款日期"), null=True, blank=True)
    closed_on = models.DateField(_("结清日期"), null=True, blank=True)
    writeoff_reason = models.CharField(_("核销决议"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("借款")
        verbose_name_plural = _("借款")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0, fee__gte=0), name="pool_loan_amount_positive"),
        ]
        indexes = [models.Index(fields=["pool", "status"], name="pool_loan_pool_status")]

    def __str__(self) -> str:
        return f"loan #{self.pk}"

    @property
    def subject(self) -> str:
        return f"pool:{self.pool_id}/loan:{self.pk}"


class LoanVote(models.Model):
    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="votes")
    voter = models.ForeignKey(USER, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    approve = models.BooleanField(_("赞成"))
    comment = models.CharField(_("意见"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("表决票")
        verbose_name_plural = _("表决票")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["loan", "voter"], name="pool_vote_one_per_voter")]

    def __str__(self) -> str:
        return f"{self.loan_id}:{self.voter_id}:{self.approve}"


class Guarantee(models.Model):
    """A member vouching for a loan: ``amount`` of its equity is held (cannot be taken out on leaving) until the
    loan is repaid, and is applied to the loan if it is written off."""

    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="guarantees")
    guarantor = models.ForeignKey(PoolMember, on_delete=models.PROTECT, related_name="guarantees_given")
    amount = models.BigIntegerField(_("冻结金额（分）"))
    released_at = models.DateTimeField(null=True, blank=True)
    applied_amount = models.BigIntegerField(_("代偿金额（分）"), default=0)

    class Meta:
        verbose_name = _("担保")
        verbose_name_plural = _("担保")
        constraints = [models.UniqueConstraint(fields=["loan", "guarantor"], name="pool_guarantee_unique")]

    def __str__(self) -> str:
        return f"{self.loan_id}:{self.guarantor_id}"


class Installment(models.Model):
    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="installments")
    seq = models.PositiveIntegerField()
    due_on = models.DateField(_("应还日期"))
    principal = models.BigIntegerField(_("应还本金（分）"))
    fee = models.BigIntegerField(_("应还费用（分）"), default=0)
    paid_principal = models.BigIntegerField(_("已还本金（分）"), default=0)
    paid_fee = models.BigIntegerField(_("已还费用（分）"), default=0)

    class Meta:
        ordering = ["loan", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "seq"], name="pool_installment_seq"),
            models.CheckConstraint(
                condition=models.Q(paid_principal__lte=models.F("principal"), paid_fee__lte=models.F("fee")),
                name="pool_installment_not_overpaid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id}#{self.seq}"

    @property
    def due_total(self) -> int:
        return self.principal + self.fee - self.paid_principal - self.paid_fee


class Repayment(models.Model):
    class Source(models.TextChoices):
        TREASURER = "treasurer", _("司库登记")
        OFFSET = "offset", _("退出时以权益抵扣")
        RECEIVABLE = "receivable", _("回款自动匹配")
        GUARANTEE = "guarantee", _("担保代偿")

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="repayments")
    amount = models.BigIntegerField(_("金额（分）"))
    principal = models.BigIntegerField(_("本金（分）"))
    fee = models.BigIntegerField(_("费用（分）"))
    received_on = models.DateField(_("到账日期"))
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    proof = models.ForeignKey(
        "storage.StoredFile", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    ledger_transaction = models.OneToOneField("ledger.LedgerTransaction", on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["received_on", "id"]

    def __str__(self) -> str:
        return f"{self.loan_id}: {self.amount}"


class LoanPause(models.Model):
    """Days past due stop counting while the bridged government payment is confirmed late."""

    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="pauses")
    reason = models.CharField(_("原因"), max_length=500)
    started_on = models.DateField(_("开始日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )

    class Meta:
        ordering = ["started_on", "id"]

    def __str__(self) -> str:
        return f"{self.loan_id}: {self.started_on}–{self.ended_on or ''}"


class Reminder(models.Model):
    """One reminder email per loan, kind and day: the beat task may run twice, the member hears once."""

    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=16)  # "due_soon" | "overdue"
    sent_on = models.DateField()
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["loan", "kind", "sent_on"], name="pool_reminder_once")]

    def __str__(self) -> str:
        return f"{self.loan_id}:{self.kind}:{self.sent_on}"
