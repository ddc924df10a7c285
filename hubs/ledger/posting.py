"""How a posting is written: the locked, chained path behind ``services.transaction_post`` and
``services.transaction_reverse``. Other apps call the services, not this module.

Two round trips, because on a small machine each query costs more Python time than the database spends on it:

1. look the idempotency key up (a replay returns the first transaction) and take an id for a new one;
2. ``SELECT ledger_post(...)`` (migration 0004): insert the transaction, lock the affected accounts in id order,
   check the rules against their running totals, then lock the hub's chain head, number and hash the entries
   (their canonical bodies are made here, in Python), insert them and move the head. The database checks they
   balance and updates the running totals. A refused rule raises an ``HL`` SQLSTATE, turned here into the
   translated error.

Outside a caller's transaction the second statement is the whole database transaction: it commits as it ends,
so the account locks and the chain head, which serialises every posting of the hub, are held only for the
server's own work and the commit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hubs.ledger.chain import entry_body, transaction_canonical_fields
from hubs.ledger.models import Account, Currency, LedgerTransaction
from hubs.ledger.money import MAX_FEN, money_format
from huoban.audit.services import audit_record
from huoban.db import connection
from huoban.errors import ApplicationError

MAX_LINES = 200
KEY_MAX_LENGTH = 200


@dataclass(frozen=True)
class Line:
    """One line of a transaction to post: ``amount`` fen, debit positive, credit negative.

    Prefer the constructors, which take positive amounts: ``Line.debit(bank, 10000)``, ``Line.credit(fund, 10000,
    purpose="project:42/line:7")``. ``purpose`` says what money leaving a restricted account pays for.
    """

    account_id: int
    amount: int
    purpose: str = ""

    @classmethod
    def debit(cls, account: Account | int, amount: int, purpose: str = "") -> Line:
        _check_positive(amount)
        return cls(_account_id(account), amount, purpose)

    @classmethod
    def credit(cls, account: Account | int, amount: int, purpose: str = "") -> Line:
        _check_positive(amount)
        return cls(_account_id(account), -amount, purpose)


@dataclass(frozen=True)
class PostingResult:
    """The transaction, and whether this call made it (False: the key had been posted before)."""

    transaction: LedgerTransaction
    created: bool


def _account_id(account: Account | int) -> int:
    return account.pk if isinstance(account, Account) else int(account)


def _is_amount(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_positive(amount: int) -> None:
    if not _is_amount(amount) or amount <= 0:
        raise ApplicationError(_("金额必须是大于零的整数（单位：分）。"), code="invalid_amount")


def subject_within(purpose: str, scope: str) -> bool:
    """True if ``purpose`` is ``scope`` or lies inside it: ``project:42/line:7`` is within ``project:42``."""
    return bool(scope) and (purpose == scope or purpose.startswith(scope + "/"))


def user_or_none(actor: Any | None) -> Any | None:
    return actor if getattr(actor, "is_authenticated", False) else None


def _request_hash(
    *,
    lines: Sequence[Line],
    memo: str,
    occurred_at: datetime | None,
    currency: str,
    source: str,
    subject: str,
    reverses_id: int | None,
) -> str:
    body = {
        "lines": sorted([line.account_id, line.amount, line.purpose] for line in lines),
        "memo": memo,
        "occurred_at": occurred_at.isoformat() if occurred_at else None,
        "currency": currency,
        "source": source,
        "subject": subject,
        "reverses": reverses_id,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _validate(
    *, idempotency_key: str, lines: Sequence[Line], memo: str, currency: str, source: str, subject: str
) -> None:
    if not idempotency_key or len(idempotency_key) > KEY_MAX_LENGTH:
        raise ApplicationError(_("缺少幂等键，或幂等键超过 200 个字符。"), code="idempotency_key_required")
    if currency not in Currency.values:
        raise ApplicationError(_("不支持的币种。"), code="invalid_currency", extra={"field": "currency"})
    if len(lines) < 2 or len(lines) > MAX_LINES:
        raise ApplicationError(_("一笔凭证需要 2 至 200 条分录。"), code="invalid_lines", extra={"field": "lines"})
    if len(memo) > 500 or len(source) > 40 or len(subject) > 100:
        raise ApplicationError(_("摘要、来源或关联对象过长。"), code="invalid", extra={"field": "memo"})
    for line in lines:
        if not _is_amount(line.amount) or line.amount == 0 or abs(line.amount) > 10 * MAX_FEN:
            raise ApplicationError(_("每条分录的金额必须是非零整数（单位：分）。"), code="invalid_amount")
        if len(line.purpose) > 100:
            raise ApplicationError(_("用途最长 100 个字符。"), code="invalid", extra={"field": "purpose"})
    if sum(line.amount for line in lines) != 0:
        raise ApplicationError(
            _("借贷不平衡：借方合计必须等于贷方合计。"),
            code="unbalanced",
            extra={"difference": sum(line.amount for line in lines)},
        )


def post(
    *,
    idempotency_key: str,
    lines: Sequence[Line],
    actor: Any | None,
    memo: str,
    occurred_at: datetime | None,
    currency: str,
    source: str,
    subject: str,
    reverses: LedgerTransaction | None,
) -> PostingResult:
    lines = list(lines)
    if occurred_at is not None and timezone.is_naive(occurred_at):
        # as Django's ORM would store it; the hash must cover the same instant the database keeps
        occurred_at = timezone.make_aware(occurred_at)
    _validate(
        idempotency_key=idempotency_key, lines=lines, memo=memo, currency=currency, source=source, subject=subject
    )
    request_hash = _request_hash(
        lines=lines,
        memo=memo,
        occurred_at=occurred_at,
        currency=currency,
        source=source,
        subject=subject,
        reverses_id=reverses.pk if reverses else None,
    )
    with connection.cursor() as django_cursor:  # connects and sets the hub's search path
        # Server-side binding: parameters travel as values (no quoting in Python) and the two statements are
        # prepared after a few uses. Plans follow the search path: PostgreSQL re-parses a prepared statement
        # when the search path has changed since it was prepared.
        cursor = psycopg.Cursor(django_cursor.cursor.connection)
        txn_id, existing = _replay_or_allocate(cursor, idempotency_key, request_hash)
        if existing is not None:
            return PostingResult(existing, created=False)
        now = timezone.now()
        txn = LedgerTransaction(
            id=txn_id,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            currency=currency,
            memo=memo,
            source=source,
            subject=subject,
            occurred_at=occurred_at or now,
            created_at=now,
            created_by=user_or_none(actor),
            reverses=reverses,
        )
        header = transaction_canonical_fields(txn)
        bodies = [
            entry_body(
                account_id=line.account_id, amount=line.amount, currency=currency, purpose=line.purpose, **header
            )
            for line in lines
        ]
        params = [
            txn.pk,
            txn.idempotency_key,
            txn.request_hash,
            txn.currency,
            txn.memo,
            txn.source,
            txn.subject,
            txn.occurred_at,
            txn.created_at,
            txn.created_by_id,
            txn.reverses_id,
            [line.account_id for line in lines],
            [line.amount for line in lines],
            [line.purpose for line in lines],
            bodies,
        ]
        try:
            if reverses is None and connection.get_autocommit() and not connection.in_atomic_block:
                # The whole database transaction is this one statement: it commits as it ends, and the account
                # and chain-head locks it takes are released by the server without waiting for this process.
                posted = _post_statement(cursor, params)
            else:
                with transaction.atomic():  # a savepoint inside the caller's transaction
                    posted = _post_statement(cursor, params)
                    if posted and reverses is not None:
                        audit_record(
                            actor=actor,
                            action="ledger.transaction.reversed",
                            obj=reverses,
                            before={"reversed_by": None},
                            after={"reversed_by": txn.pk, "memo": memo},
                        )
        except IntegrityError:
            # Two reversals of the same transaction: the one-to-one link refuses the second.
            if reverses is not None and LedgerTransaction.objects.filter(reverses=reverses).exists():
                raise _already_reversed(reverses) from None
            raise
        except DatabaseError as exc:
            refusal = _refusal(exc.__cause__, lines=lines, currency=currency)
            if refusal is None:
                raise
            raise refusal from None
        if not posted:
            # The key was posted first by a concurrent request (the insert waited for it): answer as a replay.
            _unused, existing = _replay_or_allocate(cursor, idempotency_key, request_hash)
            if existing is None:  # pragma: no cover - ON CONFLICT skips only a key whose posting has committed
                raise ApplicationError(_("记账冲突，请重试。"), code="conflict", status=409)
            return PostingResult(existing, created=False)
    txn._state.adding = False
    txn._state.db = connection.alias
    return PostingResult(txn, created=True)


def _post_statement(cursor: Any, params: list[Any]) -> bool:
    """``ledger_post`` (migration 0004): insert the transaction, lock its accounts in id order, check the rules,
    chain the entries. The database then checks they balance and adds them to the running totals (statement
    trigger, migration 0003); the no-overdraft check constraint backs up the rules. False: the key was taken."""
    with connection.wrap_database_errors:  # Django's errors, and a broken connection noticed, as for its cursors
        cursor.execute(
            "SELECT ledger_post(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
            "%s::bigint[], %s::bigint[], %s::varchar[], %s::text[])",
            params,
        )
        row = cursor.fetchone()
    return row is not None and row[0] is not None


def _replay_or_allocate(cursor: Any, key: str, request_hash: str) -> tuple[int, LedgerTransaction | None]:
    """One round trip: the transaction already posted under ``key`` if there is one (a replay), and an id for a
    new one (the entries' canonical bodies name their transaction, so the id is needed before posting; an
    unused id is a harmless gap)."""
    with connection.wrap_database_errors:
        cursor.execute(
            f"SELECT nextval('ledger_ledgertransaction_id_seq'), {_TXN_SELECT_T} "  # noqa: S608
            "FROM (SELECT 1) one LEFT JOIN ledger_ledgertransaction t ON t.idempotency_key = %s",
            [key],
        )
        row = cursor.fetchone()
    if row[1] is None:
        return row[0], None
    existing = LedgerTransaction.from_db(connection.alias, _TXN_ATTNAMES, row[1:])
    if existing.request_hash != request_hash:
        raise ApplicationError(
            _("该幂等键已用于另一笔不同的记账请求。"),
            code="idempotency_conflict",
            status=409,
            extra={"transaction": existing.pk},
        )
    return row[0], existing


def _already_reversed(original: LedgerTransaction) -> ApplicationError:
    return ApplicationError(
        _("凭证 #%(id)s 已被冲销过，不能重复冲销。") % {"id": original.pk},
        code="already_reversed",
        status=409,
        extra={"transaction": original.pk},
    )


def _refusal(exc: BaseException | None, *, lines: list[Line], currency: str) -> ApplicationError | None:
    """The translated error for a rule ``ledger_post`` refused (SQLSTATE class HL), read after the rollback."""
    if not isinstance(exc, psycopg.Error) or not (exc.sqlstate or "").startswith("HL"):
        return None
    code, detail = exc.sqlstate or "", exc.diag.message_detail or ""
    if code == "HL001":
        missing = [int(x) for x in detail.split(",") if x]
        return ApplicationError(
            _("账户不存在：%(ids)s。") % {"ids": ", ".join(map(str, missing))},
            code="account_not_found",
            status=404,
            extra={"accounts": missing},
        )
    account_id, *figures = (int(x) for x in detail.split(","))
    account = Account.objects.get(pk=account_id)
    if code == "HL002":
        return ApplicationError(
            _("账户「%(account)s」已关闭，不能记账。") % {"account": account},
            code="account_closed",
            status=409,
            extra={"account": account.pk},
        )
    if code == "HL003":
        return ApplicationError(
            _("一笔凭证只能使用一种币种：账户「%(account)s」为 %(account_currency)s，凭证为 %(currency)s。")
            % {"account": account, "account_currency": account.currency, "currency": currency},
            code="currency_mismatch",
            extra={"account": account.pk},
        )
    if code == "HL004":
        purpose = next(
            (
                line.purpose
                for line in lines
                if line.account_id == account.pk and not subject_within(line.purpose, account.restricted_to)
            ),
            "",
        )
        return ApplicationError(
            _("账户「%(account)s」的资金限定用于 %(restriction)s，不能用于「%(purpose)s」。")
            % {"account": account, "restriction": account.restricted_to, "purpose": purpose or _("未注明用途")},
            code="restricted_funds",
            extra={"account": account.pk, "restricted_to": account.restricted_to},
        )
    available, needed = figures
    return ApplicationError(
        _("账户「%(account)s」余额不足：可用 %(available)s，本笔需要 %(needed)s。")
        % {
            "account": account,
            "available": money_format(available, account.currency),
            "needed": money_format(needed, account.currency),
        },
        code="insufficient_funds",
        status=409,
        extra={"account": account.pk, "available": available, "needed": needed},
    )


_TXN_FIELDS = LedgerTransaction._meta.concrete_fields
_TXN_SELECT_T = ", ".join(f"t.{f.column}" for f in _TXN_FIELDS)
_TXN_ATTNAMES = [f.attname for f in _TXN_FIELDS]
