"""backend/web/security.py: only the app gets in — token, loopback Host, same Origin, the cookie flow."""

from __future__ import annotations

import httpx
import pytest

from backend.web.security import cookie_name


@pytest.fixture(scope="module")
def server(random_server):
    return random_server


def raw(server, path: str = "/api/health", **kwargs) -> httpx.Response:
    """A request with nothing added: no token unless given."""
    return httpx.request(kwargs.pop("method", "GET"), server.url + path, **kwargs)


@pytest.mark.parametrize("path", ["/api/health", "/api/transcriptions", "/v1/models", "/openapi.json", "/docs"])
def test_no_api_without_the_token(server, path):
    response = raw(server, path)
    assert response.status_code == 401
    assert "token" in response.json()["detail"] and response.headers["WWW-Authenticate"] == "Bearer"


def test_a_wrong_token_is_refused_everywhere(server, media):
    wrong = {"Authorization": "Bearer " + "x" * 43}
    assert raw(server, headers=wrong).status_code == 401
    assert raw(server, "/api/health?token=nope").status_code == 401
    assert raw(server, cookies={cookie_name(server.server.port): "nope"}).status_code == 401
    with media["wav"].open("rb") as file:
        upload = raw(server, "/api/transcriptions", method="POST", headers=wrong, files={"file": file})
    assert upload.status_code == 401


def test_the_bearer_token_and_the_query_token_open_the_api(server):
    assert raw(server, headers={"Authorization": f"Bearer {server.token}"}).status_code == 200
    assert raw(server, f"/api/health?token={server.token}").status_code == 200


def test_the_page_without_the_token_says_how_to_open_hush(server):
    response = raw(server, "/")
    assert response.status_code == 401 and "text/html" in response.headers["content-type"]
    assert "Open Hush from the app" in response.text and "?token=" in response.text
    assert "app.js" not in response.text
    assert raw(server, "/app.js").status_code == 401


def test_the_tokened_url_sets_an_httponly_strict_cookie_and_drops_the_token_from_the_address(server):
    with httpx.Client(base_url=server.url) as browser:
        first = browser.get(f"/?token={server.token}")
        assert first.status_code == 303 and first.headers["location"] == "/"
        cookie = first.headers["set-cookie"]
        assert cookie.startswith(f"{cookie_name(server.server.port)}={server.token}")
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        page = browser.get("/")
        assert page.status_code == 200 and "app.js" in page.text
        assert browser.get("/api/health").status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1:1", "localhost", "0.0.0.0:{port}"])
def test_a_foreign_host_is_refused_even_with_the_token(server, host):
    """DNS rebinding: a page of evil.example whose name now resolves to 127.0.0.1."""
    headers = {"Host": host.format(port=server.server.port), "Authorization": f"Bearer {server.token}"}
    response = raw(server, headers=headers)
    assert response.status_code == 403 and "only answers requests for 127.0.0.1" in response.json()["detail"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_loopback_names_are_accepted(server, host):
    headers = {"Host": f"{host}:{server.server.port}", "Authorization": f"Bearer {server.token}"}
    assert raw(server, headers=headers).status_code == 200


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.1:1", "http://localhost:9"])
def test_a_foreign_origin_is_refused_even_with_the_cookie(server, origin):
    """CSRF: a web page posting to Hush; the browser would attach the cookie were it not SameSite."""
    cookies = {cookie_name(server.server.port): server.token}
    response = raw(server, "/api/transcriptions", method="POST", headers={"Origin": origin}, cookies=cookies)
    assert response.status_code == 403 and "HUSH_ALLOWED_ORIGINS" in response.json()["detail"]


def test_our_own_origin_is_accepted(server):
    port = server.server.port
    headers = {"Origin": f"http://localhost:{port}", "Host": f"localhost:{port}"}
    assert raw(server, headers=headers, cookies={cookie_name(port): server.token}).status_code == 200


def test_allowed_origins_and_a_fixed_token_come_from_settings(start_server, random_checkpoint, monkeypatch):
    monkeypatch.setenv("HUSH_ALLOWED_ORIGINS", "https://notes.example, https://tools.example/")
    monkeypatch.setenv("HUSH_TOKEN", "a-token-the-user-chose")
    live = start_server(model=random_checkpoint)
    assert live.token == "a-token-the-user-chose"
    for origin, status in [("https://tools.example", 200), ("https://notes.example", 200), ("https://x.example", 403)]:
        headers = {"Origin": origin, "Authorization": "Bearer a-token-the-user-chose"}
        assert raw(live, headers=headers).status_code == status
    assert "access-control-allow-origin" not in raw(live, headers=headers).headers  # no wildcard CORS
