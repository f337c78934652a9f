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


def test_the_readme_layout_table_names_every_module_of_the_library():
    readme = (REPO / "README.md").read_text()
    table = readme[readme.index("| layer | what it holds |"):readme.index("The demo `demo/`")]
    named = set(re.findall(r"`([\w/]+\.py)`", table))
    missing = [str(p.relative_to(REPO)) for p in sorted((REPO / "mlvae").rglob("*.py"))
               if p.name != "__init__.py" and p.name not in named]
    assert not missing, f"README.md's layout table should name: {missing}"
