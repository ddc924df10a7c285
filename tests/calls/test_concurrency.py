"""Determinations at the same moment, on real separate connections that commit (``committed_db``): the call's
budget is never exceeded. Cleans up what it made (nothing here is append-only)."""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from hubs.calls import services
from hubs.calls.models import Application, Award, Call
from hubs.partners.models import Partnership
from huoban.errors import ApplicationError
from huoban.identity.models import Organisation, User
from tenants.applications.models import ApplicationIndex
from tenants.models import Hub
from tests.factories import credit_code

WORKERS = 10


def test_parallel_approvals_never_exceed_the_budget(committed_db):
    hub = Hub.objects.get(slug="sichuan")
    tag = secrets.token_hex(3)
    staff = User.objects.get(email="staff@a.test")
    owner = User.objects.create_user(email=f"owner-{tag}@race.test", password="x", name="并发")
    orgs = [
        Organisation.objects.create(
            name=f"并发组织{tag}-{i}",
            kind="social_organisation",
            region_code="510104",
            credit_code=credit_code("510104", 9_000_000 + int(tag, 16) % 900_000 + i * 1000),
            created_by=owner,
        )
        for i in range(WORKERS)
    ]
    with hub:
        call = services.call_create(
            actor=staff,
            call_type="foundation_grant",
            title_zh=f"并发测试{tag}",
            total_budget=100_000_00,  # room for 3 awards of 30,000 (90,000), not a fourth
            project_cap=40_000_00,
            closes_at=timezone.now() + timedelta(days=1),
        )
        Call.objects.filter(pk=call.pk).update(status="in_review")  # set-up: the call's review stage
        apps = []
        for org in orgs:
            Partnership.objects.create(organisation=org, status="active", source="staff", joined_at=timezone.now())
            apps.append(
                Application.objects.create(
                    call=call, organisation=org, title="t", requested_amount=30_000_00, status="in_review"
                )
            )
    barrier = threading.Barrier(WORKERS)
    results: list[Any] = [None] * WORKERS

    def run(i: int) -> None:
        try:
            with hub:
                barrier.wait(timeout=30)
                services.application_determine(application=apps[i], actor=staff, outcome="approve", amount=30_000_00)
                results[i] = "ok"
        except ApplicationError as exc:
            results[i] = exc.code
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert Counter(results) == {"ok": 3, "over_budget": WORKERS - 3}, results
        with hub:
            assert sum(Award.objects.filter(call=call).values_list("amount", flat=True)) == 90_000_00
            assert Application.objects.filter(call=call, status="approved").count() == 3
    finally:
        with hub:
            from hubs.projects.models import Project

            project_ids = list(Award.objects.filter(call=call).values_list("project_id", flat=True))
            Award.objects.filter(call=call).delete()
            Project.objects.filter(pk__in=[pk for pk in project_ids if pk]).delete()
            Application.objects.filter(call=call).delete()
            call.delete()
            Partnership.objects.filter(organisation__in=orgs).delete()
        connection.set_schema_to_public()
        ApplicationIndex.objects.filter(hub=hub, call_id=call.pk).delete()
        Organisation.objects.filter(pk__in=[o.pk for o in orgs]).delete()
        owner.delete()


@pytest.fixture(autouse=True)
def _public():  # type: ignore[no-untyped-def]
    yield
    connection.set_schema_to_public()
