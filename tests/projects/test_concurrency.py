"""20 concurrent disbursements against one project, on real separate connections, committing for real.

Cleanup: none, as in tests/ledger/test_concurrency.py: the world is made under fresh unique names and only its
own rows are asserted on; the ledger's history stays balanced and chained.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection
from django.utils import translation

from hubs.ledger.chain import chain_verify
from hubs.projects import services
from hubs.projects.models import Tranche
from hubs.projects.selectors import project_money
from huoban.discovery.models import DiscoveryEntry, DiscoveryOutbox
from huoban.errors import ApplicationError
from tenants.models import Hub
from tests.conftest import _cast
from tests.projects.conftest import make_world

WORKERS = 20


def test_twenty_concurrent_disbursements_never_overdraw(committed_db):
    hub = Hub.objects.get(slug="sichuan")
    cast = _cast("a")
    w = make_world(hub, cast, fund=100_000)  # affords 6 tranches of 15,000 fen, leaving 10,000
    with hub:
        tranches = []
        for i in range(WORKERS):
            t = services.tranche_request(
                project=w.project,
                title=f"第{i}期",
                amount=15_000,
                budget_line=w.line,
                funding_source=w.source,
                actor=cast.staff,
            )
            services.tranche_review(tranche=t, user=cast.ambassador, capacity="ambassador", decision="approve")
            tranches.append(t)
    barrier = threading.Barrier(WORKERS)
    results: list[object] = [None] * WORKERS
    messages: list[str] = []

    def run(i: int) -> None:
        try:
            with hub, translation.override("zh-hans"):
                barrier.wait(timeout=30)
                services.tranche_review(tranche=tranches[i], user=cast.staff, capacity="staff", decision="approve")
                results[i] = "released"
        except ApplicationError as exc:
            results[i] = exc.code
            messages.append(str(exc.message))
        except Exception as exc:  # surfaced by the assertion below
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert Counter(results) == {"released": 6, "insufficient_funds": 14}, results
    assert len(messages) == 14 and all("资金不足" in m and "可用 ¥100.00" in m for m in messages)
    with hub:
        money = project_money(project=w.project)
        assert money.held == 10_000 and money.advance == 90_000 and money.received == 100_000
        statuses = Counter(Tranche.objects.filter(project=w.project).values_list("status", flat=True))
        assert statuses == {"released": 6, "requested": 14}
        # the losers' staff approvals were rolled back with the refused posting
        assert Tranche.objects.filter(project=w.project, status="requested", staff_approver__isnull=False).count() == 0
        report = chain_verify()
        assert report.ok, report.problems
    connection.set_schema_to_public()
    # The funded project committed here is published to discovery; take it out of the committed index again, so
    # later tests searching it (the discovery browser test) do not find it.
    DiscoveryOutbox.objects.filter(source_app="projects").delete()
    DiscoveryEntry.objects.filter(source_app="projects").delete()


@pytest.fixture(autouse=True)
def _public():  # type: ignore[no-untyped-def]
    yield
    connection.set_schema_to_public()
