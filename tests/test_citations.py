"""Every document the project cites is in the repository (code, comments, tests and docs)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Folders that are not the project's own text: tools' caches, the virtualenv, an instance.
SKIPPED = {".git", ".venv", "var", "build", "dist", "__pycache__", "node_modules"}
# Anything path-like ending in .md, as in `docs/privacy.md`, "README.md" or (privacy.md).
CITATION = re.compile(r"(?<![\w./-])(\w[\w./-]*\.md)(?![\w-])")


def _project_files() -> list[Path]:
    found: list[Path] = []
    for path in sorted(ROOT.rglob("*")):
        parts = path.relative_to(ROOT).parts
        hidden = any(part.startswith(".") and part != ".ci" for part in parts)
        if hidden or SKIPPED.intersection(parts) or any(p.endswith(".egg-info") for p in parts):
            continue
        if path.is_file():
            found.append(path)
    return found


def _resolves(citation: str, citing: Path) -> bool:
    """Taken from the repository's top, from docs/, or from the citing file's folder; an
    installed path such as /opt/reticent/src/docs/privacy.md counts as docs/privacy.md."""
    if "docs/" in citation:
        citation = citation[citation.index("docs/") :]
    candidates = (ROOT / citation, ROOT / "docs" / citation, citing.parent / citation)
    return any(candidate.is_file() for candidate in candidates)


def missing_citations(text: str, citing: Path) -> list[str]:
    return [c for c in CITATION.findall(text) if not _resolves(c, citing)]


def test_the_checker_finds_a_missing_document() -> None:
    nowhere = "NOWHERE" + ".md"
    text = f"# see {nowhere}, docs/privacy.md and (architecture.md)\n"
    assert missing_citations(text, ROOT / "docs" / "privacy.md") == [nowhere]
    assert missing_citations(f"(docs/{nowhere})", ROOT / "core" / "x.py") == [f"docs/{nowhere}"]


def test_every_cited_document_exists() -> None:
    problems: list[str] = []
    files = _project_files()
    assert len(files) > 100, "the scan found too few files to be the repository"
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # not text
        for number, line in enumerate(text.splitlines(), start=1):
            for citation in missing_citations(line, path):
                problems.append(f"{path.relative_to(ROOT)}:{number}: {citation}")
    assert problems == []
