"""The project lifecycle: every allowed move, refused moves change nothing, every change is audited."""

from __future__ import annotations

from datetime import date

import pytest

from hubs.projects import services
from hubs.projects.models import Project
from huoban.audit.models import AuditEvent
from huoban.errors import ApplicationError
from tests.projects.conftest import make_world, pdf


def _events(project: Project) -> list[tuple[str, dict | None, dict | None]]:
    return [
        (e.action, e.before, e.after)
        for e in AuditEvent.objects.filter(object_type="projects.project", object_id=str(project.pk)).order_by("id")
    ]


def test_full_lifecycle_is_walked_and_audited(hub_a, cast_a):
    w = make_world(hub_a, cast_a, status="draft")
    with hub_a:
        p = w.project
        assert p.status == "draft"
        p = services.project_transition(project=p, to="approved", actor=cast_a.staff)
        services.funds_receive(
            project=p,
            funding_source=w.source,
            amount=5000,
            received_on=date(2026, 1, 2),
            receipt=pdf(),
            actor=cast_a.staff,
        )
        p.refresh_from_db()
        assert p.status == "funded"  # the first receipt funds an approved project
        p = services.project_transition(project=p, to="suspended", actor=cast_a.staff, reason="核查票据")
        p = services.project_transition(project=p, to="resume", actor=cast_a.staff)
        assert p.status == "funded"
        p = services.project_transition(project=p, to="in_progress", actor=cast_a.staff)
        p = services.project_transition(project=p, to="completed", actor=cast_a.staff)
        with pytest.raises(ApplicationError) as exc:
            services.project_transition(project=p, to="evaluated", actor=cast_a.staff)
        assert exc.value.code == "no_evaluation"
        services.evaluation_submit(
            project=p,
            evaluator=cast_a.reviewer,
            score=88,
            summary="目标基本达成",
            evaluator_organisation="第三方评估所",
        )
        p = services.project_transition(project=p, to="evaluated", actor=cast_a.staff)
        assert p.status == "evaluated"
        transitions = [(b["status"], a["status"]) for act, b, a in _events(p) if act == "project.transition"]
        assert transitions == [
            ("draft", "approved"),
            ("approved", "funded"),
            ("funded", "suspended"),
            ("suspended", "funded"),
            ("funded", "in_progress"),
            ("in_progress", "completed"),
            ("completed", "evaluated"),
        ]
        actions = {act for act, _b, _a in _events(p)}
        assert {
            "project.created",
            "project.funding.added",
            "project.budget_line.added",
            "project.funds.received",
            "project.evaluation.submitted",
        } <= actions
        staff_event = AuditEvent.objects.filter(action="project.transition", object_id=str(p.pk)).first()
        assert staff_event is not None and staff_event.actor_id == cast_a.staff.pk


@pytest.mark.parametrize(
    ("start", "to", "code"),
    [
        ("draft", "funded", "invalid_transition"),
        ("draft", "completed", "invalid_transition"),
        ("approved", "funded", "not_funded"),
        ("approved", "suspended", "reason_required"),
        ("funded", "resume", "invalid_transition"),
        ("funded", "bogus", "invalid_status"),
    ],
)
def test_refused_transitions_change_nothing(hub_a, cast_a, start, to, code):
    w = make_world(hub_a, cast_a, status=start)
    with hub_a:
        before = AuditEvent.objects.count()
        with pytest.raises(ApplicationError) as exc:
            services.project_transition(project=w.project, to=to, actor=cast_a.staff)
        assert exc.value.code == code and str(exc.value.message)
        w.project.refresh_from_db()
        assert w.project.status == start
        assert AuditEvent.objects.count() == before


def test_cancelled_is_final(hub_a, cast_a):
    w = make_world(hub_a, cast_a, status="draft")
    with hub_a:
        p = services.project_transition(project=w.project, to="cancelled", actor=cast_a.staff, reason="撤回")
        with pytest.raises(ApplicationError):
            services.project_transition(project=p, to="approved", actor=cast_a.staff)


def test_project_create_from_a_source_is_idempotent(hub_a, cast_a):
    w = make_world(hub_a, cast_a, status="draft")
    with hub_a:
        kwargs = {
            "title_zh": "需求认领项目",
            "implementer_id": w.implementer.pk,
            "service_area": "community",
            "start_date": date(2026, 3, 1),
            "end_date": date(2026, 5, 1),
            "actor": None,
            "source": "need:77",
        }
        first = services.project_create(**kwargs)
        again = services.project_create(**kwargs)
        assert first.pk == again.pk and Project.objects.filter(source="need:77").count() == 1


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"title_zh": " "}, "required"),
        ({"service_area": "spaceflight"}, "invalid_service_area"),
        ({"end_date": date(2025, 1, 1)}, "invalid_dates"),
    ],
)
def test_bad_input_gets_a_clear_error_and_changes_nothing(hub_a, cast_a, changes, code):
    w = make_world(hub_a, cast_a, status="draft")
    with hub_a:
        with pytest.raises(ApplicationError) as exc:
            services.project_update(project=w.project, actor=cast_a.staff, **changes)
        assert exc.value.code == code
        fresh = Project.objects.get(pk=w.project.pk)
        assert fresh.title_zh == "社区长者助餐" and fresh.end_date == date(2026, 12, 31)


def test_implementer_must_be_an_active_partner(hub_a, cast_a):
    from tests.projects.conftest import organisation, person

    stranger = organisation(person("x"), "未合作机构")
    with hub_a, pytest.raises(ApplicationError) as exc:
        services.project_create(
            title_zh="t",
            implementer_id=stranger.pk,
            service_area="elderly",
            start_date=date(2026, 1, 1),
            end_date=date(2026, 2, 1),
            actor=cast_a.staff,
        )
    assert exc.value.code == "implementer_not_partner"
