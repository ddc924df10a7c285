"""Personal-data retention (``huoban.retention``, ``tenants.retention``): in a hub and in the public schema, old and
new records of every kind; exactly the expired ones are scrubbed, support counts stay exact, a dry run changes
nothing and a second run finds nothing to do."""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone

from hubs.needs import services as needs
from hubs.needs.models import (
    FlagKind,
    Need,
    NoticeRound,
    PhoneCode,
    ProjectIdea,
    Resident,
    ReviewCriterion,
    Support,
    SupportFlag,
)
from hubs.partners.models import PartnerInvitation
from huoban.audit.models import AuditEvent
from huoban.audit.services import audit_record
from huoban.retention import PSEUDONYM_PREFIX
from tenants.models import HubInvitation
from tenants.retention import retention_apply

DAY = timedelta(days=1)


def _phone() -> str:
    return f"139{uuid.uuid4().int % 10**8:08d}"


def _resident(*, age_days: int, name: str = "王小明", phone: str | None = "", verified: bool = True) -> Resident:
    phone = _phone() if phone == "" else phone
    resident = Resident.objects.create(name=name, phone=phone, phone_verified_at=timezone.now() if verified else None)
    when = timezone.now() - age_days * DAY
    Resident.objects.filter(pk=resident.pk).update(created_at=when, phone_verified_at=when if verified else None)
    return Resident.objects.get(pk=resident.pk)


def _need(staff: Any, resident: Resident | None, *, status: str = "new", age_days: int = 0) -> Need:
    need = needs.need_record(
        actor=staff, channel="visit", title="小区加装电梯", body="老人上下楼困难。", category="elderly"
    )
    Need.objects.filter(pk=need.pk).update(resident=resident, status=status, updated_at=timezone.now() - age_days * DAY)
    return need


def _round_with_supports(cast: Any, residents: list[Resident]) -> tuple[NoticeRound, ProjectIdea]:
    """An open round with one idea on notice, supported by ``residents`` from one network."""
    now = timezone.now()
    notice_round = needs.notice_round_create(
        actor=cast.staff, title="公示", starts_at=now - timedelta(hours=1), ends_at=now + 7 * DAY
    )
    idea = needs.idea_create(
        actor=cast.staff, needs=[_need(cast.staff, None)], title="智能烟感", category="community", budget=100_000_00
    )
    criterion = needs.criterion_create(name=f"民需{uuid.uuid4().hex[:6]}", weight=1, actor=cast.staff)
    ReviewCriterion.objects.exclude(pk=criterion.pk).update(active=False)
    needs.idea_score(idea=idea, reviewer=cast.reviewer, scores={criterion.pk: 8})
    needs.idea_approve(idea=idea, actor=cast.staff)
    idea = needs.notice_round_add_idea(notice_round=notice_round, idea=idea, actor=cast.staff)
    for n, resident in enumerate(residents):
        needs.support_add(notice_round=notice_round, idea=idea, resident=resident, ip=f"203.0.113.{n + 1}")
    return notice_round, idea


def _close(notice_round: NoticeRound, *, days_ago: int) -> None:
    closed = timezone.now() - days_ago * DAY
    NoticeRound.objects.filter(pk=notice_round.pk).update(starts_at=closed - 10 * DAY, ends_at=closed, closed_at=closed)


def _token() -> str:
    return hashlib.sha256(uuid.uuid4().bytes).hexdigest()


@dataclass
class World:
    """What the hub and the public schema hold, old and new, with what the rules should do to each."""

    expired: dict[str, int]  # rows each rule should scrub
    ids: dict[str, Any]


