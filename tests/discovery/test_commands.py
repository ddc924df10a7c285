"""discovery_rebuild and discovery_check against a hub app's publisher."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from huoban.discovery.models import DiscoveryEntry, DiscoveryOutbox
from huoban.discovery.registry import DiscoveryItem
from huoban.discovery.selectors import discovery_search
from tests.discovery.conftest import drain, publish

pytestmark = pytest.mark.django_db


def _run(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def _items(n: int, prefix: str = "征集") -> list[DiscoveryItem]:
    return [
        DiscoveryItem(
            source=("calls", str(i)), title=f"{prefix}{i} 留守儿童", region_code="511800", service_areas=["children"]
        )
        for i in range(n)
    ]


def test_rebuild_indexes_a_hub_and_a_second_run_changes_nothing(hub_a, hub_b, publisher):
    publisher.set(hub_a, _items(3))
    publisher.set(hub_b, _items(2, prefix="上城"))
    out = _run("discovery_rebuild", "--quiet")
    assert "5 items: 5 missing and 0 stale published" in out
    assert discovery_search(query="留守儿童").total == 5
    before = list(DiscoveryEntry.objects.order_by("pk").values_list("pk", "seq", "updated_at"))

    out = _run("discovery_rebuild", "--quiet")
    assert "0 missing and 0 stale published, 0 orphaned unpublished" in out
    assert "; 0 outbox rows" in out
    assert list(DiscoveryEntry.objects.order_by("pk").values_list("pk", "seq", "updated_at")) == before

    out = _run("discovery_rebuild", "--quiet", "--hub", "sichuan", "--force")
    assert "3 items: 0 missing and 0 stale published" in out and "; 3 outbox rows" in out
    assert discovery_search(query="留守儿童").total == 5


def test_check_finds_missing_stale_and_orphaned_entries_and_rebuild_repairs_them(hub_a, publisher):
    publisher.set(hub_a, _items(3))
    _run("discovery_rebuild", "--quiet", "--hub", "sichuan")
    assert "no drift" in _run("discovery_check", "--hub", "sichuan")

    publisher.set(hub_a, [*_items(2), DiscoveryItem(source=("calls", "7"), title="新征集")])  # 2 gone, 7 new
    publish(hub_a, source=("calls", "1"), title="改过的标题")  # differs from what the hub now says
    publish(hub_a, kind="fair", source=("fairs", "1"), title="相亲会")  # no publisher for fairs: left alone
    drain()
    out = StringIO()
    with pytest.raises(CommandError, match="drift in 1 hub"):
        call_command("discovery_check", "--hub", "sichuan", "--verbose", stdout=out)
    report = out.getvalue()
    assert "sichuan missing calls:7" in report
    assert "sichuan stale calls:1" in report
    assert "sichuan orphaned calls:2" in report
    assert "fairs:1" not in report

    _run("discovery_rebuild", "--quiet", "--hub", "sichuan")
    assert "no drift" in _run("discovery_check", "--hub", "sichuan")
    titles = {h.entry.title for h in discovery_search().hits}
    assert titles == {"征集0 留守儿童", "征集1 留守儿童", "新征集", "相亲会"}


def test_check_reports_a_hidden_hub_shown_and_entries_of_deleted_hubs(hub_a, publisher):
    publisher.set(hub_a, _items(1))
    _run("discovery_rebuild", "--quiet", "--hub", "sichuan")
    from huoban.discovery.services import discovery_hub_visibility_set

    discovery_hub_visibility_set(hub_id=hub_a.pk, visible=False)  # out of step with the hub's status (active)
    publish(hub_a, source=("calls", "x"), title="孤儿")
    DiscoveryOutbox.objects.filter(source_id="x").update(hub_id=987654)  # a hub that no longer exists
    drain()
    out = StringIO()
    with pytest.raises(CommandError, match="drift in 2 hub"):
        call_command("discovery_check", stdout=out)
    assert "wrong" in out.getvalue() and "deleted hub 987654" in out.getvalue()
    _run("discovery_rebuild", "--quiet")
    assert "no drift" in _run("discovery_check")
    assert [h.entry.title for h in discovery_search().hits] == ["征集0 留守儿童"]


def test_rebuild_reports_items_that_cannot_be_indexed(hub_a, publisher):
    publisher.set(hub_a, [*_items(1), DiscoveryItem(source=("calls", "bad"), title="x", service_areas=["gossip"])])
    err = StringIO()
    call_command("discovery_rebuild", "--quiet", "--hub", "sichuan", stdout=StringIO(), stderr=err)
    assert "not indexable: sichuan: calls:bad" in err.getvalue()
    assert DiscoveryEntry.objects.count() == 1


def test_rebuild_refuses_an_unknown_hub():
    with pytest.raises(CommandError, match="no such hub: nowhere"):
        call_command("discovery_rebuild", "--hub", "nowhere", "--quiet")
