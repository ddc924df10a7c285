"""Storing files: checked by content, counted against quotas, audited, and nothing left behind when refused.

Every test here runs twice: on moto's S3 server over HTTP and on the filesystem.
"""

from __future__ import annotations

import hashlib
import io

import pytest

from huoban.audit.models import AuditEvent
from huoban.errors import ApplicationError
from huoban.storage import sniffing
from huoban.storage.models import StoredFile
from huoban.storage.selectors import file_usage_bytes
from huoban.storage.services import file_delete, file_store
from tests.storage import samples

pytestmark = pytest.mark.django_db


def _org(cast):  # type: ignore[no-untyped-def]
    return cast.ngo_member.organisation_memberships.get().organisation


def _store_for_hub(hub, user, data: bytes, *, name: str = "收据.pdf", purpose: str = "receipt") -> StoredFile:  # type: ignore[no-untyped-def]
    return file_store(
        fileobj=io.BytesIO(data),
        original_name=name,
        purpose=purpose,
        uploaded_by=user,
        hub_id=hub.pk,
        hub_schema=hub.schema_name,
    )


def test_a_hub_file_is_stored_under_the_hubs_key_with_its_hash_and_detected_type(storage_backend, hub_a, cast_a):
    data = samples.pdf(4000)

    stored = _store_for_hub(hub_a, cast_a.staff, data, name="发票 2025.PDF")

    assert stored.key == f"hubs/{hub_a.schema_name}/receipt/{stored.pk}"
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size == 4000
    assert stored.content_type == "application/pdf"
    assert stored.original_name == "发票 2025.PDF"
    assert stored.hub_id == hub_a.pk and stored.organisation_id is None
    assert storage_backend.read(stored.key) == data
    if storage_backend.kind == "s3":
        assert storage_backend.content_type(stored.key) == "application/pdf"
    event = AuditEvent.objects.get(action="storage.file.stored", object_id=str(stored.pk))
    assert event.actor == cast_a.staff
    assert event.after["sha256"] == stored.sha256


def test_an_organisation_file_is_keyed_by_the_organisation(storage_backend, cast_a):
    org = _org(cast_a)

    stored = file_store(
        fileobj=io.BytesIO(samples.docx()),
        original_name="章程.docx",
        purpose="charter",
        uploaded_by=cast_a.ngo_member,
        organisation=org,
    )

    assert stored.key.startswith(f"orgs/{org.pk}/charter/")
    assert stored.content_type == sniffing.DOCX
    assert storage_backend.keys(f"orgs/{org.pk}/") >= {stored.key}


def test_an_oversized_file_is_refused_and_nothing_is_stored(storage_backend, settings, hub_a, cast_a):
    settings.HUOBAN_MAX_UPLOAD_BYTES = 1000
    before_keys = storage_backend.keys(f"hubs/{hub_a.schema_name}/")
    before_rows = StoredFile.objects.count()

    with pytest.raises(ApplicationError) as err:
        _store_for_hub(hub_a, cast_a.staff, samples.pdf(1001))

    assert err.value.code == "file_too_large"
    assert err.value.extra["max_bytes"] == 1000
    assert storage_backend.keys(f"hubs/{hub_a.schema_name}/") == before_keys
    assert StoredFile.objects.count() == before_rows
    assert not AuditEvent.objects.filter(action="storage.file.stored").exists()


def test_a_file_of_exactly_the_size_limit_is_accepted(storage_backend, settings, hub_a, cast_a):
    settings.HUOBAN_MAX_UPLOAD_BYTES = 1000

    stored = _store_for_hub(hub_a, cast_a.staff, samples.pdf(1000))

    assert stored.size == 1000


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (samples.exe(), "登记证书.pdf"),
        (samples.html(), "登记证书.pdf"),
        (samples.plain_zip(), "年报.pdf"),
        (samples.docm(), "章程.pdf"),
    ],
    ids=["exe", "html", "zip", "macro-docx"],
)
def test_a_disguised_file_is_refused_by_its_content(storage_backend, hub_a, cast_a, data, name):
    before_keys = storage_backend.keys(f"hubs/{hub_a.schema_name}/")

    with pytest.raises(ApplicationError) as err:
        _store_for_hub(hub_a, cast_a.staff, data, name=name, purpose="other")

    assert err.value.code == "file_type_not_allowed"
    assert err.value.extra["detected"] == sniffing.UNKNOWN
    assert storage_backend.keys(f"hubs/{hub_a.schema_name}/") == before_keys
    assert not StoredFile.objects.filter(hub_id=hub_a.pk).exists()


