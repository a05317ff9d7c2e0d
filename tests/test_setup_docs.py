"""What a new user reads about setting Patron up matches what Patron does.

The README's two commands, its `patron` command table and `.env.example` are
the first things a newcomer trusts; these tests fail when the code moves on
and they do not.
"""

import re
from pathlib import Path

from patron import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def settings_variables() -> set[str]:
    """Every PATRON_* environment variable patron/settings.py reads."""
    source = (ROOT / "patron" / "settings.py").read_text()
    return set(re.findall(r"env(?:_int|_bool|_list)?\(\s*\"(PATRON_[A-Z_]+)\"", source))


def test_env_example_lists_every_setting():
    """.env.example names every variable Patron reads (set or commented out)."""
    listed = set(re.findall(r"^#?\s*(PATRON_[A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    read = settings_variables()
    assert "PATRON_DATA_DIR" in read and "PATRON_PORT" in read
    assert read - listed == set()


def test_readme_table_names_every_setting():
    assert {v for v in settings_variables() if f"`{v}`" not in README} == set()


def test_readme_has_the_two_commands_and_the_makefile_has_them():
    makefile = (ROOT / "Makefile").read_text()
    assert "make run     #" in README and "make test    #" in README
    assert re.search(r"^run: ", makefile, re.M) and re.search(r"^test: ", makefile, re.M)
    # The first run's steps, in the order the README describes them.
    steps = ["patron) migrate", "patron) demo --if-empty", "patron) createowner", "patron) serve"]
    run_recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0].lower()
    positions = [run_recipe.find(step) for step in steps]
    assert -1 not in positions and positions == sorted(positions)


def test_readme_documents_every_patron_command():
    commands = re.findall(r"^\s+patron (\w+)", cli.USAGE, re.M)
    assert {"serve", "migrate", "createowner", "demo", "check"} <= set(commands)
    assert [c for c in commands if f"| `patron {c}" not in README] == []
