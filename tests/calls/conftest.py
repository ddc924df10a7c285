"""Helpers of the call tests: an open call in hub A with a rubric and a typed form, organisations with owners."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from huoban.identity.models import Organisation, User
from tests.factories import credit_code

FORM = [
    {"key": "plan", "type": "text", "label": "实施方案", "required": True, "max": 200},
    {"key": "people", "type": "number", "label": "受益人数", "required": True, "min": 1, "max": 10000},
    {"key": "match", "type": "money", "label": "配套资金", "required": False, "max": 5_000_000},
    {"key": "area", "type": "choice", "label": "服务范围", "required": True, "choices": ["社区", "街道", "全市"]},
    {"key": "start", "type": "date", "label": "开始日期", "required": False, "min": "2026-01-01"},
    {"key": "budget", "type": "budget", "label": "预算明细", "required": True, "max": 5},
]
ANSWERS: dict[str, Any] = {
    "plan": "为社区老人提供助餐服务",
    "people": 120,
    "area": "社区",
    "budget": "餐费补贴, 30000\n志愿者培训, 5000",
}


@pytest.fixture
def make_org(db):  # type: ignore[no-untyped-def]
    from huoban.identity.services import organisation_create

    def make(
        owner: User, name: str = "成都市武侯区助老服务中心", region: str = "510107", kind: str = "social_organisation"
    ) -> Organisation:
        return organisation_create(
            creator=owner, name=name, kind=kind, region_code=region, credit_code=credit_code(region)
        )

    return make


@pytest.fixture
def ngo_org_a(cast_a) -> Organisation:  # type: ignore[no-untyped-def]
    return Organisation.objects.get(members__user=cast_a.ngo_member)


@pytest.fixture
def make_call(hub_a, cast_a):  # type: ignore[no-untyped-def]
    """``make_call(open=True, **fields)``: a call in hub A with a two-criterion rubric (weights 60/40) and FORM."""
    from hubs.calls import services

    def make(open: bool = True, criteria=None, form=None, **fields):  # type: ignore[no-untyped-def]
        data = {
            "call_type": "government_purchase",
            "title_zh": "2026年社区养老服务项目",
            "title_en": "Community elderly care 2026",
            "description_zh": "面向社区老人的助餐与探访服务。",
            "total_budget": 100_000_00,
            "project_cap": 40_000_00,
            "service_areas": ["elderly"],
            "closes_at": timezone.now() + timedelta(days=10),
            **fields,
        }
        with hub_a:
            call = services.call_create(actor=cast_a.staff, **data)
            services.call_rubric_set(
                call=call,
                actor=cast_a.staff,
                criteria=criteria
                or [
                    services.CriterionInput(name_zh="需求与设计", weight=60, max_score=10),
                    services.CriterionInput(name_zh="团队与预算", weight=40, max_score=5),
                ],
            )
            services.call_form_set(call=call, actor=cast_a.staff, fields=FORM if form is None else form)
            if open:
                call = services.call_transition(call=call, to="open", actor=cast_a.staff)
            call.refresh_from_db()
        return call

    return make


@pytest.fixture
def submitted(hub_a, cast_a, ngo_org_a, make_call):  # type: ignore[no-untyped-def]
    """``submitted(call=None, org=None, owner=None, amount=3_000_000)``: a submitted application."""
    from hubs.calls import services

    def make(call=None, org=None, owner=None, amount: int = 30_000_00, title: str = "长者助餐"):  # type: ignore[no-untyped-def]
        call = call or make_call()
        org, owner = org or ngo_org_a, owner or cast_a.ngo_member
        with hub_a:
            app = services.application_start(call=call, organisation=org, actor=owner)
            app = services.application_save(
                application=app, actor=owner, title=title, summary="助餐", requested_amount=amount, answers=ANSWERS
            )
            return services.application_submit(application=app, actor=owner)

    return make
