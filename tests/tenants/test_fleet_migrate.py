"""`hubs migrate`: the template first, then only the hubs whose migrations differ, in parallel."""

import pytest
from django.core.management import call_command

from huoban.db import connection
from tenants import provisioning
from tenants.models import Hub
from tenants.services import hub_provision

pytestmark = pytest.mark.slow


def test_only_hubs_behind_the_template_are_migrated(committed_db, capsys):
    hubs = [
        hub_provision(
            slug=f"fleet-{n}",
            name_zh=f"枢纽{n}",
            kind="city",
            region_code="510100",
            admin_email=f"a@fleet{n}.test",
            actor=None,
        ).hub
        for n in range(3)
    ]
    try:
        behind = hubs[1]
        # make one hub miss its membership app, as if it predates that migration
        with connection.cursor() as cursor:
            cursor.execute(f'DROP TABLE "{behind.schema_name}".hubcore_hubmembership')
            cursor.execute(f"DELETE FROM \"{behind.schema_name}\".django_migrations WHERE app = 'hubcore'")
        template = provisioning.migration_fingerprint("hub_template")
        assert provisioning.migration_fingerprint(behind.schema_name) != template
        capsys.readouterr()
        call_command("hubs_migrate", "--quiet", "--no-spares", "--processes", "2")
        out = capsys.readouterr().out
        total = Hub.objects.count()
        assert f"1 hubs migrated, {total - 1} already up to date, 0 failed" in out
        assert provisioning.migration_fingerprint(behind.schema_name) == template
        with behind:
            from hubs.core.models import HubMembership

            assert HubMembership.objects.count() == 0  # the table is back
    finally:
        connection.set_schema_to_public()
        for hub in hubs:
            provisioning.schema_drop(hub.schema_name)
            hub.delete()


def test_a_failing_hub_is_reported_and_the_command_fails(committed_db):
    from django.core.management import CommandError

    hub = hub_provision(
        slug="fleet-broken",
        name_zh="坏枢纽",
        kind="city",
        region_code="510100",
        admin_email="a@broken.test",
        actor=None,
    ).hub
    try:
        with connection.cursor() as cursor:  # the records say nothing is applied, yet the tables exist
            cursor.execute(f"DELETE FROM \"{hub.schema_name}\".django_migrations WHERE app = 'hubcore'")
        with pytest.raises(CommandError, match="1 hub"):
            call_command("hubs_migrate", "--quiet", "--no-spares", "--no-public")
    finally:
        connection.set_schema_to_public()
        provisioning.schema_drop(hub.schema_name)
        hub.delete()
