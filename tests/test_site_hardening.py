"""The published site: world-readable files, a CSP on every page, no link to a non-web URL,
leftovers of killed publish runs cleaned."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from chromium import launched

ROOT = Path(__file__).resolve().parents[1]
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
       "form-action 'none'")


def publish_cli(target: Path, *extra: str, umask: int = 0o077, env: dict[str, str] | None = None) -> None:
    """`chuzhi-graph publish` in a process with a strict umask (as a careful operator's shell has)."""
    result = subprocess.run(
        [sys.executable, "-m", "chuzhi_graph", "publish", "--data", str(ROOT / "data"), "--output-dir", str(target),
         *extra],
        capture_output=True, text=True, cwd=ROOT, preexec_fn=lambda: os.umask(umask),
        env={**os.environ, **(env or {})}, timeout=900)
    assert result.returncode == 0, result.stderr


def modes(root: Path) -> set[tuple[str, int]]:
    out = {("dir", stat.S_IMODE(root.stat().st_mode))}
    for path in root.rglob("*"):
        out.add(("dir" if path.is_dir() else "file", stat.S_IMODE(path.stat().st_mode)))
    return out


@pytest.fixture(scope="module")
def site() -> Iterator[Path]:
    # a folder others may enter, so that a process of another user can reach the site
    holder = Path(tempfile.mkdtemp(prefix="site-modes-"))
    holder.chmod(0o755)
    publish_cli(holder / "site")
    yield holder / "site"
    shutil.rmtree(holder, ignore_errors=True)


def test_site_is_world_readable_even_under_umask_077(site: Path) -> None:
    assert modes(site) == {("dir", 0o755), ("file", 0o644)}


def test_private_site_is_owner_only(tmp_path: Path) -> None:
    publish_cli(tmp_path / "site", "--private", umask=0o022)
    assert modes(tmp_path / "site") == {("dir", 0o700), ("file", 0o600)}


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("runuser") or not Path("/usr/bin/python3").exists(),
                    reason="needs root to act as another user, and a system Python")
def test_a_web_server_running_as_another_user_serves_every_page(site: Path) -> None:
    # Python's own file server as user nobody (the system Python: this venv may sit in /root)
    server = subprocess.Popen(
        ["runuser", "-u", "nobody", "--", "/usr/bin/python3", "-u", "-m", "http.server", "0", "--bind",
         "127.0.0.1", "--directory", str(site)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = server.stdout.readline() if server.stdout else ""
        found = re.search(r"port (\d+)", line)
        assert found, line
        port = int(found.group(1))
        pages = [*sorted(site.rglob("*.html"))[:40], site / "dataset" / "chuzhi.nt", site / "static" / "site.css"]
        for path in pages:
            url = f"http://127.0.0.1:{port}/{path.relative_to(site).as_posix()}"
            with urllib.request.urlopen(url, timeout=30) as response:
                assert response.status == 200, url
                assert response.read() == path.read_bytes()
    finally:
        server.terminate()
        server.wait(10)


def test_every_site_page_carries_the_csp(site: Path) -> None:
    pages = [p for p in site.rglob("*.html") if p.parent.name != "graphs"]
    assert len(pages) > 100
    for page in pages:
        meta = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").find(
            "meta", attrs={"http-equiv": "Content-Security-Policy"})
        assert meta is not None and meta["content"] == CSP, page


def test_csp_keeps_styles_and_blocks_a_javascript_link(site: Path, tmp_path: Path) -> None:
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    index = copy / "index.html"
    # what an unchecked URL would have made: a link that runs script when clicked
    index.write_text(index.read_text(encoding="utf-8").replace(
        "<main>", '<main><a id="evil" href="javascript:document.title=\'pwned\'">原文</a>', 1), encoding="utf-8")
    with launched() as browser:
        page = browser.new_page()
        blocked: list[str] = []
        page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(index.as_uri())
        assert page.evaluate("getComputedStyle(document.querySelector('header.site')).display") == "flex"
        title = page.title()
        page.click("#evil")
        time.sleep(0.5)
        assert page.title() == title != "pwned"
        assert any("script-src" in m or "default-src" in m for m in blocked), blocked


def test_non_web_source_urls_never_become_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import csv

    import chuzhi_graph.records.tables as records
    from chuzhi_graph.site.publish import publish

    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    path = data / "sources.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows[0]["url"] = "javascript:alert(document.cookie)"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    # the second wall: pretend the input check let it through (the site's link rule keeps its own)
    import chuzhi_graph.site.publish as publish_module

    monkeypatch.setattr(publish_module, "_is_web_url", records.is_web_url)
    monkeypatch.setattr(records, "is_web_url", lambda url: True)
    # and leftovers of killed publish runs: a staging folder beside the site, a work folder in temp
    (tmp_path / ".site.k1ll3d.tmp" / "dataset").mkdir(parents=True)
    temp = tmp_path / "tmp"
    (temp / "chuzhi-publish-k1ll3d").mkdir(parents=True)
    hour_ago = time.time() - 3700
    os.utime(temp / "chuzhi-publish-k1ll3d", (hour_ago, hour_ago))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    result = publish(data, tmp_path / "site")
    hrefs = [a["href"] for page in result.site.rglob("*.html") if page.parent.name != "graphs"
             for a in BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").find_all("a", href=True)]
    assert hrefs and not [h for h in hrefs if not h.startswith(("http://", "https://", "#")) and ":" in h]
    assert "javascript:alert" in (result.site / "source" / "jingchu-2022-09-20.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "site", "tmp"]
    assert list(temp.iterdir()) == []
