"""How the gateway serves the web console: one page, assets under content-hashed URLs, no
inline script, nothing counted against a client's rate limit."""
from __future__ import annotations

import re

from gateway import console


def test_the_page_names_every_asset_by_its_content_hash_and_runs_no_inline_script(client):
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers["Cache-Control"] == "no-cache"
    html = page.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html
    assert all('src="' in attributes and not body.strip()
               for attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S))
    assets = re.findall(r'(?:src|href)="(/console/[^"]+)"', html)
    assert {asset.split("?")[0].removeprefix("/console/") for asset in assets} == {
        "console.css", *console.MODULES}
    for asset in assets:
        answer = client.get(asset)
        assert answer.status_code == 200, asset
        assert answer.headers["Cache-Control"] == console.IMMUTABLE


def test_a_module_imports_its_modules_by_their_hashes_so_a_change_below_changes_its_url(client):
    app_js = client.get("/console/app.js").get_data(as_text=True)
    imports = re.findall(r'from "(\./[^"]+)"', app_js)
    assert imports and all(re.search(r"\?v=[0-9a-f]{12}$", target) for target in imports)
    assert f"./api.js?v={console.content_hash('api.js')}" in imports


def test_an_asset_asked_without_its_hash_is_revalidated_and_outside_files_are_not_served(client):
    answer = client.get("/console/app.js?v=stale")
    assert answer.headers["Cache-Control"] == "no-cache" and answer.headers["ETag"]
    again = client.get("/console/app.js", headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304
    for outside in ("/console/../__init__.py", "/console/%2e%2e/__init__.py",
                    "/console/templates/console.html", "/console/missing.js",
                    "/console/./app.js", "/console/vendor/../app.js", "/console/app.js%00x"):
        assert client.get(outside).status_code == 404, outside
    assert console._served.cache_info().currsize <= len(console.FILES)


def test_the_console_is_not_counted_against_the_rate_limit(make_app):
    app = make_app({"RATE_LIMIT": (2, 60)})
    client = app.test_client()
    for _ in range(5):
        assert client.get("/").status_code == 200
        assert client.get("/console/app.js").status_code == 200
    assert client.get("/api/v1/nothing").status_code == 404
    assert client.get("/api/v1/nothing").status_code == 404
    assert client.get("/api/v1/nothing").status_code == 429
