"""A loan's whole life, on real PostgreSQL: apply → vote → disburse → partial repayment → late → paused →
repaid, with the ledger and the pool's balance sheet checked at every step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hubs.ledger.chain import chain_verify
from hubs.pool import selectors, services
from hubs.pool.models import LoanStatus, Repayment
from huoban.audit.models import AuditEvent
from huoban.errors import ApplicationError
from tests.pool.helpers import apply, join

pytestmark = pytest.mark.django_db


def balanced(pool) -> selectors.PoolFigures:  # type: ignore[no-untyped-def]
    figures = selectors.pool_figures(pool=pool)
    assert figures.assets == figures.funds, figures
    return figures


def test_apply_vote_disburse_repay_late_pause_repaid(world):  # type: ignore[no-untyped-def]
    services.rules_update(
        pool=world.pool, actor=world.staff, changes={"fee_bps": 100, "installments": 2, "term_days": 60}
    )
    borrower, owner = join(world, equity=2_000_000)
    join(world, equity=3_000_000)
    assert balanced(world.pool).cash == 5_000_000

    loan = apply(world, borrower, owner, 4_000_000)
    assert loan.status == LoanStatus.APPLIED
    for voter in world.committee[:2]:
        assert not services.loan_vote(loan=loan, actor=voter, approve=True).decided
    result = services.loan_vote(loan=loan, actor=world.committee[2], approve=True)
    loan = result.loan
    assert result.decided and loan.status == LoanStatus.APPROVED
    assert loan.rules.version == 2 and loan.fee == 40_000
    figures = balanced(world.pool)
    assert (figures.cash, figures.reserved) == (1_000_000, 4_000_000)

    start = timezone.localdate() - timedelta(days=75)
    loan = services.loan_disburse(loan=loan, actor=world.treasurer, on=start)
    assert [(i.principal, i.fee, i.due_on) for i in loan.installments.all()] == [
        (2_000_000, 20_000, start + timedelta(days=30)),
        (2_000_000, 20_000, start + timedelta(days=60)),
    ]
    assert (balanced(world.pool).loans, balanced(world.pool).reserved) == (4_000_000, 0)

    services.repayment_record(
        loan=loan, amount=1_020_000, actor=world.treasurer, received_on=start + timedelta(days=20)
    )
    assert selectors.loan_outstanding(loan=loan) == selectors.Outstanding(3_000_000, 20_000)
    # The first instalment is still 1,000,000 short and fell due 45 days ago.
    assert selectors.loan_days_past_due(loan=loan) == 45
    assert selectors.bucket_of(45) == "31-90"
    assert selectors.pool_delinquency(pool=world.pool).buckets["31-90"] == {"count": 1, "amount": 3_000_000}

    with pytest.raises(ApplicationError) as exc:
        services.loan_pause(loan=loan, actor=world.committee[0], reason="  ")
    assert exc.value.code == "required"
    services.loan_pause(
        loan=loan,
        actor=world.committee[0],
        reason="区民政局确认拨款延迟至下月",
        on=timezone.localdate() - timedelta(days=10),
    )
    assert selectors.loan_days_past_due(loan=loan) == 35
    assert selectors.pool_delinquency(pool=world.pool).paused["count"] == 1

    loan = services.loan_receivable_paid(loan=loan, actor=world.treasurer)
    assert loan.status == LoanStatus.REPAID
    auto = loan.repayments.get(source=Repayment.Source.RECEIVABLE)
    assert (auto.amount, auto.principal, auto.fee) == (3_020_000, 3_000_000, 20_000)
    assert loan.pauses.get().ended_on == timezone.localdate()

    figures = balanced(world.pool)
    assert (figures.cash, figures.loans, figures.income, figures.equity) == (5_040_000, 0, 40_000, 5_000_000)
    assert chain_verify().ok
    actions = set(
        AuditEvent.objects.filter(object_id=str(loan.pk), object_type="pool.loan").values_list("action", flat=True)
    )
    assert {
        "pool.loan.applied",
        "pool.loan.approved",
        "pool.loan.disbursed",
        "pool.loan.paused",
        "pool.loan.closed",
    } <= actions


def test_early_full_repayment_and_overpayment_refused(world):  # type: ignore[no-untyped-def]
    borrower, owner = join(world, equity=1_000_000)
    loan = apply(world, borrower, owner, 800_000)
    for voter in world.committee:
        loan = services.loan_vote(loan=loan, actor=voter, approve=True).loan
    loan = services.loan_disburse(loan=loan, actor=world.treasurer)
    with pytest.raises(ApplicationError) as exc:
        services.repayment_record(loan=loan, amount=800_001, actor=world.treasurer)
    assert exc.value.code == "overpayment"
    assert selectors.loan_outstanding(loan=loan).total == 800_000
    first = services.repayment_record(loan=loan, amount=800_000, actor=world.treasurer, key="bank-ref-1")
    # The same bank reference again changes nothing.
    assert services.repayment_record(loan=loan, amount=800_000, actor=world.treasurer, key="bank-ref-1") == first
    loan.refresh_from_db()
    assert loan.status == LoanStatus.REPAID
    assert balanced(world.pool).cash == 1_000_000


def test_a_rejected_loan_reserves_nothing(world):  # type: ignore[no-untyped-def]
    borrower, owner = join(world, equity=1_000_000)
    loan = apply(world, borrower, owner, 500_000)
    services.loan_vote(loan=loan, actor=world.committee[0], approve=True)
    services.loan_vote(loan=loan, actor=world.committee[1], approve=False)
    loan = services.loan_vote(loan=loan, actor=world.committee[2], approve=False).loan
    assert loan.status == LoanStatus.REJECTED
    assert balanced(world.pool).reserved == 0
