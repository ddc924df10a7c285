"""The ledger API and page: who may read and write, idempotent posting over HTTP, reversal, verification."""

from __future__ import annotations

import pytest

from hubs.ledger.models import AccountKind
from tests.ledger.helpers import account, fund, unique

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(hub_a):
    with hub_a:
        bank = account(AccountKind.ASSET, no_overdraft=True, name="基本户")
        expense = account(AccountKind.EXPENSE, name="活动支出")
        fund(bank, 100000)
    return bank, expense


def _who(cast_a, outsider, role):
    return outsider if role == "outsider" else getattr(cast_a, role)


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [
        ("outsider", 404, 404),
        ("resident", 404, 404),
        ("reviewer", 403, 403),
        ("ambassador", 403, 403),
        ("staff", 200, 403),
        ("treasurer", 200, 201),
        ("hub_admin", 200, 201),
    ],
)
def test_permission_matrix(client_for, hub_a, cast_a, outsider, books, role, read, write):
    bank, expense = books
    client = client_for(_who(cast_a, outsider, role), hub_a)

    for path in ["/api/v1/ledger/accounts", f"/api/v1/ledger/accounts/{bank.pk}", "/api/v1/ledger/transactions"]:
        assert client.get(path).status_code == read, path
    assert client.get("/ledger/").status_code == read

    body = {"memo": "活动采购", "lines": [{"account": expense.pk, "debit": 100}, {"account": bank.pk, "credit": 100}]}
    response = client.post(
        "/api/v1/ledger/transactions", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=unique()
    )
    assert response.status_code == write, response.content


def test_anonymous_is_asked_to_sign_in(client_for, hub_a, books):
    anonymous = client_for(None, hub_a)
    assert anonymous.get("/api/v1/ledger/accounts").status_code == 401
    assert anonymous.get("/ledger/").status_code == 302


def test_only_hub_admins_see_the_verification(client_for, hub_a, cast_a, books):
    assert client_for(cast_a.treasurer, hub_a).get("/api/v1/ledger/verify").status_code == 403
    report = client_for(cast_a.hub_admin, hub_a).get("/api/v1/ledger/verify").json()
    assert report["ok"] is True
    assert report["entries_checked"] == report["head_seq"] >= 2


def test_accounts_list_with_balances(client_for, hub_a, cast_a, books):
    bank, _expense = books
    rows = client_for(cast_a.staff, hub_a).get("/api/v1/ledger/accounts?page_size=200").json()["results"]
    row = next(r for r in rows if r["id"] == bank.pk)
    assert row["balance"] == 100000
    assert row["balance_display"] == "¥1,000.00"


def test_posting_needs_an_idempotency_key_and_replays_by_it(client_for, hub_a, cast_a, books):
    bank, expense = books
    client = client_for(cast_a.treasurer, hub_a)
    body = {"memo": "采购", "lines": [{"account": expense.pk, "debit": 2500}, {"account": bank.pk, "credit": 2500}]}

    missing = client.post("/api/v1/ledger/transactions", body, content_type="application/json")
    assert missing.status_code == 400
    assert missing.json()["code"] == "idempotency_key_required"

    key = unique()
    first = client.post("/api/v1/ledger/transactions", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)
    again = client.post("/api/v1/ledger/transactions", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 201 and again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["total"] == 2500
    assert [e["amount"] for e in first.json()["entries"]] == [2500, -2500]

    changed = {**body, "memo": "别的"}
    conflict = client.post(
        "/api/v1/ledger/transactions", changed, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "idempotency_conflict"

    detail = client_for(cast_a.staff, hub_a).get(f"/api/v1/ledger/accounts/{bank.pk}").json()
    assert detail["balance"] == 97500
    assert detail["entries"]["count"] == 2
    assert detail["entries"]["results"][0]["credit"] == 2500


def test_bad_postings_get_clear_errors(client_for, hub_a, cast_a, books):
    bank, expense = books
    client = client_for(cast_a.treasurer, hub_a)

    def post(lines):
        return client.post(
            "/api/v1/ledger/transactions",
            {"lines": lines},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=unique(),
        )

    unbalanced = post([{"account": expense.pk, "debit": 100}, {"account": bank.pk, "credit": 99}])
    assert unbalanced.json()["code"] == "unbalanced"
    both = post([{"account": expense.pk, "debit": 100, "credit": 100}, {"account": bank.pk, "credit": 100}])
    assert both.json()["code"] == "invalid"
    too_much = post([{"account": expense.pk, "debit": 100001}, {"account": bank.pk, "credit": 100001}])
    assert too_much.status_code == 409
    assert too_much.json()["code"] == "insufficient_funds"
    assert "¥1,000.00" in too_much.json()["message"]
    assert too_much.json()["extra"]["available"] == 100000
    missing = post([{"account": 10**9, "debit": 1}, {"account": bank.pk, "credit": 1}])
    assert missing.status_code == 404


def test_reverse_once_over_http(client_for, hub_a, cast_a, books):
    bank, expense = books
    client = client_for(cast_a.treasurer, hub_a)
    posted = client.post(
        "/api/v1/ledger/transactions",
        {"lines": [{"account": expense.pk, "debit": 300}, {"account": bank.pk, "credit": 300}]},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=unique(),
    ).json()
    path = f"/api/v1/ledger/transactions/{posted['id']}/reverse"

    assert client_for(cast_a.staff, hub_a).post(path, {}, content_type="application/json").status_code == 403
    reversal = client.post(path, {"memo": "重复录入"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="r1")
    assert reversal.status_code == 201
    assert reversal.json()["reverses"] == posted["id"]
    retried = client.post(path, {"memo": "重复录入"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="r1")
    assert retried.status_code == 200 and retried.json()["id"] == reversal.json()["id"]
    twice = client.post(path, {}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="r2")
    assert twice.status_code == 409 and twice.json()["code"] == "already_reversed"

    original = client.get(f"/api/v1/ledger/transactions/{posted['id']}").json()
    assert original["reversed_by"] == reversal.json()["id"]
    assert client.get("/api/v1/ledger/transactions/999999999").status_code == 404


def test_treasurer_opens_and_closes_accounts(client_for, hub_a, cast_a):
    client = client_for(cast_a.treasurer, hub_a)
    code = unique("acct")
    created = client.post(
        "/api/v1/ledger/accounts",
        {"code": code, "name": "项目42限定资金", "kind": "asset", "restricted_to": "project:42", "no_overdraft": True},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["restricted_to"] == "project:42"
    assert (
        client_for(cast_a.staff, hub_a)
        .post(
            "/api/v1/ledger/accounts", {"code": unique(), "name": "x", "kind": "asset"}, content_type="application/json"
        )
        .status_code
        == 403
    )
    closed = client.post(f"/api/v1/ledger/accounts/{created.json()['id']}/close", content_type="application/json")
    assert closed.status_code == 200 and closed.json()["closed_at"]


def test_staff_page_lists_accounts_balances_and_latest_transactions(client_for, hub_a, cast_a, books):
    page = client_for(cast_a.staff, hub_a).get("/ledger/").content.decode()
    assert "基本户" in page
    assert "¥1,000.00" in page
    assert "捐赠到账" in page


def test_each_hub_has_its_own_books(client_for, hub_a, hub_b, cast_b, books):
    bank, _expense = books
    with hub_b:
        own = account(AccountKind.ASSET, name="上城基本户")
    codes = [
        row["code"]
        for row in client_for(cast_b.treasurer, hub_b).get("/api/v1/ledger/accounts?page_size=200").json()["results"]
    ]
    assert own.code in codes
    assert bank.code not in codes
