"""Accounts and organisations: one sign-in for every hub, validated identifiers, throttled sign-in, 2FA, tokens."""

import time

import pytest
from django.core import mail
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from huoban.audit.models import AuditEvent
from huoban.errors import ApplicationError
from huoban.identity.models import Organisation, User
from huoban.identity.services import organisation_create, user_create
from tests.conftest import PASSWORD
from tests.factories import credit_code

pytestmark = pytest.mark.django_db


def test_sign_in_once_on_the_base_domain_is_recognised_on_two_hub_hosts(hub_a, hub_b, cast_a, cast_b):
    # cast_a.ngo_member has no role anywhere; give them roles in both hubs through the real service
    from hubs.core.services import membership_grant

    user = cast_a.ngo_member
    for hub in (hub_a, hub_b):
        with hub:
            membership_grant(user=user, roles=["reviewer"], actor=None)
    client = Client(HTTP_HOST="huoban.localhost")
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    cookie = client.cookies["huoban_session"]
    assert cookie["domain"] == "huoban.localhost"  # the parent of every hub host
    for hub in (hub_a, hub_b):
        me = client.get("/api/v1/me", HTTP_HOST=hub.host)
        assert me.status_code == 200 and me.json()["email"] == user.email
        assert client.get("/api/v1/hub/members", HTTP_HOST=hub.host).status_code == 403  # reviewer, not staff
    hubs = client.get("/api/v1/me/hubs").json()
    assert sorted(h["hub"]["slug"] for h in hubs) == ["shangcheng", "sichuan"]


def test_sign_in_with_a_mobile_number():
    user = user_create(name="张三", mobile="+86 138-0013-8000", password=PASSWORD)
    assert user.mobile == "13800138000"
    client = Client(HTTP_HOST="huoban.localhost")
    assert client.post("/accounts/login/", {"login": "13800138000", "password": PASSWORD}).status_code == 302
    assert client.get("/api/v1/me").json()["mobile"] == "13800138000"


def test_password_reset_requests_are_throttled_per_client_and_per_address(cast_a, cast_b):
    from django.core import mail

    client = Client(HTTP_HOST="huoban.localhost")
    codes = [client.post("/accounts/password-reset/", {"email": cast_a.staff.email}).status_code for _ in range(6)]
    assert codes == [302] * 5 + [429]  # HUOBAN_PASSWORD_RESET_RATE, 5 an hour
    assert len(mail.outbox) == 5
    refused = client.post("/accounts/password-reset/", {"email": cast_b.staff.email})
    assert refused.status_code == 429 and "尝试次数过多" in refused.content.decode()
    # from another client, the same address is still over its own limit; another address is not
    other = Client(HTTP_HOST="huoban.localhost", REMOTE_ADDR="10.9.8.7")
    assert other.post("/accounts/password-reset/", {"email": cast_a.staff.email}).status_code == 429
    assert other.post("/accounts/password-reset/", {"email": cast_b.staff.email}).status_code == 302


def test_wrong_password_is_refused_without_telling_which_part():
    client = Client(HTTP_HOST="huoban.localhost")
    response = client.post("/accounts/login/", {"login": "nobody@x.test", "password": "whatever-123"})
    assert response.status_code == 200 and "账号或密码不正确" in response.content.decode()


def test_sign_in_is_throttled_after_repeated_failures(cast_a):
    client = Client(HTTP_HOST="huoban.localhost")
    codes = [
        client.post("/accounts/login/", {"login": cast_a.staff.email, "password": "wrong-wrong"}).status_code
        for _ in range(12)
    ]
    assert codes[:10] == [200] * 10 and codes[-1] == 429
    # even the right password waits now
    assert client.post("/accounts/login/", {"login": cast_a.staff.email, "password": PASSWORD}).status_code == 429


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"email": "bad"}, "invalid_email"),
        ({"mobile": "12345"}, "invalid_mobile"),
        ({"email": None, "mobile": None}, "missing_login"),
        ({"password": "123"}, "invalid_password"),
        ({"name": " "}, "invalid_name"),
        ({"email": "ADMIN@a.test"}, "email_taken"),
    ],
)
def test_sign_up_refuses_bad_input(cast_a, kwargs, code):
    base = {"name": "李四", "email": "li@x.test", "password": PASSWORD}
    with pytest.raises(ApplicationError) as err:
        user_create(**{**base, **kwargs})
    assert err.value.code == code
    assert not User.objects.filter(name="李四").exists()


def test_sign_up_page_shows_translated_errors_and_sends_verification(django_capture_on_commit_callbacks):
    client = Client(HTTP_HOST="huoban.localhost")
    bad = client.post("/accounts/signup/", {"name": "王五", "email": "wang@x.test", "password": "short"})
    assert bad.status_code == 200 and "密码" in bad.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        ok = client.post("/accounts/signup/", {"name": "王五", "email": "wang@x.test", "password": PASSWORD})
    assert ok.status_code == 302
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/verify-email/" in line)
    path = link.split("huoban.localhost:8000")[1]
    assert client.get(path).status_code == 200
    assert User.objects.get(email="wang@x.test").email_verified_at is not None
    assert client.get(path[:-5] + "xxxx/").status_code == 400


# Real codes: the example in GB 32100-2015 and codes of registered organisations published by their registrars.
VALID_CODES = ["91350100M000100Y43", "91110000600037341L", "53100000500021676K"]
INVALID_CODES = [
    ("91350100M000100Y44", "校验位"),  # wrong check character
    ("9135010M000100Y43", "18 位"),  # 17 characters
    ("91350100M000I00Y43", "格式"),  # I is not used
]


