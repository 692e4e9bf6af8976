"""The package, tests, docs and README are self-contained: no pointer to a file outside the repository.

Papers are cited by author and venue, or by an anchor of docs/references.md, which must exist.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Spelled in pieces so that this file does not match itself.
FORBIDDEN = ["papers" + ".md", "DES" + "IGN", "../" + "shared", "anchors" + ".md"]


def _texts():
    paths = [ROOT / "README.md"]
    for folder in ("wbstream", "tests", "docs", "benchmarks"):
        paths += [p for p in (ROOT / folder).rglob("*") if p.is_file() and p.suffix in (".py", ".md", ".sh", ".toml", ".json", ".pyx", ".pxd", ".txt")]
    for p in paths:
        yield p, p.read_text(encoding="utf-8", errors="replace")


def test_no_reference_to_files_outside_the_repository():
    found = [f"{p.relative_to(ROOT)}:{i}: {word}" for p, text in _texts()
             for i, line in enumerate(text.splitlines(), 1) for word in FORBIDDEN if word in line]
    assert not found, "\n".join(found)


def test_every_reference_anchor_exists():
    anchors = set(re.findall(r'<a id="([a-z0-9-]+)"></a>', (ROOT / "docs" / "references.md").read_text()))
    assert {"fjw24", "fw23", "abjsswz22"} <= anchors
    cited = {(p.relative_to(ROOT), a) for p, text in _texts()
             for a in re.findall(r"references\.md#([a-z0-9-]+)", text)}
    cited |= {(p.relative_to(ROOT), a) for p, text in _texts() for a in re.findall(r", #([a-z0-9-]+)\)", text)}
    missing = sorted(f"{p}: #{a}" for p, a in cited if a not in anchors)
    assert not missing, missing
