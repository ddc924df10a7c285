"""Builders of the pool tests: partner organisations with a person, a pool with its committee and treasurer,
members with equity. Everything goes through the services, as people would do it; only the partnership's start
date is set directly (the partner tests cover how partnerships come about)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils import timezone

from hubs.core.services import membership_grant
from hubs.partners.models import Partnership, PartnershipSource, PartnershipStatus
from hubs.pool import services
from hubs.pool.models import Pool, PoolMember, PoolRoleKind
from huoban.identity.models import Organisation, User
from huoban.identity.services import organisation_create, user_create
from tests.conftest import PASSWORD
from tests.factories import credit_code


def unique(prefix: str = "p") -> str:
    return f"{prefix}{secrets.token_hex(4)}"


def person(name: str = "") -> User:
    tag = unique("u")
    return user_create(name=name or tag, email=f"{tag}@pool.test", password=PASSWORD, email_verified=True)


def partner_org(
    *, name: str = "", months: int = 12, status: str = PartnershipStatus.ACTIVE
) -> tuple[Organisation, User]:
    """An organisation (owned by a new person) that has been this hub's partner for ``months`` months."""
    owner = person()
    serial = int(secrets.token_hex(3), 16) % 9_000_000
    org = organisation_create(
        creator=owner,
        name=name or f"互助伙伴{unique('')}",
        kind="social_organisation",
        region_code="510107",
        credit_code=credit_code("510107", serial),
    )
    Partnership.objects.create(
        organisation=org,
        status=status,
        source=PartnershipSource.STAFF,
        joined_at=timezone.now() - timedelta(days=31 * months),
    )
    return org, owner


@dataclass
class World:
    pool: Pool
    staff: User
    treasurer: User
    committee: list[User]
    members: list[tuple[PoolMember, User]] = field(default_factory=list)


def new_pool(*, staff: User, treasurer: User, committee_size: int = 3, **rules: Any) -> World:
    rules.setdefault("quorum", min(3, committee_size))
    pool = services.pool_create(name=f"伙伴互助 {unique('')}", actor=staff, rules=rules)
    committee = []
    for i in range(committee_size):
        user = person(f"委员{i}")
        membership_grant(user=user, roles=["fund_committee"], actor=None)
        services.pool_role_assign(pool=pool, user=user, role=PoolRoleKind.COMMITTEE, actor=staff)
        committee.append(user)
    services.pool_role_assign(pool=pool, user=treasurer, role=PoolRoleKind.TREASURER, actor=staff)
    return World(pool=pool, staff=staff, treasurer=treasurer, committee=committee)


def join(world: World, *, equity: int = 0, name: str = "") -> tuple[PoolMember, User]:
    """A new partner organisation joins and pays ``equity`` fen in."""
    org, owner = partner_org(name=name)
    member = services.member_apply(pool=world.pool, organisation=org, actor=owner)
    member = services.member_decide(member=member, approve=True, actor=world.committee[0])
    if equity:
        services.contribution_record(member=member, amount=equity, actor=world.treasurer, kind="joining")
    world.members.append((member, owner))
    return member, owner


def apply(world: World, member: PoolMember, owner: User, amount: int, **extra: Any) -> Any:
    return services.loan_apply(
        member=member,
        amount=amount,
        purpose=extra.pop("purpose", "发放社工工资"),
        receivable_payer=extra.pop("receivable_payer", "成都市武侯区民政局"),
        receivable_contract=extra.pop("receivable_contract", "2016 年政府购买社区养老服务"),
        receivable_expected_on=extra.pop("receivable_expected_on", timezone.localdate() + timedelta(days=60)),
        actor=owner,
        **extra,
    )


def approve(world: World, loan: Any) -> Any:
    result = None
    for voter in world.committee[: world.pool.rules.quorum]:
        result = services.loan_vote(loan=loan, actor=voter, approve=True)
    assert result is not None
    return result.loan
