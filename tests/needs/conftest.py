"""Helpers of the needs tests: funders that are active partners, and ideas walked to a given stage."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from hubs.needs import services
from hubs.needs.models import Fair, FairStatus, Need, NoticeRound, ProjectIdea, Resident
from huoban.identity.models import Organisation, User
from tests.factories import credit_code


def verified_resident(phone: str | None = None, name: str = "王小明") -> Resident:
    phone = phone or f"139{uuid.uuid4().int % 10**8:08d}"
    return Resident.objects.create(phone=phone, name=name, phone_verified_at=timezone.now())


def a_need(actor: Any, **kwargs: Any) -> Need:
    fields = {
        "channel": "visit",
        "title": "小区加装电梯",
        "body": "老旧小区没有电梯，老人上下楼困难，希望加装电梯。",
        "category": "elderly",
        "street": "望江街道",
        "community": "近江社区",
        "name": "王小明",
        "phone": "13812348000",
    }
    fields.update(kwargs)
    return services.need_record(actor=actor, **fields)


def open_round(actor: Any, **kwargs: Any) -> NoticeRound:
    now = timezone.now()
    fields = {
        "title": "2026 年民生实事项目公示",
        "starts_at": now - timedelta(hours=1),
        "ends_at": now + timedelta(days=7),
    }
    fields.update(kwargs)
    return services.notice_round_create(actor=actor, **fields)


def funder_in(hub: Any, staff: Any, name: str = "华东家具市场") -> Organisation:
    """An enterprise that is an active partner of ``hub``, with an owner."""
    from hubs.partners.services import partnership_staff_add
    from huoban.identity.services import organisation_create, user_create

    tag = uuid.uuid4().hex[:8]
    owner = user_create(name=f"{name}负责人", email=f"owner-{tag}@funder.test", password="x-very-long-pass-1")
    org = organisation_create(
        creator=owner,
        name=f"{name}{tag}",
        kind="enterprise",
        region_code="510104",
        credit_code=credit_code("510104", prefix="91"),
    )
    with hub:
        partnership_staff_add(actor=staff, credit_code=org.credit_code)
    return org


@pytest.fixture
def make_funder(hub_a, cast_a) -> Callable[..., Organisation]:  # type: ignore[no-untyped-def]
    """``make_funder(name)``: an enterprise or foundation that is an active partner of hub A, with an owner."""
    return lambda name="华东家具市场": funder_in(hub_a, cast_a.staff, name)


class _Cast:
    def __init__(self, staff: Any, reviewer: Any) -> None:
        self.staff, self.reviewer = staff, reviewer


def idea_walk(
    cast_a: Any,
    stage: str,
    *,
    budget: int = 100_000_00,
    fair: Fair | None = None,
    notice_round: NoticeRound | None = None,
) -> ProjectIdea:
    """Inside the active hub, an idea made from a need and walked to ``stage`` (draft, approved, on_notice,
    noticed, at_fair). A fair (open) is made for ``at_fair`` unless given."""
    need = a_need(cast_a.staff, title=f"需求 {uuid.uuid4().hex[:6]}")
    idea = services.idea_create(
        actor=cast_a.staff,
        needs=[need],
        title="消防安全智能防控一条街",
        category="community",
        budget=budget,
        summary="为沿街商户和居民安装智能烟感。",
    )
    if stage == "draft":
        return idea
    criterion = services.criterion_create(name=f"民需程度{uuid.uuid4().hex[:4]}", weight=1, actor=cast_a.staff)
    from hubs.needs.models import ReviewCriterion

    ReviewCriterion.objects.exclude(pk=criterion.pk).update(active=False)
    services.idea_score(idea=idea, reviewer=cast_a.reviewer, scores={criterion.pk: 8})
    idea = services.idea_approve(idea=idea, actor=cast_a.staff)
    if stage == "approved":
        return idea
    notice_round = notice_round or open_round(cast_a.staff)
    idea = services.notice_round_add_idea(notice_round=notice_round, idea=idea, actor=cast_a.staff)
    if stage == "on_notice":
        return idea
    services.notice_round_close(notice_round=notice_round, actor=cast_a.staff)
    idea.refresh_from_db()
    if stage == "noticed":
        return idea
    if fair is None:
        fair = services.fair_create(title="民生实事资本相亲会", held_on=timezone.localdate(), actor=cast_a.staff)
    idea = services.fair_add_idea(fair=fair, idea=idea, actor=cast_a.staff)
    if fair.status == FairStatus.DRAFT:
        services.fair_transition(fair=fair, status=FairStatus.OPEN, actor=cast_a.staff)
    return idea


@pytest.fixture
def idea_at(hub_a, cast_a) -> Callable[..., ProjectIdea]:  # type: ignore[no-untyped-def]
    """``idea_at(stage, budget=...)``: see ``idea_walk`` (call inside ``with hub_a``)."""
    return lambda stage, **kwargs: idea_walk(cast_a, stage, **kwargs)


__all__ = ["User", "a_need", "open_round", "verified_resident"]
