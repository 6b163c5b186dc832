"""The README and docs/: every link leads somewhere, every `make` target
they name exists, the README stays short, each doc says first what a
reader gets from it, and the Chinese README tells the same story."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scripts.cluster import ROOT

DOCS = sorted([ROOT / "README.md", ROOT / "README.zh-CN.md", ROOT / "SECURITY.md", *ROOT.glob("docs/*.md")])
TARGETS = set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.M))


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("doc", DOCS, ids=rel)
def test_every_link_leads_to_a_file_that_exists(doc: Path) -> None:
    text = doc.read_text()
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+://", target) or target.startswith("#"):
            continue
        assert (doc.parent / target.split("#", 1)[0]).exists(), f"{rel(doc)} links to {target}"


def code(text: str) -> str:
    """The code in a markdown text: its fenced blocks and inline spans."""
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", text, re.M | re.S)
    return "\n".join([*blocks, *re.findall(r"`([^`\n]+)`", text)])


@pytest.mark.parametrize("doc", DOCS, ids=rel)
def test_every_make_target_named_exists(doc: Path) -> None:
    named = set(re.findall(r"\bmake ([a-z][a-z-]*)", code(doc.read_text())))
    assert named <= TARGETS, f"{rel(doc)} names make {', '.join(sorted(named - TARGETS))}"


def test_the_readme_is_read_in_five_minutes() -> None:
    for name in ("README.md", "README.zh-CN.md"):
        assert len((ROOT / name).read_text().splitlines()) <= 200, name


@pytest.mark.parametrize("doc", sorted(ROOT.glob("docs/*.md")), ids=rel)
def test_each_doc_starts_with_what_its_reader_gets(doc: Path) -> None:
    lines = [line for line in doc.read_text().splitlines() if line.strip()]
    assert lines[0].startswith("# ")
    opening = "这里" if doc.name.endswith(".zh-CN.md") else "What you get here"
    assert lines[1].startswith(opening), f"{rel(doc)}: {lines[1]!r}"


def story(text: str) -> dict[str, object]:
    """What the two READMEs must share: their sections, the commands they
    show, and their figures and dates."""
    commands = re.findall(r"^\$? ?(make [^#\n]*?)\s*(?:#.*)?$", text, re.M)
    commands += re.findall(r"`(make [^`]+)`", text)
    return {
        "sections": len(re.findall(r"^## ", text, re.M)),
        "commands": sorted({c.strip() for c in commands}),
        "figures": sorted(set(re.findall(r"\b\d[\d,.]*\s?(?:%|MB|ms|×|s\b)", text))),
        "dates": sorted(set(re.findall(r"\b20\d\d-\d\d-\d\d\b", text))),
        # Pictures may differ (the page's screenshot in Chinese), and each
        # README links the lesson in its own language.
        "links": sorted(
            {
                link
                for link in re.findall(r"\]\(((?:docs/|SECURITY)[^)#]*)", text)
                if not link.endswith(".png")
            }
            - {"docs/lesson.zh-CN.md", "docs/lesson.md"}
        ),
    }


def test_the_chinese_readme_tells_the_same_story() -> None:
    english = story((ROOT / "README.md").read_text())
    chinese = story((ROOT / "README.zh-CN.md").read_text())
    for part in english:
        assert chinese[part] == english[part], part


def test_the_lesson_is_told_in_both_languages() -> None:
    english = (ROOT / "docs/lesson.md").read_text()
    chinese = (ROOT / "docs/lesson.zh-CN.md").read_text()
    for name in re.findall(r"`MISTAKE=([a-z-]+)`", english):
        assert f"MISTAKE={name}" in chinese, name
    assert len(re.findall(r"^\| \d \|", english, re.M)) == len(re.findall(r"^\| \d \|", chinese, re.M)) == 8
