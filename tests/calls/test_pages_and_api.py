"""Pages and API of calls: outsiders get 404 everywhere, roles are enforced, blind review hides the applicant
from reviewers in pages, API and exports, the applicant's one page shows every hub, exports and the PDF."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from hubs.calls import services
from hubs.calls.models import ReviewAssignment
from huoban.identity.models import Organisation
from tests.calls.conftest import ANSWERS


@pytest.fixture
def reviewed(hub_a, cast_a, make_call, submitted):  # type: ignore[no-untyped-def]
    """``reviewed(**call_fields)``: a screened-in application of ``make_call(**fields)`` assigned to the cast's
    reviewer, who has declared no conflict and submitted scores 8/4."""

    def make(**fields):  # type: ignore[no-untyped-def]
        app = submitted(call=make_call(**fields))
        with hub_a:
            app = services.application_screen(application=app, actor=cast_a.staff, eligible=True)
            assignment = services.reviewer_assign(application=app, reviewer=cast_a.reviewer, actor=cast_a.staff)
            services.review_declare(assignment=assignment, actor=cast_a.reviewer, conflict=False)
            criteria = list(app.call.criteria.all())
            services.review_score(
                assignment=assignment,
                actor=cast_a.reviewer,
                scores=[services.ScoreInput(criteria[0].pk, 8, "设计扎实"), services.ScoreInput(criteria[1].pk, 4, "")],
                submit=True,
            )
        return app, assignment

    return make


def _urls(call_id: int, app_id: int, assignment_id: int) -> list[tuple[str, str]]:
    return [
        ("get", "/calls/"),
        ("get", "/calls/new/"),
        ("get", f"/calls/{call_id}/"),
        ("get", f"/calls/{call_id}/ranking/"),
        ("get", f"/calls/{call_id}/export.xlsx"),
        ("get", f"/calls/{call_id}/results.pdf"),
        ("post", f"/calls/{call_id}/transition/"),
        ("post", f"/calls/{call_id}/auto-assign/"),
        ("get", f"/calls/applications/{app_id}/staff/"),
        ("get", f"/calls/applications/{app_id}/"),
        ("post", f"/calls/applications/{app_id}/save/"),
        ("post", f"/calls/applications/{app_id}/submit/"),
        ("post", f"/calls/applications/{app_id}/withdraw/"),
        ("get", "/calls/reviews/"),
        ("get", f"/calls/reviews/{assignment_id}/"),
        ("get", "/api/v1/calls"),
        ("get", f"/api/v1/calls/{call_id}"),
        ("patch", f"/api/v1/calls/{call_id}"),
        ("post", f"/api/v1/calls/{call_id}/transition"),
        ("get", f"/api/v1/calls/{call_id}/applications"),
        ("get", f"/api/v1/calls/{call_id}/ranking"),
        ("post", f"/api/v1/calls/{call_id}/auto-assign"),
        ("get", f"/api/v1/calls/{call_id}/export.xlsx"),
        ("get", f"/api/v1/calls/{call_id}/results.pdf"),
        ("get", f"/api/v1/call-applications/{app_id}"),
        ("post", f"/api/v1/call-applications/{app_id}/screen"),
        ("post", f"/api/v1/call-applications/{app_id}/info-requests"),
        ("post", f"/api/v1/call-applications/{app_id}/reviewers"),
        ("post", f"/api/v1/call-applications/{app_id}/determine"),
        ("get", f"/api/v1/my/call-applications/{app_id}"),
        ("patch", f"/api/v1/my/call-applications/{app_id}"),
        ("post", f"/api/v1/my/call-applications/{app_id}/submit"),
        ("post", f"/api/v1/my/call-applications/{app_id}/withdraw"),
        ("get", "/api/v1/reviews"),
        ("get", f"/api/v1/reviews/{assignment_id}"),
        ("post", f"/api/v1/reviews/{assignment_id}/declare"),
        ("post", f"/api/v1/reviews/{assignment_id}/scores"),
    ]


def test_outsider_gets_404_on_every_call_url_and_api(hub_a, outsider, client_for, reviewed, make_call):
    app, assignment = reviewed()
    draft = make_call(open=False)
    client = client_for(outsider, hub_a)
    for method, url in [
        *_urls(app.call_id, app.pk, assignment.pk),
        ("get", f"/calls/{draft.pk}/public/"),
        ("get", f"/api/v1/calls/{draft.pk}/public"),
        ("post", f"/calls/{draft.pk}/apply/"),
    ]:
        response = (
            getattr(client, method)(url, content_type="application/json")
            if "api" in url
            else getattr(client, method)(url)
        )
        assert response.status_code == 404, (method, url, response.status_code)


def test_weaker_roles_get_403(hub_a, cast_a, client_for, reviewed):
    app, assignment = reviewed()
    resident_reviewer = client_for(cast_a.reviewer, hub_a)
    assert resident_reviewer.get(f"/calls/{app.call_id}/").status_code == 403
    assert resident_reviewer.get(f"/api/v1/calls/{app.call_id}/ranking").status_code == 403
    staff = client_for(cast_a.staff, hub_a)
    assert staff.get("/calls/reviews/").status_code == 403
    assert staff.get(f"/api/v1/reviews/{assignment.pk}").status_code == 403


def test_blind_review_hides_the_applicant_in_ui_api_and_exports(hub_a, cast_a, ngo_org_a, client_for, reviewed):
    app, assignment = reviewed(blind_review=True)
    name = ngo_org_a.name
    reviewer = client_for(cast_a.reviewer, hub_a)
    queue = reviewer.get("/calls/reviews/").content.decode()
    page = reviewer.get(f"/calls/reviews/{assignment.pk}/").content.decode()
    assert app.code in queue and name not in queue and name not in page and "匿名评审" in page
    api = reviewer.get(f"/api/v1/reviews/{assignment.pk}").json()
    assert api["application"]["applicant"] is None and name not in json.dumps(api, ensure_ascii=False)
    assert name not in json.dumps(reviewer.get("/api/v1/reviews").json(), ensure_ascii=False)
    staff = client_for(cast_a.staff, hub_a)
    ranking = staff.get(f"/api/v1/calls/{app.call_id}/ranking").json()
    assert ranking["results"][0]["applicant"] == app.code
    assert name not in staff.get(f"/calls/{app.call_id}/ranking/").content.decode()
    book = load_workbook(io.BytesIO(staff.get(f"/calls/{app.call_id}/export.xlsx").content))
    cells = [str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row if c]
    assert app.code in cells and not [c for c in cells if name in c]


def test_open_review_shows_the_applicant_only_after_declaring(hub_a, cast_a, ngo_org_a, client_for, submitted):
    app = submitted()
    with hub_a:
        services.application_screen(application=app, actor=cast_a.staff, eligible=True)
        assignment = services.reviewer_assign(application=app, reviewer=cast_a.reviewer, actor=cast_a.staff)
    reviewer = client_for(cast_a.reviewer, hub_a)
    before = reviewer.get(f"/api/v1/reviews/{assignment.pk}").json()["application"]
    assert before["applicant"] == ngo_org_a.name and before["answers"] is None  # identity to declare on, no content
    assert "为社区老人提供助餐服务" not in reviewer.get(f"/calls/reviews/{assignment.pk}/").content.decode()
    response = reviewer.post(f"/calls/reviews/{assignment.pk}/", {"action": "declare", "conflict": "no"})
    assert response.status_code == 302
    assert "为社区老人提供助餐服务" in reviewer.get(f"/calls/reviews/{assignment.pk}/").content.decode()


def test_scoring_through_the_api_with_a_bad_score_changes_nothing(hub_a, cast_a, client_for, submitted):
    app = submitted()
    with hub_a:
        services.application_screen(application=app, actor=cast_a.staff, eligible=True)
        assignment = services.reviewer_assign(application=app, reviewer=cast_a.reviewer, actor=cast_a.staff)
        criteria = list(app.call.criteria.values_list("pk", flat=True))
    reviewer = client_for(cast_a.reviewer, hub_a)
    reviewer.post(f"/api/v1/reviews/{assignment.pk}/declare", {"conflict": False}, content_type="application/json")
    bad = reviewer.post(
        f"/api/v1/reviews/{assignment.pk}/scores",
        {"scores": [{"criterion": criteria[0], "score": 99}]},
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_score"
    good = reviewer.post(
        f"/api/v1/reviews/{assignment.pk}/scores",
        {"scores": [{"criterion": criteria[0], "score": 10}, {"criterion": criteria[1], "score": 5}], "submit": True},
        content_type="application/json",
    )
    assert good.status_code == 200 and good.json()["total"] == "100.00"
    progress = reviewer.get("/api/v1/reviews").json()["progress"]
    assert (progress["done"], progress["total"], progress["percent"]) == (1, 1, 100)


def test_applicant_api_flow_and_translated_errors(hub_a, cast_a, ngo_org_a, client_for, make_call):
    call = make_call()
    client = client_for(cast_a.ngo_member, hub_a)
    made = client.post(
        f"/api/v1/calls/{call.pk}/apply", {"organisation": ngo_org_a.pk}, content_type="application/json"
    )
    assert made.status_code == 201
    app_id = made.json()["id"]
    bad = client.patch(
        f"/api/v1/my/call-applications/{app_id}", {"answers": {"people": "many"}}, content_type="application/json"
    )
    assert bad.status_code == 400 and bad.json()["extra"]["field"] == "people" and "整数" in bad.json()["message"]
    client.cookies["huoban_language"] = "en"
    bad_en = client.patch(
        f"/api/v1/my/call-applications/{app_id}", {"answers": {"people": "many"}}, content_type="application/json"
    )
    assert "whole number" in bad_en.json()["message"]
    del client.cookies["huoban_language"]
    ok = client.patch(
        f"/api/v1/my/call-applications/{app_id}",
        {"title": "长者助餐", "requested_amount": 10_000_00, "answers": ANSWERS},
        content_type="application/json",
    )
    assert ok.status_code == 200
    submitted = client.post(f"/api/v1/my/call-applications/{app_id}/submit")
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert client.post(f"/api/v1/my/call-applications/{app_id}/submit").status_code == 409


def test_autosave_with_htmx_and_submit_through_pages(hub_a, cast_a, ngo_org_a, client_for, make_call):
    call = make_call()
    client = client_for(cast_a.ngo_member, hub_a)
    response = client.post(f"/calls/{call.pk}/apply/", {"organisation": ngo_org_a.pk})
    assert response.status_code == 302
    url = response["Location"]
    app_id = int(url.rstrip("/").split("/")[-1])
    form = {"title": "长者助餐", "requested_amount": "12000", "f_plan": "助餐", "f_people": "abc"}
    saved = client.post(f"/calls/applications/{app_id}/save/", form, HTTP_HX_REQUEST="true")
    assert "应为整数" in saved.content.decode()
    form.update({"f_people": "40", "f_area": "社区", "f_budget": "餐费, 12000"})
    saved = client.post(f"/calls/applications/{app_id}/save/", form, HTTP_HX_REQUEST="true")
    assert "已自动保存" in saved.content.decode()
    done = client.post(f"/calls/applications/{app_id}/submit/", form)
    assert done.status_code == 302
    assert "已提交" in client.get(url).content.decode()


def test_one_account_sees_applications_in_two_hubs_on_one_page(
    hub_a, hub_b, cast_a, cast_b, ngo_org_a, client_for, make_call, submitted
):
    submitted()  # hub A
    with hub_b:
        call_b = services.call_create(
            actor=cast_b.staff,
            call_type="venture_philanthropy",
            title_zh="上城区公益创投",
            total_budget=50_000_00,
            project_cap=10_000_00,
            closes_at=timezone.now() + timedelta(days=5),
        )
        services.call_rubric_set(call=call_b, actor=cast_b.staff, criteria=[services.CriterionInput("创新", 100)])
        call_b = services.call_transition(call=call_b, to="open", actor=cast_b.staff)
        app_b = services.application_start(call=call_b, organisation=ngo_org_a, actor=cast_a.ngo_member)
        services.application_save(application=app_b, actor=cast_a.ngo_member, title="社区花园", requested_amount="5000")
        services.application_submit(application=app_b, actor=cast_a.ngo_member)
    page = client_for(cast_a.ngo_member, None).get("/applications/").content.decode()
    assert "测试四川中心" in page and "测试上城区" in page and "长者助餐" in page and "社区花园" in page
    api = client_for(cast_a.ngo_member, None).get("/api/v1/my/applications").json()
    assert sorted(r["hub"] for r in api["results"]) == ["shangcheng", "sichuan"]
    other = client_for(cast_b.ngo_member, None).get("/api/v1/my/applications").json()
    assert not [r for r in other["results"] if r["organisation"] == ngo_org_a.name]


def test_exports_and_results_pdf(hub_a, cast_a, ngo_org_a, client_for, reviewed):
    from hubs.partners import services as partners
    from hubs.partners.models import Partnership

    app, _assignment = reviewed()
    with hub_a:
        p = Partnership.objects.get(organisation=ngo_org_a)
        partners.partnership_review_start(partnership=p, actor=cast_a.staff)
        partners.partnership_approve(partnership=p, actor=cast_a.staff)
        services.call_transition(call=app.call, to="closed", actor=cast_a.staff)
        services.application_determine(application=app, actor=cast_a.staff, outcome="approve", amount=20_000_00)
    staff = client_for(cast_a.staff, hub_a)
    book = load_workbook(io.BytesIO(staff.get(f"/api/v1/calls/{app.call_id}/export.xlsx").content))
    assert [ws.title for ws in book.worksheets] == ["申请", "评分明细", "排名"]
    scores = list(book["评分明细"].iter_rows(values_only=True))
    assert scores[1][3:6] == ("需求与设计", 60, 8) and scores[1][7] == "设计扎实"
    ranking = list(book["排名"].iter_rows(values_only=True))
    assert ranking[1][2] == ngo_org_a.name and ranking[1][4] == 80.0
    pdf = staff.get(f"/calls/{app.call_id}/results.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    page = staff.get(f"/calls/applications/{app.pk}/staff/").content.decode()
    assert "已立项" in page


def test_staff_design_a_call_through_the_page(hub_a, cast_a, client_for):
    staff = client_for(cast_a.staff, hub_a)
    form = {
        "call_type": "foundation_grant",
        "title_zh": "儿童阅读资助",
        "total_budget": "200000",
        "project_cap": "50000",
        "closes_at": "2099-01-01T17:00",
        "criteria": "需求 | 50 | 10\n可行性 | 50 | 10",
        "form": "plan | text | 方案 | 是 | | 500\nlevel | choice | 范围 | 否 | | | 社区;街道",
    }
    bad = staff.post("/calls/new/", {**form, "project_cap": "300000"})
    assert bad.status_code == 400 and "单个项目上限不能超过总预算" in bad.content.decode()
    response = staff.post("/calls/new/", form)
    assert response.status_code == 302
    with hub_a:
        from hubs.calls.models import Call

        call = Call.objects.get(title_zh="儿童阅读资助")
        assert call.total_budget == 200_000_00 and call.criteria.count() == 2
        assert [f["type"] for f in call.form_fields] == ["text", "choice"]
    assert not ReviewAssignment.objects.none().exists()
    assert Organisation.objects.exists()
