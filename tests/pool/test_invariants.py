"""Property-based: whatever sequence of contributions, applications, votes, disbursements, repayments,
write-offs, cancellations and departures happens, the pool's books hold:

- cash + reserved + loans outstanding = equity + income − write-offs (to the fen);
- no approval ever lends more than was available the moment before, and every refusal for liquidity was right;
- reserved equals the approved, undisbursed loans; loans equal the principal still owed on disbursed ones.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from hubs.pool import selectors, services
from hubs.pool.models import Loan, LoanStatus, MemberStatus
from huoban.errors import ApplicationError
from tenants.models import Hub
from tests.conftest import _cast
from tests.pool.helpers import apply, join, new_pool

pytestmark = pytest.mark.django_db

AMOUNTS = st.integers(min_value=1, max_value=3_000_000)
MEMBER = st.integers(min_value=0, max_value=3)


class PoolMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        cast = _cast("a")
        self.world = new_pool(
            staff=cast.staff,
            treasurer=cast.treasurer,
            committee_size=1,
            quorum=1,
            fee_bps=150,
            installments=2,
            limit_multiple_pct=500,
            lendable_share_pct=70,
        )
        for _i in range(4):
            join(self.world, equity=500_000)
        self.pool = self.world.pool
        self.approvals = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _member(self, i: int):  # type: ignore[no-untyped-def]
        member, owner = self.world.members[i]
        member.refresh_from_db()
        return member, owner

    def _loans(self, status: str) -> list[Loan]:
        return list(self.pool.loans.filter(status=status).order_by("id"))

    @rule(i=MEMBER, amount=AMOUNTS)
    def contribute(self, i: int, amount: int) -> None:
        member, _owner = self._member(i)
        if member.status == MemberStatus.ACTIVE:
            services.contribution_record(member=member, amount=amount, actor=self.world.treasurer)

    @rule(i=MEMBER, amount=AMOUNTS)
    def apply_and_vote(self, i: int, amount: int) -> None:
        member, owner = self._member(i)
        try:
            loan = apply(self.world, member, owner, amount)
        except ApplicationError:
            return
        available = selectors.pool_figures(pool=self.pool).available
        try:
            services.loan_vote(loan=loan, actor=self.world.committee[0], approve=True)
        except ApplicationError as exc:
            assert exc.code == "over_pool_available" and amount > available, (exc.code, amount, available)  # noqa: PT017
            return
        assert amount <= available
        self.approvals += 1

    @rule(n=st.integers(min_value=0, max_value=5))
    def disburse(self, n: int) -> None:
        approved = self._loans(LoanStatus.APPROVED)
        if approved:
            services.loan_disburse(loan=approved[n % len(approved)], actor=self.world.treasurer)

    @rule(n=st.integers(min_value=0, max_value=5), amount=AMOUNTS)
    def repay(self, n: int, amount: int) -> None:
        open_loans = self._loans(LoanStatus.DISBURSED)
        if open_loans:
            loan = open_loans[n % len(open_loans)]
            owed = selectors.loan_outstanding(loan=loan).total
            services.repayment_record(loan=loan, amount=min(amount, owed), actor=self.world.treasurer)

    @rule(n=st.integers(min_value=0, max_value=5))
    def write_off(self, n: int) -> None:
        open_loans = self._loans(LoanStatus.DISBURSED)
        if open_loans:
            services.loan_write_off(loan=open_loans[n % len(open_loans)], actor=self.world.committee[0], reason="决议")

    @rule(n=st.integers(min_value=0, max_value=5))
    def cancel(self, n: int) -> None:
        approved = self._loans(LoanStatus.APPROVED)
        if approved:
            services.loan_cancel(loan=approved[n % len(approved)], actor=self.world.treasurer)

    @rule(i=MEMBER)
    def leave(self, i: int) -> None:
        member, _owner = self._member(i)
        if member.status != MemberStatus.ACTIVE:
            return
        try:
            services.member_leave(member=member, actor=self.world.treasurer)
        except ApplicationError as exc:
            assert exc.code in {"loan_in_progress", "owes_more_than_equity", "insufficient_funds", "guarantee_held"}  # noqa: PT017

    @invariant()
    def books_balance(self) -> None:
        figures = selectors.pool_figures(pool=self.pool)
        assert figures.assets == figures.funds, figures
        assert min(figures.cash, figures.reserved, figures.loans) >= 0
        assert figures.reserved == sum(loan.amount for loan in self._loans(LoanStatus.APPROVED))
        assert figures.loans == sum(
            selectors.loan_outstanding(loan=loan).principal for loan in self._loans(LoanStatus.DISBURSED)
        )
        assert figures.equity == sum(selectors.member_equities(pool=self.pool).values())


def test_pool_books_hold_under_random_sequences(hub_a) -> None:  # type: ignore[no-untyped-def]
    with Hub.objects.get(pk=hub_a.pk):
        run_state_machine_as_test(
            PoolMachine,
            settings=settings(
                max_examples=25,
                stateful_step_count=15,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
            ),
        )
