"""Twenty committee decisions at the same moment, on real separate connections that commit (``committed_db``),
on a pool that can fund only some of them: exactly the affordable ones are approved, and the ledger never lends
more than the pool holds.

Cleanup: none, on purpose (see tests/ledger/test_concurrency.py): the pool, its people and its postings are new
and uniquely named, balanced and correctly chained; the test database is dropped at the end of the session.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from django.db import connection

from hubs.ledger.chain import chain_verify
from hubs.pool import selectors, services
from hubs.pool.models import LoanStatus
from huoban.errors import ApplicationError
from tenants.models import Hub
from tests.conftest import _cast
from tests.pool.helpers import apply, join, new_pool

WORKERS = 20


def test_twenty_simultaneous_approvals_fund_exactly_what_the_pool_holds(committed_db):  # type: ignore[no-untyped-def]
    hub = Hub.objects.get(slug="sichuan")
    cast = _cast("a")
    with hub:
        world = new_pool(
            staff=cast.staff,
            treasurer=cast.treasurer,
            committee_size=1,
            quorum=1,
            approval_threshold_pct=100,
            lendable_share_pct=100,
            limit_multiple_pct=1000,
        )
        for _i in range(WORKERS):
            join(world, equity=35_000)  # 20 × 350 yuan = 7,000 yuan: seven loans of 1,000
        loans = [apply(world, member, owner, 100_000) for member, owner in world.members]
        voter = world.committee[0]
    barrier = threading.Barrier(WORKERS)
    results: list[Any] = [None] * WORKERS

    def run(i: int) -> None:
        try:
            with hub:
                barrier.wait(timeout=30)
                services.loan_vote(loan=loans[i], actor=voter, approve=True)
                results[i] = "ok"
        except ApplicationError as exc:
            results[i] = exc.code
        except Exception as exc:  # surfaced by the assertion below
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert Counter(results) == {"ok": 7, "over_pool_available": 13}, results
    with hub:
        figures = selectors.pool_figures(pool=world.pool)
        assert (figures.cash, figures.reserved) == (0, 700_000)
        statuses = Counter(loan.status for loan in world.pool.loans.all())
        assert statuses == {LoanStatus.APPROVED: 7, LoanStatus.APPLIED: 13}
        # The refused approvals left no vote behind: the committee may vote again once money comes in.
        assert sum(loan.votes.count() for loan in world.pool.loans.all()) == 7
        assert chain_verify().ok
