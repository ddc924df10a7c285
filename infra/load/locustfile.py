"""Huoban's main journeys under load (locust). Not part of the test suite; run it with infra/load/run.py.

Reads the seed written by infra/load/seed.py from LOAD_SEED (JSON). Every request names its journey, so the
report gives p50/p95 per journey:
  browse      anonymous public pages of a hub and the public API lists (projects, calls, partners)
  discover    cross-hub search, page and API, with Chinese queries
  directory   hub staff searching the partner directory (API token)
  apply       an NGO starts an application to the open call, then lists its applications (API token)
  review      a reviewer opens their queue and scores one of their assigned applications (a draft score, saved
              again and again; the seed assigned the applications and declared no conflict)
  support     a resident reads the notice round and supports an idea on notice (an account is a verified
              resident; each resident supports each idea once, then the next seeded resident takes over)
  claim       a funder's owner reads the open fair and claims one yuan of its idea (the budget never fills)
  disburse    the treasurer moves money from the bank to grants in the ledger (idempotent posting)
With LOAD_EVERY_JOURNEY=1 (run.py --every-journey) each back-office journey gets exactly one user and visitors
take the rest, so a short run with a few users still exercises every journey.
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
_reviewer = itertools.count()
_resident = itertools.count()
_funder = itertools.count()
# run.py runs one locust per user count against the same seed: step k of n uses every n-th resident from the k-th,
# so a later step never sends a resident who already supported ideas in an earlier one
_step, _steps = (int(x) for x in os.environ.get("LOAD_STEP", "0/1").split("/"))
RESIDENTS = SEED["notice"]["residents"][_step::_steps]


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


class Reviewer(HttpUser):
    weight = 1
    wait_time = between(1, 3)

    def on_start(self) -> None:
        reviewers = SEED["review"]["reviewers"]
        reviewer = reviewers[next(_reviewer) % len(reviewers)]
        self.headers = {"Host": SEED["hub_host"], "Authorization": f"Bearer {reviewer['token']}"}
        self.assignments = itertools.cycle(reviewer["assignments"])

    @task
    def review(self) -> None:
        self.client.get("/api/v1/reviews", headers=self.headers, name="review: my queue")
        scores = [
            {"criterion": c["id"], "score": random.randint(0, c["max_score"]), "comment": "压测评语"}
            for c in SEED["review"]["criteria"]
        ]
        self.client.post(
            f"/api/v1/reviews/{next(self.assignments)}/scores",
            json={"scores": scores},
            headers=self.headers,
            name="review: score an application",
        )


class Supporter(HttpUser):
    weight = 2
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.ideas: list[int] = []

    def _next_resident(self) -> None:
        residents = RESIDENTS
        n = next(_resident)
        if n >= len(residents):  # every seeded resident has supported every idea: only read from now on
            self.headers = {"Host": SEED["hub_host"]}
            return
        self.headers = {"Host": SEED["hub_host"], "Authorization": f"Bearer {residents[n]}"}
        self.ideas = random.sample(SEED["notice"]["ideas"], len(SEED["notice"]["ideas"]))

    @task
    def support(self) -> None:
        notice_round = SEED["notice"]["round"]
        self.client.get(
            f"/api/v1/needs/rounds/{notice_round}", headers={"Host": SEED["hub_host"]}, name="support: notice round"
        )
        if not self.ideas:
            self._next_resident()
        if self.ideas:
            self.client.post(
                f"/api/v1/needs/rounds/{notice_round}/ideas/{self.ideas.pop()}/support",
                headers=self.headers,
                name="support: support an idea",
            )


class Funder(HttpUser):
    weight = 1
    wait_time = between(1, 3)

    def on_start(self) -> None:
        funders = SEED["fair"]["funders"]
        funder = funders[next(_funder) % len(funders)]
        self.organisation = funder["organisation"]
        self.headers = {"Host": SEED["hub_host"], "Authorization": f"Bearer {funder['token']}"}

    @task
    def claim(self) -> None:
        fair = SEED["fair"]["fair"]
        self.client.get(f"/api/v1/needs/fairs/{fair}", headers={"Host": SEED["hub_host"]}, name="claim: fair")
        self.client.post(
            f"/api/v1/needs/fairs/{fair}/claims",
            json={"idea": SEED["fair"]["idea"], "funder_id": self.organisation, "amount": 100},
            headers=self.headers,
            name="claim: claim part of a project",
        )


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


def _one_user_per_journey() -> None:
    # in a function: a module-level name bound to a user class would be taken for one more user class
    for journey in (Staff, Applicant, Reviewer, Supporter, Funder, Treasurer):
        journey.fixed_count = 1


if os.environ.get("LOAD_EVERY_JOURNEY"):
    _one_user_per_journey()
