"""Pages and API: outsiders get 404 everywhere, public pages show no private notes or personal data, exports."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from hubs.projects import services
from hubs.projects.selectors import mask_name
from tests.projects.conftest import make_world, pdf


@pytest.fixture
def busy(hub_a, cast_a):  # type: ignore[no-untyped-def]
    """A project with money in and out, a visit with private notes, a report, an evaluation."""
    w = make_world(hub_a, cast_a, fund=80000, status="in_progress")
    with hub_a:
        t = services.tranche_request(
            project=w.project,
            title="第一期",
            amount=50000,
            budget_line=w.line,
            funding_source=w.source,
            actor=cast_a.staff,
        )
        services.tranche_review(tranche=t, user=cast_a.ambassador, capacity="ambassador", decision="approve")
        services.tranche_review(tranche=t, user=cast_a.staff, capacity="staff", decision="approve")
        services.expense_report(
            project=w.project,
            budget_line=w.line,
            amount=20000,
            description="采购食材",
            spent_on=date.today(),
            receipt=pdf(),
            actor=w.implementer_member,
        )
        services.site_visit_record(
            project=w.project,
            ambassador=cast_a.ambassador,
            visited_at=datetime(2026, 3, 1, 10, tzinfo=UTC),
            findings="助餐点运行正常，联系人电话 13987654321",
            private_notes="SECRET-VISIT-NOTE",
            checklist=[{"item": "台账齐全", "ok": True}],
        )
        services.report_submit(
            project=w.project,
            kind="periodic",
            period_end=date(2026, 3, 31),
            text="服务 300 人次，负责人邮箱 boss@example.com",
            figures={"服务人次": 300},
            actor=w.implementer_member,
        )
        services.survey_answer(
            project=w.project,
            respondent=cast_a.resident,
            kind="resident",
            satisfaction=5,
            comment="SECRET-SURVEY-COMMENT",
        )
    return w


def test_public_pages_show_money_but_no_private_data(client_for, hub_a, cast_a, busy):
    anon = client_for(None, hub_a)
    listing = anon.get("/projects/public/").content.decode()
    assert "社区长者助餐" in listing and "<svg" in listing
    page = anon.get(f"/projects/public/{busy.project.pk}/").content.decode()
    assert "¥800.00" in page and "¥500.00" in page and "¥200.00" in page and "¥600.00" in page  # in/out/spent/balance
    assert "台账齐全" in page and mask_name(cast_a.ambassador.name) in page
    for secret in (
        "SECRET-VISIT-NOTE",
        "SECRET-SURVEY-COMMENT",
        "13812345678",
        "13987654321",
        "boss@example.com",
        "内部：",
        cast_a.ambassador.name,
        cast_a.ambassador.email,
        busy.implementer_member.email,
    ):
        assert secret not in page, secret
    assert "139****4321" in page and "b***@example.com" in page
    api = anon.get(f"/api/v1/projects/public/{busy.project.pk}").content.decode()
    assert "SECRET" not in api and "13987654321" not in api and cast_a.ambassador.name not in api
    pdf_response = anon.get(f"/projects/public/{busy.project.pk}/report.pdf")
    assert pdf_response.status_code == 200 and pdf_response.content.startswith(b"%PDF")
    assert b"SECRET" not in pdf_response.content


def test_exports_csv_and_xlsx(client_for, hub_a, busy):
    anon = client_for(None, hub_a)
    csv_text = anon.get("/projects/public/export.csv").content.decode("utf-8-sig")
    assert "社区长者助餐" in csv_text and "800.00" in csv_text
    book = load_workbook(io.BytesIO(anon.get("/projects/public/export.xlsx").content))
    values = [c.value for row in book.active.iter_rows() for c in row]
    assert "社区长者助餐" in values and "SECRET" not in str(values)


def test_draft_projects_are_not_public(client_for, hub_a, cast_a):
    w = make_world(hub_a, cast_a, status="draft")
    anon = client_for(None, hub_a)
    assert anon.get(f"/projects/public/{w.project.pk}/").status_code == 404
    assert anon.get(f"/api/v1/projects/public/{w.project.pk}").status_code == 404


def _urls(pk: int, tid: int, eid: int) -> list[tuple[str, str]]:
    pages = [
        "",
        "transition/",
        "budget/",
        "funding/",
        "receipts/",
        "milestones/",
        "ambassadors/",
        "tranches/",
        f"tranches/{tid}/review/",
        "expenses/",
        f"expenses/{eid}/review/",
        "visits/",
        "reports/",
        "indicators/",
        "evaluations/",
    ]
    apis = [
        "",
        "/transition",
        "/budget-lines",
        "/funding-sources",
        "/receipts",
        "/milestones",
        "/ambassadors",
        "/tranches",
        f"/tranches/{tid}/review",
        "/expenses",
        f"/expenses/{eid}/review",
        "/visits",
        "/reports",
        "/indicators",
        "/evaluations",
    ]
    out = [("get" if p == "" else "post", f"/projects/{pk}/{p}") for p in pages]
    out += [
        ("get", f"/api/v1/projects/{pk}{a}")
        if a in ("", "/tranches", "/expenses")
        else ("post", f"/api/v1/projects/{pk}{a}")
        for a in apis
    ]
    return out


def test_outsider_gets_404_on_every_project_url_and_api(client_for, hub_a, cast_a, outsider, busy):
    with hub_a:
        tid = busy.project.tranches.get().pk
        eid = busy.project.expenses.get().pk
    client = client_for(outsider, hub_a)
    for method, url in _urls(busy.project.pk, tid, eid):
        response = getattr(client, method)(url, {})
        assert response.status_code == 404, (method, url, response.status_code)
    assert client.get(f"/projects/{busy.project.pk}/files/{busy.project.pk}/").status_code == 404
    assert client.get("/api/v1/projects").json()["results"] == []


def test_roles_see_their_projects_and_weak_roles_get_403(client_for, hub_a, cast_a, busy):
    assert client_for(cast_a.staff, hub_a).get(f"/projects/{busy.project.pk}/").status_code == 200
    assert client_for(busy.implementer_member, hub_a).get(f"/projects/{busy.project.pk}/").status_code == 200
    assert client_for(cast_a.ambassador, hub_a).get(f"/api/v1/projects/{busy.project.pk}").status_code == 200
    assert client_for(cast_a.treasurer, hub_a).get(f"/projects/{busy.project.pk}/").status_code == 403
    response = client_for(busy.implementer_member, hub_a).post(
        f"/api/v1/projects/{busy.project.pk}/transition", {"to": "completed"}, content_type="application/json"
    )
    assert response.status_code == 403 and response.json()["code"] == "forbidden"


def test_api_walk_and_bad_input_changes_nothing(client_for, hub_a, cast_a, busy):
    staff = client_for(cast_a.staff, hub_a)
    base = f"/api/v1/projects/{busy.project.pk}"
    with hub_a:
        line, source = busy.line.pk, busy.source.pk
    r = staff.post(
        f"{base}/tranches",
        {"title": "二期", "amount": 10000, "budget_line": line, "funding_source": source},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    tid = r.json()["id"]
    r = client_for(cast_a.ambassador, hub_a).post(
        f"{base}/tranches/{tid}/review",
        {"capacity": "ambassador", "decision": "approve"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["status"] == "requested"
    r = staff.post(
        f"{base}/tranches/{tid}/review", {"capacity": "staff", "decision": "approve"}, content_type="application/json"
    )
    assert r.json()["status"] == "released"
    # too much: a clear translated error, nothing changes
    before = staff.get(base).json()["money"]
    r = staff.post(
        f"{base}/tranches",
        {"title": "三期", "amount": 10**9, "budget_line": line, "funding_source": source},
        content_type="application/json",
    )
    t3 = r.json()["id"]
    client_for(cast_a.ambassador, hub_a).post(
        f"{base}/tranches/{t3}/review",
        {"capacity": "ambassador", "decision": "approve"},
        content_type="application/json",
    )
    r = staff.post(
        f"{base}/tranches/{t3}/review",
        {"capacity": "staff", "decision": "approve"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert r.status_code == 409 and r.json()["code"] == "insufficient_funds"
    assert staff.get(base).json()["money"] == before
    r = staff.post(f"{base}/budget-lines", {"name": "", "amount": -5}, content_type="application/json")
    assert r.status_code == 400
    assert len(staff.get(base).json()["budget_lines"]) == 1
    r = client_for(busy.implementer_member, hub_a).post(
        f"{base}/expenses",
        {
            "budget_line": line,
            "amount": 100,
            "description": "x",
            "spent_on": "2026-04-01",
            "receipt": io.BytesIO(b"not a receipt"),
        },
    )
    assert r.status_code == 400 and r.json()["code"] in ("file_type_not_allowed", "invalid")


def test_api_schema_documents_projects(client_for, hub_a, cast_a):
    schema = client_for(cast_a.staff, hub_a).get("/api/v1/schema").content.decode()
    assert "/tranches/{tranche_id}/review" in schema and "/projects/public/{id}" in schema


def test_survey_one_answer_per_verified_respondent(hub_a, cast_a, busy):
    from huoban.errors import ApplicationError

    with hub_a:
        with pytest.raises(ApplicationError) as exc:
            services.survey_answer(project=busy.project, respondent=cast_a.resident, kind="resident", satisfaction=4)
        assert exc.value.code == "already_answered"
        with pytest.raises(ApplicationError) as exc:
            services.survey_answer(
                project=busy.project, respondent=busy.implementer_member, kind="resident", satisfaction=5
            )
        assert exc.value.code == "conflict_of_interest"
        assert busy.project.survey_responses.count() == 1


def test_disclosure_reminders_follow_the_charity_law_cadence(hub_a, cast_a, busy, mailoutbox):
    from hubs.projects.tasks import projects_disclosure_reminders

    with hub_a:
        # last report 2026-03-31: next due 2026-06-30; reminded from two weeks before, once
        assert projects_disclosure_reminders(today="2026-06-01") == 0
        assert projects_disclosure_reminders(today="2026-06-20") == 1
        assert projects_disclosure_reminders(today="2026-06-25") == 0
        assert busy.implementer_member.email in mailoutbox[0].to and "阶段报告" in mailoutbox[0].subject
        # after the end (2026-12-31) with no final report: due 2027-03-31
        assert projects_disclosure_reminders(today="2027-01-10") == 1
        assert "2027-03-31" in mailoutbox[-1].body
