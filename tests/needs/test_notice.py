"""Expert review, public notice: one support per verified resident, limits, flags, objections answered before close."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hubs.needs import selectors, services
from hubs.needs.models import IdeaStatus, Resident, SupportFlag
from huoban.discovery.models import DiscoveryOutbox
from huoban.errors import ApplicationError
from tests.needs.conftest import a_need, open_round, verified_resident

pytestmark = pytest.mark.django_db


def test_weighted_review_score_with_known_numbers(hub_a, cast_a, client_for):
    with hub_a:
        idea = services.idea_create(
            actor=cast_a.staff, needs=[a_need(cast_a.staff)], title="助老食堂", category="elderly", budget=100
        )
    staff = client_for(cast_a.staff, hub_a)
    need_c = staff.post(
        "/api/v1/needs/criteria", {"name": "民需程度", "weight": 3}, content_type="application/json"
    ).json()
    feas_c = staff.post(
        "/api/v1/needs/criteria", {"name": "可行性", "weight": 1, "max_score": 5}, content_type="application/json"
    ).json()
    approve_early = staff.post(f"/api/v1/needs/ideas/{idea.pk}/approve")
    assert approve_early.status_code == 409 and approve_early.json()["code"] == "not_scored"
    reviewer = client_for(cast_a.reviewer, hub_a)
    incomplete = reviewer.post(
        f"/api/v1/needs/ideas/{idea.pk}/scores", {"scores": {need_c["id"]: 8}}, content_type="application/json"
    )
    assert incomplete.json()["code"] == "scores_incomplete"
    too_high = reviewer.post(
        f"/api/v1/needs/ideas/{idea.pk}/scores",
        {"scores": {need_c["id"]: 8, feas_c["id"]: 6}},
        content_type="application/json",
    )
    assert too_high.json()["code"] == "invalid_score"
    # reviewer: (3·8/10 + 1·4/5) / 4 × 100 = 80; admin: (3·6/10 + 1·2/5) / 4 × 100 = 55 → 67.5
    assert (
        reviewer.post(
            f"/api/v1/needs/ideas/{idea.pk}/scores",
            {"scores": {need_c["id"]: 8, feas_c["id"]: 4}},
            content_type="application/json",
        ).json()["score"]
        == 80.0
    )
    result = client_for(cast_a.hub_admin, hub_a).post(
        f"/api/v1/needs/ideas/{idea.pk}/scores",
        {"scores": {need_c["id"]: 6, feas_c["id"]: 2}},
        content_type="application/json",
    )
    assert result.json() == {"score": 67.5, "reviewers": 2}
    assert (
        client_for(cast_a.ambassador, hub_a)
        .post(f"/api/v1/needs/ideas/{idea.pk}/scores", {"scores": {}}, content_type="application/json")
        .status_code
        == 403
    )
    assert reviewer.post(f"/api/v1/needs/ideas/{idea.pk}/approve").status_code == 403
    approved = staff.post(f"/api/v1/needs/ideas/{idea.pk}/approve")
    assert approved.json()["status"] == "approved"
    with hub_a:
        with pytest.raises(ApplicationError) as exc:
            services.idea_score(idea=idea, reviewer=cast_a.reviewer, scores={need_c["id"]: 1, feas_c["id"]: 1})
        assert exc.value.code == "idea_not_draft"


def test_one_support_per_resident_and_exact_ranking(hub_a, cast_a, idea_at, client_for):
    with hub_a:
        notice_round = open_round(cast_a.staff)
        first = idea_at("on_notice", notice_round=notice_round)
        second = idea_at("on_notice", notice_round=notice_round)
        residents = [verified_resident(f"1380000{i:04d}") for i in range(3)]
        for r in residents:
            services.support_add(notice_round=notice_round, idea=second, resident=r, ip="10.0.0.1")
        services.support_add(notice_round=notice_round, idea=first, resident=residents[0], ip="10.0.0.1")
        with pytest.raises(ApplicationError) as exc:
            services.support_add(notice_round=notice_round, idea=second, resident=residents[0], ip="10.0.0.1")
        assert exc.value.code == "already_supported"
        unverified = Resident.objects.create(name="匿名", phone="13811112222")
        with pytest.raises(ApplicationError) as exc:
            services.support_add(notice_round=notice_round, idea=first, resident=unverified)
        assert exc.value.code == "resident_unverified"
        ranking = selectors.round_ranking(notice_round=notice_round)
        assert [(i.pk, i.support_count) for i in ranking] == [(second.pk, 3), (first.pk, 1)]  # type: ignore[attr-defined]
    public = client_for(None, hub_a).get(f"/api/v1/needs/rounds/{notice_round.pk}").json()
    assert [(i["id"], i["supports"], i["rank"]) for i in public["ideas"]] == [(second.pk, 3, 1), (first.pk, 1, 2)]
    page = client_for(None, hub_a).get(f"/needs/notice/{notice_round.pk}/").content.decode()
    assert second.title in page and "13800000000" not in page


def test_support_limit_per_resident_per_round(hub_a, cast_a, idea_at):
    with hub_a:
        notice_round = open_round(cast_a.staff, support_limit=2)
        ideas = [idea_at("on_notice", notice_round=notice_round) for _ in range(3)]
        resident = verified_resident()
        services.support_add(notice_round=notice_round, idea=ideas[0], resident=resident)
        services.support_add(notice_round=notice_round, idea=ideas[1], resident=resident)
        with pytest.raises(ApplicationError) as exc:
            services.support_add(notice_round=notice_round, idea=ideas[2], resident=resident)
        assert exc.value.code == "support_limit_reached" and exc.value.extra["limit"] == 2
        assert selectors.support_count(idea=ideas[2]) == 0


def test_supports_outside_the_notice_period_are_refused(hub_a, cast_a, idea_at):
    with hub_a:
        later = services.notice_round_create(
            title="下月公示",
            starts_at=timezone.now() + timedelta(days=1),
            ends_at=timezone.now() + timedelta(days=8),
            actor=cast_a.staff,
        )
        idea = idea_at("approved")
        idea = services.notice_round_add_idea(notice_round=later, idea=idea, actor=cast_a.staff)
        with pytest.raises(ApplicationError) as exc:
            services.support_add(notice_round=later, idea=idea, resident=verified_resident())
        assert exc.value.code == "notice_not_open"


def test_bursts_from_one_ip_range_or_phone_prefix_are_flagged_not_dropped(hub_a, cast_a, idea_at, settings, client_for):
    settings.HUOBAN_NEEDS_FLAG_THRESHOLD = 5
    with hub_a:
        notice_round = open_round(cast_a.staff)
        idea = idea_at("on_notice", notice_round=notice_round)
        for i in range(6):
            services.support_add(
                notice_round=notice_round,
                idea=idea,
                resident=verified_resident(f"1391234{i:04d}"),
                ip=f"203.0.113.{i + 1}",
            )
        for i in range(3):
            services.support_add(
                notice_round=notice_round, idea=idea, resident=verified_resident(f"13{i}55550000"), ip=f"198.51.{i}.9"
            )
        assert selectors.support_count(idea=idea) == 9
        flags = sorted(SupportFlag.objects.filter(notice_round=notice_round).values_list("kind", "prefix"))
        assert flags == [("ip_range", "203.0.113.0/24"), ("phone_prefix", "1391234")]
    listed = client_for(cast_a.staff, hub_a).get("/api/v1/needs/flags").json()
    assert {f["prefix"] for f in listed} >= {"203.0.113.0/24", "1391234"}


def test_objections_must_be_answered_before_the_notice_closes(hub_a, cast_a, idea_at, client_for):
    with hub_a:
        notice_round = open_round(cast_a.staff)
        idea = idea_at("on_notice", notice_round=notice_round)
        objector = verified_resident("13987654321", name="赵大海")
    client = client_for(None, hub_a)
    session = client.session
    session[f"needs_resident_id:{hub_a.pk}"] = objector.pk
    session.save()
    filed = client.post(
        f"/api/v1/needs/rounds/{notice_round.pk}/ideas/{idea.pk}/objections",
        {"body": "预算偏高，请联系我 13987654321"},
        content_type="application/json",
    )
    assert filed.status_code == 201
    assert filed.json()["by"] == "赵**" and "13987654321" not in filed.content.decode()
    staff = client_for(cast_a.staff, hub_a)
    refused = staff.post(f"/api/v1/needs/rounds/{notice_round.pk}/close")
    assert refused.status_code == 409 and refused.json()["code"] == "objections_unanswered"
    with hub_a:
        idea.refresh_from_db()
        assert idea.status == IdeaStatus.ON_NOTICE
    answered = staff.post(
        f"/api/v1/needs/objections/{filed.json()['id']}/answer",
        {"answer": "预算已请第三方复核。"},
        content_type="application/json",
    )
    assert answered.status_code == 200 and answered.json()["answer"] == "预算已请第三方复核。"
    assert client_for(cast_a.resident, hub_a).post(f"/api/v1/needs/rounds/{notice_round.pk}/close").status_code == 404
    closed = staff.post(f"/api/v1/needs/rounds/{notice_round.pk}/close")
    assert closed.status_code == 200 and closed.json()["closed"] is True
    public = client_for(None, hub_a).get(f"/api/v1/needs/rounds/{notice_round.pk}")
    text = public.content.decode()
    assert "赵大海" not in text and "13987654321" not in text and "预算已请第三方复核。" in text
    page = client_for(None, hub_a).get(f"/needs/notice/{notice_round.pk}/").content.decode()
    assert "赵**" in page and "赵大海" not in page and "13987654321" not in page
    with hub_a:
        idea.refresh_from_db()
        assert idea.status == IdeaStatus.NOTICED


def test_resident_supports_over_the_api_with_a_verified_session(hub_a, cast_a, idea_at, client_for):
    with hub_a:
        notice_round = open_round(cast_a.staff)
        idea = idea_at("on_notice", notice_round=notice_round)
    url = f"/api/v1/needs/rounds/{notice_round.pk}/ideas/{idea.pk}/support"
    assert client_for(None, hub_a).post(url).status_code == 401
    signed_in = client_for(cast_a.resident, hub_a)
    assert signed_in.post(url).json() == {"supported": True, "supports": 1}
    again = signed_in.post(url)
    assert again.status_code == 409 and again.json()["code"] == "already_supported"
    assert client_for(cast_a.ngo_member, hub_a).post(url).json()["supports"] == 2


def test_ideas_on_notice_publish_to_discovery(hub_a, cast_a, idea_at):
    with hub_a:
        idea = idea_at("on_notice")
    row = (
        DiscoveryOutbox.objects.filter(hub_id=hub_a.pk, source_app="needs", source_id=str(idea.pk))
        .order_by("-pk")
        .first()
    )
    assert row is not None and row.payload["kind"] == "project_notice" and row.payload["title"] == idea.title


def test_outsider_cannot_answer_or_close(hub_a, cast_a, idea_at, outsider, client_for):
    with hub_a:
        notice_round = open_round(cast_a.staff)
    assert client_for(outsider, hub_a).post(f"/api/v1/needs/rounds/{notice_round.pk}/close").status_code == 404
    assert client_for(outsider, hub_a).post("/api/v1/needs/objections/1/answer", {"answer": "x"}).status_code == 404
    assert client_for(outsider, hub_a).post(f"/needs/notice/{notice_round.pk}/close/").status_code == 404
