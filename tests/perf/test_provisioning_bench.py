"""Provisioning benchmark: hubs made from the warm pool and from a template clone, against django-tenants'
default of replaying every migration, measured in one run; then a no-op fleet migration over 200 hubs.

    make bench PYTEST_ARGS="-k provisioning"
"""

from __future__ import annotations

import statistics
import time

import pytest
from django.core.management import call_command
from django.db import connection as db_connection
from django.test.utils import override_settings

from huoban.celery import app as celery_app
from huoban.db import connection
from tenants import provisioning
from tenants.models import Domain, Hub
from tenants.services import hub_provision

N_POOL, N_CLONE, N_REPLAY, N_FLEET = 20, 20, 5, 200


def _details(slug: str) -> dict[str, str]:
    return {
        "slug": slug,
        "name_zh": f"基准枢纽 {slug}",
        "kind": "city",
        "region_code": "510100",
        "admin_email": f"admin@{slug}.bench",
    }


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _replay_migrations(slug: str) -> None:
    """What django-tenants does without a base schema: create the schema, then run every tenant migration."""
    schema = f"hub_{slug}"
    hub = Hub.objects.create(
        schema_name=schema, slug=slug, name_zh=slug, kind="city", region_code="510100", status="active"
    )
    with db_connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{schema}"')
    call_command("migrate_schemas", tenant=True, schema_name=schema, interactive=False, verbosity=0)
    connection.set_schema_to_public()
    Domain.objects.create(domain=hub.host, tenant=hub)


def _cleanup() -> None:
    connection.set_schema_to_public()
    for hub in Hub.objects.filter(slug__startswith="bench-"):
        provisioning.schema_drop(hub.schema_name)
        hub.delete()


@pytest.mark.timeout(3600)  # the untimed fleet of 200 hubs is made by cloning: minutes with today's schema
def test_provisioning_speed(committed_db, capsys):  # type: ignore[no-untyped-def]
    # refills happen in a worker in production; here they are kept out of the timed calls
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = "memory://localhost/"
    try:
        with override_settings(HUOBAN_SPARE_POOL_SIZE=N_POOL):
            provisioning.spares_refill()
        pool = [_timed(lambda i=i: hub_provision(actor=None, **_details(f"bench-pool-{i}"))) for i in range(N_POOL)]
        for spare in provisioning.spare_list():
            provisioning.spare_drop(spare.name)
        clone = [_timed(lambda i=i: hub_provision(actor=None, **_details(f"bench-clone-{i}"))) for i in range(N_CLONE)]
        replay = [_timed(lambda i=i: _replay_migrations(f"bench-replay-{i}")) for i in range(N_REPLAY)]

        fleet_size = Hub.objects.count()
        while fleet_size < N_FLEET:
            hub_provision(actor=None, **_details(f"bench-fleet-{fleet_size}"))
            fleet_size += 1
        noop = _timed(lambda: call_command("hubs_migrate", "--quiet", "--no-spares"))
    finally:
        celery_app.conf.task_always_eager = True
        _cleanup()

    m_pool, m_clone, m_replay = (statistics.median(x) for x in (pool, clone, replay))
    tables = _tenant_tables()
    with capsys.disabled():
        print(f"\nprovisioning ({tables[0]} tables, {tables[1]} indexes per hub schema)")
        print(
            f"  warm pool (rename a spare): median {m_pool * 1000:.1f} ms over {N_POOL}  "
            f"(p90 {sorted(pool)[int(0.9 * len(pool))] * 1000:.1f} ms)"
        )
        print(f"  template clone:             median {m_clone * 1000:.1f} ms over {N_CLONE}")
        print(f"  replay migrations:          median {m_replay * 1000:.1f} ms over {N_REPLAY}")
        print(f"  ratio replay / pool: {m_replay / m_pool:.1f}x; replay / clone: {m_replay / m_clone:.1f}x")
        print(f"  no-op `hubs migrate` over {fleet_size} hubs: {noop:.2f} s")
    assert len(pool) == N_POOL and len(replay) == N_REPLAY  # the figures above are the result


def _tenant_tables() -> tuple[int, int]:
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'hub_template'")
        tables = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = 'hub_template'")
        return tables, cursor.fetchone()[0]
