"""Make the published ASV dashboard work offline: vendor its JavaScript and CSS.

``asv publish`` writes an ``index.html`` that loads jQuery, Flot, Bootstrap and three
small plugins from CDNs; with no network the page redirects to asv's "failed to load"
error page. This module fetches the same libraries as packages from the npm registry
(``npm pack``, which checks each tarball against the registry's integrity hash), copies
the files into ``HTML_DIR/vendor/`` and points the page's tags at those copies::

    python -m wbstream.bench.offline benchmarks/html    # after `asv publish` (make bench does it)

Tarballs are cached (``$XDG_CACHE_HOME/wbstream/asv-vendor``, else ``~/.cache/...``), so
only the first run needs the registry. A script or stylesheet from a host this module
does not know (a newer asv's) is refused with :class:`VendorError` rather than left
pointing at the network.

>>> page = '<script src="https://code.jquery.com/jquery-3.3.1.min.js" integrity="sha256-x" crossorigin="anonymous"></script>'
>>> rewrite(page)
'<script src="vendor/js/jquery.min.js"></script>'
>>> external_resources(page), external_resources(rewrite(page))
(['https://code.jquery.com/jquery-3.3.1.min.js'], [])
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

from wbstream.engine.errors import WbstreamError


class VendorError(WbstreamError, RuntimeError):
    """A dependency could not be vendored (no npm, no registry, or a CDN URL this module does not know)."""


@dataclass(frozen=True)
class Asset:
    """One file of an npm package, and the CDN URL it replaces (None: needed by another asset)."""

    url: str | None
    package: str      # name@version, as `npm pack` takes it
    member: str       # path inside the package
    local: str        # path under HTML_DIR

    @property
    def tarball(self) -> str:
        """The file name `npm pack` gives the package's tarball."""
        name, version = self.package.rsplit("@", 1)
        return f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"


_CDNJS = "https://cdnjs.cloudflare.com/ajax/libs"
_FONTS = [Asset(None, "bootstrap@3.1.1", f"dist/fonts/glyphicons-halflings-regular.{ext}",
                f"vendor/fonts/glyphicons-halflings-regular.{ext}") for ext in ("eot", "svg", "ttf", "woff")]

#: What asv 0.6's index.html loads from CDNs, and the npm files that replace it. Flot's
#: plugins come unminified from npm; stupidtable is on npm as stupid-table-plugin (1.1.3,
#: the same ``$.fn.stupidtable`` API as the CDN's 1.0.1).
ASSETS: tuple[Asset, ...] = (
    Asset("https://code.jquery.com/jquery-3.3.1.min.js", "jquery@3.3.1", "dist/jquery.min.js",
          "vendor/js/jquery.min.js"),
    Asset(f"{_CDNJS}/flot/0.8.3/jquery.flot.min.js", "flot@0.8.3", "jquery.flot.js", "vendor/js/jquery.flot.js"),
    Asset(f"{_CDNJS}/flot/0.8.3/jquery.flot.time.min.js", "flot@0.8.3", "jquery.flot.time.js",
          "vendor/js/jquery.flot.time.js"),
    Asset(f"{_CDNJS}/flot/0.8.3/jquery.flot.selection.min.js", "flot@0.8.3", "jquery.flot.selection.js",
          "vendor/js/jquery.flot.selection.js"),
    Asset(f"{_CDNJS}/flot/0.8.3/jquery.flot.categories.min.js", "flot@0.8.3", "jquery.flot.categories.js",
          "vendor/js/jquery.flot.categories.js"),
    Asset("https://cdn.jsdelivr.net/npm/flot-orderbars@1.0.0/js/jquery.flot.orderBars.js", "flot-orderbars@1.0.0",
          "js/jquery.flot.orderBars.js", "vendor/js/jquery.flot.orderBars.js"),
    Asset(f"{_CDNJS}/stupidtable/1.0.1/stupidtable.min.js", "stupid-table-plugin@1.1.3", "stupidtable.min.js",
          "vendor/js/stupidtable.min.js"),
    Asset(f"{_CDNJS}/blueimp-md5/2.19.0/js/md5.min.js", "blueimp-md5@2.19.0", "js/md5.min.js",
          "vendor/js/md5.min.js"),
    Asset("https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/js/bootstrap.min.js", "bootstrap@3.1.1",
          "dist/js/bootstrap.min.js", "vendor/js/bootstrap.min.js"),
    Asset("https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/css/bootstrap.min.css", "bootstrap@3.1.1",
          "dist/css/bootstrap.min.css", "vendor/css/bootstrap.min.css"),
    *_FONTS,  # bootstrap.min.css loads ../fonts/glyphicons-halflings-regular.*
)
_BY_URL = {a.url: a for a in ASSETS if a.url}

