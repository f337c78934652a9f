"""The README stays a five-minute read whose commands are the ones CI runs, and every link in it and in docs/
leads to a file of the repository."""
import re

from tests.conftest import REPO

LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_the_readme_gives_the_test_command_ci_runs_verbatim():
    ci = (REPO / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert "python -m pytest" in ci and ci in (REPO / "README.md").read_text()


def test_the_readme_is_under_200_lines():
    assert len((REPO / "README.md").read_text().splitlines()) < 200


def test_every_relative_link_in_the_readme_and_docs_leads_to_a_file():
    broken = []
    for page in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for target in LINK.findall(page.read_text()):
            if "://" not in target and not (page.parent / target).exists():
                broken.append(f"{page.relative_to(REPO)}: {target}")
    assert not broken, broken
