"""Needs intake from every channel, SMS verification, masking, triage and the private follow link."""

from __future__ import annotations

import pytest

from hubs.needs import services
from hubs.needs.models import Channel, Need, NeedStatus, PhoneCode, Resident
from huoban import sms
from huoban.errors import ApplicationError
from tests.needs.conftest import a_need

pytestmark = pytest.mark.django_db


def _verify(client, capture, phone: str = "13812348000", name: str = "王小明"):  # type: ignore[no-untyped-def]
    with capture(execute=True):
        sent = client.post("/api/v1/needs/phone-code", {"phone": phone}, content_type="application/json")
    assert sent.status_code == 202
    code = sms.last_code_for(phone)
    response = client.post(
        "/api/v1/needs/phone-verify", {"phone": phone, "code": code, "name": name}, content_type="application/json"
    )
    assert response.status_code == 200, response.json()
    return response


def test_resident_submits_online_after_sms_code_and_follows_it_masked(
    client_for, hub_a, django_capture_on_commit_callbacks
):
    client = client_for(None, hub_a)
    verified = _verify(client, django_capture_on_commit_callbacks)
    assert verified.json() == {"verified": True, "phone": "138****8000", "name": "王**"}
    response = client.post(
        "/api/v1/needs/submit",
        {"title": "小区加装电梯", "body": "老人上下楼难", "category": "elderly", "community": "近江社区"},
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["submitted_by"] == "王**" and body["phone"] == "138****8000" and body["channel"] == "online"
    assert "王小明" not in response.content.decode() and "13812348000" not in response.content.decode()
    track = client_for(None, hub_a).get(f"/api/v1/needs/track/{body['token']}")
    assert track.status_code == 200 and track.json()["status"] == "new"
    page = client_for(None, hub_a).get(f"/needs/track/{body['token']}/").content.decode()
    assert "王**" in page and "138****8000" in page and "王小明" not in page and "13812348000" not in page
    assert len(body["token"]) >= 30
    assert client_for(None, hub_a).get("/api/v1/needs/track/not-a-token").status_code == 404


def test_submitting_without_verification_is_refused_and_stores_nothing(client_for, hub_a):
    response = client_for(None, hub_a).post(
        "/api/v1/needs/submit", {"title": "x", "body": "y", "category": "elderly"}, content_type="application/json"
    )
    assert response.status_code == 401
    with hub_a:
        assert Need.objects.count() == 0


def test_wrong_code_is_refused_and_attempts_are_limited(hub_a, client_for, django_capture_on_commit_callbacks):
    client = client_for(None, hub_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/api/v1/needs/phone-code", {"phone": "13900001111"}, content_type="application/json")
    for _ in range(5):
        bad = client.post(
            "/api/v1/needs/phone-verify", {"phone": "13900001111", "code": "000000x"}, content_type="application/json"
        )
        assert bad.status_code == 400 and bad.json()["code"] == "code_invalid"
    right = sms.last_code_for("13900001111")
    locked = client.post(
        "/api/v1/needs/phone-verify", {"phone": "13900001111", "code": right}, content_type="application/json"
    )
    assert locked.json()["code"] == "code_expired"
    again = client.post("/api/v1/needs/phone-code", {"phone": "13900001111"}, content_type="application/json")
    assert again.status_code == 429 and again.json()["code"] == "code_too_soon"
    with hub_a:
        assert Resident.objects.filter(phone="13900001111").count() == 0


def test_phone_code_sending_is_rate_limited_per_ip(client_for, hub_a, settings):
    settings.HUOBAN_NEEDS_CODE_RATE = "3/h"
    client = client_for(None, hub_a)
    codes = [
        client.post(
            "/api/v1/needs/phone-code", {"phone": f"1370000000{i}"}, content_type="application/json"
        ).status_code
        for i in range(5)
    ]
    assert codes[:3] == [202, 202, 202] and codes[3:] == [429, 429]


def test_invalid_phone_gets_a_translated_error(client_for, hub_a):
    client = client_for(None, hub_a)
    client.cookies["huoban_language"] = "en"
    response = client.post("/api/v1/needs/phone-code", {"phone": "12345"}, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_phone"
    assert "valid" in response.json()["message"] and "手机号" not in response.json()["message"]
    with hub_a:
        assert PhoneCode.objects.count() == 0


@pytest.mark.parametrize("channel", sorted(set(Channel.values) - {"online"}))
def test_staff_record_needs_from_every_channel(channel, client_for, hub_a, cast_a):
    response = client_for(cast_a.staff, hub_a).post(
        "/api/v1/needs",
        {
            "channel": channel,
            "title": "路灯不亮",
            "body": "巷子里路灯坏了",
            "category": "community",
            "name": "李四",
            "phone": "13600001234",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["channel"] == channel and response.json()["resident"] == {
        "name": "李四",
        "phone": "13600001234",
    }
    stats = client_for(None, hub_a).get("/api/v1/needs/stats").json()
    assert {r["key"]: r["count"] for r in stats["by_channel"]}[channel] == 1
    assert "李四" not in str(stats) and "13600001234" not in str(stats)


def test_personal_data_is_stored_once_per_phone(hub_a, cast_a):
    with hub_a:
        a_need(cast_a.staff, channel="letter")
        a_need(cast_a.staff, channel="phone")
        assert Resident.objects.filter(phone="13812348000").count() == 1
        assert Need.objects.filter(resident__phone="13812348000").count() == 2


def test_staff_entry_with_a_photo(hub_a, cast_a, client_for):
    from tests.storage.samples import png

    client = client_for(cast_a.staff, hub_a)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        "/api/v1/needs",
        {
            "channel": "wechat",
            "title": "井盖松动",
            "body": "井盖松动有危险",
            "category": "community",
            "photo": SimpleUploadedFile("p.png", png(), content_type="image/png"),
        },
    )
    assert response.status_code == 201, response.json()
    assert response.json()["photo"]


def test_bad_staff_input_changes_nothing(hub_a, cast_a, client_for):
    client = client_for(cast_a.staff, hub_a)
    for payload, code in [
        ({"channel": "online", "title": "a", "body": "b", "category": "elderly"}, "invalid_channel"),
        ({"channel": "visit", "title": "a", "body": "b", "category": "elderly", "phone": "555"}, "invalid_phone"),
        ({"channel": "visit", "title": "  ", "body": "b", "category": "elderly"}, "invalid"),
    ]:
        response = client.post("/api/v1/needs", payload, content_type="application/json")
        assert response.status_code == 400 and response.json()["code"] == code, response.json()
    with hub_a:
        assert Need.objects.count() == 0 and Resident.objects.count() == 0


def test_duplicates_are_suggested_and_merged_and_the_submitter_follows_the_survivor(hub_a, cast_a, client_for):
    with hub_a:
        first = a_need(cast_a.staff, body="老旧小区没有电梯，老人上下楼困难，希望加装电梯。")
        dup = a_need(
            cast_a.staff,
            channel="letter",
            body="我们小区是老旧小区没有电梯，老人上下楼很困难，希望加装电梯",
            phone="13700002222",
        )
        other = a_need(cast_a.staff, title="垃圾分类", body="垃圾分类宣传不到位，希望多宣传。", category="environment")
    client = client_for(cast_a.staff, hub_a)
    detail = client.get(f"/api/v1/needs/{dup.pk}").json()
    assert [s["id"] for s in detail["similar"]][:1] == [first.pk] and other.pk not in [
        s["id"] for s in detail["similar"]
    ]
    merged = client.post(f"/api/v1/needs/{dup.pk}/merge", {"into": first.pk}, content_type="application/json")
    assert merged.status_code == 200 and merged.json()["status"] == "merged"
    again = client.post(f"/api/v1/needs/{dup.pk}/merge", {"into": other.pk}, content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "need_not_open"
    assert (
        client.post(f"/api/v1/needs/{first.pk}/merge", {"into": first.pk}, content_type="application/json").json()[
            "code"
        ]
        == "merge_self"
    )
    track = client_for(None, hub_a).get(f"/api/v1/needs/track/{dup.token}").json()
    assert track["status"] == "merged" and track["merged_into"] == first.title
    stats = client_for(None, hub_a).get("/api/v1/needs/stats").json()
    assert stats["total"] == 2


def test_tag_reject_and_turn_needs_into_an_idea(hub_a, cast_a, client_for):
    with hub_a:
        n1, n2, n3 = (
            a_need(cast_a.staff),
            a_need(cast_a.staff, channel="survey"),
            a_need(cast_a.staff, channel="meeting"),
        )
    client = client_for(cast_a.staff, hub_a)
    tagged = client.post(
        f"/api/v1/needs/{n1.pk}/tag", {"tags": ["加装电梯", "适老化"]}, content_type="application/json"
    )
    assert tagged.json()["tags"] == ["加装电梯", "适老化"] and tagged.json()["status"] == "accepted"
    no_reason = client.post(f"/api/v1/needs/{n3.pk}/reject", {"reason": ""}, content_type="application/json")
    assert no_reason.status_code == 400
    rejected = client.post(f"/api/v1/needs/{n3.pk}/reject", {"reason": "属于物业职责"}, content_type="application/json")
    assert rejected.json()["status"] == "rejected"
    assert client_for(None, hub_a).get(f"/api/v1/needs/track/{n3.token}").json()["status_reason"] == "属于物业职责"
    idea = client.post(
        "/api/v1/needs/ideas",
        {"needs": [n1.pk, n2.pk], "title": "加装电梯", "category": "elderly", "budget": 5_000_000},
        content_type="application/json",
    )
    assert idea.status_code == 201 and idea.json()["status"] == "draft"
    with hub_a:
        assert set(Need.objects.filter(idea_id=idea.json()["id"]).values_list("status", flat=True)) == {
            NeedStatus.IN_IDEA
        }
    refused = client.post(
        "/api/v1/needs/ideas",
        {"needs": [n3.pk], "title": "x", "category": "elderly", "budget": 1},
        content_type="application/json",
    )
    assert refused.status_code == 409 and refused.json()["code"] == "need_not_open"
    followed = client_for(None, hub_a).get(f"/api/v1/needs/track/{n2.token}").json()
    assert followed["idea"]["title"] == "加装电梯"


def test_outsiders_and_residents_get_404_or_403_on_staff_endpoints(hub_a, cast_a, outsider, client_for):
    with hub_a:
        need = a_need(cast_a.staff)
    for path in ["/api/v1/needs", f"/api/v1/needs/{need.pk}", "/api/v1/needs/ideas", "/api/v1/needs/flags"]:
        assert client_for(outsider, hub_a).get(path).status_code == 404, path
        assert client_for(cast_a.resident, hub_a).get(path).status_code == 404, path
        assert client_for(cast_a.ambassador, hub_a).get(path).status_code == 403, path
    assert client_for(outsider, hub_a).get(f"/needs/staff/{need.pk}/").status_code == 404
    assert client_for(outsider, hub_a).post(f"/api/v1/needs/{need.pk}/reject", {"reason": "x"}).status_code == 404
    assert client_for(None, hub_a).get("/api/v1/needs").status_code == 401


def test_public_pages_show_statistics_without_personal_data(hub_a, cast_a, client_for):
    with hub_a:
        a_need(cast_a.staff, name="张三丰", phone="13512345678")
    for path in ["/needs/", "/api/v1/needs/stats"]:
        page = client_for(None, hub_a).get(path)
        assert page.status_code == 200
        text = page.content.decode()
        assert "张三丰" not in text and "13512345678" not in text
    assert "测试四川中心" in client_for(None, hub_a).get("/needs/").content.decode()


def test_need_submit_service_refuses_unverified_residents(hub_a):
    with hub_a:
        resident = Resident.objects.create(name="x")
        with pytest.raises(ApplicationError) as exc:
            services.need_submit(resident=resident, title="t", body="b", category="elderly")
        assert exc.value.code == "resident_unverified"
