"""Concurrent claims and supports on real, separate connections that commit (``committed_db``).

Cleanup: each test makes its own ideas and residents and asserts only on those; the rows stay (the ledger is
append-only, and the test database is dropped at the end of the session)."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from hubs.needs import selectors, services
from hubs.needs.models import Claim
from huoban.errors import ApplicationError
from tenants.models import Hub
from tests.needs.conftest import _Cast, funder_in, idea_walk, open_round, verified_resident

WORKERS = 16


def _in_parallel(hub: Hub, work: Callable[[int], Any], n: int = WORKERS) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            with hub:
                barrier.wait(timeout=30)
                results[i] = work(i)
        except ApplicationError as exc:
            results[i] = exc.code
        except Exception as exc:  # surfaced by the assertions
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.fixture
def hub(committed_db):  # type: ignore[no-untyped-def]
    return Hub.objects.get(slug="sichuan")


@pytest.fixture
def cast(committed_db):  # type: ignore[no-untyped-def]
    from huoban.identity.models import User

    return _Cast(User.objects.get(email="staff@a.test"), User.objects.get(email="reviewer@a.test"))


@pytest.fixture
def idea_at(hub, cast):  # type: ignore[no-untyped-def]
    return lambda stage, **kwargs: idea_walk(cast, stage, **kwargs)


@pytest.fixture
def make_funder(hub, cast):  # type: ignore[no-untyped-def]
    return lambda name: funder_in(hub, cast.staff, name)


def test_concurrent_claims_never_oversubscribe(hub, idea_at, make_funder):  # type: ignore[no-untyped-def]
    funders = [make_funder(f"并发{i}") for i in range(4)]
    with hub:
        idea = idea_at("at_fair", budget=1000)  # affords 13 claims of 75, leaving 25

    def claim(i: int) -> str:
        services.claim_create(fair=idea.fair, idea=idea, funder_id=funders[i % 4].pk, amount=75, actor=None)
        return "ok"

    results = _in_parallel(hub, claim)
    assert Counter(results) == {"ok": 13, "oversubscribed": 3}, results
    with hub:
        assert sum(Claim.objects.filter(idea=idea).values_list("amount", flat=True)) == 975


def test_concurrent_matching_claims_respect_budget_and_cap(hub, idea_at, make_funder):  # type: ignore[no-untyped-def]
    matcher, funder = make_funder("配捐"), make_funder("甲")
    with hub:
        idea = idea_at("at_fair", budget=10_000)
        services.matching_rule_set(fair=idea.fair, funder_id=matcher.pk, percent=100, cap=3_000, actor=None)

    def claim(i: int) -> str:
        services.claim_create(fair=idea.fair, idea=idea, funder_id=funder.pk, amount=1_000, actor=None)
        return "ok"

    _in_parallel(hub, claim)
    with hub:
        claims = Claim.objects.filter(idea=idea)
        total = sum(c.amount for c in claims)
        matched = sum(c.amount for c in claims if c.matched_from_id)
        assert total == 10_000 and matched == 3_000


def test_burst_of_supports_counts_exactly(hub, idea_at):  # type: ignore[no-untyped-def]
    with hub:
        notice_round = open_round(None)
        idea = idea_at("on_notice", notice_round=notice_round)
        tag = uuid.uuid4().int % 10**4
        residents = [verified_resident(f"150{tag:04d}{i:04d}") for i in range(WORKERS)]

    def support(i: int) -> str:
        resident = residents[i // 2]  # every resident tries twice at the same moment
        services.support_add(notice_round=notice_round, idea=idea, resident=resident, ip="192.0.2.7")
        return "ok"

    results = _in_parallel(hub, support)
    assert Counter(results) == {"ok": WORKERS // 2, "already_supported": WORKERS // 2}, results
    with hub:
        assert selectors.support_count(idea=idea) == WORKERS // 2
