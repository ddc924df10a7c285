"""The hub ledger: a chart of accounts and an append-only, hash-chained, double-entry journal (hub schema).

Amounts are integers in fen (分). An entry's ``amount`` is signed the accountant's way: debit positive, credit
negative, so every transaction sums to zero. What people call an account's balance is that sum seen from the
account's normal side (``Account.balance_of``): what an asset holds, what a fund has left, what was spent.

Writes go through ``hubs.ledger.services`` only. The database backs the rules up (migration 0002): entries and
transactions cannot be updated or deleted, a transaction that does not balance cannot commit, an account's
running total is kept by a trigger from its entries, and a no-overdraft account cannot go below zero.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


class AccountKind(models.TextChoices):
    ASSET = "asset", _("资产")
    LIABILITY = "liability", _("负债")
    NET_ASSETS = "net_assets", _("净资产")
    INCOME = "income", _("收入")
    EXPENSE = "expense", _("费用")


# Kinds whose balance grows with debits; the others grow with credits.
DEBIT_NORMAL_KINDS = frozenset({AccountKind.ASSET, AccountKind.EXPENSE})


class Currency(models.TextChoices):
    CNY = "CNY", _("人民币")
    HKD = "HKD", _("港币")
    USD = "USD", _("美元")


class Account(models.Model):
    """One account of the hub's chart.

    Owners are plain references so later apps attach without schema changes: ``owner_organisation_id`` is a
    public-schema Organisation id (a funder, an implementing NGO) and ``subject`` a key such as ``project:42`` or
    ``pool:3``. ``restricted_to`` (a subject key) makes the account restricted: money may leave it only for that
    subject or something inside it (``project:42`` admits ``project:42`` and ``project:42/line:7``).
    """

    code = models.CharField(_("科目编码"), max_length=100, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("类别"), max_length=16, choices=AccountKind.choices)
    currency = models.CharField(_("币种"), max_length=3, choices=Currency.choices, default=Currency.CNY)
    owner_organisation_id = models.BigIntegerField(_("所属组织"), null=True, blank=True, db_index=True)
    subject = models.CharField(_("关联对象"), max_length=100, blank=True, db_index=True)
    restricted_to = models.CharField(_("限定用途"), max_length=100, blank=True)
    no_overdraft = models.BooleanField(_("不允许透支"), default=False)
    # Sum of this account's entry amounts (debit positive). Kept by a database trigger on entry insert and
    # checked against the entries by chain_verify; a cache for the locked overdraft check, never the truth.
    running_total = models.BigIntegerField(_("累计发生额"), default=0, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,  # the user lives in the public schema and may be erased on request (PIPL)
        related_name="+",
        verbose_name=_("创建人"),
    )
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("账户")
        verbose_name_plural = _("账户")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=AccountKind.values), name="ledger_account_kind_valid"),
            # Backs up the service's locked check: a no-overdraft account never shows a negative balance.
            models.CheckConstraint(
                condition=models.Q(no_overdraft=False)
                | models.Q(kind__in=sorted(DEBIT_NORMAL_KINDS), running_total__gte=0)
                | (~models.Q(kind__in=sorted(DEBIT_NORMAL_KINDS)) & models.Q(running_total__lte=0)),
                name="ledger_account_no_overdraft",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def debit_normal(self) -> bool:
        return self.kind in DEBIT_NORMAL_KINDS

    @property
    def restricted(self) -> bool:
        return bool(self.restricted_to)

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    def balance_of(self, total: int) -> int:
        """A debit-positive sum of entries, seen from this account's normal side."""
        return total if self.debit_normal else -total


class _AppendOnly(models.Model):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Append-only: written once by the posting service, never changed (a database trigger enforces it too).
        if not self._state.adding:
            raise ValueError("the ledger is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("the ledger is append-only")


class LedgerTransaction(_AppendOnly):
    """One balanced movement of money. Corrections are new transactions that reverse an earlier one."""

    # Callers name their keys so they cannot collide: "api:<user>:<client key>", "project:42/disbursement:3".
    idempotency_key = models.CharField(_("幂等键"), max_length=200, unique=True)
    # Digest of what was asked for; posting the same key with a different request is refused.
    request_hash = models.CharField(max_length=64)
    currency = models.CharField(_("币种"), max_length=3, choices=Currency.choices)
    memo = models.CharField(_("摘要"), max_length=500, blank=True)
    source = models.CharField(_("来源"), max_length=40, default="manual")
    subject = models.CharField(_("关联对象"), max_length=100, blank=True, db_index=True)
    occurred_at = models.DateTimeField(_("业务发生时间"))
    created_at = models.DateTimeField(_("记账时间"), db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("记账人"),
    )
    # One-to-one: a transaction is reversed at most once, and the database says so.
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by", verbose_name=_("冲销")
    )

    class Meta:
        verbose_name = _("记账凭证")
        verbose_name_plural = _("记账凭证")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.memo}"[:200]


class LedgerEntry(_AppendOnly):
    """One line of a transaction, and one link of the hub's hash chain (``seq`` is its position)."""

    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries", verbose_name=_("记账凭证")
    )
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries", verbose_name=_("账户"))
    amount = models.BigIntegerField(_("金额（分）"))  # debit positive, credit negative
    currency = models.CharField(_("币种"), max_length=3, choices=Currency.choices)
    # What money leaving a restricted account pays for (a subject key inside the account's restriction).
    purpose = models.CharField(_("用途"), max_length=100, blank=True)
    seq = models.BigIntegerField(_("链序号"), unique=True)
    hash = models.CharField(_("哈希"), max_length=64)

    class Meta:
        verbose_name = _("分录")
        verbose_name_plural = _("分录")
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["account", "-seq"], name="ledger_entry_account_seq"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="ledger_entry_amount_nonzero"),
        ]

    def __str__(self) -> str:
        return f"{self.seq}: {self.account_id} {self.amount}"

    @property
    def debit(self) -> int:
        return self.amount if self.amount > 0 else 0

    @property
    def credit(self) -> int:
        return -self.amount if self.amount < 0 else 0


class ChainHead(models.Model):
    """The one row that says where the hub's chain ends. Posting locks it, so the chain never forks."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("哈希链头")
        verbose_name_plural = _("哈希链头")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="ledger_chainhead_singleton")]

    def __str__(self) -> str:
        return f"{self.seq}: {self.hash[:12]}"
