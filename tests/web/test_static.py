"""The local gateway's static side (``devstack.web_static``), in process: what the CDN does in production."""

import json

import pytest
from werkzeug.test import Client

from devstack.web_static import web_app


@pytest.fixture
def dist(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><div id=root></div>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path.parent / "secret.txt").write_text("not for the web")
    return tmp_path


def test_files_are_served_and_app_routes_fall_back_to_index(dist):
    client = Client(web_app(dist))
    asset = client.get("/app/assets/index-abc123.js")
    assert asset.status_code == 200 and "javascript" in asset.headers["Content-Type"]
    assert "immutable" in asset.headers["Cache-Control"]
    for route in ("/app/", "/app/jobs/job_0123", "/app/admin"):
        page = client.get(route)
        assert page.status_code == 200 and b"id=root" in page.data and page.headers["Cache-Control"] == "no-cache", route


def test_root_redirects_missing_assets_404_and_nothing_escapes_dist(dist):
    client = Client(web_app(dist))
    assert client.get("/").headers["Location"] == "/app/"
    assert client.get("/app/assets/missing.js").status_code == 404
    escaped = client.get("/app/../secret.txt")
    assert b"not for the web" not in escaped.data
    assert client.post("/app/").status_code == 405


def test_config_points_dev_sign_in_at_this_stacks_issuer(dist, monkeypatch):
    monkeypatch.setenv("CLERK_ISSUER", "http://127.0.0.1:18092")
    config = json.loads(Client(web_app(dist)).get("/app/config.json").data)
    assert config == {"apiBase": "", "auth": {"mode": "dev", "issuer": "http://127.0.0.1:18092"}}


def test_an_unbuilt_app_says_how_to_build_it(tmp_path):
    answer = Client(web_app(tmp_path / "nothing")).get("/app/")
    assert answer.status_code == 404 and "make web" in answer.json["error"]["message"]


def test_dev_sign_in_mints_only_for_loopback_origins(tmp_path):
    import jwt

    from devstack.clerk_dev import DevIssuer, _app

    client = Client(_app(DevIssuer(tmp_path, "http://127.0.0.1:8092")))
    minted = client.post("/dev/sign-in", json={"userId": "user_x", "admin": True}, headers={"Origin": "http://127.0.0.1:8080"})
    claims = jwt.decode(minted.json["token"], options={"verify_signature": False})
    assert (claims["sub"], claims["azp"], claims["role"]) == ("user_x", "http://127.0.0.1:8080", "admin")
    assert minted.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8080"
    assert client.post("/dev/sign-in", json={"userId": "user_x"}, headers={"Origin": "https://evil.example"}).status_code == 403
    assert client.post("/dev/sign-in", json={"userId": "../x"}, headers={"Origin": "http://localhost:8080"}).status_code == 400
