"""A task for the fault tests, loaded into a real worker with ``--include``: it posts one ledger transaction
(idempotent by key), then keeps working, so a worker killed mid-task has already had its side effect."""

from __future__ import annotations

import time
from pathlib import Path

from celery import shared_task


@shared_task(acks_late=True)
def fault_probe_post(*, key: str, bank: str, income: str, amount: int, marker: str) -> str:
    from hubs.ledger import services
    from hubs.ledger.models import Account

    log = Path(marker)
    first_attempt = not log.exists()
    with log.open("a") as out:
        out.write("start\n")
    result = services.transaction_post(
        idempotency_key=key,
        lines=[
            services.Line.debit(Account.objects.get(code=bank), amount),
            services.Line.credit(Account.objects.get(code=income), amount),
        ],
        actor=None,
        memo="fault probe",
    )
    with log.open("a") as out:
        out.write(f"posted created={result.created}\n")
    if first_attempt:
        time.sleep(60)  # the test kills the worker here
    with log.open("a") as out:
        out.write("done\n")
    return key
