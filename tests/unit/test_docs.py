"""The README and docs/: short README, every page reachable from it, no broken link, outputs in step.

The config table in docs/configuration.md is checked against Pulumi.yaml by
tests/unit/tools/test_config_docs.py (`make docs` rewrites it).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from offline_runner.mock_program import DeclaredProgram
from offline_runner.stack_config import REPO_ROOT

README = REPO_ROOT / "README.md"
DOCS = sorted((REPO_ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]
OUTPUTS_PAGE = REPO_ROOT / "docs" / "outputs.md"
README_MAX_LINES = 200

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
# [text](target): the text may wrap over lines, the target may not hold spaces.
LINK = re.compile(r"\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(([^()\s]+)\)")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
OUTPUT_ROW = re.compile(r"^\| `(\w+)` \|", re.MULTILINE)


def prose(page: Path) -> str:
    """The page without its fenced code blocks, where `#` starts a comment and `[x](y)` is code."""
    return FENCE.sub("", page.read_text())


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text, lower case, without punctuation, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: Counter[str] = Counter()
    found = set()
    for heading in HEADING.findall(prose(page)):
        base = slug(heading)
        found.add(f"{base}-{seen[base]}" if seen[base] else base)
        seen[base] += 1
    return found


def relative_links(page: Path) -> list[str]:
    return [target for target in LINK.findall(prose(page)) if not urlsplit(target).scheme]


def broken(page: Path, target: str) -> str | None:
    """Why a relative link of ``page`` leads nowhere, or None."""
    parts = urlsplit(target)
    path = (page.parent / unquote(parts.path)).resolve() if parts.path else page
    if REPO_ROOT not in path.parents and path != REPO_ROOT:
        return "outside the repository"
    if not path.exists():
        return "no such file"
    if parts.fragment and path.suffix == ".md" and parts.fragment not in anchors(path):
        return f"no heading #{parts.fragment} in {path.relative_to(REPO_ROOT)}"
    return None


def test_slugs_follow_github():
    assert slug("Benchmark: the tutorial's setup against this project") == (
        "benchmark-the-tutorials-setup-against-this-project"
    )
    assert slug("HTTPS, keep-alive and retries") == "https-keep-alive-and-retries"
    assert slug("`make test` and the L7 tier") == "make-test-and-the-l7-tier"


def test_headings_in_code_blocks_are_not_anchors(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n```sh\n# a comment\n```\n\n## Title\n")
    assert anchors(page) == {"title", "title-1"}


def test_there_are_docs_pages():
    assert {page.name for page in DOCS} >= {"configuration.md", "outputs.md", "known-limits.md"}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(REPO_ROOT)))
def test_every_relative_link_leads_to_a_file_and_heading(page):
    problems = {target: why for target in relative_links(page) if (why := broken(page, target))}
    assert not problems, f"{page.relative_to(REPO_ROOT)}: broken links {problems}"


def test_the_readme_links_every_docs_page():
    linked = {(README.parent / urlsplit(target).path).resolve() for target in relative_links(README)}
    assert [page.name for page in DOCS if page.resolve() not in linked] == []


def test_the_readme_is_short():
    lines = len(README.read_text().splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move the detail to docs/"


def test_the_outputs_page_lists_every_export_and_nothing_else(dev: DeclaredProgram, prod: DeclaredProgram):
    documented = OUTPUT_ROW.findall(OUTPUTS_PAGE.read_text())
    assert len(documented) == len(set(documented))
    assert sorted(documented) == sorted(dev.outputs) == sorted(prod.outputs)
