"""Fixtures of the storage and billing suites (moto S3, the filesystem, localstripe) for the hardening tests."""

from tests.billing.conftest import localstripe  # noqa: F401
from tests.storage.conftest import filesystem_storage, s3_endpoint, s3_storage  # noqa: F401
