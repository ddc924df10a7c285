"""Huoban's main journeys under load (locust). Not part of the test suite; run it with infra/load/run.py.

Reads the seed written by infra/load/seed.py from LOAD_SEED (JSON). Every request names its journey, so the
report gives p50/p95 per journey:
  browse      anonymous public pages of a hub and the public API lists (projects, calls, partners)
  discover    cross-hub search, page and API, with Chinese queries
  directory   hub staff searching the partner directory (API token)
  apply       an NGO starts an application to the open call, then lists its applications (API token)
  disburse    the treasurer moves money from the bank to grants in the ledger (idempotent posting)
Reviews, supports and fair claims need per-user state machines (a verified resident, an assigned reviewer, an
open fair) the seed does not build yet.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import uuid

from locust import HttpUser, between, task

SEED = json.loads(open(os.environ.get("LOAD_SEED", "load-seed.json"), encoding="utf-8").read())  # noqa: SIM115
QUERIES = ["社区", "养老", "助餐", "青少年", "社工", "elderly", "志愿", "成都"]
_ngo = itertools.count()


class Visitor(HttpUser):
    weight = 5
    wait_time = between(0.5, 2)

    def hub(self, path: str, name: str) -> None:
        self.client.get(path, headers={"Host": SEED["hub_host"]}, name=name)

    @task(3)
    def hub_home(self) -> None:
        self.hub("/", "browse: hub home")

    @task(2)
    def public_projects(self) -> None:
        self.hub("/projects/public/", "browse: public projects page")

    @task(2)
    def public_lists(self) -> None:
        self.hub("/api/v1/calls/public", "browse: API calls/public")
        self.hub("/api/v1/partners/public", "browse: API partners/public")

    @task(3)
    def discover(self) -> None:
        q = random.choice(QUERIES)
        self.client.get(f"/api/v1/discover?q={q}", headers={"Host": SEED["base_host"]}, name="discover: API search")

    @task(1)
    def discover_page(self) -> None:
        q = random.choice(QUERIES)
        self.client.get(f"/discover/?q={q}", headers={"Host": SEED["base_host"]}, name="discover: page")


class Staff(HttpUser):
    weight = 1
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.headers = {"Host": SEED["hub_host"], "Authorization": f"Bearer {SEED['staff_token']}"}

    @task
    def directory(self) -> None:
        q = random.choice(["", "社工", "服务", "中心"])
        self.client.get(f"/api/v1/partners?search={q}", headers=self.headers, name="directory: staff search")


class Applicant(HttpUser):
    weight = 1
    wait_time = between(1, 3)

    def on_start(self) -> None:
        ngo = SEED["ngos"][next(_ngo) % len(SEED["ngos"])]
        self.organisation = ngo["organisation"]
        self.headers = {"Host": SEED["hub_host"], "Authorization": f"Bearer {ngo['token']}"}
        self.started = False

    @task
    def apply(self) -> None:
        if not self.started:
            with self.client.post(
                f"/api/v1/calls/{SEED['call']}/apply",
                json={"organisation": self.organisation},
                headers=self.headers,
                name="apply: start application",
                catch_response=True,
            ) as response:
                # An organisation applies once; a second start answers with the existing draft or a clear refusal.
                if response.status_code in (200, 201, 400, 409):
                    response.success()
            self.started = True
        self.client.get("/api/v1/my/call-applications", headers=self.headers, name="apply: my applications")


class Treasurer(HttpUser):
    weight = 1
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.headers = {"Host": SEED["hub_host"], "Authorization": f"Bearer {SEED['treasurer_token']}"}

    @task
    def disburse(self) -> None:
        accounts = SEED["accounts"]
        self.client.post(
            "/api/v1/ledger/transactions",
            json={
                "memo": "压测拨付",
                "lines": [
                    {"account": accounts["LOAD-GRANTS"], "debit": 100_00},
                    {"account": accounts["LOAD-BANK"], "credit": 100_00},
                ],
            },
            headers={**self.headers, "Idempotency-Key": uuid.uuid4().hex},
            name="disburse: ledger posting",
        )
