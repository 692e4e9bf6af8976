"""The ASV dashboard works with networking disabled once its CDN dependencies are vendored."""

from __future__ import annotations

import functools
import http.server
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import pytest

import asv
from wbstream.bench import offline as bench_offline
from wbstream.bench.offline import ASSETS, VendorError, external_resources, rewrite, vendor

ASV_INDEX = Path(asv.__file__).parent / "www" / "index.html"
BIN = Path(sys.executable).parent


def fake_cache(path: Path) -> Path:
    """npm tarballs holding a tiny stand-in for every vendored file (no network needed)."""
    path.mkdir()
    members: dict[str, dict[str, bytes]] = {}
    for a in ASSETS:
        members.setdefault(a.tarball, {})[f"package/{a.member}"] = f"/* {a.package} {a.member} */".encode()
    for tarball, files in members.items():
        with tarfile.open(path / tarball, "w:gz") as tar:
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


def test_the_installed_asv_page_loads_only_known_cdn_files():
    page = ASV_INDEX.read_text()
    urls = external_resources(page)
    assert len(urls) >= 9 and all(re.match(r"https://", u) for u in urls)
    assert external_resources(rewrite(page)) == []


def test_vendor_copies_every_file_and_rewrites_the_page(tmp_path):
    html = tmp_path / "html"
    html.mkdir()
    shutil.copy(ASV_INDEX, html / "index.html")
    (html / "error.html").write_text("<html><body>no scripts</body></html>")
    changed = vendor(html, fake_cache(tmp_path / "cache"))
    assert changed == [html / "index.html"]
    page = (html / "index.html").read_text()
    assert external_resources(page) == [] and "integrity=" not in page and "crossorigin" not in page
    for a in ASSETS:
        assert (html / a.local).read_bytes() == f"/* {a.package} {a.member} */".encode()
        if a.url:
            assert f'"{a.local}"' in page
    assert vendor(html, tmp_path / "cache") == []  # a second run finds nothing left to rewrite


def test_an_unknown_cdn_file_is_refused_and_nothing_changes(tmp_path):
    html = tmp_path / "html"
    html.mkdir()
    original = ASV_INDEX.read_text().replace("</head>", '<script src="https://cdn.example.org/new.js"></script></head>')
    (html / "index.html").write_text(original)
    with pytest.raises(VendorError, match="cdn.example.org/new.js"):
        vendor(html, fake_cache(tmp_path / "cache"))
    assert (html / "index.html").read_text() == original and not (html / "vendor").exists()


def test_no_npm_and_no_cache_is_one_clear_error(tmp_path, monkeypatch):
    html = tmp_path / "html"
    html.mkdir()
    shutil.copy(ASV_INDEX, html / "index.html")
    monkeypatch.setattr(bench_offline.shutil, "which", lambda name: None)
    with pytest.raises(VendorError, match="npm is not installed"):
        vendor(html, tmp_path / "empty-cache")
    assert bench_offline.main([str(tmp_path / "nowhere")]) == 2


# -- the real dashboard in a browser with no network -----------------------------------------

TINY_BENCH = 'def track_answer():\n    return 42\n\n\ndef time_nothing():\n    pass\n'


def publish_tiny_dashboard(root: Path) -> Path:
    """``asv run`` of two trivial benchmarks against this Python, then ``asv publish``: the html dir."""
    env = {**os.environ, "HOME": str(root)}  # asv keeps its machine file in ~
    (root / "benchmarks").mkdir()
    (root / "benchmarks" / "__init__.py").write_text("")
    (root / "benchmarks" / "bench_tiny.py").write_text(TINY_BENCH)
    (root / "asv.conf.json").write_text('{"version": 1, "project": "tiny", "project_url": "https://example.org/", '
                                        '"repo": ".", "branches": ["HEAD"], "environment_type": "existing", '
                                        '"benchmark_dir": "benchmarks", "results_dir": "results", "html_dir": "html"}')
    git = ["git", "-c", "user.email=t@example.org", "-c", "user.name=t"]
    for cmd in (git + ["init", "-q"], git + ["commit", "-q", "--allow-empty", "-m", "tiny"]):
        subprocess.run(cmd, cwd=root, check=True, env=env)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, check=True, capture_output=True,
                          text=True).stdout.strip()
    asv_bin = str(BIN / "asv")
    for cmd in ([asv_bin, "machine", "--yes", "--machine", "local"],
                [asv_bin, "run", "-E", f"existing:{sys.executable}", "--set-commit-hash", head, "--machine", "local",
                 "--quick"],
                [asv_bin, "publish"]):
        subprocess.run(cmd, cwd=root, check=True, env=env, capture_output=True, timeout=300)
    return root / "html"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        self.server.requests.append((self.path, args[1] if len(args) > 1 else ""))


def render_offline(html: Path) -> tuple[str, list]:
    """The DOM after scripts ran, in headless Chromium with every host but 127.0.0.1 unreachable."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(html)))
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/index.html"
        done = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                               "--disable-quic", "--proxy-server=http://127.0.0.1:9",
                               "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                               "--virtual-time-budget=8000", "--dump-dom", url],
                              capture_output=True, text=True, timeout=120)
        return done.stdout, list(server.requests)
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_the_published_dashboard_renders_with_networking_disabled(tmp_path):
    html = publish_tiny_dashboard(tmp_path)
    before, _ = render_offline(html)
    # the page as asv publishes it cannot load jQuery offline and redirects to its error page
    assert "failed to load" in before and "unladen tiny" not in before
    try:
        vendor(html)
    except VendorError as exc:  # no npm, or the registry is unreachable and nothing is cached
        pytest.skip(f"cannot fetch the dashboard's packages: {exc}")
    after, requests = render_offline(html)
    assert "airspeed velocity of an unladen tiny" in after  # asv.js ran: it titles the page from index.json
    assert "bench_tiny.track_answer" in after and "bench_tiny.time_nothing" in after
    assert "failed to load" not in after
    served = {path.split("?")[0]: status for path, status in requests}
    for a in ASSETS:
        if a.url:
            assert served.get("/" + a.local) == "200", (a.local, served)
