"""A call's life: drafting rules, opening against the plan's open-calls limit, discovery (drafts never reach it),
closing and archiving."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hubs.calls import services
from huoban.db import connection
from huoban.discovery.models import DiscoveryEntry
from huoban.discovery.outbox import discovery_outbox_drain
from huoban.discovery.selectors import discovery_search
from huoban.errors import ApplicationError


def _drain() -> None:
    connection.set_schema_to_public()
    discovery_outbox_drain()


def test_open_call_is_found_from_another_hub_and_leaves_when_archived(hub_a, hub_b, cast_a, make_call):
    draft = make_call(open=False, title_zh="留守儿童陪伴项目征集")
    _drain()
    assert not DiscoveryEntry.objects.filter(source_app="calls", source_id=str(draft.pk)).exists()
    with hub_a:
        call = services.call_transition(call=draft, to="open", actor=cast_a.staff)
    _drain()
    with hub_b:
        hits = discovery_search(query="留守儿童", kinds=["call"]).hits
    assert [h.entry.title for h in hits] == ["留守儿童陪伴项目征集"]
    entry = hits[0].entry
    assert entry.amount == 40_000_00 and entry.link_url == f"{hub_a.url}/calls/{call.pk}/public/"
    with hub_a:
        services.call_transition(call=call, to="closed", actor=cast_a.staff)
    _drain()
    assert DiscoveryEntry.objects.get(source_app="calls", source_id=str(call.pk)).status == "closed"
    with hub_a:
        for step in ("in_review", "decided", "archived"):
            services.call_transition(call=call, to=step, actor=cast_a.staff)
    _drain()
    assert DiscoveryEntry.objects.get(source_app="calls", source_id=str(call.pk)).status == "withdrawn"


def test_opening_respects_the_plan_limit(hub_a, cast_a, make_call):
    make_call()
    make_call()  # the free plan allows two open calls
    third = make_call(open=False)
    with hub_a:
        with pytest.raises(ApplicationError) as exc:
            services.call_transition(call=third, to="open", actor=cast_a.staff)
        third.refresh_from_db()
    assert exc.value.code == "plan_limit" and exc.value.extra["resource"] == "open_calls"
    assert third.status == "draft"


def test_invalid_designs_are_refused(hub_a, cast_a, make_call):
    with hub_a:
        with pytest.raises(ApplicationError) as exc:
            services.call_create(
                actor=cast_a.staff,
                call_type="foundation_grant",
                title_zh="x",
                total_budget=100,
                project_cap=200,
                closes_at=timezone.now() + timedelta(days=1),
            )
        assert exc.value.extra["field"] == "project_cap"
        call = make_call(open=False)
        with pytest.raises(ApplicationError) as exc:
            services.call_form_set(
                call=call, actor=cast_a.staff, fields=[{"key": "Bad Key", "type": "text", "label": "x"}]
            )
        assert exc.value.code == "invalid_form_field"
        with pytest.raises(ApplicationError) as exc:
            services.call_form_set(call=call, actor=cast_a.staff, fields=[{"key": "c", "type": "choice", "label": "x"}])
        assert "两个选项" in str(exc.value.message)
        with pytest.raises(ApplicationError) as exc:
            services.call_update(call=call, actor=cast_a.staff, funder_id=call.pk + 10**6)
        assert exc.value.code == "invalid_funder"


def test_open_calls_keep_their_rules(hub_a, cast_a, make_call):
    call = make_call()
    with hub_a:
        with pytest.raises(ApplicationError) as exc:
            services.call_update(call=call, actor=cast_a.staff, total_budget=1)
        assert exc.value.code == "call_not_draft"
        with pytest.raises(ApplicationError):
            services.call_rubric_set(call=call, actor=cast_a.staff, criteria=[])
        updated = services.call_update(call=call, actor=cast_a.staff, description_zh="补充说明")
        assert updated.description_zh == "补充说明"
        with pytest.raises(ApplicationError) as exc:
            services.call_transition(call=call, to="decided", actor=cast_a.staff)
        assert exc.value.code == "invalid_transition"


def test_due_calls_close(hub_a, cast_a, make_call):
    call = make_call()
    with hub_a:
        type(call).objects.filter(pk=call.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
        assert services.call_close_due() == 1
        call.refresh_from_db()
    assert call.status == "closed"
