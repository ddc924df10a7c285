"""Malformed files: the partner importer and document uploads, fed bytes and cells nobody would write on purpose.

The promises under test: whatever the file, the answer is a translated refusal with a code or a dry run row by row
(never an exception of another kind, never a 500); a refusal stores nothing; and a file whose dry run accepted rows
imports those rows (the run never fails on something the check let through).
"""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from hubs.partners import imports
from hubs.partners.models import ImportJob, ImportStatus, Partnership
from huoban.errors import ApplicationError
from huoban.storage import services as storage
from huoban.storage.models import FilePurpose, StoredFile
from tests.factories import credit_code
from tests.partners.test_import_export import HEADER, _csv
from tests.storage import samples

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
# Any character a file can carry, NUL and other controls included; not lone surrogates (no encoding holds them).
CELL = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
CELL_OR_PLAUSIBLE = st.one_of(
    CELL,
    st.sampled_from(["社会组织", "基金会", "510104", "519999", "养老、社区", "合作中", "2024-02-30", "=HYPERLINK(1)"]),
    st.sampled_from(["2023-04-01", "13800000000", "a@b.test", "", " ", "\x00", "名\x00称", "\u202e反转"]),
)


def _template_xlsx() -> bytes:
    workbook = Workbook()
    workbook.active.append(HEADER)
    workbook.active.append(["成都市某公益服务中心", credit_code("510104"), "社会组织", "510104", "养老"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


TEMPLATE = _template_xlsx()


def _refusal_is_clean(exc: ApplicationError) -> None:
    assert exc.code and str(exc.message).strip(), exc
    assert exc.status < 500


@FUZZ
@given(
    data=st.one_of(
        st.binary(max_size=4096),
        st.binary(max_size=2048).map(lambda b: b"PK\x03\x04" + b),
        st.binary(max_size=512).map(lambda b: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b),
        st.tuples(st.integers(0, len(TEMPLATE) - 1), st.binary(min_size=1, max_size=16)).map(
            lambda cut: TEMPLATE[: cut[0]] + cut[1] + TEMPLATE[cut[0] + len(cut[1]) :]
        ),
        st.integers(1, len(TEMPLATE) - 1).map(lambda n: TEMPLATE[:n]),
    )
)
def test_the_importer_reads_any_bytes_or_refuses_them_cleanly(hub_a, cast_a, data):
    with hub_a:
        before = ImportJob.objects.count()
        try:
            job = imports.import_job_create(actor=cast_a.staff, file_name="fuzz.xlsx", data=data)
        except ApplicationError as exc:
            _refusal_is_clean(exc)
            assert ImportJob.objects.count() == before
        else:
            assert job.status == ImportStatus.CHECKED and len(job.report) == job.total_rows


@FUZZ
@given(
    rows=st.lists(
        st.tuples(st.booleans(), st.lists(CELL_OR_PLAUSIBLE, min_size=0, max_size=len(HEADER) + 2)),
        min_size=1,
        max_size=6,
    ),
    encoding=st.sampled_from(["utf-8-sig", "utf-8", "gb18030"]),
)
def test_rows_the_dry_run_accepts_are_imported(hub_a, cast_a, rows, encoding, django_capture_on_commit_callbacks):
    """Arbitrary cells (NUL, controls, right-to-left marks, formulas, impossible dates), half of the rows with a
    valid credit code so that some are accepted: the run writes exactly the accepted rows, or the dry run refused
    them with a reason; it never fails on something the check let through."""
    cells: list[list[str]] = []
    for with_code, row in rows:
        row = list(row) + [""] * (2 - len(row)) if len(row) < 2 else list(row)
        if with_code:
            row[1] = credit_code("510104")
        cells.append(row)
    data = _csv(cells, encoding=encoding)
    with hub_a:
        partners_before = Partnership.objects.count()
        try:
            job = imports.import_job_create(actor=cast_a.staff, file_name="fuzz.csv", data=data)
        except ApplicationError as exc:
            _refusal_is_clean(exc)
            return
        for line in job.report:
            if line["outcome"] == "refused":
                assert line["messages"] and all(m.strip() for m in line["messages"])
        if job.created_count + job.updated_count == 0:
            with pytest.raises(ApplicationError) as nothing:
                imports.import_job_confirm(job=job, actor=cast_a.staff)
            assert nothing.value.code == "nothing_to_import"
            return
        with django_capture_on_commit_callbacks(execute=True):  # the task is sent after the commit, run in-process
            imports.import_job_confirm(job=job, actor=cast_a.staff)
        job.refresh_from_db()
        assert job.status == ImportStatus.SUCCEEDED, job.error
        assert Partnership.objects.count() == partners_before + job.created_count


def test_the_import_api_answers_malformed_uploads_with_the_error_body(client_for, hub_a, cast_a):
    client = client_for(cast_a.staff, hub_a)
    broken_zip = io.BytesIO()
    with zipfile.ZipFile(broken_zip, "w") as archive:
        archive.writestr("[Content_Types].xml", "<not-xml")
    for name, data in [
        ("empty.csv", b""),
        ("zip.xlsx", broken_zip.getvalue()),
        ("cut.xlsx", TEMPLATE[: len(TEMPLATE) // 2]),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100),
        ("latin1.csv", "名称\n".encode() + b"\xff\xfe\xfa\x00"),
        ("nul.csv", b"\x00" * 200),
        ("no-header.csv", b"a,b,c\n1,2,3\n"),
    ]:
        response = client.post(
            "/api/v1/partners/imports", {"file": SimpleUploadedFile(name, data, content_type="text/csv")}
        )
        assert 400 <= response.status_code < 500, (name, response.status_code)
        body = response.json()
        assert body["code"] and body["message"] and "extra" in body, (name, body)


@FUZZ
@given(
    data=st.one_of(
        st.binary(min_size=1, max_size=2048),
        st.binary(max_size=256).map(lambda b: samples.png()[:24] + b),
        st.binary(max_size=256).map(lambda b: b"%PDF-1.7\n" + b),
        st.binary(max_size=256).map(lambda b: b"PK\x03\x04" + b),
        st.binary(max_size=256).map(lambda b: b"\xff\xd8\xff" + b),
    ),
    purpose=st.sampled_from([p.value for p in FilePurpose]),
)
def test_uploads_of_any_bytes_are_stored_or_refused_without_residue(hub_a, cast_a, data, purpose):
    with hub_a:
        before = StoredFile.objects.filter(hub_id=hub_a.pk).count()
        try:
            stored = storage.file_store(
                fileobj=io.BytesIO(data),
                original_name="../../etc/passwd\x00.png",
                purpose=purpose,
                uploaded_by=cast_a.staff,
                hub_id=hub_a.pk,
                hub_schema=hub_a.schema_name,
            )
        except ApplicationError as exc:
            _refusal_is_clean(exc)
            assert StoredFile.objects.filter(hub_id=hub_a.pk).count() == before
        else:
            assert stored.key.startswith(f"hubs/{hub_a.schema_name}/{purpose}/")
            assert "/" not in stored.original_name and "\x00" not in stored.original_name
            storage.file_delete(stored_file=stored, actor=None)
