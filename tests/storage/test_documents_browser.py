"""Headless Chromium on a phone: an organisation's owner uploads a document from the organisation's page, an
operator verifies it, and the owner sees who verified it."""

from __future__ import annotations

import re
import secrets

import pytest

from tests.conftest import PASSWORD
from tests.storage import samples

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _sign_in(page, site: str, email: str, next_path: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{site}/accounts/login/?next={next_path}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(re.compile(re.escape(next_path) + "$"))


def test_owner_uploads_and_sees_who_verified_on_a_phone(live_site, browser, settings, tmp_path):
    from django.db import connection as db_connection

    from huoban.identity.models import Organisation, User
    from huoban.identity.services import organisation_create, user_create
    from huoban.storage.models import OrganisationDocument, StoredFile
    from tests.factories import credit_code

    # A browser test that ran before may have left this thread's connection terminated by its live_site
    # teardown (tests/browser does the same); start on a fresh one.
    db_connection.close()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    tag = secrets.token_hex(3)
    owner_email, operator_email = f"owner-{tag}@org.test", f"op-{tag}@platform.test"
    owner = user_create(name="负责人乙", email=owner_email, password=PASSWORD)
    user_create(name="运营乙", email=operator_email, password=PASSWORD, is_operator=True)
    org = organisation_create(
        creator=owner,
        name=f"锦江社区发展中心 {tag}",
        kind="social_organisation",
        region_code="510104",
        credit_code=credit_code("510104"),
    )
    upload = tmp_path / "登记证书.pdf"
    upload.write_bytes(samples.pdf(3000))
    documents_path = f"/files/organisations/{org.pk}/documents/"
    try:
        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        page = phone.new_page()
        _sign_in(page, live_site, owner_email, f"/accounts/organisations/{org.pk}/")
        assert "未上传" in page.inner_text("[data-testid=documents-card]")
        page.click(f"[data-testid=documents-card] a[href='{documents_path}']")
        page.wait_for_url(re.compile(re.escape(documents_path) + "$"))
        page.select_option("select[name=kind]", "registration_certificate")
        page.set_input_files("input[name=file]", str(upload))
        page.click("[data-testid=upload-form] button.primary")
        page.wait_for_selector("[data-testid=status-pending]")
        assert "登记证书.pdf" in page.inner_text("[data-testid=document-list]")

        desk = browser.new_context(viewport={"width": 1200, "height": 900})
        operator_page = desk.new_page()
        _sign_in(operator_page, live_site, operator_email, documents_path)
        operator_page.click("[data-testid=document-list] details summary")
        operator_page.check("input[name=decision][value=verified]")
        operator_page.click("[data-testid=document-list] details button.primary")
        operator_page.wait_for_selector("[data-testid=document-list] [data-testid=status-verified]")

        page.reload()
        summary = page.inner_text("[data-testid=verification-summary]")
        assert "已核验" in summary and "平台运营" in summary and "运营乙" in summary
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.screenshot(path=str(tmp_path / "organisation-documents-phone.png"), full_page=True)
    finally:
        OrganisationDocument.objects.filter(organisation=org).delete()
        StoredFile.objects.filter(organisation=org).delete()
        Organisation.objects.filter(pk=org.pk).delete()
        User.objects.filter(email__in=[owner_email, operator_email]).delete()
