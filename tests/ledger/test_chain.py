"""The hash chain proves the ledger intact, and names the first entry that is not."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from hubs.ledger import services
from hubs.ledger.chain import chain_verify, entry_body, transaction_canonical_fields
from hubs.ledger.models import GENESIS_HASH, AccountKind, ChainHead, LedgerEntry
from hubs.ledger.services import Line
from tests.ledger.helpers import account, unique

pytestmark = pytest.mark.django_db


@pytest.fixture
def hub(hub_a):
    with hub_a:
        yield hub_a


def _post_some(n: int = 3):
    bank, income = account(), account(AccountKind.INCOME)
    return [
        services.transaction_post(
            idempotency_key=unique(), lines=[Line.debit(bank, 100 + i), Line.credit(income, 100 + i)], actor=None
        ).transaction
        for i in range(n)
    ]


def _tamper(sql: str, params: list) -> None:
    """What an attacker with database access would do: switch the guard off, edit, switch it back on. Inside the
    test's transaction, so it is all rolled back afterwards."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending foreign-key checks may block ALTER TABLE
        cursor.execute("ALTER TABLE ledger_ledgerentry DISABLE TRIGGER USER")
        cursor.execute("ALTER TABLE ledger_ledgertransaction DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE ledger_ledgerentry ENABLE TRIGGER USER")
        cursor.execute("ALTER TABLE ledger_ledgertransaction ENABLE TRIGGER USER")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def test_an_untouched_ledger_verifies(hub):
    _post_some()
    report = chain_verify()
    assert report.ok, report.problems
    assert report.entries_checked == report.head_seq == ChainHead.objects.get().seq
    assert report.first_bad is None


def test_each_entry_hashes_the_previous_hash_with_its_canonical_content(hub):
    _post_some(1)
    entries = list(LedgerEntry.objects.select_related("transaction").order_by("seq")[:2])
    assert entries[0].seq == 1
    prev = GENESIS_HASH
    for entry in entries:
        body = entry_body(
            account_id=entry.account_id,
            amount=entry.amount,
            currency=entry.currency,
            purpose=entry.purpose,
            **transaction_canonical_fields(entry.transaction),
        )
        assert entry.hash == hashlib.sha256(f"{prev}{entry.seq}|{body}".encode()).hexdigest()
        prev = entry.hash


def test_the_database_and_python_hash_chinese_text_alike(hub):
    # The entries are hashed by the database (ledger_chain_append) and checked here in Python: both must read
    # the canonical text as the same UTF-8 bytes.
    bank = account(name="社区食堂专户", restricted_to="project:42")
    expense = account(AccountKind.EXPENSE)
    services.transaction_post(
        idempotency_key=unique("中文键"),
        lines=[Line.debit(bank, 10), Line.credit(account(AccountKind.INCOME), 10)],
        actor=None,
        memo="爱心捐赠 🍚 “一碗饭”",
        subject="project:42",
    )
    services.transaction_post(
        idempotency_key=unique(),
        lines=[Line.debit(expense, 10), Line.credit(bank, 10, purpose="project:42/食材")],
        actor=None,
        memo="采购食材\n第二行",
    )
    assert chain_verify().ok


def test_an_edited_amount_is_found_and_named(hub):
    txns = _post_some(3)
    victim = txns[1].entries.order_by("seq").first()

    _tamper("UPDATE ledger_ledgerentry SET amount = amount + 1 WHERE id = %s", [victim.pk])

    report = chain_verify()
    assert not report.ok
    assert report.first_bad is not None
    assert report.first_bad.code == "hash_mismatch"
    assert report.first_bad_entry_id == victim.pk
    assert report.first_bad.seq == victim.seq
    assert str(victim.pk) in report.first_bad.message
    codes = {p.code for p in report.problems}
    assert {"unbalanced", "running_total_mismatch"} <= codes


def test_an_edited_memo_breaks_the_transactions_first_entry(hub):
    txns = _post_some(2)
    _tamper("UPDATE ledger_ledgertransaction SET memo = 'moved elsewhere' WHERE id = %s", [txns[0].pk])
    report = chain_verify()
    assert report.first_bad_entry_id == txns[0].entries.order_by("seq").first().pk


def test_a_deleted_entry_in_the_middle_is_found(hub):
    txns = _post_some(3)
    victims = list(txns[1].entries.order_by("seq"))
    _tamper("DELETE FROM ledger_ledgerentry WHERE transaction_id = %s", [txns[1].pk])
    report = chain_verify()
    assert report.first_bad.code == "sequence_gap"
    assert report.first_bad.seq == victims[-1].seq + 1


def test_deleted_entries_at_the_end_are_found(hub):
    txns = _post_some(2)
    _tamper("DELETE FROM ledger_ledgerentry WHERE transaction_id = %s", [txns[-1].pk])
    report = chain_verify()
    assert report.first_bad.code == "head_mismatch"


def test_the_command_names_the_first_bad_entry(hub, hub_a):
    txns = _post_some(2)
    victim = txns[0].entries.order_by("seq").last()
    out, err = io.StringIO(), io.StringIO()
    call_command("ledger_verify", "--hub", hub_a.slug, stdout=out, stderr=err)
    assert f"{hub_a.slug}: ok" in out.getvalue()

    _tamper("UPDATE ledger_ledgerentry SET purpose = 'x' WHERE id = %s", [victim.pk])
    with pytest.raises(CommandError, match=hub_a.slug):
        call_command("ledger_verify", "--hub", hub_a.slug, stdout=out, stderr=err)
    assert f"entry #{victim.pk}" in err.getvalue()
    assert "hash_mismatch" in err.getvalue()


def test_the_command_checks_every_hub_and_refuses_unknown_ones(hub_a, hub_b):
    out = io.StringIO()
    call_command("ledger_verify", stdout=out)
    assert f"{hub_a.slug}: ok" in out.getvalue() and f"{hub_b.slug}: ok" in out.getvalue()
    with pytest.raises(CommandError, match="no such hub"):
        call_command("ledger_verify", "--hub", "atlantis", stdout=out)
