"""Suspicious support patterns: the flagging rule, the staff page and API that review flags, and the exports."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from hubs.needs import selectors, services
from hubs.needs.models import Support, SupportFlag
from huoban.audit.models import AuditEvent
from tests.needs.conftest import open_round, verified_resident

pytestmark = pytest.mark.django_db


def _support(notice_round, idea, phone: str, ip: str) -> Support:  # type: ignore[no-untyped-def]
    added = services.support_add(notice_round=notice_round, idea=idea, resident=verified_resident(phone), ip=ip)
    return added.support


def _flags(notice_round) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return sorted(SupportFlag.objects.filter(notice_round=notice_round).values_list("kind", "prefix"))


def test_the_threshold_th_support_from_one_ip_range_within_the_window_flags_it(hub_a, cast_a, idea_at, settings):
    settings.HUOBAN_NEEDS_FLAG_THRESHOLD = 3
    with hub_a:
        notice_round = open_round(cast_a.staff)
        idea = idea_at("on_notice", notice_round=notice_round)
        _support(notice_round, idea, "13100000001", "203.0.113.7")
        _support(notice_round, idea, "13200000002", "203.0.113.200")
        assert _flags(notice_round) == []
        _support(notice_round, idea, "13300000003", "203.0.113.9")  # same /24, third within the window
        assert _flags(notice_round) == [("ip_range", "203.0.113.0/24")]
        _support(notice_round, idea, "13400000004", "203.0.113.10")  # more of the same: still one flag
        assert _flags(notice_round) == [("ip_range", "203.0.113.0/24")]
        assert selectors.support_count(idea=idea) == 4  # flagged, never dropped


def test_one_phone_prefix_is_flagged_across_ip_ranges(hub_a, cast_a, idea_at, settings):
    settings.HUOBAN_NEEDS_FLAG_THRESHOLD = 3
    with hub_a:
        notice_round = open_round(cast_a.staff)
        idea = idea_at("on_notice", notice_round=notice_round)
        for i in range(3):
            _support(notice_round, idea, f"1708888{i:04d}", f"198.51.{i}.1")
        assert _flags(notice_round) == [("phone_prefix", "1708888")]


def test_supports_older_than_the_window_do_not_count(hub_a, cast_a, idea_at, settings):
    settings.HUOBAN_NEEDS_FLAG_THRESHOLD = 3
    settings.HUOBAN_NEEDS_FLAG_WINDOW_MINUTES = 10
    with hub_a:
        notice_round = open_round(cast_a.staff)
        idea = idea_at("on_notice", notice_round=notice_round)
        old = [_support(notice_round, idea, f"13{i}00000009", "192.0.2.1") for i in range(2)]
        Support.objects.filter(pk__in=[s.pk for s in old]).update(created_at=timezone.now() - timedelta(minutes=11))
        _support(notice_round, idea, "13900000009", "192.0.2.2")
        assert _flags(notice_round) == []
        _support(notice_round, idea, "13800000019", "192.0.2.3")
        _support(notice_round, idea, "13700000029", "192.0.2.4")
        assert _flags(notice_round) == [("ip_range", "192.0.2.0/24")]


def test_ipv6_clients_are_grouped_by_their_48_and_rounds_are_counted_apart(hub_a, cast_a, idea_at, settings):
    settings.HUOBAN_NEEDS_FLAG_THRESHOLD = 2
    with hub_a:
        first = open_round(cast_a.staff)
        second = open_round(cast_a.staff, title="第二批公示")
        idea_1 = idea_at("on_notice", notice_round=first)
        idea_2 = idea_at("on_notice", notice_round=second)
        _support(first, idea_1, "13100000111", "2001:db8:1:aa::1")
        _support(second, idea_2, "13200000222", "2001:db8:1:bb::2")  # same /48, other round
        assert _flags(first) == [] and _flags(second) == []
        _support(first, idea_1, "13300000333", "2001:db8:1:cc::3")
        assert _flags(first) == [("ip_range", "2001:db8:1::/48")] and _flags(second) == []


def _flagged_round(hub_a, cast_a, idea_at, settings, n: int = 3):  # type: ignore[no-untyped-def]
    settings.HUOBAN_NEEDS_FLAG_THRESHOLD = n
    with hub_a:
        notice_round = open_round(cast_a.staff)
        ideas = [idea_at("on_notice", notice_round=notice_round) for _ in range(2)]
        for i in range(n):
            _support(notice_round, ideas[i % 2], f"1560000{i:04d}", f"203.0.113.{i + 1}")
        flag = SupportFlag.objects.get(notice_round=notice_round, kind="ip_range")
    return notice_round, flag


def test_staff_page_lists_flags_with_counts_and_masked_supports_and_records_a_review(
    hub_a, cast_a, idea_at, settings, client_for
):
    notice_round, flag = _flagged_round(hub_a, cast_a, idea_at, settings)
    staff = client_for(cast_a.staff, hub_a)
    url = f"/needs/notice/{notice_round.pk}/flags/"
    page = staff.get(url).content.decode()
    assert "203.0.113.0/24" in page and 'data-testid="flag-supports-' in page
    assert f'data-testid="flag-supports-{flag.pk}">3<' in page
    assert "156****0000" in page and "15600000000" not in page
    assert "待核查" in page
    notice = staff.get(f"/needs/notice/{notice_round.pk}/").content.decode()
    assert 'data-testid="flags-link"' in notice and "待核查" in notice

    refused = staff.post(url, {"flag": flag.pk, "note": "   "}, follow=True)
    assert "请填写此项" in refused.content.decode()
    with hub_a:
        flag.refresh_from_db()
        assert flag.reviewed_at is None and not AuditEvent.objects.filter(action="needs.flag.reviewed").exists()

    done = staff.post(url, {"flag": flag.pk, "note": "同一学校机房，已电话核实为真实师生"}, follow=True)
    assert "已记录核查结果" in done.content.decode() and "同一学校机房" in done.content.decode()
    with hub_a:
        flag.refresh_from_db()
        assert flag.reviewed_at is not None and flag.reviewed_by_id == cast_a.staff.pk
        event = AuditEvent.objects.get(action="needs.flag.reviewed", object_id=str(flag.pk))
        assert event.actor_id == cast_a.staff.pk and event.after["note"].startswith("同一学校机房")
        assert event.before == {"reviewed_at": None, "reviewed_by": None, "note": ""}
        assert selectors.round_flags(notice_round=notice_round)[0].supports == 3  # still counted


def test_a_flag_of_another_round_is_not_reviewed_through_this_rounds_page(hub_a, cast_a, idea_at, settings, client_for):
    _notice_round, flag = _flagged_round(hub_a, cast_a, idea_at, settings)
    with hub_a:
        other = open_round(cast_a.staff, title="另一批公示")
    response = client_for(cast_a.staff, hub_a).post(f"/needs/notice/{other.pk}/flags/", {"flag": flag.pk, "note": "x"})
    assert response.status_code == 404
    with hub_a:
        flag.refresh_from_db()
        assert flag.reviewed_at is None


def test_flags_api_lists_counts_and_supports_and_validates_the_review(hub_a, cast_a, idea_at, settings, client_for):
    notice_round, flag = _flagged_round(hub_a, cast_a, idea_at, settings)
    staff = client_for(cast_a.staff, hub_a)
    listed = staff.get(f"/api/v1/needs/rounds/{notice_round.pk}/flags").json()
    (row,) = [f for f in listed if f["id"] == flag.pk]
    assert (row["supports"], row["residents"], row["ideas"], row["reviewed_at"]) == (3, 3, 2, None)
    assert len(row["support_list"]) == 3 and {s["phone"] for s in row["support_list"]} >= {"156****0000"}
    assert "15600000000" not in str(listed)

    url = f"/api/v1/needs/flags/{flag.pk}/review"
    missing = staff.post(url, {}, content_type="application/json")
    too_long = staff.post(url, {"note": "长" * 501}, content_type="application/json")
    blank = staff.post(url, {"note": "  "}, content_type="application/json")
    assert missing.status_code == too_long.status_code == blank.status_code == 400
    with hub_a:
        flag.refresh_from_db()
        assert flag.reviewed_at is None
    first = staff.post(url, {"note": "已核实"}, content_type="application/json")
    assert first.status_code == 200 and first.json()["note"] == "已核实" and first.json()["reviewed_by"]
    again = client_for(cast_a.hub_admin, hub_a).post(url, {"note": "复核：正常"}, content_type="application/json")
    assert again.json()["note"] == "复核：正常"
    with hub_a:
        events = list(AuditEvent.objects.filter(action="needs.flag.reviewed", object_id=str(flag.pk)).order_by("pk"))
        assert [e.after["note"] for e in events] == ["已核实", "复核：正常"]
        assert events[1].before["note"] == "已核实" and events[1].before["reviewed_by"] == cast_a.staff.pk


def test_exports_of_supports_and_flags(hub_a, cast_a, idea_at, settings, client_for):
    notice_round, flag = _flagged_round(hub_a, cast_a, idea_at, settings)
    with hub_a:
        _support(notice_round, flag.notice_round.ideas.first(), "18900001111", "10.1.1.1")  # not flagged
    staff = client_for(cast_a.staff, hub_a)
    supports = staff.get(f"/needs/notice/{notice_round.pk}/export/supports.csv")
    assert supports.status_code == 200 and supports["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(supports.content.decode("utf-8-sig"))))
    assert rows[0][0] == "编号" and len(rows) == 1 + 4
    assert sorted(r[-1] for r in rows[1:]) == ["否", "是", "是", "是"]
    assert "189****1111" in supports.content.decode("utf-8-sig") and "18900001111" not in str(rows)
    flags = staff.get(f"/needs/notice/{notice_round.pk}/export/flags.xlsx")
    sheet = load_workbook(io.BytesIO(flags.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("编号", "类型", "来源")
    by_source = {row[2]: row for row in values[1:]}
    assert set(by_source) == {"203.0.113.0/24", "1560000"}  # the phones share a prefix too
    assert by_source["203.0.113.0/24"][1] == "同一网段" and by_source["203.0.113.0/24"][4] == 3
    assert staff.get(f"/needs/notice/{notice_round.pk}/export/supports.pdf").status_code == 404
    assert staff.get(f"/needs/notice/{notice_round.pk}/export/people.csv").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/needs/notice/{round}/flags/",
        "/needs/notice/{round}/export/supports.csv",
        "/needs/notice/{round}/export/flags.xlsx",
        "/api/v1/needs/rounds/{round}/flags",
    ],
)
def test_only_staff_see_flags_and_exports(hub_a, cast_a, idea_at, settings, client_for, outsider, path):
    notice_round, _flag = _flagged_round(hub_a, cast_a, idea_at, settings)
    url = path.format(round=notice_round.pk)
    assert client_for(outsider, hub_a).get(url).status_code == 404  # another hub's admin
    assert client_for(cast_a.resident, hub_a).get(url).status_code == 404  # signed in, no role here
    assert client_for(cast_a.ambassador, hub_a).get(url).status_code == 403  # a member, too weak a role
    assert client_for(cast_a.reviewer, hub_a).get(url).status_code == 403
    anonymous = client_for(None, hub_a)
    session = anonymous.session
    with hub_a:
        session[f"needs_resident_id:{hub_a.pk}"] = verified_resident().pk  # a resident verified by phone
    session.save()
    assert anonymous.get(url).status_code in (302, 401)
    assert client_for(cast_a.staff, hub_a).get(url).status_code == 200


def test_only_staff_review_flags(hub_a, cast_a, idea_at, settings, client_for, outsider):
    _round, flag = _flagged_round(hub_a, cast_a, idea_at, settings)
    url = f"/api/v1/needs/flags/{flag.pk}/review"
    body = {"note": "x"}
    assert client_for(outsider, hub_a).post(url, body, content_type="application/json").status_code == 404
    assert client_for(cast_a.resident, hub_a).post(url, body, content_type="application/json").status_code == 404
    assert client_for(cast_a.ambassador, hub_a).post(url, body, content_type="application/json").status_code == 403
    assert client_for(None, hub_a).post(url, body, content_type="application/json").status_code == 401
    page = f"/needs/notice/{flag.notice_round_id}/flags/"
    assert client_for(outsider, hub_a).post(page, {"flag": flag.pk, "note": "x"}).status_code == 404
    assert client_for(cast_a.ambassador, hub_a).post(page, {"flag": flag.pk, "note": "x"}).status_code == 403
    with hub_a:
        flag.refresh_from_db()
        assert flag.reviewed_at is None and flag.note == ""
