"""Helpers of the partner tests: organisations with an owner, and partnerships in a given state."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from huoban.identity.models import Organisation, User
from tests.factories import credit_code


@pytest.fixture
def make_org(db):  # type: ignore[no-untyped-def]
    """``make_org(owner, name=..., region=..., kind=...)``: an organisation registered by ``owner``."""
    from huoban.identity.services import organisation_create

    def make(
        owner: User, name: str = "成都市武侯区助老服务中心", region: str = "510107", kind: str = "social_organisation"
    ) -> Organisation:
        return organisation_create(
            creator=owner,
            name=name,
            kind=kind,
            region_code=region,
            credit_code=credit_code(region) if kind != "volunteer_team" else None,
        )

    return make


@pytest.fixture
def ngo_org_a(cast_a) -> Organisation:  # type: ignore[no-untyped-def]
    """The organisation hub A's NGO member owns (made with the cast)."""
    return Organisation.objects.get(members__user=cast_a.ngo_member)


@pytest.fixture
def partnership_in(hub_a, cast_a, ngo_org_a):  # type: ignore[no-untyped-def]
    """``partnership_in(status)``: hub A's partnership with ``ngo_org_a`` walked to ``status`` the way people do."""
    from hubs.partners import services

    def make(status: str):  # type: ignore[no-untyped-def]
        with hub_a:
            p = services.partnership_apply(organisation=ngo_org_a, actor=cast_a.ngo_member, service_areas=["youth"])
            path = {
                "applied": [],
                "under_review": ["under_review"],
                "active": ["under_review", "active"],
                "rejected": [("rejected", "材料不全")],
                "suspended": ["under_review", "active", ("suspended", "年报逾期")],
                "left": ["under_review", "active", "left"],
            }[status]
            for step in path:
                to, reason = step if isinstance(step, tuple) else (step, "")
                p = services.partnership_transition(partnership=p, status=to, actor=cast_a.staff, reason=reason)
            if status == "invited":
                raise AssertionError("use partner_invite for invited")
            return p

    return make


@pytest.fixture
def commit_in(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """``with commit_in(hub): client.post(...)``: run what the request enqueued on commit inside ``hub``, as a real
    commit inside the hub's request does (the test's transaction never commits, and a test client request ends
    back in the public schema)."""

    @contextmanager
    def run(hub) -> Iterator[None]:  # type: ignore[no-untyped-def]
        with django_capture_on_commit_callbacks() as callbacks:
            yield
        with hub:
            while callbacks:  # what the callbacks enqueue on their own commit runs too
                pending = list(callbacks)
                with django_capture_on_commit_callbacks() as callbacks:
                    for callback in pending:
                        callback()

    return run
