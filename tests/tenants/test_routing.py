"""Host routing and hub status: which host answers what."""

import pytest

from tenants.models import HubStatus
from tenants.services import hub_status_set

pytestmark = pytest.mark.django_db


def test_base_domain_is_the_public_site(client_for):
    response = client_for(None).get("/")
    assert response.status_code == 200
    assert "伙伴" in response.content.decode()
    assert client_for(None).get("/api/v1/hubs").json()["count"] == 2


def test_hub_host_serves_that_hub(client_for, hub_a, hub_b):
    page = client_for(None, hub_a).get("/").content.decode()
    assert hub_a.name_zh in page and hub_b.name_zh not in page
    assert client_for(None, hub_b).get("/api/v1/hub").json()["slug"] == "shangcheng"


def test_host_with_port_and_upper_case_is_the_same_hub(client_for, hub_a):
    from django.test import Client

    response = Client(HTTP_HOST=hub_a.host.upper() + ":8000").get("/api/v1/hub")
    assert response.json()["slug"] == hub_a.slug


def test_unknown_host_gets_a_clear_404_page(db):
    from django.test import Client

    response = Client(HTTP_HOST="nowhere.huoban.localhost").get("/")
    assert response.status_code == 404
    assert "找不到该枢纽" in response.content.decode()
    assert Client(HTTP_HOST="evil.example.com").get("/api/v1/hubs").status_code == 404


def test_suspended_hub_answers_503_with_the_reason(client_for, hub_a, cast_a):
    hub_status_set(hub=hub_a, status=HubStatus.SUSPENDED, reason="欠费未缴", actor=None)
    response = client_for(cast_a.hub_admin, hub_a).get("/")
    assert response.status_code == 503
    assert "欠费未缴" in response.content.decode()
    api = client_for(cast_a.hub_admin, hub_a).get("/api/v1/hub")
    assert api.status_code == 503 and api.json()["code"] == "hub_suspended"


def test_read_only_hub_reads_but_refuses_writes(client_for, hub_a, cast_a):
    hub_status_set(hub=hub_a, status=HubStatus.READ_ONLY, reason="迁移中", actor=None)
    client = client_for(cast_a.hub_admin, hub_a)
    assert client.get("/members/").status_code == 200
    response = client.post(
        "/api/v1/hub/members", {"email": "x@y.test", "roles": ["staff"]}, content_type="application/json"
    )
    assert response.status_code == 423
    assert response.json()["code"] == "hub_read_only"
    assert "只读" in response.json()["message"]
    page = client.post("/members/invite/", {"email": "x@y.test", "roles": ["staff"]})
    assert page.status_code == 423
    from tenants.models import HubInvitation

    assert not HubInvitation.objects.filter(email="x@y.test").exists()


def test_archived_hub_answers_410(client_for, hub_a):
    hub_status_set(hub=hub_a, status=HubStatus.ARCHIVED, actor=None)
    assert client_for(None, hub_a).get("/").status_code == 410


def test_english_is_a_switch_away(client_for, hub_a):
    client = client_for(None, hub_a)
    assert "登录" in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Sign in" in client.get("/").content.decode()


def test_health_endpoints_answer_on_every_host(client_for, hub_a):
    for hub in (None, hub_a):
        assert client_for(None, hub).get("/healthz").json() == {"status": "ok", "database": True}
        assert client_for(None, hub).get("/livez").json() == {"status": "ok"}


def test_lists_join_the_way_the_language_does(client_for, hub_a, cast_a):
    from hubs.core.services import membership_grant

    with hub_a:
        membership_grant(user=cast_a.reviewer, roles=["ambassador"], actor=None)
    client = client_for(cast_a.reviewer, hub_a)
    assert "公益使者、评审专家" in client.get("/").content.decode()
    client.cookies["huoban_language"] = "en"
    page = client.get("/").content.decode()
    assert "Public-welfare ambassador, Reviewer" in page or "ambassador, Reviewer" in page


def test_routing_answers_are_kept_briefly_and_a_change_in_this_process_applies_at_once(client_for, hub_a):
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from huoban.db import connection
    from tenants.models import Domain

    client = client_for(None, hub_a)
    assert client.get("/api/v1/hub").status_code == 200  # routed once: the answer is kept
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/hub").json()["slug"] == hub_a.slug
    assert not [q for q in queries.captured_queries if "tenants_domain" in q["sql"]]

    # suspended here: the very next request sees it (the save empties this process's cache)
    hub_status_set(hub=hub_a, status=HubStatus.SUSPENDED, reason="欠费未缴", actor=None)
    assert client.get("/api/v1/hub").status_code == 503
    hub_status_set(hub=hub_a, status=HubStatus.ACTIVE, reason="", actor=None)
    assert client.get("/api/v1/hub").status_code == 200

    # an unknown host is remembered as unknown, until a domain for it is added
    assert Client(HTTP_HOST="later.huoban.localhost").get("/api/v1/hub").status_code == 404
    Domain.objects.create(domain="later.huoban.localhost", tenant=hub_a, is_primary=False)
    assert Client(HTTP_HOST="later.huoban.localhost").get("/api/v1/hub").json()["slug"] == hub_a.slug


def test_a_request_changing_its_hub_object_does_not_change_the_next_requests(hub_a):
    from tenants.middleware import hub_for_host

    first = hub_for_host(hub_a.host)
    assert first is not None
    first.name_zh = "被请求改掉的名字"
    second = hub_for_host(hub_a.host)
    assert second is not None and second.name_zh == hub_a.name_zh and second is not first


def test_with_the_cache_off_every_request_routes_afresh(client_for, hub_a, settings):
    from django.test.utils import CaptureQueriesContext

    from huoban.db import connection

    settings.HUOBAN_HOST_CACHE_SECONDS = 0
    client = client_for(None, hub_a)
    client.get("/api/v1/hub")
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/hub")
    assert [q for q in queries.captured_queries if "tenants_domain" in q["sql"]]
