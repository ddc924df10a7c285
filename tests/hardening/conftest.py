"""The storage suite's fixtures (filesystem and moto S3 storage) for the hardening tests."""

from tests.storage.conftest import filesystem_storage, s3_endpoint, s3_storage  # noqa: F401