@pytest.fixture
def world(hub_a, cast_a) -> World:  # type: ignore[no-untyped-def]
    now = timezone.now()
    ids: dict[str, Any] = {}
    # --- public schema: hub invitations, sessions, audit events
    HubInvitation.objects.create(
        hub=hub_a, email="old@invite.test", roles=["staff"], token_hash=_token(), expires_at=now - 100 * DAY
    )
    ids["hub_invitation_new"] = HubInvitation.objects.create(
        hub=hub_a, email="new@invite.test", roles=["staff"], token_hash=_token(), expires_at=now + 5 * DAY
    ).pk
    for key, expiry in (("session_old", now - DAY), ("session_live", now + DAY)):
        store = SessionStore()
        store["x"] = 1
        store.create()
        Session.objects.filter(session_key=store.session_key).update(expire_date=expiry)
        ids[key] = store.session_key
    old_public = audit_record(actor=cast_a.staff, action="test.public", obj=cast_a.resident)
    AuditEvent.objects.filter(pk=old_public.pk).update(created_at=now - 1200 * DAY)
    ids["audit_public_old"] = old_public.pk

    with hub_a:
        # phone codes
        old_code = PhoneCode.objects.create(phone=_phone(), code_hash="x", expires_at=now)
        PhoneCode.objects.filter(pk=old_code.pk).update(created_at=now - 2 * DAY)
        ids["code_new"] = PhoneCode.objects.create(phone=_phone(), code_hash="y", expires_at=now + DAY).pk

        # residents: rejected long ago (scrubbed), still open (kept), rejected recently (kept), verified but idle
        # for over a year (scrubbed), an account's resident (name scrubbed), a supporter of a long-closed round
        # (scrubbed), a supporter of an open round (kept)
        rejected_old = _resident(age_days=400, verified=False)
        _need(cast_a.staff, rejected_old, status="rejected", age_days=400)
        open_old = _resident(age_days=400, verified=False)
        _need(cast_a.staff, open_old, status="new", age_days=400)
        rejected_new = _resident(age_days=400, verified=False)
        _need(cast_a.staff, rejected_new, status="rejected", age_days=10)
        idle_old = _resident(age_days=400)
        account_old = Resident.objects.create(user_id=cast_a.resident.pk, name="账户居民")
        Resident.objects.filter(pk=account_old.pk).update(created_at=now - 400 * DAY)
        supporter_old, supporter_old_2 = _resident(age_days=500), _resident(age_days=500)
        supporter_open = _resident(age_days=500)

        old_round, old_idea = _round_with_supports(cast_a, [supporter_old, supporter_old_2])
        _close(old_round, days_ago=400)
        SupportFlag.objects.create(
            notice_round=old_round, kind=FlagKind.IP_RANGE, prefix="203.0.113.0/24", reviewed_at=now - 390 * DAY
        )
        flagged_round, _idea = _round_with_supports(cast_a, [_resident(age_days=1)])
        _close(flagged_round, days_ago=60)
        SupportFlag.objects.create(notice_round=flagged_round, kind=FlagKind.IP_RANGE, prefix="203.0.113.0/24")
        recent_round, _idea = _round_with_supports(cast_a, [_resident(age_days=1)])
        _close(recent_round, days_ago=5)
        _open_round, open_idea = _round_with_supports(cast_a, [supporter_open])

        ids.update(
            rejected_old=rejected_old.pk,
            open_old=open_old.pk,
            rejected_new=rejected_new.pk,
            idle_old=idle_old.pk,
            account_old=account_old.pk,
            supporter_old=supporter_old.pk,
            supporter_open=supporter_open.pk,
            old_round=old_round.pk,
            old_idea=old_idea.pk,
            flagged_round=flagged_round.pk,
            recent_round=recent_round.pk,
            open_idea=open_idea.pk,
        )

        # partner invitations: expired long ago (deleted), accepted long ago (deleted), open (kept)
        PartnerInvitation.objects.create(email="a@partner.test", token_hash=_token(), expires_at=now - 100 * DAY)
        PartnerInvitation.objects.create(
            email="b@partner.test", token_hash=_token(), expires_at=now - 150 * DAY, accepted_at=now - 155 * DAY
        )
        ids["partner_invitation_open"] = PartnerInvitation.objects.create(
            email="c@partner.test", token_hash=_token(), expires_at=now + 5 * DAY
        ).pk

        # audit: an old event naming a person (pseudonymised), an old event of an erased person (kept), a new one
        old_event = audit_record(actor=cast_a.staff, action="test.old", obj=cast_a.resident)
        erased_event = audit_record(actor=None, action="test.erased", object_type="identity.user", object_id="7")
        AuditEvent.objects.filter(pk=erased_event.pk).update(actor_label="已注销用户 #7", object_label="已注销用户 #7")
        AuditEvent.objects.filter(pk__in=[old_event.pk, erased_event.pk]).update(created_at=now - 1200 * DAY)
        ids["audit_old"], ids["audit_erased"] = old_event.pk, erased_event.pk
        ids["audit_new"] = audit_record(actor=cast_a.staff, action="test.new", obj=cast_a.resident).pk

    expired = {
        "public:platform.sessions": 1,
        "public:tenants.hub_invitations": 1,
        "public:audit.labels": 1,
        "hub:needs.phone_codes": 1,
        # rejected long ago, idle, the account's resident, the two supporters of the old round
        "hub:needs.resident_contacts": 5,
        "hub:needs.support_sources": 2,
        "hub:partners.invitations": 2,
        "hub:audit.labels": 1,
    }
    return World(expired=expired, ids=ids)