def test_a_real_file_of_a_type_the_purpose_does_not_take_is_refused(storage_backend, hub_a, cast_a):
    with pytest.raises(ApplicationError) as err:
        _store_for_hub(hub_a, cast_a.staff, samples.xlsx(), name="照片.xlsx", purpose="photo")

    assert err.value.code == "file_type_not_allowed"
    assert err.value.extra["detected"] == sniffing.XLSX
    assert "PNG" in str(err.value.message)


def test_an_empty_file_is_refused(storage_backend, hub_a, cast_a):
    with pytest.raises(ApplicationError) as err:
        _store_for_hub(hub_a, cast_a.staff, b"")

    assert err.value.code == "empty_file"
    assert not StoredFile.objects.filter(hub_id=hub_a.pk).exists()


def test_hub_quota_takes_the_last_file_that_fits_and_refuses_the_next(storage_backend, settings, hub_a, cast_a):
    used = file_usage_bytes(hub_id=hub_a.pk)
    settings.HUOBAN_HUB_STORAGE_QUOTA_BYTES = used + 3000
    _store_for_hub(hub_a, cast_a.staff, samples.pdf(2000))

    last = _store_for_hub(hub_a, cast_a.staff, samples.pdf(1000))  # exactly at the quota
    keys_at_quota = storage_backend.keys(f"hubs/{hub_a.schema_name}/")
    with pytest.raises(ApplicationError) as err:
        _store_for_hub(hub_a, cast_a.staff, samples.pdf(100))

    assert last.pk and file_usage_bytes(hub_id=hub_a.pk) == used + 3000
    assert err.value.code == "quota_exceeded"
    assert err.value.extra["quota_bytes"] == used + 3000
    assert storage_backend.keys(f"hubs/{hub_a.schema_name}/") == keys_at_quota
    assert StoredFile.objects.filter(hub_id=hub_a.pk).count() == 2


def test_quota_is_per_hub_and_deleted_files_free_it(storage_backend, settings, hub_a, hub_b, cast_a, cast_b):
    settings.HUOBAN_HUB_STORAGE_QUOTA_BYTES = 1500
    first = _store_for_hub(hub_a, cast_a.staff, samples.pdf(1000))
    with pytest.raises(ApplicationError):
        _store_for_hub(hub_a, cast_a.staff, samples.pdf(1000))

    _store_for_hub(hub_b, cast_b.staff, samples.pdf(1000))  # hub B has its own quota
    file_delete(stored_file=first, actor=cast_a.staff)
    again = _store_for_hub(hub_a, cast_a.staff, samples.pdf(1000))

    assert again.hub_id == hub_a.pk


def test_organisation_quota(storage_backend, settings, cast_a):
    org = _org(cast_a)
    settings.HUOBAN_ORGANISATION_STORAGE_QUOTA_BYTES = file_usage_bytes(organisation_id=org.pk) + 500

    with pytest.raises(ApplicationError) as err:
        file_store(
            fileobj=io.BytesIO(samples.pdf(501)),
            original_name="年报.pdf",
            purpose="annual_report",
            uploaded_by=cast_a.ngo_member,
            organisation=org,
        )

    assert err.value.code == "quota_exceeded"


def test_delete_is_soft_removes_the_object_and_is_audited(
    storage_backend, hub_a, cast_a, django_capture_on_commit_callbacks
):
    stored = _store_for_hub(hub_a, cast_a.staff, samples.png(), name="现场.png", purpose="photo")
    assert stored.key in storage_backend.keys(stored.key)

    with django_capture_on_commit_callbacks(execute=True):
        file_delete(stored_file=stored, actor=cast_a.staff)

    stored.refresh_from_db()
    assert stored.deleted_at is not None
    assert storage_backend.keys(stored.key) == set()
    assert AuditEvent.objects.filter(action="storage.file.deleted", object_id=str(stored.pk)).exists()


def test_a_csv_in_gb18030_is_accepted_for_import(storage_backend, hub_a, cast_a):
    stored = _store_for_hub(hub_a, cast_a.staff, samples.csv_gb18030(), name="伙伴名单.csv", purpose="import")

    assert stored.content_type == "text/csv"


def test_scope_must_be_one_owner(cast_a, hub_a):
    with pytest.raises(ValueError, match="not both"):
        file_store(
            fileobj=io.BytesIO(samples.pdf()),
            original_name="x.pdf",
            purpose="other",
            uploaded_by=cast_a.staff,
            hub_id=hub_a.pk,
            hub_schema=hub_a.schema_name,
            organisation=_org(cast_a),
        )