@pytest.mark.parametrize("code", VALID_CODES)
def test_real_credit_codes_are_accepted(cast_a, code):
    org = organisation_create(
        creator=cast_a.resident, name="某基金会", kind="foundation", region_code="110101", credit_code=code.lower()
    )
    assert org.credit_code == code


@pytest.mark.parametrize(("code", "says"), INVALID_CODES)
def test_invalid_credit_codes_are_refused_with_a_clear_reason(cast_a, code, says):
    with pytest.raises(ApplicationError) as err:
        organisation_create(
            creator=cast_a.resident, name="某组织", kind="foundation", region_code="110101", credit_code=code
        )
    assert err.value.code == "invalid_credit_code" and says in str(err.value)
    assert not Organisation.objects.filter(name="某组织").exists()


def test_a_credit_code_registers_once(cast_a):
    code = credit_code("510104", 77)
    organisation_create(
        creator=cast_a.resident, name="甲", kind="social_organisation", region_code="510104", credit_code=code
    )
    with pytest.raises(ApplicationError) as err:
        organisation_create(
            creator=cast_a.staff, name="乙", kind="social_organisation", region_code="510104", credit_code=code
        )
    assert err.value.code == "credit_code_taken"


def test_volunteer_teams_may_register_without_a_code(cast_a):
    org = organisation_create(
        creator=cast_a.resident, name="青年志愿服务队", kind="volunteer_team", region_code="510104"
    )
    assert org.credit_code is None
    assert org.members.get().role == "owner"
    assert AuditEvent.objects.filter(action="identity.organisation.created", object_id=str(org.pk)).exists()


def test_organisation_api_create_and_update(client_for, cast_a):
    client = client_for(cast_a.resident)
    created = client.post(
        "/api/v1/me/organisations",
        {
            "name": "成都社区发展中心",
            "kind": "social_organisation",
            "region_code": "510104",
            "credit_code": credit_code("510104", 88),
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    org_id = created.json()["id"]
    assert created.json()["region_name"] == "四川省 成都市 锦江区"
    patched = client.patch(
        f"/api/v1/organisations/{org_id}", {"description": "社区营造"}, content_type="application/json"
    )
    assert patched.json()["description"] == "社区营造"
    # someone else's organisation is not there for them
    assert client_for(cast_a.staff).get(f"/api/v1/organisations/{org_id}").status_code == 404
    bad = client.post(
        "/api/v1/me/organisations",
        {"name": "x", "kind": "foundation", "region_code": "510104", "credit_code": "123"},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_credit_code" and bad.json()["extra"]["field"] == "credit_code"


def test_api_token_works_on_every_host_until_revoked(client_for, hub_a, cast_a):
    client = client_for(cast_a.staff)
    issued = client.post("/api/v1/me/tokens", {"name": "脚本"}, content_type="application/json").json()
    secret = issued["secret"]
    assert secret.startswith("hb_")
    bearer = Client(HTTP_HOST=hub_a.host, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert bearer.get("/api/v1/hub/members").status_code == 200
    assert (
        Client(HTTP_HOST="huoban.localhost", HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/me").json()["email"]
        == cast_a.staff.email
    )
    client.delete(f"/api/v1/me/tokens/{issued['id']}")
    refused = bearer.get("/api/v1/hub/members")
    assert refused.status_code == 401 and refused.json()["code"] == "authentication_failed"
    assert Client(HTTP_HOST=hub_a.host, HTTP_AUTHORIZATION="Bearer hb_nope_nope").get("/api/v1/me").status_code == 401


def test_two_factor_sign_in(cast_a):
    user = cast_a.hub_admin
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = Client(HTTP_HOST="huoban.localhost")
    step1 = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert step1.status_code == 302 and "/two-factor/verify/" in step1["Location"]
    assert client.get("/api/v1/me").status_code in (401, 403)  # not signed in yet
    wrong = client.post("/accounts/two-factor/verify/", {"code": "000000"})
    assert "验证码不正确" in wrong.content.decode()
    time.sleep(1.1)  # django-otp throttles the next try by a second after a failure
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    assert client.post("/accounts/two-factor/verify/", {"code": code}).status_code == 302
    assert client.get("/api/v1/me").status_code == 200


def test_hub_admin_work_requires_two_factor_when_the_setting_is_on(settings, client_for, hub_a, cast_a):
    settings.HUOBAN_REQUIRE_2FA_FOR_ADMINS = True
    client = client_for(cast_a.hub_admin, hub_a)
    refused = client.get("/api/v1/hub/audit")
    assert refused.status_code == 403 and refused.json()["code"] == "two_factor_required"
    page = client.get("/audit/")
    assert page.status_code == 302 and "/accounts/two-factor/" in page["Location"]
    # staff work is not affected
    assert client_for(cast_a.staff, hub_a).get("/api/v1/hub/members").status_code == 200


def test_safe_next_never_leaves_the_platform(cast_a):
    client = Client(HTTP_HOST="huoban.localhost")
    away = client.post(
        "/accounts/login/?next=https://evil.example/", {"login": cast_a.staff.email, "password": PASSWORD}
    )
    assert away["Location"] == "/"
    client = Client(HTTP_HOST="huoban.localhost")
    hub = client.post(
        "/accounts/login/?next=http://sichuan.huoban.localhost:8000/members/",
        {"login": cast_a.staff.email, "password": PASSWORD},
    )
    assert hub["Location"] == "http://sichuan.huoban.localhost:8000/members/"
