"""The hub's hash chain over ledger entries, and the check that proves the ledger intact.

Each entry stores ``hash = sha256(previous entry's hash + canonical serialisation of the entry)``; the first
entry follows ``GENESIS_HASH``. The canonical serialisation is ``"<seq>|<body>"``: the entry's position in the
chain, then a canonical JSON body of every field a reader relies on (account, amount, currency, purpose, and the
transaction's id, key, memo, times, author, reversal link). Changing any of them, removing an entry or inserting
one breaks the chain from there on.

The body is made here, in Python, before the posting locks the chain; the database function
``ledger_chain_append`` (migration 0002), called by ``ledger_post`` (migration 0004) as its last step, then
numbers and hashes the entries under the chain-head lock, so the lock that serialises a hub's postings is held for
as short a time as possible. ``chain_verify`` recomputes every hash here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from hubs.ledger.models import DEBIT_NORMAL_KINDS, GENESIS_HASH, ChainHead, LedgerEntry, LedgerTransaction
from huoban.db import connection

CANONICAL_VERSION = 1


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_body(
    *,
    account_id: int,
    amount: int,
    currency: str,
    purpose: str,
    transaction_id: int,
    idempotency_key: str,
    transaction_currency: str,
    memo: str,
    source: str,
    subject: str,
    occurred_at: datetime,
    created_at: datetime,
    created_by_id: int | None,
    reverses_id: int | None,
) -> str:
    """An entry's content as canonical JSON: sorted keys, no whitespace, text as is (UTF-8), UTC timestamps with
    microseconds. Stable across versions of Python, Django and PostgreSQL."""
    return json.dumps(
        {
            "v": CANONICAL_VERSION,
            "account": account_id,
            "amount": amount,
            "currency": currency,
            "purpose": purpose,
            "transaction": transaction_id,
            "key": idempotency_key,
            "transaction_currency": transaction_currency,
            "memo": memo,
            "source": source,
            "subject": subject,
            "occurred_at": _timestamp(occurred_at),
            "created_at": _timestamp(created_at),
            "created_by": created_by_id,
            "reverses": reverses_id,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def entry_canonical(*, seq: int, body: str) -> str:
    """What an entry's hash covers after the previous hash; ``ledger_chain_append`` builds the same text."""
    return f"{seq}|{body}"


def chain_hash(prev_hash: str, canonical: str) -> str:
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def transaction_canonical_fields(txn: LedgerTransaction) -> dict[str, Any]:
    """The transaction's part of each of its entries' canonical form."""
    return {
        "transaction_id": txn.pk,
        "idempotency_key": txn.idempotency_key,
        "transaction_currency": txn.currency,
        "memo": txn.memo,
        "source": txn.source,
        "subject": txn.subject,
        "occurred_at": txn.occurred_at,
        "created_at": txn.created_at,
        "created_by_id": txn.created_by_id,
        "reverses_id": txn.reverses_id,
    }


# --- verification ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerProblem:
    """One thing wrong with a hub's ledger. ``code`` is machine-readable; ``message`` is for people."""

    code: str  # hash_mismatch | sequence_gap | head_mismatch | unbalanced | running_total_mismatch | overdrawn
    message: str
    entry_id: int | None = None
    seq: int | None = None
    transaction_id: int | None = None
    account_id: int | None = None


@dataclass(frozen=True)
class LedgerVerification:
    """What ``chain_verify`` found. ``first_bad`` is the earliest broken link of the chain (None if it holds);
    ``problems`` lists it and every other finding (unbalanced transactions, running totals, overdrafts)."""

    ok: bool
    entries_checked: int
    head_seq: int
    head_hash: str
    first_bad: LedgerProblem | None = None
    problems: tuple[LedgerProblem, ...] = field(default_factory=tuple)

    @property
    def first_bad_entry_id(self) -> int | None:
        return self.first_bad.entry_id if self.first_bad else None

    def as_dict(self) -> dict[str, Any]:
        def problem(p: LedgerProblem) -> dict[str, Any]:
            return {
                "code": p.code,
                "message": p.message,
                "entry": p.entry_id,
                "seq": p.seq,
                "transaction": p.transaction_id,
                "account": p.account_id,
            }

        return {
            "ok": self.ok,
            "entries_checked": self.entries_checked,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "first_bad": problem(self.first_bad) if self.first_bad else None,
            "problems": [problem(p) for p in self.problems],
        }


_ENTRY_FIELDS = (
    "id",
    "seq",
    "hash",
    "account_id",
    "amount",
    "currency",
    "purpose",
    "transaction_id",
    "transaction__idempotency_key",
    "transaction__currency",
    "transaction__memo",
    "transaction__source",
    "transaction__subject",
    "transaction__occurred_at",
    "transaction__created_at",
    "transaction__created_by_id",
    "transaction__reverses_id",
)


