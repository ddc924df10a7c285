"""Milestones and project edits through the pages and the API: staff only, checked, audited, money frozen once
funded."""

from __future__ import annotations

from datetime import date

import pytest

from hubs.projects import services
from hubs.projects.models import BudgetLine, Milestone, Project
from huoban.audit.models import AuditEvent
from huoban.errors import ApplicationError
from tests.projects.conftest import make_world


def _api(client, method: str, url: str, data=None):  # type: ignore[no-untyped-def]
    return getattr(client, method)(url, data or {}, content_type="application/json")


def test_staff_create_edit_and_delete_milestones_through_the_api(client_for, hub_a, cast_a):  # type: ignore[no-untyped-def]
    w = make_world(hub_a, cast_a, status="approved")
    staff = client_for(cast_a.staff, hub_a)
    base = f"/api/v1/projects/{w.project.pk}/milestones"
    created = _api(
        staff,
        "post",
        base,
        {
            "title": "完成助餐点改造",
            "title_en": "Kitchen refitted",
            "due_date": "2026-03-31",
            "deliverable": "验收报告",
            "amount": 500_000,
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["title_en"], body["deliverable"], body["amount"]) == ("Kitchen refitted", "验收报告", 500_000)

    changed = _api(staff, "patch", f"{base}/{body['id']}", {"amount": 600_000, "deliverable": "验收报告与照片"})
    assert changed.status_code == 200, changed.content
    assert (changed.json()["amount"], changed.json()["deliverable"]) == (600_000, "验收报告与照片")

    over = _api(staff, "patch", f"{base}/{body['id']}", {"amount": 3_000_000})  # budget is 20,000 yuan
    assert over.status_code == 409 and over.json()["code"] == "milestones_over_budget"
    blank = _api(staff, "patch", f"{base}/{body['id']}", {"title": "  "})
    assert blank.status_code == 400 and blank.json()["code"] in ("required", "invalid")
    with hub_a:
        assert Milestone.objects.get(pk=body["id"]).amount == 600_000
        actions = list(
            AuditEvent.objects.filter(action__startswith="project.milestone").values_list("action", flat=True)
        )
    assert "project.milestone.added" in actions and "project.milestone.updated" in actions

    deleted = staff.delete(f"{base}/{body['id']}")
    assert deleted.status_code == 204
    with hub_a:
        assert not Milestone.objects.filter(pk=body["id"]).exists()
        event = AuditEvent.objects.get(action="project.milestone.deleted")
    assert event.before["title"] == "完成助餐点改造"


def test_money_fields_freeze_once_the_project_is_funded(hub_a, cast_a):  # type: ignore[no-untyped-def]
    w = make_world(hub_a, cast_a)  # funded
    with hub_a:
        milestone = services.milestone_add(
            project=w.project, title="中期", due_date=date(2026, 6, 30), actor=cast_a.staff
        )
        with pytest.raises(ApplicationError) as exc:
            services.milestone_update(milestone=milestone, actor=cast_a.staff, amount=1000)
        assert exc.value.code == "money_locked"
        with pytest.raises(ApplicationError) as exc:
            services.budget_line_update(line=w.line, actor=cast_a.staff, amount=1)
        assert exc.value.code == "money_locked"
        with pytest.raises(ApplicationError) as exc:
            services.budget_line_add(project=w.project, name="新增", amount=100, actor=cast_a.staff)
        assert exc.value.code == "money_locked"
        # text can still be corrected
        services.milestone_update(milestone=milestone, actor=cast_a.staff, title="中期评估", title_en="Midterm")
        assert BudgetLine.objects.get(pk=w.line.pk).amount == 2_000_000


def test_tranches_against_a_milestone_stay_within_its_amount(hub_a, cast_a):  # type: ignore[no-untyped-def]
    draft = make_world(hub_a, cast_a, status="approved")
    with hub_a:
        planned = services.milestone_add(
            project=draft.project, title="第一期", due_date=date(2026, 3, 1), amount=300_000, actor=cast_a.staff
        )
        services.funds_receive(
            project=draft.project,
            funding_source=draft.source,
            amount=1_000_000,
            received_on=date(2026, 1, 5),
            actor=cast_a.staff,
        )
        project = Project.objects.get(pk=draft.project.pk)
        services.tranche_request(
            project=project,
            title="一期",
            amount=200_000,
            budget_line=draft.line,
            funding_source=draft.source,
            milestone=planned,
            actor=cast_a.staff,
        )
        with pytest.raises(ApplicationError) as exc:
            services.tranche_request(
                project=project,
                title="一期追加",
                amount=200_000,
                budget_line=draft.line,
                funding_source=draft.source,
                milestone=planned,
                actor=cast_a.staff,
            )
        assert exc.value.code == "milestone_amount_exceeded"
        with pytest.raises(ApplicationError) as exc:
            services.milestone_delete(milestone=planned, actor=cast_a.staff)
        assert exc.value.code == "milestone_in_use"


def test_project_edit_through_the_api_is_checked_and_audited(client_for, hub_a, cast_a):  # type: ignore[no-untyped-def]
    w = make_world(hub_a, cast_a, status="draft")
    staff = client_for(cast_a.staff, hub_a)
    url = f"/api/v1/projects/{w.project.pk}"
    ok = _api(staff, "patch", url, {"title_en": "Lunch for elders", "beneficiary_count": 120})
    assert ok.status_code == 200, ok.content
    assert (ok.json()["title_en"], ok.json()["beneficiary_count"]) == ("Lunch for elders", 120)
    bad = _api(staff, "patch", url, {"start_date": "2027-01-01"})  # after the end date
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_dates" and bad.json()["message"]
    unknown = _api(staff, "patch", url, {"beneficiary_count": -1})
    assert unknown.status_code == 400
    with hub_a:
        fresh = Project.objects.get(pk=w.project.pk)
        assert fresh.start_date == date(2026, 1, 1) and fresh.beneficiary_count == 120
        event = AuditEvent.objects.filter(action="project.updated").latest("id")
    assert event.before["title_en"] == "Meals for elders" and event.after["title_en"] == "Lunch for elders"


def test_outsider_gets_404_and_weak_roles_403_on_edits(client_for, hub_a, cast_a, outsider):  # type: ignore[no-untyped-def]
    w = make_world(hub_a, cast_a, status="approved")
    with hub_a:
        m = services.milestone_add(project=w.project, title="m", due_date=date(2026, 2, 1), actor=cast_a.staff)
    pk = w.project.pk
    calls = [
        ("patch", f"/api/v1/projects/{pk}"),
        ("patch", f"/api/v1/projects/{pk}/milestones/{m.pk}"),
        ("delete", f"/api/v1/projects/{pk}/milestones/{m.pk}"),
        ("patch", f"/api/v1/projects/{pk}/budget-lines/{w.line.pk}"),
        ("delete", f"/api/v1/projects/{pk}/budget-lines/{w.line.pk}"),
        ("post", f"/projects/{pk}/edit/"),
        ("get", f"/projects/{pk}/edit/"),
        ("post", f"/projects/{pk}/milestones/{m.pk}/edit/"),
        ("post", f"/projects/{pk}/milestones/{m.pk}/delete/"),
        ("post", f"/projects/{pk}/budget/{w.line.pk}/edit/"),
        ("post", f"/projects/{pk}/budget/{w.line.pk}/delete/"),
    ]
    for user, expected in ((outsider, 404), (cast_a.treasurer, 403), (w.implementer_member, 403)):
        client = client_for(user, hub_a)
        for method, url in calls:
            response = _api(client, method, url, {"title": "x"}) if "/api/" in url else getattr(client, method)(url, {})
            assert response.status_code == expected, (user, method, url, response.status_code)
    with hub_a:
        assert Milestone.objects.filter(pk=m.pk, title="m").exists()
        assert BudgetLine.objects.filter(pk=w.line.pk).exists()


def test_staff_edit_pages(client_for, hub_a, cast_a):  # type: ignore[no-untyped-def]
    w = make_world(hub_a, cast_a, status="approved")
    staff = client_for(cast_a.staff, hub_a)
    pk = w.project.pk
    page = staff.get(f"/projects/{pk}/edit/")
    assert page.status_code == 200 and "社区长者助餐" in page.content.decode()
    form = {
        "title_zh": "社区长者助餐（二期）",
        "title_en": "Meals for elders II",
        "summary": "",
        "service_area": "elderly",
        "community": "玉林街道",
        "beneficiaries": "独居老人",
        "beneficiary_count": "80",
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
        "private_notes": "",
    }
    assert staff.post(f"/projects/{pk}/edit/", form).status_code == 302
    bad = staff.post(f"/projects/{pk}/edit/", {**form, "end_date": "2025-01-01", "title_zh": "改名"})
    assert bad.status_code == 400 and "结束日期不能早于开始日期" in bad.content.decode()
    assert (
        staff.post(
            f"/projects/{pk}/milestones/",
            {"title": "一期", "title_en": "Phase 1", "due_date": "2026-03-01", "deliverable": "场地", "amount": "3000"},
        ).status_code
        == 302
    )
    with hub_a:
        project = Project.objects.get(pk=pk)
        m = project.milestones.get()
    assert project.title_zh == "社区长者助餐（二期）" and project.beneficiary_count == 80
    assert (m.title_en, m.deliverable, m.amount) == ("Phase 1", "场地", 300_000)
    staff.post(
        f"/projects/{pk}/milestones/{m.pk}/edit/",
        {"title": "一期验收", "title_en": "", "due_date": "2026-03-15", "deliverable": "", "amount": "¥1,000.00"},
    )
    staff.post(f"/projects/{pk}/budget/{w.line.pk}/edit/", {"name": "餐食与场地", "amount": "25000"})
    with hub_a:
        m.refresh_from_db()
        line = BudgetLine.objects.get(pk=w.line.pk)
    assert (m.title, m.amount, m.due_date) == ("一期验收", 100_000, date(2026, 3, 15))
    assert (line.name, line.amount) == ("餐食与场地", 2_500_000)
    detail = staff.get(f"/projects/{pk}/").content.decode()
    assert "一期验收" in detail and "Phase 1" not in detail
    staff.post(f"/projects/{pk}/milestones/{m.pk}/delete/")
    with hub_a:
        assert not Milestone.objects.filter(pk=m.pk).exists()
