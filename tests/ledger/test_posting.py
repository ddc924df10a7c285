"""Posting to the hub ledger: balanced, one currency, idempotent, restricted, never overdrawn, append-only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from hubs.ledger import selectors, services
from hubs.ledger.chain import chain_verify
from hubs.ledger.models import Account, AccountKind, ChainHead, LedgerEntry, LedgerTransaction
from hubs.ledger.services import Line
from huoban.audit.models import AuditEvent
from huoban.errors import ApplicationError
from huoban.identity.models import Organisation
from tests.ledger.helpers import account, fund, unique

pytestmark = pytest.mark.django_db


@pytest.fixture
def hub(hub_a):
    with hub_a:
        yield hub_a


def _post(*lines: Line, key: str | None = None, **kwargs):
    return services.transaction_post(idempotency_key=key or unique("k"), lines=list(lines), actor=None, **kwargs)


def test_balanced_posting_moves_balances_and_chains_entries(hub):
    bank, income = account(AccountKind.ASSET), account(AccountKind.INCOME)
    head_before = ChainHead.objects.get().seq

    result = _post(Line.debit(bank, 50000), Line.credit(income, 50000), memo="月捐")

    assert result.created
    txn = result.transaction
    assert [e.amount for e in txn.entries.order_by("seq")] == [50000, -50000]
    assert selectors.account_balance(account=bank) == 50000
    assert selectors.account_balance(account=income) == 50000  # income grows with credits
    assert selectors.balances(accounts=[bank, income]) == {bank.pk: 50000, income.pk: 50000}
    head = ChainHead.objects.get()
    assert head.seq == head_before + 2
    assert head.hash == txn.entries.order_by("seq").last().hash
    bank.refresh_from_db()
    assert bank.running_total == 50000


def test_unbalanced_and_one_sided_postings_are_refused(hub):
    bank, income = account(), account(AccountKind.INCOME)
    with pytest.raises(ApplicationError) as caught:
        _post(Line.debit(bank, 100), Line.credit(income, 99))
    assert caught.value.code == "unbalanced"
    with pytest.raises(ApplicationError) as caught:
        _post(Line.debit(bank, 100))
    assert caught.value.code == "invalid_lines"
    with pytest.raises(ApplicationError) as caught:
        _post(Line(bank.pk, 0), Line(income.pk, 0))
    assert caught.value.code == "invalid_amount"
    with pytest.raises(ApplicationError):
        Line.debit(bank, -5)
    assert not LedgerEntry.objects.filter(account__in=[bank, income]).exists()


def test_mixing_currencies_in_one_transaction_is_refused(hub):
    cny, usd = account(), account(currency="USD")
    income_usd = account(AccountKind.INCOME, currency="USD")

    with pytest.raises(ApplicationError) as caught:
        _post(Line.debit(cny, 100), Line.credit(income_usd, 100))
    assert caught.value.code == "currency_mismatch"
    with pytest.raises(ApplicationError) as caught:
        _post(Line.debit(usd, 100), Line.credit(income_usd, 100), currency="CNY")
    assert caught.value.code == "currency_mismatch"

    txn = _post(Line.debit(usd, 100), Line.credit(income_usd, 100), currency="USD").transaction
    assert {e.currency for e in txn.entries.all()} == {"USD"}


def test_same_key_returns_the_original_transaction(hub):
    bank, income = account(), account(AccountKind.INCOME)
    key = unique("idem")
    first = _post(Line.debit(bank, 700), Line.credit(income, 700), key=key, memo="a")
    again = _post(Line.debit(bank, 700), Line.credit(income, 700), key=key, memo="a")

    assert first.created and not again.created
    assert again.transaction.pk == first.transaction.pk
    assert LedgerTransaction.objects.filter(idempotency_key=key).count() == 1
    assert selectors.account_balance(account=bank) == 700


def test_same_key_with_a_different_request_is_refused(hub):
    bank, income = account(), account(AccountKind.INCOME)
    key = unique("idem")
    _post(Line.debit(bank, 700), Line.credit(income, 700), key=key)
    with pytest.raises(ApplicationError) as caught:
        _post(Line.debit(bank, 800), Line.credit(income, 800), key=key)
    assert caught.value.code == "idempotency_conflict"
    assert caught.value.status == 409
    assert selectors.account_balance(account=bank) == 700


def test_replaying_a_spent_withdrawal_returns_it_instead_of_insufficient_funds(hub):
    bank = account(no_overdraft=True)
    expense = account(AccountKind.EXPENSE)
    fund(bank, 1000)
    key = unique("pay")
    _post(Line.debit(expense, 1000), Line.credit(bank, 1000), key=key)
    assert not _post(Line.debit(expense, 1000), Line.credit(bank, 1000), key=key).created


def test_no_overdraft_account_refuses_to_go_below_zero_with_the_available_amount(hub):
    bank = account(no_overdraft=True, name="项目专户")
    expense = account(AccountKind.EXPENSE)
    fund(bank, 123456)

    with pytest.raises(ApplicationError) as caught:
        _post(Line.debit(expense, 123457), Line.credit(bank, 123457))

    error = caught.value
    assert error.code == "insufficient_funds"
    assert "¥1,234.56" in str(error.message)
    assert error.extra["available"] == 123456
    _post(Line.debit(expense, 123456), Line.credit(bank, 123456))
    assert selectors.account_balance(account=bank) == 0


def test_no_overdraft_applies_to_credit_normal_funds_too(hub):
    pool = account(AccountKind.NET_ASSETS, no_overdraft=True, subject="pool:3")
    bank = account()
    _post(Line.debit(bank, 500), Line.credit(pool, 500))
    with pytest.raises(ApplicationError) as caught:
        _post(Line.debit(pool, 501), Line.credit(bank, 501))
    assert caught.value.code == "insufficient_funds"
    assert selectors.account_balance(account=pool) == 500


def test_restricted_money_only_pays_its_project_lines(hub):
    # A funder's money restricted to project 42, held in its own bank sub-account.
    funder = Organisation.objects.get(name="a 社工服务社")
    restricted = account(
        owner_organisation_id=funder.pk, subject="project:42", restricted_to="project:42", no_overdraft=True
    )
    line_42, line_43 = account(AccountKind.EXPENSE, subject="project:42"), account(AccountKind.EXPENSE)
    fund(restricted, 10000)

    for purpose in ("", "project:43/line:1", "project:420"):
        with pytest.raises(ApplicationError) as caught:
            _post(Line.debit(line_43, 100), Line.credit(restricted, 100, purpose=purpose))
        assert caught.value.code == "restricted_funds"

    _post(Line.debit(line_42, 100), Line.credit(restricted, 100, purpose="project:42/line:7"))
    _post(Line.debit(line_42, 100), Line.credit(restricted, 100, purpose="project:42"))
    assert selectors.account_balance(account=restricted) == 9800
    # money coming in needs no purpose
    fund(restricted, 5)


def test_closed_accounts_take_no_postings_and_only_empty_accounts_close(hub, cast_a):
    bank, income = account(), account(AccountKind.INCOME)
    fund(bank, 100, into=income)
    with pytest.raises(ApplicationError) as caught:
        services.account_close(account=bank, actor=cast_a.treasurer)
    assert caught.value.code == "account_not_empty"

    _post(Line.debit(income, 100), Line.credit(bank, 100))
    closed = services.account_close(account=bank, actor=cast_a.treasurer)
    assert closed.closed_at is not None
    assert AuditEvent.objects.filter(action="ledger.account.closed", object_id=str(bank.pk)).exists()
    with pytest.raises(ApplicationError) as caught:
        _post(Line.debit(bank, 1), Line.credit(income, 1))
    assert caught.value.code == "account_closed"


def test_account_creation_is_audited_and_codes_are_unique(hub, cast_a):
    code = unique("acct")
    created = services.account_create(code=code, name="银行存款", kind="asset", actor=cast_a.treasurer)
    event = AuditEvent.objects.get(action="ledger.account.created", object_id=str(created.pk))
    assert event.actor == cast_a.treasurer
    assert event.after["code"] == code
    with pytest.raises(ApplicationError) as caught:
        services.account_create(code=code, name="x", kind="asset", actor=None)
    assert caught.value.code == "account_code_taken"
    assert services.account_create(code=code, name="x", kind="asset", actor=None, exist_ok=True) == created
    with pytest.raises(ApplicationError):
        services.account_create(code=code, name="x", kind="expense", actor=None, exist_ok=True)
    with pytest.raises(ApplicationError) as caught:
        services.account_create(code=unique(), name="x", kind="asset", actor=None, owner_organisation_id=10**9)
    assert caught.value.code == "invalid_organisation"


def test_default_chart_is_idempotent(hub):
    first = services.chart_ensure_defaults(actor=None)
    again = services.chart_ensure_defaults(actor=None)
    assert [a.pk for a in first] == [a.pk for a in again]
    assert {a.code for a in first} >= {"1002", "3102", "4101", "5101"}


def test_reversal_restores_balances_and_is_audited(hub, cast_a):
    bank, income = account(), account(AccountKind.INCOME)
    original = _post(Line.debit(bank, 900), Line.credit(income, 900), subject="project:42").transaction

    reversal = services.transaction_reverse(
        transaction=original, idempotency_key=unique("rev"), actor=cast_a.treasurer, memo="录入错误"
    ).transaction

    assert reversal.reverses_id == original.pk
    assert sorted(e.amount for e in reversal.entries.all()) == [-900, 900]
    assert reversal.subject == "project:42"
    assert selectors.balances(accounts=[bank, income]) == {bank.pk: 0, income.pk: 0}
    assert AuditEvent.objects.filter(action="ledger.transaction.reversed", object_id=str(original.pk)).exists()


def test_a_transaction_is_reversed_once_and_reversals_are_not_reversed(hub):
    bank, income = account(), account(AccountKind.INCOME)
    original = _post(Line.debit(bank, 900), Line.credit(income, 900)).transaction
    key = unique("rev")
    reversal = services.transaction_reverse(transaction=original, idempotency_key=key, actor=None).transaction

    # a retry with the same key is the same reversal
    again = services.transaction_reverse(transaction=original, idempotency_key=key, actor=None)
    assert not again.created and again.transaction.pk == reversal.pk
    with pytest.raises(ApplicationError) as caught:
        services.transaction_reverse(transaction=original, idempotency_key=unique("rev"), actor=None)
    assert caught.value.code == "already_reversed"
    with pytest.raises(ApplicationError) as caught:
        services.transaction_reverse(transaction=reversal, idempotency_key=unique("rev"), actor=None)
    assert caught.value.code == "reversal_not_reversible"
    assert selectors.account_balance(account=bank) == 0


def test_reversing_money_already_spent_is_refused(hub):
    bank = account(no_overdraft=True)
    expense = account(AccountKind.EXPENSE)
    income = account(AccountKind.INCOME)
    donation = _post(Line.debit(bank, 500), Line.credit(income, 500)).transaction
    _post(Line.debit(expense, 300), Line.credit(bank, 300))
    with pytest.raises(ApplicationError) as caught:
        services.transaction_reverse(transaction=donation, idempotency_key=unique("rev"), actor=None)
    assert caught.value.code == "insufficient_funds"


def test_occurred_at_and_actor_are_kept(hub, cast_a):
    bank, income = account(), account(AccountKind.INCOME)
    when = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    txn = services.transaction_post(
        idempotency_key=unique(),
        lines=[Line.debit(bank, 1), Line.credit(income, 1)],
        actor=cast_a.treasurer,
        occurred_at=when,
    ).transaction
    txn.refresh_from_db()
    assert txn.occurred_at == when
    assert txn.created_by_id == cast_a.treasurer.pk


def test_a_naive_occurred_at_is_read_in_the_hubs_time_zone_and_chains(hub):
    bank, income = account(), account(AccountKind.INCOME)
    txn = _post(Line.debit(bank, 1), Line.credit(income, 1), occurred_at=datetime(2026, 3, 1, 8, 30)).transaction
    txn.refresh_from_db()
    assert txn.occurred_at == datetime(2026, 3, 1, 0, 30, tzinfo=UTC)  # 08:30 in Asia/Shanghai
    assert chain_verify().ok


def test_models_refuse_changes(hub):
    bank, income = account(), account(AccountKind.INCOME)
    txn = _post(Line.debit(bank, 1), Line.credit(income, 1)).transaction
    entry = txn.entries.first()
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        txn.delete()


def _raw(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def test_database_refuses_updates_and_deletes_of_the_journal(hub):
    bank, income = account(), account(AccountKind.INCOME)
    txn = _post(Line.debit(bank, 1), Line.credit(income, 1)).transaction
    entry = txn.entries.first()
    for sql, params in [
        ("UPDATE ledger_ledgerentry SET amount = 2 WHERE id = %s", [entry.pk]),
        ("DELETE FROM ledger_ledgerentry WHERE id = %s", [entry.pk]),
        ("UPDATE ledger_ledgertransaction SET memo = 'x' WHERE id = %s", [txn.pk]),
        ("DELETE FROM ledger_ledgertransaction WHERE id = %s", [txn.pk]),
        ("TRUNCATE ledger_ledgerentry CASCADE", []),
        ("UPDATE ledger_account SET running_total = 0 WHERE id = %s", [bank.pk]),
        ("UPDATE ledger_account SET kind = 'expense' WHERE id = %s", [bank.pk]),
    ]:
        with pytest.raises(DatabaseError), transaction.atomic():
            _raw(sql, params)
    assert LedgerEntry.objects.filter(pk=entry.pk, amount=1).exists()


def _write_around_the_service(*entries: tuple[Account, int, str], leave_hub: bool = False) -> None:
    """Write a transaction with raw ORM inserts, as code bypassing the posting service would, and commit it
    (what COMMIT checks is checked here with SET CONSTRAINTS ALL IMMEDIATE, inside the test's transaction)."""
    now = datetime.now(UTC)
    with transaction.atomic():
        txn = LedgerTransaction.objects.create(
            idempotency_key=unique(), request_hash="x", currency="CNY", occurred_at=now, created_at=now
        )
        LedgerEntry.objects.bulk_create(
            LedgerEntry(transaction=txn, account=acct, amount=amount, currency=currency, seq=10**12 + i, hash="x")
            for i, (acct, amount, currency) in enumerate(entries)
        )
        if leave_hub:
            connection.set_schema_to_public()  # the deferred check runs wherever the session is at commit
        _raw("SET CONSTRAINTS ALL IMMEDIATE")


def test_database_refuses_an_unbalanced_transaction(hub):
    bank, income = account(), account(AccountKind.INCOME)
    with pytest.raises(IntegrityError):
        _write_around_the_service((bank, 5, "CNY"))
    with pytest.raises(IntegrityError):
        _write_around_the_service((bank, 5, "CNY"), (income, -4, "CNY"))


def test_database_refuses_a_transaction_without_entries_at_commit(hub):
    with pytest.raises(IntegrityError):
        _write_around_the_service(leave_hub=True)


def test_database_refuses_an_entry_in_another_currency_than_its_account(hub):
    bank, usd = account(), account(AccountKind.INCOME, currency="USD")
    with pytest.raises(IntegrityError):
        _write_around_the_service((bank, 5, "CNY"), (usd, -5, "CNY"))


def test_database_refuses_to_overdraw_even_around_the_service(hub):
    bank, income = account(no_overdraft=True), account(AccountKind.INCOME)
    with pytest.raises(IntegrityError):
        _write_around_the_service((income, 5, "CNY"), (bank, -5, "CNY"))


def test_guards_live_in_the_hub_schema_and_name_no_schema(hub):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = %s AND p.proname LIKE 'ledger%%'",
            [hub.schema_name],
        )
        functions = dict(cursor.fetchall())
        cursor.execute(
            "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND NOT t.tgisinternal",
            [hub.schema_name],
        )
        triggers = {row[0] for row in cursor.fetchall()}
    assert set(functions) == {
        "ledger_forbid_change",
        "ledger_entries_apply",
        "ledger_transaction_check_entries",
        "ledger_account_guard",
        "ledger_chain_append",
        "ledger_post",
    }
    for body in functions.values():
        body_only = body.split("$function$")[1]
        assert "hub_" not in body_only and "public." not in body_only
    assert {
        "ledger_entry_append_only",
        "ledger_entry_no_truncate",
        "ledger_transaction_append_only",
        "ledger_transaction_no_truncate",
        "ledger_entries_apply",
        "ledger_transaction_has_entries",
        "ledger_account_guard",
    } <= triggers
    assert Account.objects.model._meta.db_table == "ledger_account"