def _counts(results: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for result in results:
        scope = "public" if not result.hub else "hub"
        for name, rows in result.counts.items():
            out[f"{scope}:{name}"] = out.get(f"{scope}:{name}", 0) + rows
    return out


def _snapshot(hub: Any) -> dict[str, Any]:
    public = {
        "sessions": sorted(Session.objects.values_list("session_key", flat=True)),
        "invitations": sorted(HubInvitation.objects.values_list("pk", flat=True)),
        "audit": sorted(AuditEvent.objects.values_list("pk", "actor_label", "object_label")),
    }
    with hub:
        return {
            **public,
            "codes": sorted(PhoneCode.objects.values_list("pk", flat=True)),
            "residents": sorted(Resident.objects.values_list("pk", "name", "phone", "user_id")),
            "supports": sorted(Support.objects.values_list("pk", "ip_prefix", "phone_prefix")),
            "partner_invitations": sorted(PartnerInvitation.objects.values_list("pk", flat=True)),
            "hub_audit": sorted(AuditEvent.objects.values_list("pk", "actor_label", "object_label")),
        }


def _run(hub: Any, *, dry_run: bool) -> dict[str, int]:
    return _counts(retention_apply(dry_run=dry_run, slugs=[hub.slug]))


def test_a_dry_run_counts_what_is_expired_and_changes_nothing(hub_a, world):  # type: ignore[no-untyped-def]
    before = _snapshot(hub_a)
    counts = _run(hub_a, dry_run=True)
    assert counts == world.expired
    assert _snapshot(hub_a) == before
    with hub_a:
        assert not AuditEvent.objects.filter(action="retention.applied").exists()


def test_exactly_the_expired_records_are_scrubbed_and_counts_stay(hub_a, cast_a, world):  # type: ignore[no-untyped-def]
    ids = world.ids
    with hub_a:
        supports_before = {i.pk: i.supports.count() for i in ProjectIdea.objects.all()}
        needs_before = Need.objects.count()
    counts = _run(hub_a, dry_run=False)
    assert counts == world.expired

    # public schema
    assert list(
        Session.objects.filter(session_key__in=[ids["session_old"], ids["session_live"]]).values_list(
            "session_key", flat=True
        )
    ) == [ids["session_live"]]
    assert list(HubInvitation.objects.filter(email__endswith="@invite.test").values_list("pk", flat=True)) == [
        ids["hub_invitation_new"]
    ]
    old_public = AuditEvent.objects.get(pk=ids["audit_public_old"])
    assert old_public.actor_label == f"{PSEUDONYM_PREFIX}{cast_a.staff.pk}"
    assert old_public.object_label == f"#{cast_a.resident.pk}"
    assert old_public.action == "test.public" and old_public.actor_id == cast_a.staff.pk

    with hub_a:
        assert list(PhoneCode.objects.values_list("pk", flat=True)) == [ids["code_new"]]
        residents = {r.pk: r for r in Resident.objects.all()}
        for key in ("rejected_old", "idle_old", "supporter_old"):
            assert residents[ids[key]].name == "" and residents[ids[key]].phone is None, key
        for key in ("open_old", "rejected_new", "supporter_open"):
            assert residents[ids[key]].name == "王小明" and residents[ids[key]].phone, key
        account = residents[ids["account_old"]]
        assert account.name == "" and account.user_id == cast_a.resident.pk  # still verified through the account
        assert needs.resident_is_verified(residents[ids["supporter_old"]])  # verification time stays

        def sources(round_key: str) -> set[tuple[str, str]]:
            return set(Support.objects.filter(notice_round_id=ids[round_key]).values_list("ip_prefix", "phone_prefix"))

        assert sources("old_round") == {("", "")}
        assert all(ip and phone for ip, phone in sources("flagged_round"))  # a flag is still unreviewed
        assert all(ip and phone for ip, phone in sources("recent_round"))  # closed five days ago
        # supports, needs and their counts are exactly as they were
        assert {i.pk: i.supports.count() for i in ProjectIdea.objects.all()} == supports_before
        assert Need.objects.count() == needs_before

        assert list(PartnerInvitation.objects.values_list("pk", flat=True)) == [ids["partner_invitation_open"]]
        old_event = AuditEvent.objects.get(pk=ids["audit_old"])
        assert (old_event.actor_label, old_event.object_label) == (
            f"{PSEUDONYM_PREFIX}{cast_a.staff.pk}",
            f"#{cast_a.resident.pk}",
        )
        erased = AuditEvent.objects.get(pk=ids["audit_erased"])
        assert (erased.actor_label, erased.object_label) == ("已注销用户 #7", "已注销用户 #7")
        new_event = AuditEvent.objects.get(pk=ids["audit_new"])
        assert new_event.actor_label == str(cast_a.staff) and new_event.object_label == str(cast_a.resident)
        applied = AuditEvent.objects.get(action="retention.applied")
        assert applied.after["needs.resident_contacts"] == 5


def test_a_second_run_finds_nothing_and_changes_nothing(hub_a, world):  # type: ignore[no-untyped-def]
    _run(hub_a, dry_run=False)
    after_first = _snapshot(hub_a)
    assert set(_run(hub_a, dry_run=True).values()) == {0}
    assert set(_run(hub_a, dry_run=False).values()) == {0}
    assert _snapshot(hub_a) == after_first
    with hub_a:
        assert AuditEvent.objects.filter(action="retention.applied").count() == 1  # only the run that changed rows


def test_the_periods_come_from_settings(hub_a, world, settings):  # type: ignore[no-untyped-def]
    settings.HUOBAN_RETENTION_RESIDENT_DAYS = 1000
    settings.HUOBAN_RETENTION_SUPPORT_SOURCE_DAYS = 0
    counts = _run(hub_a, dry_run=True)
    assert counts["hub:needs.resident_contacts"] == 0
    # every closed round with its flags reviewed: the old one and the one closed five days ago
    assert counts["hub:needs.support_sources"] == 3


def test_the_command_prints_counts_per_rule_and_hub_and_dry_run_changes_nothing(hub_a, world):  # type: ignore[no-untyped-def]
    before = _snapshot(hub_a)
    out = io.StringIO()
    call_command("retention_apply", "--dry-run", stdout=out)
    text = out.getvalue()
    assert _snapshot(hub_a) == before
    lines = {tuple(line.split()[:2]): line.split()[3] for line in text.splitlines() if len(line.split()) >= 4}
    assert lines[("sichuan", "needs.resident_contacts")] == "5"
    assert lines[("sichuan", "needs.support_sources")] == "2"
    assert lines[("public", "platform.sessions")] == "1"
    assert lines[("shangcheng", "needs.resident_contacts")] == "0"

    out = io.StringIO()
    call_command("retention_apply", "--hub", "sichuan", stdout=out)
    assert "public" not in out.getvalue().split()
    assert _snapshot(hub_a) != before


def test_beat_runs_retention_daily_in_every_hub(hub_a, world, settings):  # type: ignore[no-untyped-def]
    from tenants.tasks import retention_apply_all

    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "tenants.tasks.retention_apply_all")
    assert entry["schedule"].hour == {4}
    assert retention_apply_all() >= 2  # tasks run in-process in tests: each hub's ran inside its hub
    assert set(_run(hub_a, dry_run=True).values()) == {0}


def test_hub_rules_refuse_to_run_outside_a_hub(db):  # type: ignore[no-untyped-def]
    from tenants.retention import retention_apply_hub

    with pytest.raises(RuntimeError):
        retention_apply_hub(dry_run=True)
