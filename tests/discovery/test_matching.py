"""Saved-search digests and "projects that fit you"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from huoban.discovery.matching import interests_set, saved_search_create, saved_search_digest_send
from huoban.discovery.models import DiscoveryEntry, SavedSearch
from huoban.discovery.params import search_params
from huoban.discovery.selectors import discovery_interests_for, discovery_recommend
from huoban.discovery.tasks import discovery_digests_send
from tests.discovery.conftest import drain, publish

pytestmark = pytest.mark.django_db


def _age(title: str, minutes: int) -> None:
    DiscoveryEntry.objects.filter(title=title).update(published_at=timezone.now() - timedelta(minutes=minutes))


def test_a_digest_sends_only_what_is_new_since_the_previous_one(hub_a, hub_b, cast_a, mailoutbox):
    publish(hub_a, title="雨城区社区养老服务（旧）", service_areas=["elderly"])
    drain()
    _age("雨城区社区养老服务（旧）", 60)
    saved = saved_search_create(
        user=cast_a.ngo_member, name="养老", params=search_params(query="养老"), email_digest=True
    )
    publish(hub_a, title="武侯区居家养老服务", service_areas=["elderly"])
    publish(hub_b, title="上城区养老驿站志愿者招募")
    publish(hub_b, title="上城区困境儿童支持")  # new, but not a match
    drain()
    later = timezone.now() + timedelta(minutes=5)

    assert saved_search_digest_send(saved_search_id=saved.pk, now=later) == 2
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [cast_a.ngo_member.email]
    assert mail.subject == "「养老」有 2 条新结果"
    assert "武侯区居家养老服务" in mail.body and "上城区养老驿站志愿者招募" in mail.body
    assert "（旧）" not in mail.body and "困境儿童" not in mail.body
    assert "http://huoban.localhost:8000/discover/?q=%E5%85%BB%E8%80%81" in mail.body
    assert "&amp;" not in mail.body

    # nothing new: no email, and the same matches are never sent twice
    assert saved_search_digest_send(saved_search_id=saved.pk, now=later + timedelta(days=1)) == 0
    assert len(mailoutbox) == 1
    publish(hub_b, title="上城区老年助餐点")
    drain()
    DiscoveryEntry.objects.filter(title="上城区老年助餐点").update(published_at=later + timedelta(hours=1))
    saved_search_digest_send(saved_search_id=saved.pk, now=later + timedelta(days=1))
    assert len(mailoutbox) == 1  # 老年 is not 养老 (no tag either): not a match
    publish(hub_b, title="上城区养老助餐点", service_areas=["elderly"])
    drain()
    DiscoveryEntry.objects.filter(title="上城区养老助餐点").update(published_at=later + timedelta(hours=2))
    assert saved_search_digest_send(saved_search_id=saved.pk, now=later + timedelta(days=1)) == 1
    assert "上城区养老助餐点" in mailoutbox[1].body and "武侯区" not in mailoutbox[1].body


def test_the_daily_task_sends_digests_in_the_persons_language(hub_a, cast_a, mailoutbox):
    from huoban.identity.services import user_update

    user_update(user=cast_a.reviewer, preferred_language="en")
    saved = saved_search_create(user=cast_a.reviewer, name="elderly", params=search_params(service_areas=["elderly"]))
    saved_search_create(user=cast_a.staff, name="off", params=search_params(), email_digest=False)
    SavedSearch.objects.filter(pk=saved.pk).update(email_digest=True, last_sent_at=timezone.now() - timedelta(days=1))
    publish(hub_a, title="社区居家养老服务", service_areas=["elderly"], deadline=timezone.localdate())
    drain()
    _age("社区居家养老服务", 10)
    assert discovery_digests_send.delay().get() == 1
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject == "1 new result for “elderly”"
    assert "Calls for proposals" in mailoutbox[0].body


def test_recommendations_rank_by_interests_then_recency(hub_a, hub_b, cast_a, operator):
    from tenants.services import hub_status_set

    publish(hub_a, title="雨城区儿童之家", region_code="511802", service_areas=["children"])
    publish(hub_a, title="四川全省儿童关爱征集", region_code="510000", service_areas=["children"])
    publish(hub_a, title="雨城区养老服务", region_code="511802", service_areas=["elderly"])
    publish(hub_b, title="上城区儿童服务", region_code="330102", service_areas=["children"], amount=5_000_000)
    publish(hub_b, title="上城区环保", region_code="330102", service_areas=["environment"])
    drain()
    interests_set(user=cast_a.resident, service_areas=["children"], region_codes=["511802"])
    titles = [e.title for e in discovery_recommend(user=cast_a.resident, limit=10)]
    # children in the district > children province-wide > the district, another area = children elsewhere
    assert titles[:2] == ["雨城区儿童之家", "四川全省儿童关爱征集"]
    assert set(titles[2:]) == {"雨城区养老服务", "上城区儿童服务"}
    assert "上城区环保" not in titles

    interests_set(
        user=cast_a.resident, service_areas=["children"], region_codes=["330102"], amount_min=1_000_000, amount_max=None
    )
    assert discovery_recommend(user=cast_a.resident, limit=1)[0].title == "上城区儿童服务"

    hub_status_set(hub=hub_b, status="suspended", reason="年检", actor=operator)
    drain()
    assert "上城区儿童服务" not in [e.title for e in discovery_recommend(user=cast_a.resident)]


def test_without_interests_set_saved_searches_and_organisations_suggest_them(cast_a):
    interests = discovery_interests_for(user=cast_a.ngo_member)  # a member of an organisation in 510104
    assert interests.region_codes == ("510104",)
    saved_search_create(
        user=cast_a.ngo_member, name="x", params=search_params(service_areas=["elderly"], kinds=["call"])
    )
    interests = discovery_interests_for(user=cast_a.ngo_member)
    assert (interests.service_areas, interests.kinds) == (("elderly",), ("call",))
    assert discovery_interests_for(user=cast_a.resident).is_empty
