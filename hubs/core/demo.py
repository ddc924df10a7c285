"""The demo: two hubs in the shape of the seeds, with a person for every role.

A provincial centre in Sichuan (partner network, mutual-aid pool, government purchase of services) and a district
bureau in Hangzhou Shangcheng (resident needs, public notice, matchmaking fair). Safe to run again: what exists is
kept, and the same sign-ins are printed.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from stdnum.cn import uscc

from hubs.core.services import membership_grant
from huoban.db import connection
from huoban.identity.models import Organisation, OrganisationKind, User
from huoban.identity.services import organisation_create, user_create
from tenants.models import Hub, HubKind, HubRole
from tenants.services import hub_provision

DEMO_PASSWORD = "huoban-demo-2026"  # noqa: S105 - printed for the demo; never used outside it


def demo_credit_code(prefix: str, region: str, serial: int) -> str:
    """A well-formed unified social credit code for demo organisations (check character computed)."""
    base = f"{prefix}{region}MJ{serial:07d}"
    return base + uscc.calc_check_digit(base)


@dataclass(frozen=True)
class DemoHub:
    slug: str
    name_zh: str
    name_en: str
    kind: str
    region: str
    org_name: str
    org_kind: str
    org_region: str


HUBS = [
    DemoHub(
        "sichuan",
        "四川省群团组织社会服务中心",
        "Sichuan Mass Organisations Social Service Centre",
        HubKind.PROVINCIAL_CENTRE,
        "510000",
        "雅安市青少年成长服务中心",
        OrganisationKind.SOCIAL_ORGANISATION,
        "511802",
    ),
    DemoHub(
        "shangcheng",
        "杭州市上城区民政局公益服务平台",
        "Hangzhou Shangcheng Public-Welfare Platform",
        HubKind.DISTRICT_BUREAU,
        "330102",
        "上城区邻里守望社工服务社",
        OrganisationKind.SOCIAL_ORGANISATION,
        "330102",
    ),
]

ROLE_ACCOUNTS = [
    (HubRole.HUB_ADMIN, "admin", "管理员"),
    (HubRole.STAFF, "staff", "工作人员"),
    (HubRole.REVIEWER, "reviewer", "评审专家"),
    (HubRole.AMBASSADOR, "ambassador", "公益使者"),
    (HubRole.FUND_COMMITTEE, "committee", "互助金委员"),
    (HubRole.TREASURER, "treasurer", "财务"),
]


@dataclass(frozen=True)
class SignIn:
    where: str
    role: str
    login: str


def _user(email: str, name: str, *, is_operator: bool = False) -> User:
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = user_create(name=name, email=email, password=DEMO_PASSWORD, is_operator=is_operator, email_verified=True)
    return user


def demo_seed() -> list[SignIn]:
    connection.set_schema_to_public()
    sign_ins = [SignIn("platform", "operator", _user("operator@huoban.demo", "平台运营").login_name)]
    for n, spec in enumerate(HUBS, start=1):
        admin_email = f"admin@{spec.slug}.demo"
        existing = Hub.objects.filter(slug=spec.slug).first()
        if existing is None:
            result = hub_provision(
                slug=spec.slug,
                name_zh=spec.name_zh,
                name_en=spec.name_en,
                kind=spec.kind,
                region_code=spec.region,
                admin_email=admin_email,
                actor=None,
            )
            hub: Hub = result.hub
            invitation = result.invitation
        else:
            hub, invitation = existing, None
        people = {
            role: _user(f"{key}@{spec.slug}.demo", f"{spec.name_zh[:2]}{label}") for role, key, label in ROLE_ACCOUNTS
        }
        ngo_user = _user(f"ngo@{spec.slug}.demo", f"{spec.org_name[:4]}负责人")
        code = demo_credit_code("52", spec.org_region, n)
        if not Organisation.objects.filter(credit_code=code).exists():
            organisation_create(
                creator=ngo_user, name=spec.org_name, kind=spec.org_kind, region_code=spec.org_region, credit_code=code
            )
        _user(f"resident@{spec.slug}.demo", f"{spec.name_zh[:2]}居民")
        with hub, transaction.atomic():
            for role, user in people.items():
                membership_grant(user=user, roles=[role], actor=None)
        if invitation is not None:  # the demo admin account has accepted the first-admin invitation
            invitation.accepted_at = timezone.now()
            invitation.accepted_by = people[HubRole.HUB_ADMIN]
            invitation.save(update_fields=["accepted_at", "accepted_by"])
        sign_ins += [SignIn(hub.url, str(role.label), people[role].login_name) for role, _k, _l in ROLE_ACCOUNTS]
        sign_ins += [
            SignIn(hub.url, "NGO", ngo_user.login_name),
            SignIn(hub.url, "resident", f"resident@{spec.slug}.demo"),
        ]
    connection.set_schema_to_public()
    return sign_ins