def _walk_chain(head_seq: int, batch_size: int) -> tuple[int, LedgerProblem | None, str]:
    """Recompute the chain up to ``head_seq``; return (entries checked, first broken link, last hash)."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    checked = 0
    while True:
        rows = list(
            LedgerEntry.objects.filter(seq__gte=expected_seq, seq__lte=head_seq)
            .order_by("seq")
            .values_list(*_ENTRY_FIELDS)[:batch_size]
        )
        if not rows:
            return checked, None, prev_hash
        for row in rows:
            (entry_id, seq, stored_hash, account_id, amount, currency, purpose, txn_id, key, txn_currency) = row[:10]
            memo, source, subject, occurred_at, created_at, created_by_id, reverses_id = row[10:]
            if seq != expected_seq:
                return (
                    checked,
                    LedgerProblem(
                        code="sequence_gap",
                        message=_("分录序号 %(expected)s 缺失：链在此中断（下一条为分录 #%(entry)s）。")
                        % {"expected": expected_seq, "entry": entry_id},
                        entry_id=entry_id,
                        seq=seq,
                        transaction_id=txn_id,
                    ),
                    prev_hash,
                )
            body = entry_body(
                account_id=account_id,
                amount=amount,
                currency=currency,
                purpose=purpose,
                transaction_id=txn_id,
                idempotency_key=key,
                transaction_currency=txn_currency,
                memo=memo,
                source=source,
                subject=subject,
                occurred_at=occurred_at,
                created_at=created_at,
                created_by_id=created_by_id,
                reverses_id=reverses_id,
            )
            if chain_hash(prev_hash, entry_canonical(seq=seq, body=body)) != stored_hash:
                return (
                    checked,
                    LedgerProblem(
                        code="hash_mismatch",
                        message=_(
                            "分录 #%(entry)s（链序号 %(seq)s，凭证 #%(transaction)s）的内容与哈希不符，可能被篡改。"
                        )
                        % {"entry": entry_id, "seq": seq, "transaction": txn_id},
                        entry_id=entry_id,
                        seq=seq,
                        transaction_id=txn_id,
                    ),
                    prev_hash,
                )
            prev_hash = stored_hash
            expected_seq += 1
            checked += 1


def _unbalanced() -> list[LedgerProblem]:
    problems = []
    with connection.cursor() as cursor:
        # Schema-local names only: the hub schema is found through the search path.
        cursor.execute(
            "SELECT t.id FROM ledger_ledgertransaction t LEFT JOIN ledger_ledgerentry e ON e.transaction_id = t.id "
            "GROUP BY t.id HAVING count(e.id) < 2 OR coalesce(sum(e.amount), 0) <> 0 "
            "OR count(DISTINCT e.currency) > 1 OR bool_or(e.currency <> t.currency) ORDER BY t.id LIMIT 100"
        )
        for (txn_id,) in cursor.fetchall():
            problems.append(
                LedgerProblem(
                    code="unbalanced",
                    message=_("凭证 #%(transaction)s 借贷不平衡或币种不一致。") % {"transaction": txn_id},
                    transaction_id=txn_id,
                )
            )
    return problems


def _running_totals_and_overdrafts() -> list[LedgerProblem]:
    problems = []
    with connection.cursor() as cursor:
        # One statement, so postings committing meanwhile cannot make totals and entries disagree.
        cursor.execute(
            "SELECT a.id, a.code, a.name, a.kind, a.no_overdraft, a.running_total, coalesce(s.total, 0) "
            "FROM ledger_account a LEFT JOIN (SELECT account_id, sum(amount) AS total FROM ledger_ledgerentry "
            "GROUP BY account_id) s ON s.account_id = a.id ORDER BY a.id"
        )
        rows = cursor.fetchall()
    for account_id, code, name, kind, no_overdraft, running_total, total in rows:
        label = f"{code} {name}"
        if running_total != total:
            problems.append(
                LedgerProblem(
                    code="running_total_mismatch",
                    message=_("账户「%(account)s」的累计发生额与分录合计不符。") % {"account": label},
                    account_id=account_id,
                )
            )
        balance = total if kind in DEBIT_NORMAL_KINDS else -total
        if no_overdraft and balance < 0:
            problems.append(
                LedgerProblem(
                    code="overdrawn",
                    message=_("不允许透支的账户「%(account)s」余额为负。") % {"account": label},
                    account_id=account_id,
                )
            )
    return problems


def chain_verify(*, batch_size: int = 5000) -> LedgerVerification:
    """Check the current hub's ledger: recompute the hash chain from the first entry, check the chain head, that
    every transaction balances in one currency, that each account's running total equals its entries, and that no
    no-overdraft account is below zero. Reads one consistent snapshot (REPEATABLE READ) when it can; postings may
    continue meanwhile. Records nothing; the caller decides what to do with a failure.
    """
    if connection.in_atomic_block:
        return _verify(batch_size)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return _verify(batch_size)


def _verify(batch_size: int) -> LedgerVerification:
    head = ChainHead.objects.filter(pk=1).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    checked, first_bad, last_hash = _walk_chain(head_seq, batch_size)
    problems: list[LedgerProblem] = []
    if first_bad is None:
        beyond = LedgerEntry.objects.filter(seq__gt=head_seq).order_by("seq").values_list("id", "seq").first()
        if checked != head_seq or last_hash != head_hash:
            first_bad = LedgerProblem(
                code="head_mismatch",
                message=_("链头记录为第 %(head)s 条，但只找到 %(found)s 条完好的分录：末尾的分录可能被删除。")
                % {"head": head_seq, "found": checked},
                seq=head_seq,
            )
        elif beyond is not None and ChainHead.objects.filter(pk=1, seq=head_seq).exists():
            # Postings commit their entries and the head together; an entry beyond an unchanged head was written
            # around the posting service.
            first_bad = LedgerProblem(
                code="head_mismatch",
                message=_("分录 #%(entry)s 位于链头之后，未经记账服务写入。") % {"entry": beyond[0]},
                entry_id=beyond[0],
                seq=beyond[1],
            )
    if first_bad is not None:
        problems.append(first_bad)
    problems += _unbalanced()
    problems += _running_totals_and_overdrafts()
    return LedgerVerification(
        ok=not problems,
        entries_checked=checked,
        head_seq=head_seq,
        head_hash=head_hash,
        first_bad=first_bad,
        problems=tuple(problems),
    )


# --- archives (hubs.core.portability) -------------------------------------------------------------------------


def _archived_hashes(
    *, transactions: list[dict[str, Any]], entries: list[dict[str, Any]]
) -> Iterator[tuple[dict[str, Any], str]]:
    """Each archived entry (rows as ``row_to_json`` wrote them, in ``seq`` order) with the hash its content and
    position give, chained from the genesis hash."""
    by_id = {row["id"]: row for row in transactions}
    previous = GENESIS_HASH
    for entry in entries:
        txn = by_id[entry["transaction_id"]]
        body = entry_body(
            account_id=entry["account_id"],
            amount=entry["amount"],
            currency=entry["currency"],
            purpose=entry["purpose"],
            transaction_id=txn["id"],
            idempotency_key=txn["idempotency_key"],
            transaction_currency=txn["currency"],
            memo=txn["memo"],
            source=txn["source"],
            subject=txn["subject"],
            occurred_at=datetime.fromisoformat(txn["occurred_at"]),
            created_at=datetime.fromisoformat(txn["created_at"]),
            created_by_id=txn["created_by_id"],
            reverses_id=txn["reverses_id"],
        )
        previous = chain_hash(previous, entry_canonical(seq=entry["seq"], body=body))
        yield entry, previous


def archived_chain_check(*, transactions: list[dict[str, Any]], entries: list[dict[str, Any]]) -> str | None:
    """Verify an archived hub's hash chain before it is restored: None if intact, else what is wrong."""
    entries.sort(key=lambda e: e["seq"])
    for position, (entry, expected) in enumerate(_archived_hashes(transactions=transactions, entries=entries), 1):
        if entry["seq"] != position:
            return f"sequence gap before seq {entry['seq']}"
        if entry["hash"] != expected:
            return f"hash mismatch at entry #{entry['id']} (seq {entry['seq']})"
    return None


def archived_chain_reseal(
    *, transactions: list[dict[str, Any]], entries: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], tuple[int, str] | None, bool]:
    """Re-hash archived entries against ``transactions`` as they will be restored (people's ids remapped).

    Returns the entries to insert, the new chain head (None when nothing changed) and whether anything changed.
    Only an import calls this, after ``archived_chain_check`` passed on the archive as written, and records the
    source chain head in an audit event, so a re-sealed chain stays traceable to the one it replaces.
    """
    entries.sort(key=lambda e: e["seq"])
    result: list[dict[str, Any]] = []
    changed = False
    last = ""
    for entry, expected in _archived_hashes(transactions=transactions, entries=entries):
        if entry["hash"] != expected:
            changed = True
            entry = {**entry, "hash": expected}
        result.append(entry)
        last = expected
    if not changed:
        return result, None, False
    return result, (result[-1]["seq"], last), True
