"""Accounts that sign in with a mobile number reset their password with a code sent by SMS."""

import pytest
from django.test import Client

from huoban import sms
from huoban.audit.models import AuditEvent
from huoban.identity import services
from huoban.identity.models import User
from huoban.identity.services import user_create
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-fresh-Passphrase-2027"
MOBILE = "13800138123"


@pytest.fixture
def mobile_user() -> User:
    return user_create(name="张三", mobile=MOBILE, password=PASSWORD)


def _client() -> Client:
    return Client(HTTP_HOST="huoban.localhost")


def _ask(client: Client, mobile: str = MOBILE):  # type: ignore[no-untyped-def]
    return client.post("/accounts/password-reset/mobile/", {"mobile": mobile})


def test_a_mobile_only_account_resets_its_password_with_the_texted_code_and_other_sessions_end(mobile_user):
    elsewhere = _client()
    assert elsewhere.post("/accounts/login/", {"login": MOBILE, "password": PASSWORD}).status_code == 302
    assert elsewhere.get("/api/v1/me").status_code == 200
    client = _client()
    assert 'data-testid="reset-by-mobile"' in client.get("/accounts/password-reset/").content.decode()

    asked = _ask(client, "+86 138-0013-8123")  # typed as people type it
    assert asked.status_code == 302 and asked["Location"] == "/accounts/password-reset/mobile/code/"
    code = sms.last_code_for(MOBILE)
    assert code is not None
    page = client.get("/accounts/password-reset/mobile/code/").content.decode()
    assert "138****8123" in page and MOBILE not in page
    done = client.post("/accounts/password-reset/mobile/code/", {"code": code, "password": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/accounts/login/"

    assert _client().post("/accounts/login/", {"login": MOBILE, "password": NEW_PASSWORD}).status_code == 302
    assert _client().post("/accounts/login/", {"login": MOBILE, "password": PASSWORD}).status_code == 200
    assert elsewhere.get("/api/v1/me").status_code in (401, 403)  # the old session ended with the old password
    assert AuditEvent.objects.filter(action="identity.password.reset", object_id=str(mobile_user.pk)).exists()
    # the code is used up
    again = client.post("/accounts/password-reset/mobile/code/", {"code": code, "password": "another-Pass-2028"})
    assert again.status_code == 302 and again["Location"] == "/accounts/password-reset/mobile/"


def test_an_unknown_number_gets_the_same_answer_and_no_text():
    sent_before = len(sms.outbox)
    asked = _ask(_client(), "13900000000")
    assert asked.status_code == 302 and asked["Location"] == "/accounts/password-reset/mobile/code/"
    assert len(sms.outbox) == sent_before


def test_a_wrong_code_is_refused_and_five_wrong_tries_use_the_code_up(mobile_user):
    client = _client()
    _ask(client)
    code = sms.last_code_for(MOBILE)
    assert code is not None
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(services.RESET_CODE_ATTEMPTS):
        page = client.post("/accounts/password-reset/mobile/code/", {"code": wrong, "password": NEW_PASSWORD})
        assert page.status_code == 200 and "验证码不正确或已过期" in page.content.decode()
    refused = client.post("/accounts/password-reset/mobile/code/", {"code": code, "password": NEW_PASSWORD})
    assert "尝试次数过多" in refused.content.decode()
    mobile_user.refresh_from_db()
    assert mobile_user.check_password(PASSWORD)  # nothing changed


def test_a_weak_password_is_refused_in_english_and_the_code_still_works(mobile_user):
    client = _client()
    client.cookies["huoban_language"] = "en"
    _ask(client)
    code = sms.last_code_for(MOBILE)
    weak = client.post("/accounts/password-reset/mobile/code/", {"code": code, "password": "12345678"})
    assert weak.status_code == 200 and "password" in weak.content.decode().lower()
    mobile_user.refresh_from_db()
    assert mobile_user.check_password(PASSWORD)
    done = client.post("/accounts/password-reset/mobile/code/", {"code": code, "password": NEW_PASSWORD})
    assert done.status_code == 302
    mobile_user.refresh_from_db()
    assert mobile_user.check_password(NEW_PASSWORD)


def test_bad_numbers_are_refused_with_a_field_error():
    page = _ask(_client(), "12345")
    assert page.status_code == 200 and "有效的中国大陆手机号" in page.content.decode()


def test_codes_are_throttled_per_client_and_per_number(mobile_user):
    client = _client()
    codes = [_ask(client).status_code for _ in range(6)]
    assert codes == [302] * 5 + [429]  # HUOBAN_PASSWORD_RESET_RATE, 5 an hour
    other = Client(HTTP_HOST="huoban.localhost", REMOTE_ADDR="10.9.8.7")
    assert _ask(other).status_code == 429  # the same number from elsewhere
    assert _ask(other, "13900000001").status_code == 302


def test_an_erased_account_gets_no_code(mobile_user):
    from django.utils import timezone

    User.objects.filter(pk=mobile_user.pk).update(erased_at=timezone.now())
    sent_before = len(sms.outbox)
    assert _ask(_client()).status_code == 302
    assert len(sms.outbox) == sent_before


def test_the_code_page_without_a_request_goes_back_to_the_start():
    response = _client().get("/accounts/password-reset/mobile/code/")
    assert response.status_code == 302 and response["Location"] == "/accounts/password-reset/mobile/"
