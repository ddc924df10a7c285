"""Bulk import (dry run row by row, then an all-or-nothing background import) and export (round trip)."""

from __future__ import annotations

import csv
import io

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from hubs.partners import imports, services
from hubs.partners.imports import COLUMN_KEYS, file_read, import_job_confirm, import_job_create
from hubs.partners.models import ImportJob, PartnerContact, Partnership
from huoban.audit.models import AuditEvent
from huoban.identity.models import Organisation
from tests.factories import credit_code

pytestmark = pytest.mark.django_db

CONTENT_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv"}

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


def row(
    name: str, code: str, kind: str = "社会组织", region: str = "510104", areas: str = "", status: str = "", *rest: str
) -> list[object]:
    """One line of an import file, in the template's column order; the rest are joined date, profile, contact."""
    cells = [name, code, kind, region, areas, status, *rest]
    return cells + [""] * (len(HEADER) - len(cells))


def _xlsx(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _csv(rows: list[list[object]], header: list[str] = HEADER, encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def _bad_check_digit(code: str) -> str:
    return code[:-1] + ("0" if code[-1] != "0" else "1")


@pytest.fixture
def mixed(hub_a, cast_a, ngo_org_a, partnership_in, make_org):  # type: ignore[no-untyped-def]
    """A file with good and bad rows, against a hub where ``ngo_org_a`` is an active partner and another
    organisation is registered on the platform but not a partner."""
    partnership_in("active")
    registered = make_org(cast_a.resident, name="成都市武侯区助老服务中心", region="510107")
    new_code = credit_code("510703")
    rows: list[list[object]] = [
        row(
            "绵阳市残疾人帮扶协会",
            new_code,
            "社会组织",
            "510703",
            "助残、社区",
            "",
            "2023-04-01",
            "帮扶残障人士",
            "刘五",
            "会长",
            "0816-1234567",
            "liu@mianyang.test",
        ),
        row("某错误代码组织", _bad_check_digit(credit_code("510104"))),
        row("绵阳市残疾人帮扶协会（重复）", new_code.lower(), region="510703"),
        row(ngo_org_a.name, ngo_org_a.credit_code, region=ngo_org_a.region_code, areas="青少年、社区", status="合作中"),
        row("", credit_code("510104")),
        row("某地区错误协会", credit_code("510104"), region="519999"),
        row("某标签错误协会", credit_code("510104"), areas="养老、唱歌"),
        row("青羊区河长志愿队", "", "志愿服务队", "510105", "environment"),
        row(registered.name, registered.credit_code, "", "", "elderly", "审核中"),
        [None] * len(HEADER),
        row("没有代码的协会", ""),
    ]
    return {"rows": rows, "new_code": new_code, "registered": registered}


def _report(job: ImportJob) -> list[tuple[int, str, list[str]]]:
    return [(r["row"], r["outcome"], r["messages"]) for r in job.report]


EXPECTED_CREATE_ONLY = [
    (2, "create", []),
    (3, "refused", ["统一社会信用代码校验位不正确，请核对后重新输入。"]),
    (4, "refused", ["与第 2 行重复。"]),
    (5, "refused", ["已是本枢纽伙伴（状态：合作中）。"]),
    (6, "refused", ["请填写组织名称。"]),
    (7, "refused", ["未知的地区代码：519999。"]),
    (8, "refused", ["未知的服务领域：唱歌。"]),
    (9, "create", []),
    (10, "create", []),
    (12, "refused", ["请填写统一社会信用代码。"]),
]


def test_dry_run_reports_every_row_exactly(hub_a, cast_a, mixed):
    with hub_a:
        before = (Organisation.objects.count(), Partnership.objects.count())
        job = import_job_create(
            actor=cast_a.staff, file_name="mixed.xlsx", data=_xlsx(mixed["rows"]), update_existing=False
        )
        assert _report(job) == EXPECTED_CREATE_ONLY
        assert (job.total_rows, job.created_count, job.refused_count) == (10, 3, 7)
        assert (Organisation.objects.count(), Partnership.objects.count()) == before  # a dry run writes nothing
        # with updates allowed, the row of an existing partner is an update instead
        job = import_job_create(actor=cast_a.staff, file_name="mixed.csv", data=_csv(mixed["rows"]))
        assert _report(job)[3] == (5, "update", [])
        assert job.report[3]["changes"] == ["service_areas"]


def test_a_status_change_is_refused_and_the_organisation_record_is_never_changed(
    hub_a, cast_a, ngo_org_a, partnership_in
):
    partnership_in("active")
    rows = [row("改过的名字", ngo_org_a.credit_code, "", "", "", "已暂停")]
    with hub_a:
        job = import_job_create(actor=cast_a.staff, file_name="x.csv", data=_csv(rows))
    assert job.report[0]["messages"] == ["状态不能通过导入修改（当前为“合作中”），请在伙伴页面操作。"]
    assert "名称与平台登记不一致" in job.report[0]["warnings"][0]


def test_confirmed_import_writes_the_accepted_rows(client_for, hub_a, cast_a, mixed, commit_in):
    staff = client_for(cast_a.staff, hub_a)
    upload = SimpleUploadedFile("mixed.xlsx", _xlsx(mixed["rows"]))
    response = staff.post("/partners/import/", {"file": upload, "update_existing": "on"})
    assert response.status_code == 302
    job_path = response["Location"]
    page = staff.get(job_path).content.decode()
    assert "与第 2 行重复。" in page and "确认导入" in page
    mail.outbox.clear()
    with commit_in(hub_a):
        staff.post(job_path + "confirm/")
    with hub_a:
        job = ImportJob.objects.get()
        assert job.status == "succeeded" and (job.created_count, job.updated_count, job.refused_count) == (3, 1, 6)
        new = Partnership.objects.select_related("organisation").get(organisation__credit_code=mixed["new_code"])
        assert new.status == "active" and new.source == "import" and new.service_areas == ["disability", "community"]
        assert new.joined_at.date().isoformat() == "2023-04-01"
        assert not new.organisation.members.exists()  # registered for the partner, owned by nobody
        assert PartnerContact.objects.get(partnership=new).email == "liu@mianyang.test"
        team = Partnership.objects.get(organisation__name="青羊区河长志愿队")
        assert team.organisation.credit_code is None
        registered = Partnership.objects.get(organisation=mixed["registered"])
        assert registered.status == "under_review" and registered.joined_at is None
        actions = sorted(AuditEvent.objects.filter(action__startswith="partners.").values_list("action", flat=True))
        assert actions.count("partners.partnership.created") == 1 + 3  # the fixture's, then the import's
        assert "partners.import.succeeded" in actions
    # the registered organisation's owner is told; the ones registered by the import have nobody to tell
    assert [m.to for m in mail.outbox] == [[mixed["registered"].members.get().user.email]]
    progress = staff.get(job_path + "progress/", HTTP_HX_REQUEST="true")
    assert 'data-status="succeeded"' in progress.content.decode() and progress["HX-Refresh"] == "true"
    again = staff.post(job_path + "confirm/", follow=True)
    assert "该导入已经确认过了。" in again.content.decode()


def test_a_failure_mid_import_writes_nothing(hub_a, cast_a, mixed, monkeypatch, django_capture_on_commit_callbacks):
    real = imports._apply_chunk
    calls = {"n": 0}

    def fail_on_second_chunk(**kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk on fire")
        real(**kwargs)

    monkeypatch.setattr(imports, "CHUNK", 2)
    monkeypatch.setattr(imports, "_apply_chunk", fail_on_second_chunk)
    with hub_a:
        orgs, partnerships, contacts = (
            Organisation.objects.count(),
            Partnership.objects.count(),
            PartnerContact.objects.count(),
        )
        events = AuditEvent.objects.count()
        job = import_job_create(actor=cast_a.staff, file_name="mixed.xlsx", data=_xlsx(mixed["rows"]))
        with django_capture_on_commit_callbacks(execute=True):
            import_job_confirm(job=job, actor=cast_a.staff)
        job.refresh_from_db()
        assert calls["n"] == 2  # the first chunk was written, then undone
        assert job.status == "failed" and "没有写入任何数据" in job.error and "disk on fire" in job.error
        assert Organisation.objects.count() == orgs
        assert Partnership.objects.count() == partnerships
        assert PartnerContact.objects.count() == contacts
        # only the job's own trail remains: checked, confirmed, failed
        assert AuditEvent.objects.count() == events + 3
        assert AuditEvent.objects.filter(action="partners.import.failed").exists()


def _exported_network(hub, cast, make_org) -> None:  # type: ignore[no-untyped-def]
    with hub:
        names = [("成华区=公式组织", "510108"), ("+86 开头的协会", "510104"), ("普通协会", "510105")]
        for i, (name, region) in enumerate(names):
            org = make_org(cast.resident, name=name, region=region)
            p = services.partnership_staff_add(
                actor=cast.staff,
                credit_code=org.credit_code,
                service_areas=["youth", "culture"][: i + 1],
                public_profile=f"- 简介 {i}\n第二行" if i else "",
                contact={"name": "联系人", "phone": "+86 138 0013 8000", "email": ""} if i != 2 else None,
            )
            if i == 2:
                services.partnership_transition(partnership=p, status="suspended", actor=cast.staff, reason="整改")
        data = services.organisation_data_check(name="金牛区志愿队", kind="volunteer_team", region_code="510106")
        services.partnership_staff_add(actor=cast.staff, organisation_data=data)


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_export_imports_back_as_no_change(client_for, hub_a, cast_a, make_org, file_format):
    _exported_network(hub_a, cast_a, make_org)
    staff = client_for(cast_a.staff, hub_a)
    exported = staff.get(f"/partners/export.{file_format}")
    assert exported.status_code == 200 and exported["Content-Type"].startswith(CONTENT_TYPES[file_format])
    data = exported.content
    with hub_a:
        job = import_job_create(actor=cast_a.staff, file_name=f"export.{file_format}", data=data)
    assert [r["outcome"] for r in job.report] == ["unchanged"] * 4, job.report
    # change one cell, and only that row is an update
    _fmt, rows = file_read(data=data)
    assert set(rows[0][1]) <= set(COLUMN_KEYS)
    if file_format == "csv":
        assert "'=" not in data.decode("utf-8-sig").split("\n")[0]
        assert "'+86" in data.decode("utf-8-sig")  # a formula-looking cell is escaped for spreadsheets
    edited = [[r[1].get(k, "") for k in COLUMN_KEYS] for r in rows]
    edited[0][COLUMN_KEYS.index("public_profile")] = "新的简介"
    with hub_a:
        job = import_job_create(actor=cast_a.staff, file_name="edited.csv", data=_csv(edited))
    assert [r["outcome"] for r in job.report] == ["update", "unchanged", "unchanged", "unchanged"]
    assert job.report[0]["changes"] == ["public_profile"]


def test_export_follows_the_directory_filters_and_the_api(client_for, hub_a, cast_a, make_org):
    _exported_network(hub_a, cast_a, make_org)
    staff = client_for(cast_a.staff, hub_a)
    book = load_workbook(io.BytesIO(staff.get("/partners/export.xlsx", {"status": "suspended"}).content))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == HEADER
    assert sheet.max_row == 2 and sheet["A2"].value == "普通协会" and sheet["F2"].value == "已暂停"
    api = staff.get("/api/v1/partners/export.csv", {"q": "志愿队"}, HTTP_ACCEPT="text/csv")
    assert api.status_code == 200 and "金牛区志愿队" in api.content.decode("utf-8-sig")


def test_templates_have_the_same_columns(client_for, hub_a, cast_a):
    staff = client_for(cast_a.staff, hub_a)
    template = load_workbook(io.BytesIO(staff.get("/partners/import/template.xlsx").content))
    assert [c.value for c in template.worksheets[0][1]] == HEADER
    assert template.worksheets[1].title == "填写说明"
    csv_template = staff.get("/api/v1/partners/import-template.csv").content.decode("utf-8-sig")
    assert csv_template.strip().split(",") == HEADER


def test_english_headers_and_gbk_csv_are_read(hub_a, cast_a):
    header = ["Name", "Unified social credit code", "Organisation type", "Region code"]
    rows = [["成都市某协会", credit_code("510104"), "Social organisation", "510104"]]
    with hub_a:
        job = import_job_create(actor=cast_a.staff, file_name="gbk.csv", data=_csv(rows, header, encoding="gb18030"))
    assert [(r["outcome"], r["messages"]) for r in job.report] == [("create", [])]


def test_unreadable_files_are_refused_clearly(client_for, hub_a, cast_a):
    staff = client_for(cast_a.staff, hub_a)
    no_header = staff.post("/partners/import/", {"file": SimpleUploadedFile("x.csv", b"a,b\n1,2\n")})
    assert "包含“名称”列" in no_header.content.decode()
    legacy = staff.post(
        "/api/v1/partners/imports",
        {"file": SimpleUploadedFile("x.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"0" * 100)},
    )
    assert legacy.status_code == 400 and legacy.json()["code"] == "unsupported_file"
    empty = staff.post("/api/v1/partners/imports", {"file": SimpleUploadedFile("x.csv", b"")})
    assert empty.status_code == 400 and empty.json()["code"] == "empty_file"


def test_import_through_the_api(client_for, hub_a, cast_a, commit_in):
    staff = client_for(cast_a.staff, hub_a)
    rows = [row("API 导入的协会", credit_code("510104"))]
    checked = staff.post("/api/v1/partners/imports", {"file": SimpleUploadedFile("a.csv", _csv(rows))})
    assert checked.status_code == 201
    body = checked.json()
    assert body["status"] == "checked" and body["report"][0]["outcome"] == "create"
    with commit_in(hub_a):
        confirmed = staff.post(f"/api/v1/partners/imports/{body['id']}/confirm")
    assert confirmed.status_code == 202
    status = staff.get(f"/api/v1/partners/imports/{body['id']}").json()
    assert status["status"] == "succeeded" and status["processed_rows"] == 1 and status["created_count"] == 1
    reviewer = client_for(cast_a.reviewer, hub_a).post(f"/api/v1/partners/imports/{body['id']}/confirm")
    assert reviewer.status_code == 403
