"""Publishing through the outbox: what reaches the index, when, and what never does."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from huoban.discovery.models import DiscoveryEntry, DiscoveryOutbox, EntryStatus
from huoban.discovery.outbox import discovery_tombstones_purge
from huoban.discovery.registry import DiscoveryItem
from huoban.discovery.selectors import discovery_search
from huoban.discovery.services import discovery_publish
from huoban.errors import ApplicationError
from tests.discovery.conftest import drain, publish, unpublish

pytestmark = pytest.mark.django_db


def _titles(**kwargs: object) -> list[str]:
    return [hit.entry.title for hit in discovery_search(**kwargs).hits]  # type: ignore[arg-type]


def test_item_published_in_hub_a_is_found_by_a_user_of_hub_b_after_one_drain(
    hub_a, hub_b, cast_b, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        with hub_a, transaction.atomic():
            discovery_publish(
                hub_id=hub_a.pk,
                hub_slug=hub_a.slug,
                hub_name=hub_a.name_zh,
                kind="call",
                source=("calls", "1"),
                title="雅安市农村留守儿童关爱项目征集",
                summary="面向雅安市各区县社会组织，征集留守儿童课后陪伴与心理支持项目。",
                region_code="511800",
                service_areas=["children"],
                amount=5_000_000,
                closes_on=timezone.localdate() + timedelta(days=30),
            )
        assert _titles(query="留守儿童") == []  # committed, not drained yet
        assert drain().applied == 1
    assert len(callbacks) == 1  # the drain enqueued on commit

    for client in (client_for(cast_b.ngo_member), client_for(cast_b.hub_admin, hub_b)):
        body = client.get("/api/v1/discover", {"query": "留守儿童"}).json()
        assert body["total"] == 1
        hit = body["results"][0]
        assert hit["entry"]["hub"]["slug"] == "sichuan"
        assert hit["entry"]["title"] == "雅安市农村留守儿童关爱项目征集"
        assert hit["entry"]["amount"] == 5_000_000
        assert "<mark>留守儿童</mark>" in hit["title_html"]


def test_many_publishes_in_one_transaction_enqueue_one_drain(hub_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, hub_a, transaction.atomic():
        for n in range(5):
            discovery_publish(
                hub_id=hub_a.pk,
                hub_slug=hub_a.slug,
                hub_name=hub_a.name_zh,
                kind="call",
                source=("calls", n),
                title="征集",
            )
    assert len(callbacks) == 1
    assert drain().processed == 5


def test_rolled_back_publish_never_reaches_the_index(hub_a):
    def failing_change() -> None:
        with hub_a, transaction.atomic():
            discovery_publish(
                hub_id=hub_a.pk,
                hub_slug=hub_a.slug,
                hub_name=hub_a.name_zh,
                kind="call",
                source=("c", "9"),
                title="草稿",
            )
            raise RuntimeError("the hub's own change failed")

    with pytest.raises(RuntimeError):
        failing_change()
    assert drain().processed == 0
    assert not DiscoveryEntry.objects.exists()


def test_unpublish_removes_the_entry_and_republish_brings_it_back(hub_a):
    source = publish(hub_a, title="社区居家养老服务项目", service_areas=["elderly"])
    drain()
    assert _titles(query="养老") == ["社区居家养老服务项目"]
    unpublish(hub_a, source)
    drain()
    assert _titles(query="养老") == []
    tombstone = DiscoveryEntry.objects.get(source_id=source[1])
    assert (tombstone.status, tombstone.title, tombstone.summary, tombstone.search_vector) == (
        "withdrawn",
        "",
        "",
        None,
    )
    publish(hub_a, source=source, title="社区居家养老服务项目（第二期）")
    drain()
    assert _titles(query="养老") == ["社区居家养老服务项目（第二期）"]


def test_closing_an_item_or_passing_its_deadline_takes_it_out_of_search(hub_a):
    today = timezone.localdate()
    source = publish(hub_a, title="助残就业支持项目征集", deadline=today)
    publish(hub_a, title="助残康复服务征集", deadline=today - timedelta(days=1))
    publish(hub_a, title="助残社区融合项目", status="upcoming", opens_on=today + timedelta(days=3))
    drain()
    assert sorted(_titles(query="助残")) == ["助残就业支持项目征集", "助残社区融合项目"]  # due today: still open
    publish(hub_a, source=source, title="助残就业支持项目征集", deadline=today, status="closed")
    drain()
    assert _titles(query="助残") == ["助残社区融合项目"]


def test_suspending_or_archiving_a_hub_hides_its_entries_and_reopening_restores_them(hub_a, hub_b, operator):
    from tenants.services import hub_status_set

    publish(hub_a, title="四川灾后重建社工服务项目", service_areas=["disaster_relief"])
    publish(hub_b, title="上城区灾后心理援助志愿服务")
    drain()
    assert len(_titles(query="灾后")) == 2

    hub_status_set(hub=hub_a, status="suspended", reason="年检", actor=operator)
    assert DiscoveryOutbox.objects.filter(op="hub_visibility", hub_id=hub_a.pk, payload={"visible": False}).exists()
    assert len(_titles(query="灾后")) == 2  # until the outbox is drained after commit
    drain()
    result = discovery_search(query="灾后")
    assert [h.entry.hub_slug for h in result.hits] == ["shangcheng"]
    assert [f.value for f in result.facets["hub"]] == [str(hub_b.pk)]  # facets do not count hidden hubs either
    assert DiscoveryEntry.objects.filter(hub_id=hub_a.pk).count() == 1  # kept, only hidden

    hub_status_set(hub=hub_a, status="read_only", reason="", actor=operator)  # read-only hubs stay public
    drain()
    assert len(_titles(query="灾后")) == 2
    hub_status_set(hub=hub_a, status="archived", reason="", actor=operator)
    drain()
    assert len(_titles(query="灾后")) == 1
    hub_status_set(hub=hub_a, status="read_only", reason="", actor=operator)
    hub_status_set(hub=hub_a, status="active", reason="", actor=operator)
    drain()
    assert len(_titles(query="灾后")) == 2


# --- nothing private reaches the index -------------------------------------------------------------------------


def test_publish_accepts_only_public_fields(hub_a):
    with pytest.raises(TypeError, match="contact_phone"), hub_a:
        discovery_publish(  # type: ignore[call-arg]
            hub_id=hub_a.pk,
            hub_slug=hub_a.slug,
            hub_name=hub_a.name_zh,
            kind="partner",
            source=("partners", "1"),
            title="成都市武侯区社工服务中心",
            contact_phone="13800138000",
        )
    with pytest.raises(TypeError, match="contact_email"):
        DiscoveryItem(source=("partners", "1"), title="x", contact_email="a@b.cn")  # type: ignore[call-arg]
    assert not DiscoveryOutbox.objects.exists()


def test_personal_contact_data_in_free_text_is_masked(hub_a):
    publish(
        hub_a,
        kind="partner",
        title="武侯区社工服务中心 联系人 138-0013-8000",
        summary="提供儿童服务。负责人手机13900139000，邮箱 lead@ngo.org.cn，身份证 11010519491231002X。",
    )
    drain()
    entry = DiscoveryEntry.objects.get()
    assert "138" not in entry.title and "13900139000" not in entry.summary
    assert "lead@ngo.org.cn" not in entry.summary and "11010519491231002X" not in entry.summary
    assert "提供儿童服务" in entry.summary
    assert not discovery_search(query="13900139000").hits


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "secret"}, "kind"),
        ({"title": "  "}, "title"),
        ({"service_areas": ["elderly", "gossip"]}, "service_areas"),
        ({"region_code": "999999"}, "region_code"),
        ({"amount": 12.5}, "amount"),
        ({"amount": -1}, "amount"),
        ({"status": "draft"}, "status"),
        ({"link_url": "javascript:alert(1)"}, "link_url"),
        ({"closes_on": "2026-01-01"}, "closes_on"),
    ],
)
def test_publish_refuses_what_cannot_be_indexed(hub_a, fields, field):
    values = {"kind": "call", "title": "征集", **fields}
    with pytest.raises(ApplicationError) as exc, hub_a:
        discovery_publish(hub_id=hub_a.pk, hub_slug=hub_a.slug, hub_name=hub_a.name_zh, source=("calls", "1"), **values)
    assert exc.value.code == "invalid_discovery_item"
    assert exc.value.extra["field"] == field


def test_code_inside_one_hub_cannot_publish_as_another(hub_a, hub_b):
    with pytest.raises(ApplicationError) as exc, hub_a:
        discovery_publish(
            hub_id=hub_b.pk, hub_slug=hub_b.slug, hub_name=hub_b.name_zh, kind="call", source=("calls", "1"), title="x"
        )
    assert exc.value.code == "discovery_wrong_hub"


# --- the drain -------------------------------------------------------------------------------------------------


def test_drain_is_idempotent(hub_a):
    source = publish(hub_a, title="乡村振兴公益创投", closes_on=date(2099, 1, 1))
    first = drain()
    assert (first.processed, first.applied) == (1, 1)
    entry = DiscoveryEntry.objects.get()
    assert drain().processed == 0
    # a row applied again (a retried task), or an older row arriving late, never overwrites a newer version
    publish(hub_a, source=source, title="迟到的旧版本")
    DiscoveryOutbox.objects.update(id=entry.seq)
    assert drain().processed == 1
    again = DiscoveryEntry.objects.get()
    assert (again.title, again.seq, again.updated_at) == (entry.title, entry.seq, entry.updated_at)
    assert again.deadline == date(2099, 1, 1)  # deadline defaults to the closing date


def test_a_batch_applies_only_the_latest_change_of_an_item(hub_a):
    source = publish(hub_a, title="第一版")
    publish(hub_a, source=source, title="第二版")
    unpublish(hub_a, source)
    publish(hub_a, source=source, title="第四版")
    result = drain()
    assert (result.processed, result.applied) == (4, 1)
    assert _titles() == ["第四版"]


def test_old_tombstones_are_purged_once_no_pending_row_needs_them(hub_a):
    source = publish(hub_a, title="x")
    drain()
    unpublish(hub_a, source)
    drain()
    assert discovery_tombstones_purge() == 0  # too recent
    DiscoveryEntry.objects.update(updated_at=timezone.now() - timedelta(days=2))
    publish(hub_a, source=("calls", "other"), title="y")  # pending, but newer than the tombstone
    assert discovery_tombstones_purge() == 1
    assert not DiscoveryEntry.objects.filter(status=EntryStatus.WITHDRAWN).exists()


def test_a_row_that_cannot_be_applied_is_set_aside_without_holding_up_the_others(hub_a, monkeypatch):
    from huoban.discovery import outbox

    publish(hub_a, title="第一条")
    poison = publish(hub_a, title="坏的一条")
    publish(hub_a, title="第三条")
    original = outbox._publish_params

    def failing(row, now):  # type: ignore[no-untyped-def]
        if row["payload"]["title"] == "坏的一条":
            raise ValueError("cannot segment this")
        return original(row, now)

    monkeypatch.setattr(outbox, "_publish_params", failing)
    result = drain()
    assert (result.processed, result.failed) == (2, 1)
    assert sorted(_titles()) == ["第一条", "第三条"]
    row = DiscoveryOutbox.objects.get()
    assert (row.source_id, row.error) == (poison[1], "ValueError: cannot segment this")
    assert drain().processed == 0  # set aside: not retried in a loop
