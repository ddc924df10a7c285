"""The API kernel: schema and docs on every host, one error body, the operator provisioning API."""

import pytest
from django.core import mail
from django.test import Client

from hubs.core.tasks import hubs_usage_refresh_all
from huoban.db import connection
from tenants.models import Hub, HubUsage

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("host", ["huoban.localhost", "sichuan.huoban.localhost"])
def test_openapi_schema_and_docs_on_every_host(host):
    client = Client(HTTP_HOST=host)
    schema = client.get("/api/v1/schema?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/me" in paths and "/api/v1/hubs" in paths
    assert ("/api/v1/hub/members" in paths) == host.startswith("sichuan")
    assert client.get("/api/v1/docs").status_code == 200


def test_validation_errors_share_the_error_body(client_for, cast_a):
    response = client_for(cast_a.staff).patch(
        "/api/v1/me", {"preferred_language": "fr"}, content_type="application/json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "preferred_language" in body["extra"]["fields"]
    assert body["message"]


def test_unknown_api_path_answers_json_404(client_for, cast_a):
    response = client_for(cast_a.staff).get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_operator_api_provisions_and_changes_status(operator, client_for, cast_a, django_capture_on_commit_callbacks):
    api = client_for(operator)
    body = {
        "slug": "guangyuan",
        "name_zh": "广元市公益枢纽",
        "kind": "city",
        "region_code": "510800",
        "admin_email": "a@guangyuan.test",
    }
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post("/api/v1/operator/hubs", body, content_type="application/json")
    assert created.status_code == 201 and created.json()["url"].startswith("http://guangyuan.huoban.localhost")
    assert any("a@guangyuan.test" in m.to for m in mail.outbox)
    assert api.post("/api/v1/operator/hubs", body, content_type="application/json").status_code == 200  # retry
    clash = api.post("/api/v1/operator/hubs", {**body, "name_zh": "别的"}, content_type="application/json")
    assert clash.status_code == 400 and clash.json()["code"] == "slug_taken"
    bad = api.post(
        "/api/v1/operator/hubs", {**body, "slug": "bazhong", "region_code": "123456"}, content_type="application/json"
    )
    assert bad.json()["code"] == "invalid_region" and not Hub.objects.filter(slug="bazhong").exists()
    no_reason = api.patch("/api/v1/operator/hubs/guangyuan", {"status": "suspended"}, content_type="application/json")
    assert no_reason.json()["code"] == "reason_required"
    ok = api.patch(
        "/api/v1/operator/hubs/guangyuan",
        {"status": "suspended", "reason": "合同到期"},
        content_type="application/json",
    )
    assert ok.json()["status"] == "suspended"
    # not for anyone else, whatever their hub role
    for user in (cast_a.hub_admin, cast_a.staff):
        assert client_for(user).post("/api/v1/operator/hubs", body, content_type="application/json").status_code == 404
    assert Client(HTTP_HOST="huoban.localhost").get("/api/v1/operator/hubs").status_code == 401


def test_operator_console_lists_hubs_and_is_hidden_from_others(operator, client_for, cast_a):
    page = client_for(operator).get("/console/")
    assert page.status_code == 200 and "测试四川中心" in page.content.decode()
    assert client_for(cast_a.hub_admin).get("/console/").status_code == 404
    assert client_for(None).get("/console/").status_code == 302


def test_usage_refresh_fans_out_one_task_per_hub():
    assert hubs_usage_refresh_all() == Hub.objects.exclude(status__in=["archived", "provisioning"]).count()
    usage = {u.hub.slug: u.members for u in HubUsage.objects.select_related("hub")}
    assert usage["sichuan"] == 6 and usage["shangcheng"] == 6
    assert connection.schema_name == "public"


def test_tenant_tables_never_exist_in_the_public_schema():
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        public = {row[0] for row in cursor.fetchall()}
    assert "hubcore_hubmembership" not in public
    assert {"identity_user", "tenants_hub", "audit_auditevent"} <= public


def test_password_reset_by_email(cast_a):
    client = Client(HTTP_HOST="huoban.localhost")
    assert client.post("/accounts/password-reset/", {"email": cast_a.staff.email}).status_code == 302
    link = next(line for line in mail.outbox[-1].body.splitlines() if "/password-reset/" in line)
    path = "/" + link.split("/", 3)[3]
    form = client.get(path, follow=True)
    assert form.status_code == 200
    set_url = form.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": "a-fresh-long-password", "new_password2": "a-fresh-long-password"})
    assert done.status_code == 302
    assert (
        client.post("/accounts/login/", {"login": cast_a.staff.email, "password": "a-fresh-long-password"}).status_code
        == 302
    )


def test_django_admin_opens_for_superusers_only(client_for, operator, cast_a):
    operator.is_superuser = True
    operator.save()
    admin = client_for(operator)
    for path in ("/django-admin/", "/django-admin/tenants/hub/", "/django-admin/identity/organisation/"):
        assert admin.get(path).status_code == 200, path
    assert client_for(cast_a.hub_admin).get("/django-admin/").status_code == 302  # to the admin sign-in
