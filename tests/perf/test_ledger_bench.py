"""Ledger posting throughput: 8 writer threads, each on its own database connection, committing for real.

Two cases of 2,000 postings each: every writer on ONE account pair (a project's restricted bank account and its
expense account: the account locks and the chain head serialise everything), and each writer on its own pair
(only the hub's chain head is shared). A single writer gives the serial baseline. After each case the ledger's
invariants are checked: balanced, running totals equal entries, no overdraft, chain verifies.

    make bench PYTEST_ARGS="-k ledger"

The rows stay (append-only; see tests/ledger/test_concurrency.py); accounts carry a unique run tag.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
import uuid
from dataclasses import dataclass

from django.db import connection

from hubs.ledger import selectors, services
from hubs.ledger.chain import chain_verify
from hubs.ledger.models import Account, AccountKind
from hubs.ledger.services import Line
from tenants.models import Hub

WRITERS = 8
POSTINGS = 2000
AMOUNT = 100  # fen per posting


@dataclass
class Case:
    name: str
    writers: int
    seconds: float
    cpu_seconds: float  # this process's CPU time: the Python side of the postings
    latencies: list[float]
    errors: list[str]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


def _pair(tag: str, i: int) -> tuple[Account, Account]:
    bank = services.account_create(
        code=f"bench-{tag}-bank-{i}",
        name=f"项目{i}限定资金",
        kind=AccountKind.ASSET,
        subject=f"project:{i}",
        restricted_to=f"project:{i}",
        no_overdraft=True,
        actor=None,
    )
    expense = services.account_create(
        code=f"bench-{tag}-cost-{i}", name=f"项目{i}支出", kind=AccountKind.EXPENSE, subject=f"project:{i}", actor=None
    )
    donations = services.account_create(
        code=f"bench-{tag}-gift-{i}", name="捐赠收入", kind=AccountKind.INCOME, actor=None
    )
    services.transaction_post(
        idempotency_key=f"bench-{tag}-fund-{i}",
        lines=[Line.debit(bank, POSTINGS * AMOUNT), Line.credit(donations, POSTINGS * AMOUNT)],
        actor=None,
    )
    return bank, expense


def _run(hub: Hub, name: str, pairs: list[tuple[Account, Account]], writers: int, tag: str) -> Case:
    per_writer = POSTINGS // writers
    barrier = threading.Barrier(writers + 1)
    latencies: list[list[float]] = [[] for _ in range(writers)]
    errors: list[str] = []

    def writer(w: int) -> None:
        bank, expense = pairs[w % len(pairs)]
        purpose = bank.restricted_to + "/line:1"
        try:
            with hub:
                connection.ensure_connection()
                barrier.wait()
                for n in range(per_writer):
                    started = time.perf_counter()
                    services.transaction_post(
                        idempotency_key=f"bench-{tag}-{name}-{w}-{n}",
                        lines=[Line.debit(expense, AMOUNT), Line.credit(bank, AMOUNT, purpose=purpose)],
                        actor=None,
                        memo="项目支出",
                        source="bench",
                    )
                    latencies[w].append(time.perf_counter() - started)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started, cpu_started = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.join()
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return Case(name, writers, seconds, cpu_seconds, [x for per in latencies for x in per], errors)


def _calibration() -> float:
    """Seconds for a fixed pure-Python loop: this shared 2-core machine's speed varies with its neighbours'
    load, so the figures are read against it (0.05 s at its fastest, 3 to 5 times that when busy)."""
    started = time.perf_counter()
    total = 0
    for i in range(1_000_000):
        total += i
    return time.perf_counter() - started


def _check_invariants(pairs: list[tuple[Account, Account]], spent_per_pair: dict[int, int]) -> None:
    report = chain_verify()
    assert report.ok, report.problems
    assert all(total == 0 for total in selectors.trial_balance().values())
    found = selectors.balances(accounts=[a for pair in pairs for a in pair])
    for i, (bank, expense) in enumerate(pairs):
        assert found[expense.pk] == spent_per_pair[i]
        assert found[bank.pk] == POSTINGS * AMOUNT - spent_per_pair[i] >= 0


def test_ledger_posting_throughput(committed_db, capsys):  # type: ignore[no-untyped-def]
    hub = Hub.objects.get(slug="sichuan")
    tag = uuid.uuid4().hex[:8]
    cases: list[Case] = []
    with hub:
        serial_pair = [_pair(tag, 100)]
        one_pair = [_pair(tag, 0)]
        many_pairs = [_pair(tag, i) for i in range(1, WRITERS + 1)]

        cases.append(_run(hub, "serial", serial_pair, 1, tag))
        _check_invariants(serial_pair, {0: POSTINGS * AMOUNT})
        cases.append(_run(hub, "one-pair", one_pair, WRITERS, tag))
        _check_invariants(one_pair, {0: POSTINGS * AMOUNT})
        cases.append(_run(hub, "eight-pairs", many_pairs, WRITERS, tag))
        _check_invariants(many_pairs, dict.fromkeys(range(WRITERS), POSTINGS // WRITERS * AMOUNT))
        verify_started = time.perf_counter()
        report = chain_verify()
        verify_seconds = time.perf_counter() - verify_started

    with capsys.disabled():
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"\nledger postings (2 lines each, {POSTINGS} per case, synchronous_commit on; "
            f"load average {load}; CPU calibration loop {_calibration():.2f} s)"
        )
        for case in cases:
            lat = sorted(case.latencies)
            print(
                f"  {case.name:<12} {case.writers} writer(s): {case.rate:7.0f} postings/s  "
                f"(latency p50 {statistics.median(lat) * 1000:.1f} ms, p99 {lat[int(0.99 * len(lat))] * 1000:.1f} ms; "
                f"client CPU {case.cpu_seconds / len(lat) * 1000:.2f} ms/posting)"
                + (f"  ERRORS: {len(case.errors)} {case.errors[:1]}" if case.errors else "")
            )
        serial = cases[0].rate
        one, eight = cases[1].rate / serial, cases[2].rate / serial
        print(f"  ratio one-pair / serial: {one:.2f}x; eight-pairs / serial: {eight:.2f}x")
        print(f"  chain_verify over {report.entries_checked} entries: {verify_seconds:.2f} s")
    assert all(not case.errors for case in cases), [case.errors for case in cases]
