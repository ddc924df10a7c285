"""Per-IP limits key on the real client: REMOTE_ADDR without a proxy, the trusted proxy's X-Forwarded-For entry
behind one, never an entry the client wrote itself."""

from __future__ import annotations

import copy

import pytest
from django.test import Client, RequestFactory

from huoban.web.client import client_ip

pytestmark = pytest.mark.django_db


def _request(remote: str, forwarded: str | None = None):  # type: ignore[no-untyped-def]
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.fixture
def behind_one_proxy(settings):  # type: ignore[no-untyped-def]
    rest = copy.deepcopy(settings.REST_FRAMEWORK)
    rest["NUM_PROXIES"] = 1
    settings.REST_FRAMEWORK = rest


def test_without_a_proxy_the_forwarded_header_is_ignored(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
    assert client_ip(_request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


def test_behind_a_proxy_the_entry_it_appended_counts(behind_one_proxy):
    assert client_ip(_request("10.0.0.2", "198.51.100.7")) == "198.51.100.7"
    # whatever the client put in front is not trusted
    assert client_ip(_request("10.0.0.2", "1.2.3.4, 198.51.100.7")) == "198.51.100.7"
    assert client_ip(_request("10.0.0.2", "not-an-address")) == "10.0.0.2"
    assert client_ip(_request("10.0.0.2")) == "10.0.0.2"


def test_sign_in_limits_are_per_client_behind_the_balancer(behind_one_proxy, cast_a):
    def attempt(client_address: str, forged: str = "", login: str = "nobody@x.test") -> int:
        client = Client(
            HTTP_HOST="huoban.localhost",
            REMOTE_ADDR="10.0.0.2",  # the balancer, for everyone
            HTTP_X_FORWARDED_FOR=f"{forged}{client_address}",
        )
        return client.post("/accounts/login/", {"login": login, "password": "wrong-wrong"}).status_code

    assert [attempt("198.51.100.7") for _ in range(11)][-1] == 429
    assert attempt("198.51.100.7", forged="5.6.7.8, ") == 429  # a forged entry in front changes nothing
    # another client behind the same balancer is not locked out (with another account: accounts have their own)
    assert attempt("198.51.100.8", login="someone@x.test") == 200
