"""moto's S3 server over HTTP, with S3's presigned-URL checks in front of it.

moto answers a presigned GET without checking its signature or its expiry (real S3 and MinIO check both). So that
the tests see what production sees, this WSGI layer does what S3 does for query-string SigV4 requests before moto
runs: recompute the signature over method, path, query and signed headers with the secret of the access key, and
refuse an expired link. Everything else (the bucket, the objects, header-signed API calls) is plain moto.

Run as a program by the test fixture: ``python tests/storage/s3_server.py --port N`` (reads the credentials from
``TEST_S3_ACCESS_KEY`` / ``TEST_S3_SECRET_KEY``).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


def _error(start_response: StartResponse, code: str, message: str) -> list[bytes]:
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    ).encode()
    start_response("403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body]


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def presigned_signature(
    *, secret: str, method: str, raw_path: str, query: list[tuple[str, str]], headers: dict[str, str]
) -> str:
    """The SigV4 signature S3 expects for a presigned request (AWS "Authenticating Requests: Query Parameters")."""
    params = dict(query)
    signed_headers = params["X-Amz-SignedHeaders"]
    amz_date = params["X-Amz-Date"]
    _access_key, date, region, service, terminator = params["X-Amz-Credential"].split("/")
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query) if k != "X-Amz-Signature"
    )
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in signed_headers.split(";"))
    canonical_request = "\n".join(
        [method, raw_path, canonical_query, canonical_headers, signed_headers, "UNSIGNED-PAYLOAD"]
    )
    scope = f"{date}/{region}/{service}/{terminator}"
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret}".encode(), date), region), service), terminator)
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


class PresignedUrlChecks:
    """WSGI middleware: S3's checks of presigned URLs, in front of moto."""

    def __init__(self, app: Callable[[Environ, StartResponse], Iterable[bytes]], secrets: dict[str, str]):
        self.app = app
        self.secrets = secrets

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        params = dict(query)
        if "X-Amz-Signature" not in params:
            return self.app(environ, start_response)
        try:
            access_key = params["X-Amz-Credential"].split("/", 1)[0]
            issued = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            expires = int(params["X-Amz-Expires"])
        except (KeyError, ValueError):
            return _error(start_response, "AuthorizationQueryParametersError", "Malformed presigned URL")
        secret = self.secrets.get(access_key)
        if secret is None:
            return _error(start_response, "InvalidAccessKeyId", "The AWS Access Key Id does not exist")
        if datetime.now(UTC) > issued + timedelta(seconds=expires):
            return _error(start_response, "AccessDenied", "Request has expired")
        raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(environ.get("PATH_INFO", ""))
        headers = {"host": environ.get("HTTP_HOST", "")}
        for name, value in environ.items():
            if name.startswith("HTTP_"):
                headers[name[5:].lower().replace("_", "-")] = value
        expected = presigned_signature(
            secret=secret,
            method=environ["REQUEST_METHOD"],
            raw_path=raw_uri.split("?", 1)[0],
            query=query,
            headers=headers,
        )
        if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
            return _error(
                start_response,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        return self.app(environ, start_response)


def main() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    secrets = {os.environ["TEST_S3_ACCESS_KEY"]: os.environ["TEST_S3_SECRET_KEY"]}
    app = PresignedUrlChecks(DomainDispatcherApplication(create_backend_app), secrets)
    server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=MotoRequestHandler)
    server.serve_forever()


if __name__ == "__main__":
    main()