# A <script src=...> or <link href=...> tag; the URL is group 2.
_TAG = re.compile(r"<(script|link)\b[^>]*?\b(?:src|href)=\"([^\"]+)\"[^>]*>", re.I)
# Attributes that only make sense for a cross-origin fetch (SRI needs CORS, which file:// lacks).
_CROSS_ORIGIN = re.compile(r"\s+(?:integrity|crossorigin|referrerpolicy)=\"[^\"]*\"", re.I)


def _is_resource(tag: str, kind: str) -> bool:
    """Scripts, and links the page loads (stylesheets, icons); not <a> or rel=alternate feeds."""
    if kind.lower() == "script":
        return True
    rel = re.search(r"\brel=\"([^\"]*)\"", tag, re.I)
    return rel is not None and rel.group(1).lower() not in ("alternate", "canonical")


def external_resources(html: str) -> list[str]:
    """The http(s) URLs of scripts and stylesheets the page would fetch from the network."""
    return [m.group(2) for m in _TAG.finditer(html)
            if _is_resource(m.group(0), m.group(1)) and re.match(r"(?:https?:)?//", m.group(2))]


def rewrite(html: str) -> str:
    """``html`` with every known CDN tag pointing at its vendored copy; an unknown external one raises."""
    def local(m: re.Match) -> str:
        tag, url = m.group(0), m.group(2)
        if not _is_resource(tag, m.group(1)) or not re.match(r"(?:https?:)?//", url):
            return tag
        asset = _BY_URL.get(url)
        if asset is None:
            raise VendorError(f"the dashboard loads {url}, which wbstream.bench.offline does not vendor; "
                              f"add it to ASSETS")
        return _CROSS_ORIGIN.sub("", tag.replace(url, asset.local))
    return _TAG.sub(local, html)


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "wbstream" / "asv-vendor"


def fetch(cache: Path, assets=ASSETS) -> dict[str, Path]:
    """Each package's tarball in ``cache``, fetched with ``npm pack`` if it is not there yet."""
    cache.mkdir(parents=True, exist_ok=True)
    out = {}
    for asset in assets:
        path = cache / asset.tarball
        if asset.package not in out and not path.exists():
            npm = shutil.which("npm")
            if npm is None:
                raise VendorError(f"{asset.package} is not in {cache} and npm is not installed to fetch it")
            done = subprocess.run([npm, "pack", asset.package, "--pack-destination", str(cache), "--silent"],
                                  capture_output=True, text=True, timeout=300)
            if done.returncode != 0 or not path.exists():
                why = (done.stderr.strip().splitlines() or ["no output"])[-1]
                raise VendorError(f"npm pack {asset.package} failed: {why}")
        out[asset.package] = path
    return out


def vendor(html_dir: str | Path, cache: str | Path | None = None) -> list[Path]:
    """Copy every asset into ``html_dir/vendor`` and rewrite the dashboard's pages; the pages rewritten."""
    html_dir = Path(html_dir)
    pages = sorted(html_dir.glob("*.html"))
    if not (html_dir / "index.html").is_file():
        raise VendorError(f"{html_dir} holds no index.html: run `asv publish` first")
    rewritten = {p: rewrite(p.read_text(encoding="utf-8")) for p in pages}  # refuse unknown URLs first
    tarballs = fetch(Path(cache) if cache is not None else default_cache())
    for asset in ASSETS:
        with tarfile.open(tarballs[asset.package], "r:gz") as tar:
            try:
                data = tar.extractfile(f"package/{asset.member}")
            except KeyError:
                data = None
            if data is None:
                raise VendorError(f"{asset.package} has no file {asset.member}")
            target = html_dir / asset.local
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data.read())
    changed = []
    for page, text in rewritten.items():
        if text != page.read_text(encoding="utf-8"):
            page.write_text(text, encoding="utf-8")
            changed.append(page)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wbstream.bench.offline", description=__doc__.split("\n\n")[0])
    parser.add_argument("html_dir", help="the directory `asv publish` wrote (benchmarks/html)")
    parser.add_argument("--cache", default=None, help=f"where npm tarballs are kept (default: {default_cache()})")
    args = parser.parse_args(argv)
    try:
        changed = vendor(args.html_dir, args.cache)
    except VendorError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    print(f"vendored {len({a.package for a in ASSETS})} packages into {Path(args.html_dir) / 'vendor'}; "
          f"rewrote {len(changed)} page(s): the dashboard loads nothing from the network")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
