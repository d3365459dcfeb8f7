"""The Enabler files as the Processor serves them: gzip, Cache-Control, ETag and 304, through the real app."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator

import httpx
import pytest

from giftcard_connector.app import create_app, enabler_dir
from giftcard_connector.enabler_files import accepts_gzip
from tests.unit.test_processor_edge import SHOP, settings

FILES = ["connector-enabler.es.js", "connector-enabler.umd.js", "connector-enabler.d.ts"]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(settings()), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://processor") as http:
        yield http


async def raw_get(client: httpx.AsyncClient, path: str, **headers: str) -> tuple[httpx.Response, bytes]:
    """The answer and its body as sent (httpx would otherwise undo the gzip)."""
    async with client.stream("GET", path, headers=headers) as response:
        return response, b"".join([chunk async for chunk in response.aiter_raw()])


@pytest.mark.parametrize("name", FILES)
async def test_gzip_with_cache_headers_and_the_exact_file(client: httpx.AsyncClient, name: str) -> None:
    on_disk = (enabler_dir() / name).read_bytes()
    response, sent = await raw_get(client, f"/enabler/{name}", **{"Accept-Encoding": "gzip, deflate, br"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(sent) == on_disk
    assert len(sent) < len(on_disk) / 2
    assert response.headers["content-length"] == str(len(sent))
    assert response.headers["cache-control"] == "public, max-age=300"
    assert "Accept-Encoding" in response.headers["vary"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["etag"].startswith('"') and response.headers["etag"].endswith('-gz"')
    expected_type = "application/typescript" if name.endswith(".d.ts") else "text/javascript"
    assert response.headers["content-type"].startswith(expected_type)


async def test_identity_for_a_client_without_gzip_and_a_different_etag(client: httpx.AsyncClient) -> None:
    name = FILES[0]
    plain, body = await raw_get(client, f"/enabler/{name}", **{"Accept-Encoding": "identity"})
    zipped, _ = await raw_get(client, f"/enabler/{name}", **{"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers
    assert body == (enabler_dir() / name).read_bytes()
    assert plain.headers["etag"] != zipped.headers["etag"]  # two representations, two validators


async def test_a_matching_etag_answers_304_without_a_body(client: httpx.AsyncClient) -> None:
    first, _ = await raw_get(client, "/enabler/connector-enabler.umd.js", **{"Accept-Encoding": "gzip"})
    etag = first.headers["etag"]
    again, body = await raw_get(
        client, "/enabler/connector-enabler.umd.js", **{"Accept-Encoding": "gzip", "If-None-Match": f'W/"x", {etag}'}
    )
    assert again.status_code == 304
    assert body == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == "public, max-age=300"
    stale, _ = await raw_get(client, "/enabler/connector-enabler.umd.js", **{"If-None-Match": '"old"'})
    assert stale.status_code == 200


async def test_the_es_module_keeps_cors_for_the_shop(client: httpx.AsyncClient) -> None:
    response, _ = await raw_get(client, "/enabler/connector-enabler.es.js", Origin=SHOP)
    assert response.headers["access-control-allow-origin"] == SHOP


async def test_head_unknown_names_and_other_methods(client: httpx.AsyncClient) -> None:
    head = await client.head("/enabler/connector-enabler.es.js", headers={"Accept-Encoding": "gzip"})
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) > 1000
    missing = await client.get("/enabler/nope.js")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "ResourceNotFound"
    traversal = await client.get("/enabler/..%2Fapp.py")
    assert traversal.status_code == 404
    post = await client.post("/enabler/connector-enabler.es.js")
    assert post.status_code == 405


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", True),
        ("gzip;q=0.5, br", True),
        ("br, gzip;q=0", False),
        ("*", True),
        ("*, gzip;q=0", False),
        ("identity", False),
        ("", False),
        ("GZIP;q=1.0", True),
        ("gzip;q=abc", False),
    ],
)
def test_accept_encoding(header: str, expected: bool) -> None:
    assert accepts_gzip(header) is expected
