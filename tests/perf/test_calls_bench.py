"""Benchmark: a call with 2,000 applications and 5 reviewers each (10,000 reviews, 20,000 scores).

Measures the reviewer queue page and the ranking page (latency over repeated requests, and query counts), at 200
and at 2,000 applications, to show the query count does not grow with the number of applications.
Run: make bench PYTEST_ARGS="-k calls"
"""

from __future__ import annotations

import secrets
import statistics
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import PASSWORD

REVIEWERS = 20
PER_APPLICATION = 5
RUNS = 15


def _seed(hub, n: int, tag: str):  # type: ignore[no-untyped-def]
    from hubs.calls import services
    from hubs.calls.models import Application, ReviewAssignment, Score
    from hubs.core.services import membership_grant
    from huoban.identity.models import Organisation
    from huoban.identity.services import user_create

    owner = user_create(name="bench", email=f"owner-{tag}@bench.test", password=PASSWORD)
    reviewers = []
    with hub:
        for i in range(REVIEWERS):
            user = user_create(name=f"专家{i}", email=f"r{i}-{tag}@bench.test", password=PASSWORD)
            membership_grant(user=user, roles=["reviewer"], actor=None)
            reviewers.append(user)
        staff = user_create(name="基准工作人员", email=f"staff-{tag}@bench.test", password=PASSWORD)
        membership_grant(user=staff, roles=["staff"], actor=None)
    connection.set_schema_to_public()
    orgs = Organisation.objects.bulk_create(
        [
            Organisation(name=f"基准组织{tag}-{i}", kind="social_organisation", region_code="510104", created_by=owner)
            for i in range(n)
        ]
    )
    with hub:
        call = services.call_create(
            actor=staff,
            call_type="government_purchase",
            title_zh=f"基准征集{tag}",
            total_budget=10**12,
            project_cap=10**8,
            closes_at=timezone.now() + timedelta(days=1),
        )
        criteria = services.call_rubric_set(
            call=call,
            actor=staff,
            criteria=[services.CriterionInput("需求", 60), services.CriterionInput("能力", 40)],
        )
        apps = Application.objects.bulk_create(
            [
                Application(
                    call=call,
                    organisation=o,
                    title=f"项目{i}",
                    requested_amount=10_000_00,
                    status="in_review",
                    submitted_at=timezone.now(),
                )
                for i, o in enumerate(orgs)
            ],
            batch_size=1000,
        )
        assignments = []
        for i, app in enumerate(apps):
            for k in range(PER_APPLICATION):
                reviewer = reviewers[(i + k) % REVIEWERS]
                done = (i + k) % 3 != 0
                assignments.append(
                    ReviewAssignment(
                        application=app,
                        call=call,
                        reviewer_id=reviewer.pk,
                        status="submitted" if done else "pending",
                        total=Decimal((i * 7 + k * 13) % 100) if done else None,
                    )
                )
        assignments = ReviewAssignment.objects.bulk_create(assignments, batch_size=2000)
        Score.objects.bulk_create(
            [
                Score(assignment=a, criterion=c, score=(a.pk + c.pk) % 11, comment="")
                for a in assignments
                if a.status == "submitted"
                for c in criteria
            ],
            batch_size=5000,
        )
    connection.set_schema_to_public()
    return call, reviewers[0], staff


def _measure(client: Client, url: str) -> tuple[float, float, int]:
    client.get(url)  # warm
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], len(queries)


@pytest.mark.slow
def test_reviewer_queue_and_ranking_at_scale(committed_db):
    from tenants import provisioning
    from tenants.services import hub_provision

    results = {}
    for n in (200, 2000):
        tag = secrets.token_hex(3)
        slug = f"bench-{tag}"
        hub = hub_provision(
            slug=slug,
            name_zh="基准枢纽",
            kind="city",
            region_code="510100",
            admin_email=f"admin@{slug}.test",
            actor=None,
        ).hub
        try:
            started = time.perf_counter()
            call, reviewer, staff = _seed(hub, n, tag)
            seeded = time.perf_counter() - started
            with hub, connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            connection.set_schema_to_public()
            reviewer_client, staff_client = Client(HTTP_HOST=hub.host), Client(HTTP_HOST=hub.host)
            reviewer_client.force_login(reviewer)
            staff_client.force_login(staff)
            queue = _measure(reviewer_client, "/calls/reviews/")
            ranking = _measure(staff_client, f"/calls/{call.pk}/ranking/")
            ranking_api = _measure(staff_client, f"/api/v1/calls/{call.pk}/ranking?page_size=100")
            results[n] = (queue, ranking, ranking_api)
            print(f"\n{n} applications × {PER_APPLICATION} reviewers (seeded in {seeded:.1f} s)")
            for name, (p50, p95, q) in (
                ("reviewer queue", queue),
                ("ranking page", ranking),
                ("ranking API", ranking_api),
            ):
                print(f"  {name:15s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  queries {q}")
        finally:
            from huoban.identity.models import Organisation, User

            connection.set_schema_to_public()
            provisioning.schema_drop(hub.schema_name)
            from huoban.discovery.rebuild import discovery_hub_forget

            discovery_hub_forget(hub_id=hub.pk)
            hub.delete()
            Organisation.objects.filter(name__startswith=f"基准组织{tag}-").delete()
            User.objects.filter(email__endswith=f"-{tag}@bench.test").delete()
            User.objects.filter(email=f"admin@{slug}.test").delete()
    for i in range(3):
        assert results[200][i][2] == results[2000][i][2], "query count grows with the number of applications"
    print(
        f"\nratios 2,000 / 200 (p50): queue {results[2000][0][0] / results[200][0][0]:.2f}, "
        f"ranking {results[2000][1][0] / results[200][1][0]:.2f}"
    )
    assert results[2000][0][0] < 300 and results[2000][1][0] < 300
