"""Partner import benchmark: a 5,000-row xlsx file, its dry run, then the confirmed import run as the background
task does it (eagerly, in this process, inside the hub), all committed for real; then the same file again (every
row "no change") and an export of the result. Target: dry run plus import under 30 s.

    make bench PYTEST_ARGS="-k partner_import"
"""

from __future__ import annotations

import io
import secrets
import time

from openpyxl import Workbook

from hubs.core.services import membership_grant
from hubs.partners.imports import export_file, import_job_confirm, import_job_create
from hubs.partners.models import ImportJob, Partnership
from hubs.partners.selectors import DirectoryFilters, partnership_list
from huoban.celery import app as celery_app
from huoban.db import connection
from huoban.identity.models import Organisation, User
from huoban.identity.services import user_create
from tenants import provisioning
from tenants.entitlements import Limits, hub_limits_set
from tenants.models import Hub
from tenants.services import hub_provision
from tests.conftest import PASSWORD
from tests.factories import credit_code

ROWS = 5_000
TARGET_SECONDS = 30.0
CODE_PREFIX = "53"  # foundations; no test data uses this prefix with these serials
SERIAL_BASE = 8_000_000
HEADER = [
    "名称",
    "统一社会信用代码",
    "组织类型",
    "所在地区代码",
    "服务领域",
    "状态",
    "加入日期",
    "公开简介",
    "联系人",
    "联系人职务",
    "联系电话",
    "联系人邮箱",
]
REGIONS = ["510104", "510105", "510107", "511802", "510703", "330102", "500103"]
AREAS = ["养老", "儿童", "青少年", "助残", "社区", "教育", "环保"]


def _file() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for i in range(ROWS):
        region = REGIONS[i % len(REGIONS)]
        sheet.append(
            [
                f"基准测试公益基金会{i:05d}",
                credit_code(region, SERIAL_BASE + i, prefix=CODE_PREFIX),
                "基金会",
                region,
                "、".join(AREAS[i % 7 : i % 7 + 2]),
                "合作中",
                f"20{15 + i % 10}-{1 + i % 12:02d}-01",
                "资助社区公益项目，关注儿童与青少年成长。",
                f"联系人{i}",
                "秘书长",
                f"1380013{i:04d}",
                f"contact{i}@bench.test",
            ]
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _timed(fn):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def test_partner_import_speed(committed_db, capsys):  # type: ignore[no-untyped-def]
    celery_app.conf.task_always_eager = True
    slug = f"bench-partners-{secrets.token_hex(3)}"
    hub = hub_provision(
        slug=slug,
        name_zh="导入基准枢纽",
        kind="city",
        region_code="510100",
        admin_email=f"admin@{slug}.test",
        actor=None,
    ).hub
    # 5,000 partners: a provincial hub's plan, with no limit on active partners (the free plan allows 30).
    hub_limits_set(hub=hub, plan="provincial", source="comp", limits=Limits(None, None, None, None))
    staff = user_create(name="基准工作人员", email=f"staff@{slug}.test", password=PASSWORD, email_verified=True)
    data = _file()
    try:
        with hub:
            membership_grant(user=staff, roles=["staff"], actor=None)
            job, dry = _timed(lambda: import_job_create(actor=staff, file_name="bench.xlsx", data=data))
            assert job.created_count == ROWS, job.report[:3]
            _, run = _timed(lambda: import_job_confirm(job=job, actor=staff))
            job = ImportJob.objects.get(pk=job.pk)
            assert job.status == "succeeded", job.error
            assert Partnership.objects.count() == ROWS
            again, dry_again = _timed(lambda: import_job_create(actor=staff, file_name="again.xlsx", data=data))
            assert again.unchanged_count == ROWS
            exported, export_s = _timed(
                lambda: export_file(partnerships=partnership_list(filters=DirectoryFilters()), file_format="xlsx")
            )
            searched, search_s = _timed(
                lambda: list(partnership_list(filters=DirectoryFilters(q="公益基金会0421", region="510000"))[:50])
            )
    finally:
        _cleanup(hub, staff)
    total = dry + run
    with capsys.disabled():
        print(f"\npartner import ({ROWS} rows, xlsx {len(data) / 1024:.0f} KiB; each row a new organisation + contact)")
        print(f"  dry run (read, check every row, keep the file): {dry:.2f} s  ({ROWS / dry:.0f} rows/s)")
        print(f"  confirmed import (one transaction, eager task):  {run:.2f} s  ({ROWS / run:.0f} rows/s)")
        verdict = "met" if total < TARGET_SECONDS else "MISSED"
        print(f"  total {total:.2f} s against a target of {TARGET_SECONDS:.0f} s: {verdict}")
        print(f"  same file again (all no change), dry run:      {dry_again:.2f} s")
        print(f"  export of {ROWS} partners to xlsx:               {export_s:.2f} s ({len(exported) / 1024:.0f} KiB)")
        print(f"  search + region filter over {ROWS} partners:     {search_s * 1000:.0f} ms ({len(searched)} found)")
    assert job.created_count == ROWS  # the figures above are the result


def _cleanup(hub: Hub, staff: User) -> None:
    connection.set_schema_to_public()
    provisioning.schema_drop(hub.schema_name)  # partnerships, contacts, jobs and the hub's audit trail go with it
    hub.delete()
    Organisation.objects.filter(credit_code__startswith=CODE_PREFIX, created_by=staff).delete()
    staff.delete()
