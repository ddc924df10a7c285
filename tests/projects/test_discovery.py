"""Projects seeking funds and funded projects are found from every hub; nothing private leaves the hub."""

from __future__ import annotations

from datetime import date

import pytest

from hubs.projects import services
from huoban.db import connection
from huoban.discovery.models import DiscoveryEntry, DiscoveryOutbox
from huoban.discovery.outbox import discovery_outbox_drain
from huoban.discovery.selectors import discovery_search
from huoban.errors import ApplicationError
from tests.projects.conftest import make_world, pdf


def _drain() -> None:
    connection.set_schema_to_public()
    discovery_outbox_drain()


def _found(hub, query: str, kinds: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    with hub:
        return [hit.entry.title for hit in discovery_search(query=query, kinds=kinds).hits]


def _entry(project) -> DiscoveryEntry:  # type: ignore[no-untyped-def]
    return DiscoveryEntry.objects.get(source_app="projects", source_id=str(project.pk))


def test_draft_is_not_published_approved_seeks_funds_and_receipt_makes_it_funded(hub_a, hub_b, cast_a):  # type: ignore[no-untyped-def]
    w = make_world(hub_a, cast_a, fund=600_000, status="draft")
    _drain()
    assert not DiscoveryEntry.objects.filter(source_app="projects", source_id=str(w.project.pk)).exists()

    with hub_a:
        project = services.project_transition(project=w.project, to="approved", actor=cast_a.staff)
    _drain()
    assert _found(hub_b, "长者助餐", ["project_seeking_funds"]) == ["社区长者助餐 · Meals for elders"]
    assert _found(hub_b, "elders", ["project_seeking_funds"]) == ["社区长者助餐 · Meals for elders"]
    entry = _entry(project)
    # budget 20,000 yuan, 6,000 pledged: 14,000 still needed
    assert (entry.kind, entry.status, entry.amount) == ("project_seeking_funds", "open", 1_400_000)
    assert (entry.hub_slug, entry.region_code, entry.service_areas) == ("sichuan", hub_a.region_code, ["elderly"])
    assert (entry.opens_on, entry.closes_on) == (date(2026, 1, 1), date(2026, 12, 31))
    assert entry.link_url == f"{hub_a.url}/projects/public/{project.pk}/"

    with hub_a:
        services.funds_receive(
            project=project,
            funding_source=w.source,
            amount=600_000,
            received_on=date(2026, 1, 5),
            receipt=pdf(),
            actor=cast_a.staff,
        )
    _drain()
    entry = _entry(project)
    assert (entry.kind, entry.status, entry.amount) == ("funded_project", "open", 600_000)
    assert _found(hub_b, "长者助餐", ["funded_project"]) == ["社区长者助餐 · Meals for elders"]
    assert _found(hub_b, "长者助餐", ["project_seeking_funds"]) == []


def test_cancelled_or_suspended_project_leaves_the_index(hub_a, hub_b, cast_a):  # type: ignore[no-untyped-def]
    w = make_world(hub_a, cast_a)
    _drain()
    assert _found(hub_b, "长者助餐", ["funded_project"]) == ["社区长者助餐 · Meals for elders"]

    with hub_a:
        services.project_transition(project=w.project, to="suspended", reason="审计", actor=cast_a.staff)
    _drain()
    assert _found(hub_b, "长者助餐", ["funded_project"]) == []
    assert _entry(w.project).status == "withdrawn"

    with hub_a:
        services.project_transition(project=w.project, to="resume", actor=cast_a.staff)
    _drain()
    assert _found(hub_b, "长者助餐", ["funded_project"]) == ["社区长者助餐 · Meals for elders"]

    with hub_a:
        services.project_transition(project=w.project, to="cancelled", reason="执行方退出", actor=cast_a.staff)
    _drain()
    assert _found(hub_b, "长者助餐", ["funded_project"]) == []
    assert _entry(w.project).status == "withdrawn"


def test_edits_reach_the_index_and_private_fields_never_do(hub_a, cast_a):  # type: ignore[no-untyped-def]
    w = make_world(hub_a, cast_a)
    with hub_a:
        services.project_update(
            project=w.project,
            actor=cast_a.staff,
            summary="为玉林街道独居老人提供午餐，联系人电话 13900139000，邮箱 lead@ngo.cn",
            private_notes="SECRET-STAFF-NOTE 身份证 510104199001011234",
        )
    _drain()
    entry = _entry(w.project)
    public_text = " ".join([entry.title, entry.summary, entry.link_url])
    assert "独居老人" in entry.summary
    for private in ("SECRET-STAFF-NOTE", "13900139000", "lead@ngo.cn", "13812345678", "510104199001011234"):
        assert private not in public_text
    assert w.implementer_member.email not in public_text
    outbox_payloads = " ".join(str(row.payload) for row in DiscoveryOutbox.objects.all())
    assert "SECRET-STAFF-NOTE" not in outbox_payloads and "receipt" not in outbox_payloads


def test_rolled_back_change_publishes_nothing(hub_a, cast_a):  # type: ignore[no-untyped-def]
    w = make_world(hub_a, cast_a, status="draft")
    _drain()
    with hub_a:
        before = DiscoveryOutbox.objects.count()
        with pytest.raises(ApplicationError):
            services.project_transition(project=w.project, to="funded", actor=cast_a.staff)  # not allowed
        assert DiscoveryOutbox.objects.count() == before


def test_publishers_agree_with_what_the_services_published(hub_a, cast_a):  # type: ignore[no-untyped-def]
    from huoban.discovery import rebuild

    funded = make_world(hub_a, cast_a)
    seeking = make_world(hub_a, cast_a, status="approved")
    _drain()
    ref = rebuild.HubRef(hub_a.pk, hub_a.slug, hub_a.name_zh, hub_a.name_en)
    with hub_a:
        drift, _items = rebuild.discovery_hub_drift(hub=ref, visible=True)
    ours = {("projects", str(funded.project.pk)), ("projects", str(seeking.project.pk))}
    for problem in (drift.missing, drift.stale, drift.orphaned):
        assert not ours & {tuple(r) for r in problem}, drift
    assert not drift.invalid
