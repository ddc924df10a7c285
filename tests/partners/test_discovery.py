"""An active partner's public profile is found from every hub; nothing else about it leaves the hub."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from hubs.partners import services
from huoban.db import connection
from huoban.discovery.models import DiscoveryEntry
from huoban.discovery.outbox import discovery_outbox_drain
from huoban.discovery.selectors import discovery_search

PROFILE = "为农村留守儿童提供课后陪伴和心理支持"


def _drain() -> None:
    connection.set_schema_to_public()
    discovery_outbox_drain()


def _found(hub, query: str) -> list[str]:  # type: ignore[no-untyped-def]
    with hub:
        return [hit.entry.title for hit in discovery_search(query=query, kinds=["partner"]).hits]


def test_approved_partner_is_found_from_another_hub(hub_a, hub_b, cast_a, partnership_in):  # type: ignore[no-untyped-def]
    partnership = partnership_in("under_review")
    with hub_a:
        services.partnership_update(partnership=partnership, actor=cast_a.staff, public_profile=PROFILE)
    _drain()
    assert _found(hub_b, "留守儿童") == []  # under review: not public yet

    with hub_a:
        services.partnership_transition(partnership=partnership, status="active", actor=cast_a.staff)
    _drain()

    assert _found(hub_b, "留守儿童") == [partnership.organisation.name]
    entry = DiscoveryEntry.objects.get(source_app="partners", source_id=str(partnership.pk))
    assert (entry.hub_slug, entry.kind, entry.region_code) == (
        "sichuan",
        "partner",
        partnership.organisation.region_code,
    )
    assert entry.service_areas == ["youth"]
    assert entry.link_url.startswith(hub_a.url + "/partners/public/")


def test_suspended_or_departed_partner_leaves_the_index(hub_a, hub_b, cast_a, partnership_in):  # type: ignore[no-untyped-def]
    partnership = partnership_in("active")
    with hub_a:
        services.partnership_update(partnership=partnership, actor=cast_a.staff, public_profile=PROFILE)
    _drain()
    assert _found(hub_b, "留守儿童") == [partnership.organisation.name]

    with hub_a:
        services.partnership_transition(
            partnership=partnership, status="suspended", actor=cast_a.staff, reason="年报逾期"
        )
    _drain()
    assert _found(hub_b, "留守儿童") == []


def test_contacts_and_notes_never_reach_the_index(hub_a, cast_a, partnership_in):  # type: ignore[no-untyped-def]
    partnership = partnership_in("active")
    with hub_a:
        services.partner_contact_add(
            partnership=partnership, actor=cast_a.staff, name="王秘书长", phone="13800138000", email="wang@ngo.org.cn"
        )
        services.partner_note_add(partnership=partnership, actor=cast_a.staff, body="内部备注：财务审计有疑点")
        services.partnership_update(
            partnership=partnership, actor=cast_a.staff, public_profile=PROFILE + "，联系电话13900139000"
        )
    _drain()

    entry = DiscoveryEntry.objects.get(source_app="partners", source_id=str(partnership.pk))
    public_text = " ".join([entry.title, entry.summary, entry.link_url])
    for private in ("王秘书长", "13800138000", "wang@ngo.org.cn", "审计", "13900139000"):
        assert private not in public_text


def test_index_matches_the_partner_publisher(hub_a, partnership_in):  # type: ignore[no-untyped-def]
    partnership_in("active")
    _drain()
    out = StringIO()
    call_command("discovery_check", "--hub", "sichuan", stdout=out, stderr=StringIO())
    assert "sichuan" in out.getvalue()
