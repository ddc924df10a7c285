"""Provisioning: from a spare or a template clone, all or nothing, safe to retry."""

import pytest
from django.core import mail
from django.db import connection
from django_tenants.utils import schema_exists

from huoban.audit.models import AuditEvent
from huoban.errors import ApplicationError
from tenants import provisioning
from tenants.models import Domain, Hub, HubInvitation, HubStatus
from tenants.services import hub_provision

pytestmark = pytest.mark.django_db

DETAILS = {
    "slug": "yaan",
    "name_zh": "雅安市社会组织服务中心",
    "name_en": "Ya'an",
    "kind": "city",
    "region_code": "511800",
    "admin_email": "Admin@Yaan.test",
}


def test_provision_makes_schema_domain_invitation_and_audit(operator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = hub_provision(actor=operator, **DETAILS)
    hub = result.hub
    assert result.created and result.method in ("spare", "clone")
    assert hub.status == HubStatus.ACTIVE and hub.schema_name == "hub_yaan"
    assert schema_exists("hub_yaan")
    assert Domain.objects.get(tenant=hub).domain == "yaan.huoban.localhost"
    invitation = HubInvitation.objects.get(hub=hub)
    assert invitation.email == "admin@yaan.test" and invitation.roles == ["hub_admin"]
    assert len(mail.outbox) == 1 and "/invitations/" in mail.outbox[0].body
    assert mail.outbox[0].to == ["admin@yaan.test"]
    event = AuditEvent.objects.get(action="tenants.hub.provisioned", object_id=str(hub.pk))
    assert event.actor == operator and event.after["slug"] == "yaan"
    # the new schema holds every tenant table, with the template's migration records
    assert provisioning.migration_fingerprint("hub_yaan") == provisioning.migration_fingerprint("hub_template")
    with hub:
        from hubs.core.models import HubMembership

        assert HubMembership.objects.count() == 0


def test_provision_uses_a_spare_when_one_is_ready_and_clones_otherwise(operator, settings):
    spares = provisioning.spare_list()
    assert spares, "the test database keeps a warm pool"
    first = hub_provision(actor=operator, **DETAILS)
    assert first.method == "spare"
    assert not schema_exists(spares[0].name) or len(provisioning.spare_list()) < len(spares) + 1
    for spare in provisioning.spare_list():
        provisioning.spare_drop(spare.name)
    second = hub_provision(actor=operator, **{**DETAILS, "slug": "mianyang", "region_code": "510700"})
    assert second.method == "clone" and schema_exists("hub_mianyang")


def test_stale_spares_are_never_used(operator):
    for spare in provisioning.spare_list():
        with connection.cursor() as cursor:
            cursor.execute(f'COMMENT ON SCHEMA "{spare.name}" IS %s', ["stale"])
    result = hub_provision(actor=operator, **DETAILS)
    assert result.method == "clone"


def test_duplicate_slug_is_refused(operator):
    with pytest.raises(ApplicationError) as err:
        hub_provision(actor=operator, **{**DETAILS, "slug": "sichuan"})
    assert err.value.code == "slug_taken"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("region_code", "999999", "invalid_region"),
        ("region_code", "110103", "invalid_region"),  # 崇文区, abolished in 2010
        ("region_code", "51", "invalid_region"),
        ("slug", "Bad Slug", "invalid_slug"),
        ("slug", "www", "invalid_slug"),
        ("kind", "village", "invalid_kind"),
        ("admin_email", "not-an-email", "invalid_email"),
        ("name_zh", "  ", "invalid_name"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_made(operator, field, value, code):
    before = (Hub.objects.count(), len(provisioning.spare_list()))
    with pytest.raises(ApplicationError) as err:
        hub_provision(actor=operator, **{**DETAILS, field: value})
    assert err.value.code == code
    assert (Hub.objects.count(), len(provisioning.spare_list())) == before
    assert not schema_exists("hub_yaan")


def test_failure_mid_way_leaves_no_half_made_hub_and_a_retry_succeeds(
    operator, hub_b, django_capture_on_commit_callbacks
):
    # The domain insert fails after the schema was made: someone holds the host as a custom domain.
    squatter = Domain.objects.create(domain="yaan.huoban.localhost", tenant=hub_b, is_primary=False)
    spares_before = {s.name for s in provisioning.spare_list()}
    with pytest.raises(ApplicationError, match="已被"), django_capture_on_commit_callbacks(execute=True):
        hub_provision(actor=operator, **DETAILS)
    connection.set_schema_to_public()
    assert not Hub.objects.filter(slug="yaan").exists()
    assert not schema_exists("hub_yaan")
    assert {s.name for s in provisioning.spare_list()} == spares_before  # the claimed spare is back
    assert not HubInvitation.objects.filter(email="admin@yaan.test").exists()
    assert len(mail.outbox) == 0
    squatter.delete()
    assert hub_provision(actor=operator, **DETAILS).created


def test_retrying_a_successful_request_returns_the_same_hub(operator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = hub_provision(actor=operator, **DETAILS)
        again = hub_provision(actor=operator, **DETAILS)
    assert not again.created and again.hub.pk == first.hub.pk
    assert HubInvitation.objects.filter(hub=first.hub).count() == 1
    assert len(mail.outbox) == 1
    with pytest.raises(ApplicationError) as err:
        hub_provision(actor=operator, **{**DETAILS, "name_zh": "另一个枢纽"})
    assert err.value.code == "slug_taken"


def test_cli_creates_a_hub(capsys):
    from django.core.management import call_command

    call_command(
        "hub_create",
        "leshan",
        "--name",
        "乐山市公益枢纽",
        "--kind",
        "city",
        "--region",
        "511100",
        "--admin-email",
        "a@leshan.test",
    )
    out = capsys.readouterr().out
    assert "hub leshan ready at http://leshan.huoban.localhost" in out
    assert Hub.objects.get(slug="leshan").status == HubStatus.ACTIVE


def test_cli_reports_bad_input_without_a_traceback():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="invalid_region"):
        call_command(
            "hub_create",
            "leshan",
            "--name",
            "乐山",
            "--kind",
            "city",
            "--region",
            "000000",
            "--admin-email",
            "a@leshan.test",
        )
