"""Property-based: whatever sequence of postings, reversals and retries happens in a hub, the ledger's invariants
hold and the service decides exactly as a simple model of the rules says.

Invariants: every transaction balances (the trial balance is zero), balances equal the model's, no no-overdraft
account is below zero, running totals equal the entries, and the hash chain verifies.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from hubs.ledger import selectors, services
from hubs.ledger.chain import chain_verify
from hubs.ledger.models import Account, AccountKind
from hubs.ledger.services import Line, subject_within
from huoban.errors import ApplicationError
from tests.ledger.helpers import account, unique

pytestmark = pytest.mark.django_db

PURPOSES = ["", "project:42", "project:42/line:1", "project:43", "project:420"]


@dataclass
class Posted:
    pk: int
    key: str
    lines: list[Line]
    is_reversal: bool
    reversed: bool = False


def _outcome(call: Callable[[], services.PostingResult]) -> tuple[str | None, services.PostingResult | None]:
    """(error code, None) if the service refused, else (None, its result)."""
    try:
        return None, call()
    except ApplicationError as exc:
        return exc.code, None


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Each example runs in a savepoint that teardown rolls back: examples do not see each other.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.accounts: list[Account] = [
            account(AccountKind.ASSET, no_overdraft=True),
            account(AccountKind.ASSET),
            account(AccountKind.ASSET, no_overdraft=True, restricted_to="project:42"),
            account(AccountKind.NET_ASSETS, no_overdraft=True, subject="pool:3"),
            account(AccountKind.INCOME),
            account(AccountKind.EXPENSE),
            account(AccountKind.LIABILITY),
            account(AccountKind.ASSET, currency="USD"),
        ]
        self.totals: dict[int, int] = defaultdict(int)  # the model: debit-positive sum per account
        self.posted: list[Posted] = []

    def teardown(self) -> None:
        try:
            report = chain_verify()
            assert report.ok, report.problems
        finally:
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)

    # --- the model of the rules -------------------------------------------------------------------------------

    def _expected_error(self, lines: list[Line], *, reversal: bool) -> str | None:
        by_id = {a.pk: a for a in self.accounts}
        if any(by_id[line.account_id].currency != "CNY" for line in lines):
            return "currency_mismatch"
        if not reversal:
            for line in lines:
                acct = by_id[line.account_id]
                leaves = acct.restricted_to and acct.balance_of(line.amount) < 0
                if leaves and not subject_within(line.purpose, acct.restricted_to):
                    return "restricted_funds"
        deltas: dict[int, int] = defaultdict(int)
        for line in lines:
            deltas[line.account_id] += line.amount
        for pk, delta in deltas.items():
            acct = by_id[pk]
            before, after = acct.balance_of(self.totals[pk]), acct.balance_of(self.totals[pk] + delta)
            if acct.no_overdraft and after < 0 and after < before:
                return "insufficient_funds"
        return None

    def _apply(self, lines: list[Line]) -> None:
        for line in lines:
            self.totals[line.account_id] += line.amount

    # --- rules ------------------------------------------------------------------------------------------------

    @rule(
        moves=st.lists(
            st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(1, 50_000), st.sampled_from(PURPOSES)).filter(
                lambda m: m[0] != m[1]
            ),
            min_size=1,
            max_size=3,
        )
    )
    def post(self, moves: list[tuple[int, int, int, str]]) -> None:
        lines: list[Line] = []
        for debit_i, credit_i, amount, purpose in moves:
            lines.append(Line.debit(self.accounts[debit_i], amount))
            lines.append(Line.credit(self.accounts[credit_i], amount, purpose=purpose))
        expected = self._expected_error(lines, reversal=False)
        key = unique("p")
        refused, result = _outcome(lambda: services.transaction_post(idempotency_key=key, lines=lines, actor=None))
        event(f"post refused: {refused}" if refused else "post accepted")
        assert refused == expected
        if result is None:
            return
        assert result.created
        self._apply(lines)
        self.posted.append(Posted(result.transaction.pk, key, lines, is_reversal=False))

    @rule(amount=st.integers(1, 100_000), donor=st.sampled_from([0, 1, 2, 3]))
    def donate(self, amount: int, donor: int) -> None:
        target, income = self.accounts[donor], self.accounts[4]
        # money into a credit-normal fund is a credit; into an asset, a debit
        lines = (
            [Line.debit(self.accounts[1], amount), Line.credit(target, amount)]
            if not target.debit_normal
            else [Line.debit(target, amount), Line.credit(income, amount)]
        )
        key = unique("d")
        result = services.transaction_post(idempotency_key=key, lines=lines, actor=None)
        self._apply(lines)
        self.posted.append(Posted(result.transaction.pk, key, lines, is_reversal=False))

    @precondition(lambda self: self.posted)
    @rule(data=st.data())
    def retry_a_posting(self, data: st.DataObject) -> None:
        earlier = data.draw(st.sampled_from(self.posted))
        if earlier.is_reversal:
            return
        result = services.transaction_post(idempotency_key=earlier.key, lines=earlier.lines, actor=None)
        assert not result.created and result.transaction.pk == earlier.pk

    @precondition(lambda self: self.posted)
    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        target = data.draw(st.sampled_from(self.posted))
        mirror = [Line(line.account_id, -line.amount, line.purpose) for line in target.lines]
        if target.is_reversal:
            expected: str | None = "reversal_not_reversible"
        elif target.reversed:
            expected = "already_reversed"
        else:
            expected = self._expected_error(mirror, reversal=True)
        original = selectors.transaction_with_entries(pk=target.pk)
        assert original is not None
        key = unique("r")
        refused, result = _outcome(
            lambda: services.transaction_reverse(transaction=original, idempotency_key=key, actor=None)
        )
        event(f"reversal refused: {refused}" if refused else "reversal accepted")
        assert refused == expected
        if result is None:
            return
        target.reversed = True
        self._apply(mirror)
        self.posted.append(Posted(result.transaction.pk, key, mirror, is_reversal=True))

    @rule(amount=st.integers(1, 1000))
    def unbalanced_is_refused(self, amount: int) -> None:
        lines = [Line.debit(self.accounts[1], amount), Line.credit(self.accounts[4], amount + 1)]
        refused, _result = _outcome(
            lambda: services.transaction_post(idempotency_key=unique(), lines=lines, actor=None)
        )
        assert refused == "unbalanced"

    @rule(cny=st.integers(0, 6), amount=st.integers(1, 1000))
    def mixing_currencies_is_refused(self, cny: int, amount: int) -> None:
        usd = self.accounts[7]
        lines = [Line.debit(usd, amount), Line.credit(self.accounts[cny], amount, purpose="project:42")]
        refused, _result = _outcome(
            lambda: services.transaction_post(idempotency_key=unique(), lines=lines, actor=None, currency="USD")
        )
        assert refused == "currency_mismatch"

    @rule()
    def chain_verifies(self) -> None:
        report = chain_verify()
        assert report.ok, report.problems

    # --- invariants -------------------------------------------------------------------------------------------

    @invariant()
    def balances_match_the_model_and_never_go_negative(self) -> None:
        actual = selectors.balances(accounts=self.accounts)
        for acct in self.accounts:
            assert actual[acct.pk] == acct.balance_of(self.totals[acct.pk])
            if acct.no_overdraft:
                assert actual[acct.pk] >= 0

    @invariant()
    def the_whole_ledger_balances(self) -> None:
        assert all(total == 0 for total in selectors.trial_balance().values())
        running = dict(Account.objects.filter(pk__in=[a.pk for a in self.accounts]).values_list("pk", "running_total"))
        assert running == {a.pk: self.totals[a.pk] for a in self.accounts}


def test_ledger_invariants_hold_for_any_sequence(hub_a):
    with hub_a:
        run_state_machine_as_test(
            LedgerMachine,
            settings=settings(
                max_examples=30,
                stateful_step_count=25,
                deadline=None,
                database=None,  # no example database written into the work tree
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
            ),
        )