def test_hub_quota_follows_the_hubs_plan(storage_backend, settings, hub_a, hub_b, cast_a, cast_b):
    from tenants.entitlements import Limits, hub_limits_set

    used = file_usage_bytes(hub_id=hub_a.pk)
    settings.HUOBAN_HUB_STORAGE_QUOTA_BYTES = used + 500  # the free plan's quota
    hub_limits_set(hub=hub_a, plan="standard", source="comp", limits=Limits(None, None, used + 1500, None))

    _store_for_hub(hub_a, cast_a.staff, samples.pdf(1000))  # over the free quota, inside the plan's
    with pytest.raises(ApplicationError) as err:
        _store_for_hub(hub_a, cast_a.staff, samples.pdf(1000))
    assert err.value.code == "quota_exceeded" and err.value.extra["quota_bytes"] == used + 1500

    hub_limits_set(hub=hub_a, plan="provincial", source="comp", limits=Limits(None, None, None, None))
    _store_for_hub(hub_a, cast_a.staff, samples.pdf(1000))  # unlimited
    with pytest.raises(ApplicationError):  # hub B is still on the free plan
        _store_for_hub(hub_b, cast_b.staff, samples.pdf(used + 1000))


def _exif_with_gps() -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x013B] = "张三"  # Artist
    exif[0x0112] = 6  # Orientation: the camera was turned; the pixels must be stood upright
    exif.get_ifd(0x8825).update({1: "N", 2: (30.0, 39.0, 0.0), 3: "E", 4: (104.0, 4.0, 0.0)})  # GPS: Chengdu
    return exif.tobytes()


def test_a_photo_is_kept_without_exif_gps_or_device_and_stood_upright(storage_backend, hub_a, cast_a):
    from PIL import Image

    data = samples.jpeg(exif=_exif_with_gps(), size=(8, 4))
    assert b"PhoneMaker" in data and Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)

    stored = _store_for_hub(hub_a, cast_a.staff, data, name="IMG_0001.jpg", purpose="photo")

    kept = storage_backend.read(stored.key)
    assert b"PhoneMaker" not in kept and b"Exif" not in kept and "张三".encode() not in kept
    image = Image.open(io.BytesIO(kept))
    assert image.format == "JPEG" and not image.getexif() and not image.getexif().get_ifd(0x8825)
    assert image.size == (4, 8)  # turned as the orientation said, then the orientation dropped
    assert stored.size == len(kept) and stored.sha256 == hashlib.sha256(kept).hexdigest()
    assert stored.content_type == "image/jpeg"


def test_png_text_chunks_are_dropped_from_photos_but_receipts_are_kept_byte_for_byte(storage_backend, hub_a, cast_a):
    from PIL import Image, PngImagePlugin

    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "李四 13800138000")
    buffer = io.BytesIO()
    Image.new("RGBA", (3, 3), (0, 128, 0, 200)).save(buffer, format="PNG", pnginfo=text)
    data = buffer.getvalue()

    photo = _store_for_hub(hub_a, cast_a.staff, data, name="a.png", purpose="photo")
    receipt = _store_for_hub(hub_a, cast_a.staff, data, name="b.png", purpose="receipt")

    kept = storage_backend.read(photo.key)
    assert b"13800138000" not in kept
    assert Image.open(io.BytesIO(kept)).convert("RGBA").getpixel((1, 1)) == (0, 128, 0, 200)
    assert storage_backend.read(receipt.key) == data  # a receipt is evidence: stored exactly as sent


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9",
        samples.png()[:30],
    ],
    ids=["jpeg-header-only", "png-cut"],
)
def test_a_photo_that_does_not_decode_is_refused_and_nothing_is_stored(storage_backend, hub_a, cast_a, data):
    before = StoredFile.objects.count()

    with pytest.raises(ApplicationError) as err:
        _store_for_hub(hub_a, cast_a.staff, data, name="broken.jpg", purpose="photo")

    assert err.value.code == "invalid_image"
    assert StoredFile.objects.count() == before


def test_a_photo_with_too_many_pixels_is_refused_before_decoding(storage_backend, hub_a, cast_a, settings):
    settings.HUOBAN_MAX_IMAGE_PIXELS = 1000

    with pytest.raises(ApplicationError) as err:
        _store_for_hub(hub_a, cast_a.staff, samples.jpeg(size=(50, 50)), name="big.jpg", purpose="photo")

    assert err.value.code == "image_too_large"
    assert err.value.extra["max_pixels"] == 1000
