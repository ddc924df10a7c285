"""Builders for ledger tests: accounts with unique codes, so tests never depend on what others left behind."""

from __future__ import annotations

import uuid
from typing import Any

from hubs.ledger import services
from hubs.ledger.models import Account, AccountKind


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def account(kind: str = AccountKind.ASSET, **kwargs: Any) -> Account:
    code = kwargs.pop("code", unique(kind))
    return services.account_create(code=code, name=kwargs.pop("name", code), kind=kind, actor=None, **kwargs)


def fund(bank: Account, amount: int, *, into: Account | None = None) -> Account:
    """Put ``amount`` fen into ``bank`` from a fresh donation-income account (or ``into``'s counterpart)."""
    income = into or account(AccountKind.INCOME)
    services.transaction_post(
        idempotency_key=unique("fund"),
        lines=[services.Line.debit(bank, amount), services.Line.credit(income, amount)],
        actor=None,
        memo="捐赠到账",
    )
    return income
