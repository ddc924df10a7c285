"""Site-visit and report photos appear on the public project page only when staff choose, through the storage
service's short-lived links; the person, the file name and private notes never do."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest

from hubs.projects import services
from hubs.projects.models import SiteVisit
from huoban.audit.models import AuditEvent
from huoban.errors import ApplicationError
from huoban.storage.models import StoredFile
from tests.projects.conftest import PNG, make_world


@pytest.fixture
def visited(hub_a, cast_a):  # type: ignore[no-untyped-def]
    w = make_world(hub_a, cast_a, status="in_progress")
    with hub_a:
        visit = services.site_visit_record(
            project=w.project,
            ambassador=cast_a.ambassador,
            visited_at=datetime(2026, 3, 1, 10, tzinfo=UTC),
            findings="助餐点运行正常",
            private_notes="SECRET-VISIT-NOTE",
            photos=[("王小明家门口.png", io.BytesIO(PNG)), ("厨房.png", io.BytesIO(PNG))],
        )
        report = services.report_submit(
            project=w.project,
            kind="periodic",
            period_end=date(2026, 3, 31),
            text="服务 300 人次",
            photos=[("活动.png", io.BytesIO(PNG))],
            actor=w.implementer_member,
        )
    return w, visit, report


def test_photos_are_private_until_staff_make_them_public(client_for, hub_a, cast_a, visited):  # type: ignore[no-untyped-def]
    w, visit, report = visited
    anon = client_for(None, hub_a)
    first, second = (str(x) for x in visit.photo_ids)
    page = anon.get(f"/projects/public/{w.project.pk}/").content.decode()
    assert first not in page and "public-photos" not in page
    assert anon.get(f"/projects/public/{w.project.pk}/photos/{first}/").status_code == 404

    staff = client_for(cast_a.staff, hub_a)
    assert staff.post(f"/projects/{w.project.pk}/photos/{first}/visibility/", {"public": "1"}).status_code == 302
    response = staff.post(
        f"/api/v1/projects/{w.project.pk}/photos/{report.photo_ids[0]}/visibility",
        {"public": True},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content

    page = anon.get(f"/projects/public/{w.project.pk}/").content.decode()
    assert f"/projects/public/{w.project.pk}/photos/{first}/" in page
    assert f"/photos/{report.photo_ids[0]}/" in page and second not in page
    for private in ("SECRET-VISIT-NOTE", "王小明", cast_a.ambassador.email):
        assert private not in page
    link = anon.get(f"/projects/public/{w.project.pk}/photos/{first}/")
    assert link.status_code == 302 and link["Location"].startswith("/files/")
    image = anon.get(link["Location"])
    assert image.status_code == 200 and b"".join(image.streaming_content if image.streaming else [image.content])
    assert "王小明" not in image.get("Content-Disposition", "")
    assert anon.get(f"/projects/public/{w.project.pk}/photos/{second}/").status_code == 404
    api = anon.get(f"/api/v1/projects/public/{w.project.pk}").json()
    assert len(api["photos"]) == 2 and all("/photos/" in p["url"] for p in api["photos"])

    staff.post(f"/projects/{w.project.pk}/photos/{first}/visibility/", {"public": "0"})
    assert anon.get(f"/projects/public/{w.project.pk}/photos/{first}/").status_code == 404
    with hub_a:
        actions = list(AuditEvent.objects.filter(action__startswith="project.photo").values_list("action", flat=True))
    assert actions.count("project.photo.published") == 2 and "project.photo.unpublished" in actions


def test_stored_photo_names_carry_no_personal_data(hub_a, visited):  # type: ignore[no-untyped-def]
    _w, visit, _report = visited
    names = set(StoredFile.objects.filter(pk__in=visit.photo_ids).values_list("original_name", flat=True))
    assert names == {"photo-1.png", "photo-2.png"}


def test_only_staff_choose_and_only_this_projects_photos(client_for, hub_a, cast_a, outsider, visited):  # type: ignore[no-untyped-def]
    w, visit, _report = visited
    pid = str(visit.photo_ids[0])
    for user, expected in ((outsider, 404), (cast_a.treasurer, 403), (w.implementer_member, 403)):
        client = client_for(user, hub_a)
        assert client.post(f"/projects/{w.project.pk}/photos/{pid}/visibility/", {"public": "1"}).status_code == (
            expected
        )
        api = client.post(
            f"/api/v1/projects/{w.project.pk}/photos/{pid}/visibility",
            {"public": True},
            content_type="application/json",
        )
        assert api.status_code == expected
    other = make_world(hub_a, cast_a, status="in_progress")
    with hub_a:
        with pytest.raises(ApplicationError) as exc:
            services.photo_visibility_set(project=other.project, file_id=pid, public=True, actor=cast_a.staff)
        assert exc.value.code == "not_found"
        with pytest.raises(ApplicationError):
            services.photo_visibility_set(project=w.project, file_id="not-a-uuid", public=True, actor=cast_a.staff)
        assert SiteVisit.objects.get(pk=visit.pk).public_photo_ids == []


def test_photos_of_a_project_that_is_not_public_stay_hidden(client_for, hub_a, cast_a, visited):  # type: ignore[no-untyped-def]
    w, visit, _report = visited
    pid = str(visit.photo_ids[0])
    with hub_a:
        services.photo_visibility_set(project=w.project, file_id=pid, public=True, actor=cast_a.staff)
        services.project_transition(project=w.project, to="cancelled", reason="退出", actor=cast_a.staff)
    assert client_for(None, hub_a).get(f"/projects/public/{w.project.pk}/photos/{pid}/").status_code == 404
