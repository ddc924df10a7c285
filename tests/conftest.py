"""Fixtures: two hubs and a cast in each, made once per test database and committed.

Hub A (sichuan-like) and hub B (shangcheng-like). In each: a hub admin, staff, a reviewer, an ambassador, a fund
committee member, a treasurer; plus NGO members (an organisation member with no hub role), a resident (signed up,
no role) and, from A's point of view, an outsider (hub B's admin). Tests run inside a transaction that is rolled
back, so what they create disappears; the hubs and the cast stay.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import translation

from huoban.celery import app as celery_app
from huoban.identity.models import User

PASSWORD = "correct-horse-battery-staple"


@dataclass
class Cast:
    hub_admin: User
    staff: User
    reviewer: User
    ambassador: User
    committee: User
    treasurer: User
    ngo_member: User
    resident: User


def _make_cast(hub, key: str) -> Cast:  # type: ignore[no-untyped-def]
    from hubs.core.services import membership_grant
    from huoban.identity.services import organisation_create, user_create
    from tests.factories import credit_code

    def person(role_key: str) -> User:
        return user_create(
            name=f"{key}-{role_key}", email=f"{role_key}@{key}.test", password=PASSWORD, email_verified=True
        )

    cast = Cast(
        hub_admin=person("admin"),
        staff=person("staff"),
        reviewer=person("reviewer"),
        ambassador=person("ambassador"),
        committee=person("committee"),
        treasurer=person("treasurer"),
        ngo_member=person("ngo"),
        resident=person("resident"),
    )
    organisation_create(
        creator=cast.ngo_member,
        name=f"{key} 社工服务社",
        kind="social_organisation",
        region_code=hub.region_code if hub.region_code != "510000" else "510104",
        credit_code=credit_code(hub.region_code, 1 if key == "a" else 2),
    )
    with hub:
        for role, user in [
            ("hub_admin", cast.hub_admin),
            ("staff", cast.staff),
            ("reviewer", cast.reviewer),
            ("ambassador", cast.ambassador),
            ("fund_committee", cast.committee),
            ("treasurer", cast.treasurer),
        ]:
            membership_grant(user=user, roles=[role], actor=None)
    return cast


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker, django_db_keepdb):  # type: ignore[no-untyped-def]
    """The test database, always made (every part of this suite needs it), then the hubs and their cast.

    Replaces pytest-django's fixture, which makes no database when only tests that commit for real (the worker
    test, benchmarks; see ``committed_db``) are selected, and would then let this seeding run elsewhere.
    """
    from django.test.utils import setup_databases, teardown_databases

    from tenants.services import hub_provision

    celery_app.conf.task_always_eager = True
    with django_db_blocker.unblock():
        db_cfg = setup_databases(
            verbosity=request.config.option.verbose, interactive=False, aliases={"default"}, keepdb=django_db_keepdb
        )
        assert connection.settings_dict["NAME"].startswith("test_"), "refusing to seed a non-test database"
        call_command("hubs_migrate", "--no-public", "--quiet")
        hub_a = hub_provision(
            slug="sichuan",
            name_zh="测试四川中心",
            name_en="Test Sichuan",
            kind="provincial_centre",
            region_code="510000",
            admin_email="first-admin@a.test",
            actor=None,
        ).hub
        hub_b = hub_provision(
            slug="shangcheng",
            name_zh="测试上城区",
            name_en="Test Shangcheng",
            kind="district_bureau",
            region_code="330102",
            admin_email="first-admin@b.test",
            actor=None,
        ).hub
        _make_cast(hub_a, "a")
        _make_cast(hub_b, "b")
        connection.set_schema_to_public()
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            # Threads of the browser tests' server may have left idle connections; nothing runs any more.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            connection.close()
            teardown_databases(db_cfg, verbosity=request.config.option.verbose)


@pytest.fixture
def committed_db(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """Database access without the per-test transaction: what a test writes is committed (and the test must
    clean up after itself). For a real worker and for benchmarks; django-tenants cannot flush like
    ``transactional_db`` does, because tenant tables exist only in hub schemas."""
    with django_db_blocker.unblock():
        yield
        connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _isolation(settings):  # type: ignore[no-untyped-def]
    """Every test starts in the public schema with empty caches (the host routing one included: a hub made in an
    earlier test's rolled-back transaction must not be routed to) and tasks run in-process."""
    from tenants.middleware import host_cache_clear

    celery_app.conf.task_always_eager = True
    cache.clear()
    host_cache_clear()
    connection.set_schema_to_public()
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    connection.set_schema_to_public()
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture
def hub_a(db):  # type: ignore[no-untyped-def]
    from tenants.models import Hub

    return Hub.objects.get(slug="sichuan")


@pytest.fixture
def hub_b(db):  # type: ignore[no-untyped-def]
    from tenants.models import Hub

    return Hub.objects.get(slug="shangcheng")


def _cast(key: str) -> Cast:
    users = {u.email.split("@")[0]: u for u in User.objects.filter(email__endswith=f"@{key}.test")}
    return Cast(
        hub_admin=users["admin"],
        staff=users["staff"],
        reviewer=users["reviewer"],
        ambassador=users["ambassador"],
        committee=users["committee"],
        treasurer=users["treasurer"],
        ngo_member=users["ngo"],
        resident=users["resident"],
    )


@pytest.fixture
def cast_a(db) -> Cast:  # type: ignore[no-untyped-def]
    return _cast("a")


@pytest.fixture
def cast_b(db) -> Cast:  # type: ignore[no-untyped-def]
    return _cast("b")


@pytest.fixture
def outsider(cast_b) -> User:  # type: ignore[no-untyped-def]
    """From hub A's point of view: the admin of hub B, signed in, with no role in A."""
    return cast_b.hub_admin


BASE_HOST = "huoban.localhost"


def host_of(hub) -> str:  # type: ignore[no-untyped-def]
    return hub.host if hub is not None else BASE_HOST


@pytest.fixture
def client_for(db):  # type: ignore[no-untyped-def]
    """``client_for(user, hub)``: a test client on the hub's host (or the base host for None), signed in as user."""

    def make(user: User | None, hub=None) -> Client:  # type: ignore[no-untyped-def]
        client = Client(HTTP_HOST=host_of(hub))
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def operator(db) -> User:  # type: ignore[no-untyped-def]
    from huoban.identity.services import user_create

    return user_create(name="运营", email="operator@platform.test", password=PASSWORD, is_operator=True)
