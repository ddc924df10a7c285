"""Parallel postings on real, separate connections, committing for real (``committed_db``).

Cleanup: none, on purpose. Every test opens its accounts under fresh unique codes and only asserts on those, so
the rows it commits are ordinary, balanced, correctly chained ledger history that no other test depends on (the
hub's chain still verifies). Deleting them would mean switching the append-only triggers off, which is exactly
what must never become routine; the test database is dropped at the end of the session anyway.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction

from hubs.ledger import selectors, services
from hubs.ledger.chain import chain_verify
from hubs.ledger.models import AccountKind, LedgerTransaction
from hubs.ledger.services import Line
from huoban.errors import ApplicationError
from tenants.models import Hub
from tests.ledger.helpers import account, fund, unique

WORKERS = 20


@pytest.fixture
def hub(committed_db):
    hub = Hub.objects.get(slug="sichuan")
    with hub:
        yield hub


def _in_parallel(hub: Hub, work: Callable[[int], Any], n: int = WORKERS) -> list[Any]:
    """Run ``work(i)`` in n threads, each on its own connection inside the hub, released together."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            with hub:
                barrier.wait(timeout=30)
                results[i] = work(i)
        except ApplicationError as exc:
            results[i] = exc.code
        except Exception as exc:  # surfaced by the assertions below
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_parallel_withdrawals_never_overdraw(hub):
    bank = account(no_overdraft=True, name="并发专户")
    expense = account(AccountKind.EXPENSE)
    fund(bank, 1000)  # affords 13 withdrawals of 75, leaving 25
    tag = unique("w")

    def withdraw(i: int) -> str:
        services.transaction_post(
            idempotency_key=f"{tag}-{i}",
            lines=[Line.debit(expense, 75), Line.credit(bank, 75)],
            actor=None,
        )
        return "ok"

    results = _in_parallel(hub, withdraw)

    assert Counter(results) == {"ok": 13, "insufficient_funds": 7}, results
    assert selectors.account_balance(account=bank) == 25
    assert selectors.account_balance(account=expense) == 975
    bank.refresh_from_db()
    assert bank.balance_of(bank.running_total) == 25
    report = chain_verify()
    assert report.ok, report.problems


def test_the_loser_is_told_what_is_available(hub):
    bank = account(no_overdraft=True)
    expense = account(AccountKind.EXPENSE)
    fund(bank, 10000)
    messages: list[str] = []

    def withdraw(i: int) -> str:
        try:
            services.transaction_post(
                idempotency_key=unique(), lines=[Line.debit(expense, 6000), Line.credit(bank, 6000)], actor=None
            )
        except ApplicationError as exc:
            messages.append(str(exc.message))
            raise
        return "ok"

    results = _in_parallel(hub, withdraw, n=2)
    assert sorted(results) == ["insufficient_funds", "ok"]
    assert "¥40.00" in messages[0]


def test_parallel_posts_with_one_key_make_one_transaction(hub):
    bank, income = account(), account(AccountKind.INCOME)
    key = unique("same")

    def post(i: int) -> tuple[int, bool]:
        result = services.transaction_post(
            idempotency_key=key, lines=[Line.debit(bank, 500), Line.credit(income, 500)], actor=None
        )
        return result.transaction.pk, result.created

    results = _in_parallel(hub, post, n=8)

    assert len({pk for pk, _created in results}) == 1, results
    assert sum(created for _pk, created in results) == 1
    assert LedgerTransaction.objects.filter(idempotency_key=key).count() == 1
    assert selectors.account_balance(account=bank) == 500


def test_parallel_reversals_reverse_once(hub):
    bank, income = account(), account(AccountKind.INCOME)
    original = services.transaction_post(
        idempotency_key=unique(), lines=[Line.debit(bank, 500), Line.credit(income, 500)], actor=None
    ).transaction

    def reverse(i: int) -> str:
        services.transaction_reverse(transaction=original, idempotency_key=unique("rev"), actor=None)
        return "ok"

    results = _in_parallel(hub, reverse, n=6)

    assert Counter(results) == {"ok": 1, "already_reversed": 5}, results
    assert selectors.account_balance(account=bank) == 0
    assert chain_verify().ok


def test_the_databases_constraint_refuses_an_overdraft_written_past_ledger_post(hub):
    # ledger_post checks the rules; the no-overdraft check constraint must still refuse entries that reach the
    # table another way (here ledger_chain_append called directly), and nothing of the attempt may remain.
    bank = account(no_overdraft=True)
    expense = account(AccountKind.EXPENSE)
    fund(bank, 100)
    key = unique("backstop")

    def write_past_the_rules() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO ledger_ledgertransaction (idempotency_key, request_hash, currency, memo, source, "
                "subject, occurred_at, created_at) VALUES (%s, '', 'CNY', '', 'test', '', now(), now()) RETURNING id",
                [key],
            )
            txn_id = cursor.fetchone()[0]
            cursor.execute(
                "SELECT ledger_chain_append(%s, 'CNY', %s::bigint[], %s::bigint[], %s::varchar[], %s::text[])",
                [txn_id, [expense.pk, bank.pk], [500, -500], ["", ""], ["{}", "{}"]],
            )

    with pytest.raises(IntegrityError):
        write_past_the_rules()

    assert not connection.in_atomic_block
    assert not LedgerTransaction.objects.filter(idempotency_key=key).exists()
    assert selectors.account_balance(account=bank) == 100
    services.transaction_post(
        idempotency_key=unique(), lines=[Line.debit(expense, 100), Line.credit(bank, 100)], actor=None
    )
    assert selectors.account_balance(account=bank) == 0
    assert chain_verify().ok


def test_a_posting_on_its_own_is_its_own_transaction_and_inside_a_callers_transaction_is_not(hub):
    bank, income = account(), account(AccountKind.INCOME)
    raw = connection.connection

    services.transaction_post(idempotency_key=unique(), lines=[Line.debit(bank, 1), Line.credit(income, 1)], actor=None)
    # committed by its own statement: nothing left open on the connection
    assert raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert selectors.account_balance(account=bank) == 1

    statuses = []

    def post_then_change_mind() -> None:
        with transaction.atomic():
            services.transaction_post(
                idempotency_key=unique(), lines=[Line.debit(bank, 1), Line.credit(income, 1)], actor=None
            )
            statuses.append(raw.info.transaction_status)
            raise RuntimeError("the caller changes its mind")

    with pytest.raises(RuntimeError):
        post_then_change_mind()
    assert statuses == [psycopg.pq.TransactionStatus.INTRANS]
    # the caller's rollback took the posting with it
    assert selectors.account_balance(account=bank) == 1
    assert chain_verify().ok
