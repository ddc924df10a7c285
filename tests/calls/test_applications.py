"""Applying: eligibility refusals with their reasons, deadline edges, the form's typed fields, one per organisation,
withdrawal, requests for more information, and the public cross-hub index written with each change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hubs.calls import services
from hubs.calls.models import Application
from hubs.partners.models import Partnership
from huoban.errors import ApplicationError
from tenants.applications.models import ApplicationIndex
from tests.calls.conftest import ANSWERS


def test_submit_joins_the_network_and_writes_the_public_index(hub_a, cast_a, ngo_org_a, submitted):
    app = submitted()
    assert app.status == "submitted" and app.submitted_at is not None
    assert app.answers["budget"] == [{"item": "餐费补贴", "amount": 3000000}, {"item": "志愿者培训", "amount": 500000}]
    with hub_a:
        assert Partnership.objects.get(organisation=ngo_org_a).status == "applied"
    row = ApplicationIndex.objects.get(hub=hub_a, application_id=app.pk)
    assert row.status == "submitted" and row.organisation_id == ngo_org_a.pk and row.call_title.startswith("2026")


def test_one_organisation_cannot_submit_twice_unless_allowed(hub_a, cast_a, ngo_org_a, make_call, submitted):
    call = make_call()
    submitted(call=call)
    with hub_a, pytest.raises(ApplicationError) as exc:
        services.application_start(call=call, organisation=ngo_org_a, actor=cast_a.ngo_member)
    assert exc.value.code == "already_applied"
    lenient = make_call(allow_multiple=True, title_zh="可多次申报")
    submitted(call=lenient)
    second = submitted(call=lenient, title="第二个项目")
    assert second.status == "submitted"


@pytest.mark.parametrize(
    ("fields", "code", "words"),
    [
        ({"eligible_kinds": ["foundation"]}, "kind_not_eligible", "基金会"),
        ({"region_code": "330100"}, "region_not_eligible", "杭州市"),
        ({"require_verified": True}, "not_verified", "登记证书"),
        ({"required_documents": ["audit_report"]}, "documents_missing", "审计报告"),
        ({"partner_rule": "active"}, "partner_required", "合作中的伙伴"),
    ],
)
def test_ineligible_organisations_are_refused_with_the_reason(hub_a, cast_a, ngo_org_a, make_call, fields, code, words):
    call = make_call(**fields)
    with hub_a, pytest.raises(ApplicationError) as exc:
        services.application_start(call=call, organisation=ngo_org_a, actor=cast_a.ngo_member)
    assert exc.value.code == "not_eligible"
    assert [r["code"] for r in exc.value.extra["reasons"]] == [code]
    assert words in str(exc.value.message)
    with hub_a:
        assert not Application.objects.filter(call=call).exists()


def test_region_includes_child_regions(hub_a, cast_a, ngo_org_a, make_call):
    call = make_call(region_code="510100")  # 成都市; the organisation is in 武侯区 (510107)... the cast's in 510104
    with hub_a:
        app = services.application_start(call=call, organisation=ngo_org_a, actor=cast_a.ngo_member)
    assert app.status == "draft"


def test_every_reason_is_given_at_once(hub_a, cast_a, ngo_org_a, make_call):
    call = make_call(eligible_kinds=["foundation"], region_code="330100")
    with hub_a:
        refusals = services.eligibility_refusals(call=call, organisation=ngo_org_a)
    assert [r.code for r in refusals] == ["kind_not_eligible", "region_not_eligible"]


def test_a_plain_member_of_the_organisation_cannot_apply(hub_a, cast_a, ngo_org_a, make_call, cast_b):
    call = make_call()
    with hub_a, pytest.raises(ApplicationError) as exc:
        services.application_start(call=call, organisation=ngo_org_a, actor=cast_b.ngo_member)
    assert exc.value.status == 404


def test_deadline_edges(hub_a, cast_a, ngo_org_a, make_call):
    call = make_call()
    with hub_a:
        app = services.application_start(call=call, organisation=ngo_org_a, actor=cast_a.ngo_member)
        services.application_save(
            application=app, actor=cast_a.ngo_member, title="t", requested_amount="100", answers=ANSWERS
        )
        # One second before the deadline: accepted.
        type(call).objects.filter(pk=call.pk).update(closes_at=timezone.now() + timedelta(seconds=2))
        done = services.application_submit(application=app, actor=cast_a.ngo_member)
        assert done.status == "submitted"

    late = make_call(title_zh="已截止")
    with hub_a:
        app = services.application_start(call=late, organisation=ngo_org_a, actor=cast_a.ngo_member)
        services.application_save(
            application=app, actor=cast_a.ngo_member, title="t", requested_amount="100", answers=ANSWERS
        )
        type(late).objects.filter(pk=late.pk).update(closes_at=timezone.now())  # the deadline itself is too late
        with pytest.raises(ApplicationError) as exc:
            services.application_submit(application=app, actor=cast_a.ngo_member)
        assert exc.value.code == "deadline_passed" and "截止" in str(exc.value.message)
        app.refresh_from_db()
        assert app.status == "draft"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("plan", "长" * 201, "最多 200 个字"),
        ("people", "十二", "应为整数"),
        ("people", 0, "不能小于 1"),
        ("people", 10001, "不能大于 10000"),
        ("match", "12.345", "应为金额"),
        ("match", "50000.01", "不能大于 ¥50,000.00"),
        ("area", "全省", "请从选项中选择"),
        ("start", "2026-13-01", "应为日期"),
        ("start", "2025-12-31", "不能小于 2026-01-01"),
        ("budget", "餐费 30000", "每行应为"),
        ("budget", "餐费, -5", "金额不正确"),
        ("budget", "餐费, 40000.01", "超过单个项目上限"),
        ("budget", "\n".join(f"第{i}项, 1" for i in range(6)), "最多 5 行"),
    ],
)
def test_form_validation_per_field_type_changes_nothing(hub_a, cast_a, ngo_org_a, make_call, key, value, message):
    call = make_call()
    with hub_a:
        app = services.application_start(call=call, organisation=ngo_org_a, actor=cast_a.ngo_member)
        services.application_save(application=app, actor=cast_a.ngo_member, answers={"plan": "原方案"})
        with pytest.raises(ApplicationError) as exc:
            services.application_save(application=app, actor=cast_a.ngo_member, answers={"plan": "新方案", key: value})
        assert exc.value.code == "invalid_answers" and exc.value.extra["field"] == key
        assert message in str(exc.value.message)
        app.refresh_from_db()
        assert app.answers == {"plan": "原方案"}


def test_required_fields_are_checked_on_submit_not_on_autosave(hub_a, cast_a, ngo_org_a, make_call):
    call = make_call()
    with hub_a:
        app = services.application_start(call=call, organisation=ngo_org_a, actor=cast_a.ngo_member)
        app = services.application_save(
            application=app, actor=cast_a.ngo_member, title="t", requested_amount="10", answers={"people": "5"}
        )
        assert app.answers == {"people": 5}
        with pytest.raises(ApplicationError) as exc:
            services.application_submit(application=app, actor=cast_a.ngo_member)
        assert set(exc.value.extra["errors"]) == {"plan", "area", "budget"}


def test_file_field_needs_a_file_of_this_hub(hub_a, cast_a, ngo_org_a, make_call):
    import io

    from huoban.storage.services import file_store

    call = make_call(form=[{"key": "report", "type": "file", "label": "可行性报告", "required": True}])
    with hub_a:
        app = services.application_start(call=call, organisation=ngo_org_a, actor=cast_a.ngo_member)
        with pytest.raises(ApplicationError) as exc:
            services.application_save(
                application=app, actor=cast_a.ngo_member, answers={"report": "00000000-0000-0000-0000-000000000000"}
            )
        assert "附件无效" in str(exc.value.message)
        stored = file_store(
            fileobj=io.BytesIO(b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"),
            original_name="report.pdf",
            purpose="other",
            uploaded_by=cast_a.ngo_member,
            hub_id=hub_a.pk,
            hub_schema=hub_a.schema_name,
        )
        app = services.application_save(application=app, actor=cast_a.ngo_member, answers={"report": str(stored.pk)})
        assert app.answers["report"] == {"id": str(stored.pk), "name": "report.pdf"}


def test_withdraw_and_info_request_round_trip(hub_a, cast_a, submitted):
    app = submitted()
    with hub_a:
        request = services.application_info_request(application=app, actor=cast_a.staff, question="请补充场地证明")
        app.refresh_from_db()
        assert app.status == "info_requested"
        with pytest.raises(ApplicationError):
            services.application_info_answer(info_request=request, actor=cast_a.ngo_member, answer="  ")
        services.application_info_answer(info_request=request, actor=cast_a.ngo_member, answer="已上传场地协议")
        app.refresh_from_db()
        assert app.status == "submitted"
        app = services.application_withdraw(application=app, actor=cast_a.ngo_member)
        assert app.status == "withdrawn"
    assert ApplicationIndex.objects.get(hub=hub_a, application_id=app.pk).status == "withdrawn"
