"""The Sichuan shape (seeds/000): 18 founding partner organisations pool money, membership grows to 100 over a
year, members borrow against late government payments and repay; one payment is confirmed late and paused, one
loan is written off. At the end every statement reconciles with the ledger to the fen."""

from __future__ import annotations

import io
import random
from datetime import timedelta

import openpyxl
import pytest
from django.utils import timezone

from hubs.ledger.chain import chain_verify
from hubs.pool import reports, selectors, services
from hubs.pool.models import LoanStatus
from huoban.errors import ApplicationError
from tests.pool.helpers import apply, approve, join

pytestmark = pytest.mark.django_db


def test_a_year_from_18_founders_to_100_members_reconciles_to_the_fen(world):  # type: ignore[no-untyped-def]
    rng = random.Random(2015)
    services.rules_update(
        pool=world.pool, actor=world.staff, changes={"fee_bps": 50, "limit_multiple_pct": 400, "term_days": 90}
    )
    start = timezone.localdate() - timedelta(days=365)
    paid_in = 0
    for _i in range(18):
        equity = rng.choice([500_000, 1_000_000, 2_000_000])
        join(world, equity=equity)
        paid_in += equity
    loans = []
    refusals: list[str] = []
    for month in range(12):
        day = start + timedelta(days=30 * month)
        for _i in range(7 if month < 11 else 5):  # 18 + 7 × 11 + 5 = 100
            equity = rng.choice([200_000, 500_000])
            join(world, equity=equity)
            paid_in += equity
        for _i in range(3):
            member, owner = rng.choice(world.members)
            amount = rng.randrange(100_000, 1_500_000, 100)
            try:
                loan = apply(world, member, owner, amount)
            except ApplicationError as exc:  # over a limit or already borrowing: the rules said no
                refusals.append(exc.code)
                continue
            loan = services.loan_disburse(loan=approve(world, loan), actor=world.treasurer, on=day)
            loans.append(loan)
        for loan in loans:
            loan.refresh_from_db()
            if loan.status != LoanStatus.DISBURSED or (day - loan.disbursed_on).days < 60:
                continue
            owed = selectors.loan_outstanding(loan=loan).total
            if rng.random() < 0.5:
                services.repayment_record(loan=loan, amount=owed // 2 or owed, actor=world.treasurer, received_on=day)
            else:
                services.loan_receivable_paid(loan=loan, actor=world.treasurer, paid_on=day)
    open_loans = [loan for loan in loans if selectors.loan_outstanding(loan=loan).total]
    assert len(open_loans) >= 2
    services.loan_pause(loan=open_loans[0], actor=world.committee[0], reason="财政拨款推迟到下季度")
    services.loan_write_off(loan=open_loans[1], actor=world.committee[1], reason="委员会 2016 年第 4 次会议")

    pool = world.pool
    assert selectors.members_of(pool=pool).count() == 100
    figures = selectors.pool_figures(pool=pool)
    assert figures.assets == figures.funds
    assert figures.equity == paid_in
    # Member statements: the closing balances add up to the pool's equity, each equal to its member's equity.
    closing = 0
    for member, _owner in world.members:
        rows = reports.member_statement_rows(member=member)
        assert rows[-1].balance == selectors.member_equity(member=member)
        closing += rows[-1].balance
    assert closing == figures.equity
    # The pool statement (xlsx): its totals row is the balance sheet, to the fen.
    sheet = openpyxl.load_workbook(io.BytesIO(reports.pool_statement_xlsx(pool=pool))).worksheets[0]
    totals = list(sheet.iter_rows(values_only=True))[-1]
    assert list(totals[3:]) == [
        figures.cash,
        figures.reserved,
        figures.loans,
        figures.income,
        figures.writeoffs,
        figures.equity,
    ]
    repaid = sum(r.principal for loan in loans for r in loan.repayments.all())
    disbursed = sum(loan.amount for loan in loans)
    assert figures.loans == disbursed - repaid - figures.writeoffs
    assert figures.income == sum(r.fee for loan in loans for r in loan.repayments.all())
    report = reports.annual_report(pool=pool, year=timezone.localdate().year)
    assert report.members_end == 100
    assert chain_verify().ok
