"""Writes on the hub ledger. Other apps (projects, the mutual-aid pool, ...) post through these functions only.

Posting (``transaction_post``) is the record of a movement of money; account creation and closing and reversals
also leave audit events. Every function runs inside the current hub's schema and may be called inside the
caller's own ``transaction.atomic()`` (the ledger's locks are then held until the caller commits: keep it short).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hubs.ledger.models import Account, AccountKind, Currency, LedgerTransaction
from hubs.ledger.money import money_format
from hubs.ledger.posting import MAX_LINES, Line, PostingResult, post, subject_within, user_or_none
from hubs.ledger.selectors import account_balance
from huoban.audit.services import audit_record
from huoban.errors import ApplicationError
from huoban.identity.models import Organisation

__all__ = [
    "DEFAULT_CHART",
    "MAX_LINES",
    "Line",
    "PostingResult",
    "account_close",
    "account_create",
    "chart_ensure_defaults",
    "subject_within",
    "transaction_post",
    "transaction_reverse",
]

# --- accounts -------------------------------------------------------------------------------------------------


def account_create(
    *,
    code: str,
    name: str,
    kind: str,
    actor: Any | None,
    currency: str = Currency.CNY,
    owner_organisation_id: int | None = None,
    subject: str = "",
    restricted_to: str = "",
    no_overdraft: bool = False,
    exist_ok: bool = False,
) -> Account:
    """Open an account in the current hub's chart. With ``exist_ok`` an account already holding ``code`` is
    returned if it has the same kind, currency, owner and rules (so callers can ensure their accounts from
    retried tasks); otherwise a taken code is refused. Records ``ledger.account.created``.
    """
    code = (code or "").strip()
    name = (name or "").strip()
    if not code or len(code) > 100 or any(ch.isspace() for ch in code):
        raise ApplicationError(_("科目编码不能为空、不能含空格，最长 100 个字符。"), code="invalid_account_code")
    if not name:
        raise ApplicationError(_("请填写账户名称。"), code="invalid_account_name", extra={"field": "name"})
    if kind not in AccountKind.values:
        raise ApplicationError(_("账户类别无效。"), code="invalid_account_kind", extra={"field": "kind"})
    if currency not in Currency.values:
        raise ApplicationError(_("不支持的币种。"), code="invalid_currency", extra={"field": "currency"})
    if len(name) > 200 or len(subject) > 100 or len(restricted_to) > 100:
        raise ApplicationError(_("名称、关联对象或限定用途过长。"), code="invalid", extra={"field": "name"})
    if owner_organisation_id is not None and not Organisation.objects.filter(pk=owner_organisation_id).exists():
        raise ApplicationError(
            _("所属组织不存在。"), code="invalid_organisation", extra={"field": "owner_organisation_id"}
        )
    wanted = {
        "kind": kind,
        "currency": currency,
        "owner_organisation_id": owner_organisation_id,
        "subject": subject,
        "restricted_to": restricted_to,
        "no_overdraft": no_overdraft,
    }
    existing = Account.objects.filter(code=code).first()
    if existing is None:
        try:
            with transaction.atomic():
                account = Account.objects.create(code=code, name=name, created_by=user_or_none(actor), **wanted)
                audit_record(
                    actor=actor,
                    action="ledger.account.created",
                    obj=account,
                    after={"code": code, "name": name, **wanted},
                )
                return account
        except IntegrityError:
            existing = Account.objects.filter(code=code).first()
            if existing is None:
                raise
    if exist_ok and all(getattr(existing, key) == value for key, value in wanted.items()):
        return existing
    raise ApplicationError(
        _("科目编码 %(code)s 已被使用。") % {"code": code}, code="account_code_taken", extra={"field": "code"}
    )


def account_close(*, account: Account, actor: Any | None) -> Account:
    """Close an account whose balance is zero; it takes no postings afterwards. Records ``ledger.account.closed``."""
    with transaction.atomic():
        locked = Account.objects.select_for_update().get(pk=account.pk)
        if locked.closed_at is not None:
            raise ApplicationError(_("该账户已关闭。"), code="account_closed", status=409)
        balance = account_balance(account=locked)
        if balance != 0:
            raise ApplicationError(
                _("账户余额为 %(balance)s，只有余额为零的账户才能关闭。")
                % {"balance": money_format(balance, locked.currency)},
                code="account_not_empty",
                status=409,
                extra={"balance": balance},
            )
        locked.closed_at = timezone.now()
        locked.save(update_fields=["closed_at"])
        audit_record(
            actor=actor,
            action="ledger.account.closed",
            obj=locked,
            before={"closed_at": None},
            after={"closed_at": locked.closed_at.isoformat()},
        )
    return locked


# Standard accounts of a Chinese non-profit (民间非营利组织会计制度), for hubs that want a starting chart.
DEFAULT_CHART: tuple[tuple[str, str, str], ...] = (
    ("1001", "库存现金", AccountKind.ASSET),
    ("1002", "银行存款", AccountKind.ASSET),
    ("2209", "其他应付款", AccountKind.LIABILITY),
    ("3101", "非限定性净资产", AccountKind.NET_ASSETS),
    ("3102", "限定性净资产", AccountKind.NET_ASSETS),
    ("4101", "捐赠收入", AccountKind.INCOME),
    ("4401", "政府补助收入", AccountKind.INCOME),
    ("5101", "业务活动成本", AccountKind.EXPENSE),
    ("5201", "管理费用", AccountKind.EXPENSE),
)


def chart_ensure_defaults(*, actor: Any | None) -> list[Account]:
    """Open the standard accounts that are missing (idempotent)."""
    return [
        account_create(
            code=code, name=name, kind=kind, actor=actor, no_overdraft=kind == AccountKind.ASSET, exist_ok=True
        )
        for code, name, kind in DEFAULT_CHART
    ]


# --- posting --------------------------------------------------------------------------------------------------


def transaction_post(
    *,
    idempotency_key: str,
    lines: Sequence[Line],
    actor: Any | None,
    memo: str = "",
    occurred_at: datetime | None = None,
    currency: str = Currency.CNY,
    source: str = "manual",
    subject: str = "",
) -> PostingResult:
    """Post a balanced transaction to the current hub's ledger and chain its entries.

    Rules, checked with the affected accounts locked (``SELECT ... FOR UPDATE`` in id order, so concurrent
    postings queue instead of deadlocking):
    - at least two lines, each a non-zero integer of fen, summing to zero; one currency, the accounts' own;
    - no closed account; money leaving a restricted account must name a ``purpose`` inside its restriction;
    - a ``no_overdraft`` account may not go below zero (``insufficient_funds``, with the available amount).
    Idempotent by ``idempotency_key`` (callers namespace their keys, e.g. ``"project:42/disbursement:3"``): the
    same key again returns the first transaction with ``created=False``; the same key with a different request is
    refused (``idempotency_conflict``). The posting is itself the record: no separate audit event.
    """
    return post(
        idempotency_key=idempotency_key,
        lines=lines,
        actor=actor,
        memo=memo,
        occurred_at=occurred_at,
        currency=currency,
        source=source,
        subject=subject,
        reverses=None,
    )


def transaction_reverse(
    *,
    transaction: LedgerTransaction,
    idempotency_key: str,
    actor: Any | None,
    memo: str = "",
    occurred_at: datetime | None = None,
) -> PostingResult:
    """Correct a transaction by posting its mirror image. A transaction is reversed at most once
    (``already_reversed``) and a reversal is not itself reversed (post the original again instead). Restrictions
    do not apply (the reversal restores an earlier state) but no-overdraft does: money already spent cannot be
    un-received. Records ``ledger.transaction.reversed``.
    """
    original = transaction
    if original.reverses_id is not None:
        raise ApplicationError(
            _("冲销凭证不能再被冲销；如需恢复，请重新记账。"), code="reversal_not_reversible", status=409
        )
    lines = [Line(entry.account_id, -entry.amount, entry.purpose) for entry in original.entries.order_by("seq")]
    return post(
        idempotency_key=idempotency_key,
        lines=lines,
        actor=actor,
        memo=memo or _("冲销凭证 #%(id)s") % {"id": original.pk},
        occurred_at=occurred_at,
        currency=original.currency,
        source=original.source,
        subject=original.subject,
        reverses=original,
    )
