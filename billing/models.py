"""Billing records (public schema). Everything here belongs to one hub and carries it.

Stripe stays the authority on money: these rows are what we last saw of it (customer, subscription, invoices),
every webhook event as received, and what only we decide (comps, credits granted, dunning and read-only state).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenants.models import Hub


class SubscriptionStatus(models.TextChoices):
    """Stripe's subscription statuses, labelled for people."""

    TRIALING = "trialing", _("试用中")
    ACTIVE = "active", _("正常")
    PAST_DUE = "past_due", _("逾期未付")
    UNPAID = "unpaid", _("未付款")
    INCOMPLETE = "incomplete", _("待首次付款")
    INCOMPLETE_EXPIRED = "incomplete_expired", _("首次付款已过期")
    CANCELED = "canceled", _("已取消")
    PAUSED = "paused", _("已暂停")


# A subscription in these states gives its plan's limits. Past due keeps them during the grace period: the hub
# becomes read-only only when the grace period ends unpaid.
ENTITLED_STATUSES = frozenset({SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE})


class BillingAccount(models.Model):
    """One per hub: its Stripe customer, its subscription as last seen, any comp, and its dunning state."""

    hub = models.OneToOneField(
        Hub, on_delete=models.CASCADE, related_name="billing_account", primary_key=True, verbose_name=_("枢纽")
    )
    stripe_customer_id = models.CharField(_("Stripe 客户"), max_length=64, unique=True, null=True, blank=True)
    billing_email = models.EmailField(_("账单邮箱"), blank=True)
    default_payment_method = models.CharField(_("默认付款方式"), max_length=64, blank=True)
    payment_method_label = models.CharField(_("付款方式"), max_length=100, blank=True)

    subscription_id = models.CharField(_("Stripe 订阅"), max_length=64, blank=True, db_index=True)
    subscription_status = models.CharField(_("订阅状态"), max_length=32, choices=SubscriptionStatus.choices, blank=True)
    subscription_item_id = models.CharField(max_length=64, blank=True)
    subscription_created = models.DateTimeField(null=True, blank=True)
    price_id = models.CharField(_("Stripe 价格"), max_length=100, blank=True)
    subscribed_plan = models.CharField(_("订阅套餐"), max_length=32, blank=True)
    seats = models.PositiveIntegerField(_("席位数"), default=0)
    current_period_end = models.DateTimeField(_("本期结束"), null=True, blank=True)
    cancel_at_period_end = models.BooleanField(_("期末取消"), default=False)
    trial_end = models.DateTimeField(_("试用结束"), null=True, blank=True)
    # Stripe's time of the subscription state held here: an older event never overwrites a newer state.
    subscription_state_at = models.DateTimeField(null=True, blank=True)
    trial_used = models.BooleanField(default=False)

    comp_plan = models.CharField(_("赠送套餐"), max_length=32, blank=True)
    comp_seats = models.PositiveIntegerField(_("赠送席位"), null=True, blank=True)
    comp_reason = models.CharField(_("赠送原因"), max_length=500, blank=True)
    comp_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    comp_at = models.DateTimeField(null=True, blank=True)

    payment_failed_at = models.DateTimeField(_("付款失败时间"), null=True, blank=True)
    dunning_emails_sent = models.PositiveSmallIntegerField(default=0)
    last_dunning_email_at = models.DateTimeField(null=True, blank=True)
    read_only_by_billing = models.BooleanField(_("因欠费只读"), default=False)
    read_only_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("计费账户")
        verbose_name_plural = _("计费账户")

    def __str__(self) -> str:
        return f"billing of {self.hub_id}"

    @property
    def has_live_subscription(self) -> bool:
        return bool(self.subscription_id) and self.subscription_status in ENTITLED_STATUSES

    @property
    def subscription_status_label(self) -> str:
        if not self.subscription_status:
            return ""
        return str(SubscriptionStatus(self.subscription_status).label)


class StripeEvent(models.Model):
    """Every webhook event, stored once (Stripe's event id is unique) before it is processed by a task."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    created = models.DateTimeField(_("Stripe 时间"))
    livemode = models.BooleanField(default=False)
    payload = models.JSONField()
    hub = models.ForeignKey(Hub, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    result = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("Stripe 事件")
        verbose_name_plural = _("Stripe 事件")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    OPEN = "open", _("待付款")
    PAID = "paid", _("已付款")
    VOID = "void", _("已作废")
    UNCOLLECTIBLE = "uncollectible", _("无法收回")


# Invoices only move forward: draft → open → paid / void / uncollectible.
INVOICE_STATUS_RANK = {"draft": 0, "open": 1, "paid": 2, "void": 2, "uncollectible": 2}


class BillingInvoice(models.Model):
    """A hub's Stripe invoice as last seen, so the hub's invoice list does not call Stripe."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="billing_invoices")
    stripe_invoice_id = models.CharField(max_length=64, unique=True)
    number = models.CharField(_("编号"), max_length=64, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=InvoiceStatus.choices)
    currency = models.CharField(_("币种"), max_length=3, default="cny")
    total = models.BigIntegerField(_("金额（分）"), default=0)
    amount_due = models.BigIntegerField(_("应付（分）"), default=0)
    amount_paid = models.BigIntegerField(_("已付（分）"), default=0)
    billing_reason = models.CharField(max_length=40, blank=True)
    subscription_id = models.CharField(max_length=64, blank=True)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(_("开具时间"))
    paid_at = models.DateTimeField(_("付款时间"), null=True, blank=True)
    hosted_invoice_url = models.URLField(max_length=1000, blank=True)
    invoice_pdf = models.URLField(max_length=1000, blank=True)
    lines = models.JSONField(default=list)
    attempt_count = models.PositiveIntegerField(default=0)
    state_at = models.DateTimeField()

    class Meta:
        verbose_name = _("账单")
        verbose_name_plural = _("账单")
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["hub", "-created"], name="billing_invoice_hub_created")]

    def __str__(self) -> str:
        return self.number or self.stripe_invoice_id

    @property
    def status_label(self) -> str:
        return str(InvoiceStatus(self.status).label) if self.status in InvoiceStatus.values else self.status


class BillingCredit(models.Model):
    """A manual credit an operator granted a hub; Stripe takes it off the hub's next invoice."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="billing_credits")
    amount = models.PositiveBigIntegerField(_("金额（分）"))
    currency = models.CharField(max_length=3, default="cny")
    reason = models.CharField(_("原因"), max_length=500)
    stripe_invoice_item_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("账单抵扣")
        verbose_name_plural = _("账单抵扣")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"credit {self.amount} to {self.hub_id}"


class StripePrice(models.Model):
    """A plan's Stripe price made by ``billing_sync --create-prices`` (settings' STRIPE_PRICE_IDS win over it)."""

    plan = models.CharField(max_length=32, unique=True)
    price_id = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Stripe 价格")
        verbose_name_plural = _("Stripe 价格")

    def __str__(self) -> str:
        return f"{self.plan}: {self.price_id}"
