"""The pool over HTTP: API and pages answer each person as the rules say; another hub's people get 404;
bad input gets a clear error and changes nothing."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.utils import translation

from hubs.ledger.models import LedgerTransaction
from hubs.pool.models import LoanStatus
from tests.pool.helpers import join

pytestmark = pytest.mark.django_db


def test_outsiders_and_residents_see_nothing(client_for, hub_a, cast_a, world, outsider):  # type: ignore[no-untyped-def]
    member, _owner = join(world, equity=100_000)
    pk = world.pool.pk
    for user in (outsider, cast_a.resident):
        client = client_for(user, hub_a)
        for path in [
            "/pool/",
            f"/pool/{pk}/",
            f"/pool/{pk}/members/",
            f"/pool/{pk}/statement.xlsx",
            f"/pool/{pk}/annual/2026/",
        ]:
            assert client.get(path).status_code == 404, path
        for path in [f"/api/v1/pools/{pk}", f"/api/v1/pools/{pk}/loans", f"/api/v1/pools/{pk}/members"]:
            assert client.get(path).status_code == 404, path
        assert (
            client.post(
                f"/api/v1/pools/{pk}/members/{member.pk}/contributions", {"amount": 5}, content_type="application/json"
            ).status_code
            == 404
        )
    assert client_for(None, hub_a).get(f"/pool/{pk}/").status_code == 302
    assert client_for(None, hub_a).get(f"/api/v1/pools/{pk}").status_code in (401, 403)


def test_the_pool_is_in_the_navigation_only_for_those_who_can_open_it(client_for, hub_a, cast_a, world, outsider):  # type: ignore[no-untyped-def]
    _member, owner = join(world, equity=100_000)
    for user, listed in [(outsider, False), (cast_a.resident, False), (cast_a.staff, True), (owner, True)]:
        client = client_for(user, hub_a)
        page = client.get("/needs/")
        assert page.status_code == 200
        assert ('data-testid="nav-pool"' in page.content.decode()) is listed, user
        assert (client.get("/pool/").status_code == 200) is listed, user
    assert 'data-testid="nav-pool"' not in client_for(None, hub_a).get("/needs/").content.decode()


def test_a_member_sees_its_own_statement_but_not_anothers(client_for, hub_a, world):  # type: ignore[no-untyped-def]
    member, owner = join(world, equity=123_456)
    other, _other_owner = join(world, equity=10_000)
    client = client_for(owner, hub_a)
    response = client.get(f"/pool/{world.pool.pk}/members/{member.pk}/statement.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [row[4] for row in sheet.iter_rows(min_row=2, values_only=True)] == [123_456]
    assert client.get(f"/pool/{world.pool.pk}/members/{other.pk}/statement.xlsx").status_code == 404
    assert client.get(f"/pool/{world.pool.pk}/members/").status_code == 403
    pdf = client.get(f"/pool/{world.pool.pk}/members/{member.pk}/statement.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_api_loan_flow_and_errors(client_for, hub_a, world):  # type: ignore[no-untyped-def]
    _member, owner = join(world, equity=1_000_000)
    join(world, equity=1_000_000)
    pk = world.pool.pk
    applicant = client_for(owner, hub_a)
    body = {
        "amount": 500_000,
        "purpose": "垫付社工工资",
        "receivable_payer": "区民政局",
        "receivable_contract": "社区服务购买合同",
        "receivable_expected_on": "2030-01-01",
    }
    before = LedgerTransaction.objects.count()
    too_much = applicant.post(
        f"/api/v1/pools/{pk}/loans", {**body, "amount": 99_000_000}, content_type="application/json"
    )
    assert too_much.status_code == 400 and too_much.json()["code"] == "not_eligible"
    with translation.override("en"):
        english = client_for(owner, hub_a)
        english.cookies["huoban_language"] = "en"
        refused = english.post(f"/api/v1/pools/{pk}/loans", {**body, "amount": 0}, content_type="application/json")
        assert refused.status_code == 400 and "greater than zero" in refused.json()["message"]
    with hub_a:
        assert LedgerTransaction.objects.count() == before
    created = applicant.post(f"/api/v1/pools/{pk}/loans", body, content_type="application/json")
    assert created.status_code == 201, created.content
    lid = created.json()["id"]
    assert (
        applicant.post(
            f"/api/v1/pools/{pk}/loans/{lid}/vote", {"approve": True}, content_type="application/json"
        ).status_code
        == 403
    )
    for voter in world.committee:
        response = client_for(voter, hub_a).post(
            f"/api/v1/pools/{pk}/loans/{lid}/vote", {"approve": True}, content_type="application/json"
        )
        assert response.status_code == 200
    assert response.json()["status"] == LoanStatus.APPROVED
    treasurer = client_for(world.treasurer, hub_a)
    assert treasurer.post(f"/api/v1/pools/{pk}/loans/{lid}/disburse").json()["status"] == LoanStatus.DISBURSED
    repaid = treasurer.post(
        f"/api/v1/pools/{pk}/loans/{lid}/repay", {"amount": 200_000}, content_type="application/json"
    )
    assert repaid.json()["outstanding"] == 300_000
    assert client_for(world.committee[0], hub_a).get(f"/api/v1/pools/{pk}/delinquency").status_code == 200
    page = client_for(world.staff, hub_a).get(f"/pool/{pk}/")
    assert page.status_code == 200 and "¥3,000.00" in page.content.decode()
    sheet = client_for(world.staff, hub_a).get(f"/pool/{pk}/statement.xlsx")
    assert sheet.status_code == 200
