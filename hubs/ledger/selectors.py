"""Reads on the hub ledger. Balances are always summed from the entries, the ledger's only truth."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet, Sum

from hubs.ledger.models import Account, LedgerEntry, LedgerTransaction


def account_balance(*, account: Account) -> int:
    """The account's balance in fen, from its entries, seen from its normal side (what an asset holds, what a
    fund has left, what was spent on an expense)."""
    total = LedgerEntry.objects.filter(account_id=account.pk).aggregate(total=Sum("amount"))["total"] or 0
    return account.balance_of(int(total))


def balances(*, accounts: Iterable[Account]) -> dict[int, int]:
    """Balances of many accounts in one query: ``{account id: fen}``, normal side as in ``account_balance``."""
    by_id = {account.pk: account for account in accounts}
    if not by_id:
        return {}
    totals = dict(
        LedgerEntry.objects.filter(account_id__in=list(by_id))
        .values("account_id")
        .annotate(total=Sum("amount"))
        .values_list("account_id", "total")
    )
    return {pk: account.balance_of(int(totals.get(pk) or 0)) for pk, account in by_id.items()}


def account_list(
    *,
    subject: str = "",
    owner_organisation_id: int | None = None,
    kind: str = "",
    include_closed: bool = True,
) -> QuerySet[Account]:
    qs = Account.objects.order_by("code")
    if subject:
        qs = qs.filter(subject=subject)
    if owner_organisation_id is not None:
        qs = qs.filter(owner_organisation_id=owner_organisation_id)
    if kind:
        qs = qs.filter(kind=kind)
    if not include_closed:
        qs = qs.filter(closed_at__isnull=True)
    return qs


def account_find(*, code: str) -> Account | None:
    return Account.objects.filter(code=code).first()


def account_entries(*, account: Account) -> QuerySet[LedgerEntry]:
    """The account's entries, newest first, with their transactions."""
    return LedgerEntry.objects.filter(account_id=account.pk).select_related("transaction").order_by("-seq")


def transaction_list(*, subject: str = "", source: str = "") -> QuerySet[LedgerTransaction]:
    """Transactions, newest first; ``subject`` matches exactly (e.g. everything posted for ``project:42``)."""
    qs = LedgerTransaction.objects.order_by("-created_at", "-id")
    if subject:
        qs = qs.filter(subject=subject)
    if source:
        qs = qs.filter(source=source)
    return qs


def transaction_totals(*, transactions: Iterable[LedgerTransaction]) -> dict[int, int]:
    """How much each transaction moved (the sum of its debits, in fen), in one query."""
    ids = [txn.pk for txn in transactions]
    rows = (
        LedgerEntry.objects.filter(transaction_id__in=ids, amount__gt=0)
        .values("transaction_id")
        .annotate(total=Sum("amount"))
        .values_list("transaction_id", "total")
    )
    totals = {txn_id: int(total) for txn_id, total in rows}
    return {pk: totals.get(pk, 0) for pk in ids}


def transaction_with_entries(*, pk: int) -> LedgerTransaction | None:
    return (
        LedgerTransaction.objects.select_related("reverses", "reversed_by")
        .prefetch_related("entries__account")
        .filter(pk=pk)
        .first()
    )


def trial_balance() -> dict[str, int]:
    """Sum of every entry per currency (debit positive). Zero for each currency in a sound ledger."""
    rows = LedgerEntry.objects.values("currency").annotate(total=Sum("amount")).values_list("currency", "total")
    return {currency: int(total or 0) for currency, total in rows}
