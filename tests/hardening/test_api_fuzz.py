"""Every operation of the hub API and the platform API, fed generated input by schemathesis with valid auth.

No input may get a server error, every answer matches the documented response schema, and every 4xx carries the
one error body (``code`` and ``message``). The schema
is the one the product serves (drf-spectacular), so an operation a later feature adds is fuzzed without editing
this file. Requests run in-process through the WSGI app, inside the test's transaction, so nothing they write
outlives the test.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings

from huoban.identity.services import api_token_create

pytestmark = pytest.mark.django_db

# Operations whose side effects leave the process (a real Stripe call) are fuzzed in tests/billing instead.
SKIPPED_PATHS = ("/api/v1/billing/checkout", "/api/v1/billing/portal")


def _schema(urlconf: str) -> Any:
    spec = SchemaGenerator(urlconf=urlconf).get_schema(request=None, public=True)
    schema = schemathesis.openapi.from_dict(spec)
    schema.app = get_wsgi_application()
    return schema


hub_api = _schema("huoban.urls_hub")
public_api = _schema("huoban.urls_public")


@schemathesis.check
def error_body_on_4xx(ctx: Any, response: Any, case: Any) -> bool | None:
    """A refused request says why, in the product's one error shape."""
    if 400 <= response.status_code < 500 and response.status_code not in (405,):
        body = response.json()
        assert isinstance(body, dict) and "code" in body and "message" in body, body
    return None


CHECKS = [schemathesis.checks.not_a_server_error, schemathesis.checks.response_schema_conformance, error_body_on_4xx]
FUZZ = settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():  # type: ignore[no-untyped-def]
    """What Django's test client does: a request's end must not close the connection holding the test's
    transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# A real server always says who is calling; rate limits by client IP need it.
CLIENT = {"REMOTE_ADDR": "203.0.113.7"}


def _bearer(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {api_token_create(user=user, name='fuzz').secret}"}


@hub_api.parametrize()
@FUZZ
def test_hub_api_never_fails_on_bad_input(case, hub_a, cast_a):  # type: ignore[no-untyped-def]
    if case.path.startswith(SKIPPED_PATHS):
        pytest.skip("leaves the process")
    headers = {"Host": hub_a.host, **_bearer(cast_a.hub_admin)}
    case.call_and_validate(headers=headers, checks=CHECKS, environ_base=CLIENT)


@public_api.parametrize()
@FUZZ
def test_platform_api_never_fails_on_bad_input(case, operator):  # type: ignore[no-untyped-def]
    headers = {"Host": "huoban.localhost", **_bearer(operator)}
    case.call_and_validate(headers=headers, checks=CHECKS, environ_base=CLIENT)
