"""A project world in hub A: an implementing partner (with a member), a funder (with a member), a project that
is funded and has an ambassador assigned."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import date

import pytest

from hubs.projects import services
from hubs.projects.models import BudgetLine, FundingSource, Project
from huoban.identity.models import Organisation, User
from tests.factories import credit_code

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def pdf() -> io.BytesIO:
    return io.BytesIO(PDF)


@dataclass
class World:
    project: Project
    line: BudgetLine
    source: FundingSource
    implementer: Organisation
    funder: Organisation
    implementer_member: User
    funder_member: User


def person(label: str) -> User:
    from huoban.identity.services import user_create

    tag = uuid.uuid4().hex[:8]
    return user_create(
        name=f"王{label}", email=f"{label}-{tag}@p.test", password="pw-very-long-123", email_verified=True
    )


def organisation(owner: User, name: str) -> Organisation:
    from huoban.identity.services import organisation_create

    return organisation_create(
        creator=owner,
        name=f"{name}{uuid.uuid4().hex[:6]}",
        kind="social_organisation",
        region_code="510104",
        credit_code=credit_code("510104"),
    )


def make_world(hub, cast, *, fund: int = 1_000_000, restricted: bool = True, status: str = "funded") -> World:  # type: ignore[no-untyped-def]
    from hubs.partners.services import partnership_staff_add

    implementer_member = person("impl")
    funder_member = person("funder")
    implementer = organisation(implementer_member, "成都社区服务中心")
    funder = organisation(funder_member, "蓉城公益基金会")
    with hub:
        partnership_staff_add(actor=cast.staff, credit_code=implementer.credit_code, status="active")
        project = services.project_create(
            title_zh="社区长者助餐",
            title_en="Meals for elders",
            implementer_id=implementer.pk,
            service_area="elderly",
            community="玉林街道",
            start_date=date(2026, 1, 1),
            end_date=date(2026, 12, 31),
            budget_lines=[services.BudgetLineInput("餐食", 2_000_000)],
            funding=[services.FundingInput(funder.pk, fund, restricted)],
            private_notes="内部：执行方负责人电话 13812345678",
            actor=cast.staff,
        )
        line = project.budget_lines.get()
        source = project.funding_sources.get()
        if status != "draft":
            project = services.project_transition(project=project, to="approved", actor=cast.staff)
        if status in ("funded", "in_progress"):
            services.funds_receive(
                project=project,
                funding_source=source,
                amount=fund,
                received_on=date(2026, 1, 5),
                receipt=pdf(),
                actor=cast.staff,
            )
            project.refresh_from_db()
            services.ambassador_assign(project=project, user=cast.ambassador, actor=cast.staff)
        if status == "in_progress":
            project = services.project_transition(project=project, to="in_progress", actor=cast.staff)
    return World(project, line, source, implementer, funder, implementer_member, funder_member)


@pytest.fixture
def world(hub_a, cast_a) -> World:  # type: ignore[no-untyped-def]
    return make_world(hub_a, cast_a)
