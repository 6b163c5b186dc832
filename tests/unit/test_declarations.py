"""One declaration per setting: its default is written there and nowhere
else, the Makefile and compose.yaml give none of their own, and
docs/running.md lists every setting as `make settings` prints it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from node.settings import Declared, Settings, declarations
from scripts.cluster import ROOT, ClusterConfig
from scripts.cluster.settings_table import END, START, settings_table

DECLARED = [*declarations(ClusterConfig), *declarations(Settings)]
SETTINGS_DOC = "docs/running.md"
DECLARING = {ROOT / "node" / "settings.py", ROOT / "scripts" / "cluster" / "config.py"}
# The loopback address everything binds to, and the first node's name that
# every script calls it by: not defaults of a setting's own.
NOT_DISTINCTIVE = {"127.0.0.1", "node1"}
# compose.yaml publishes nginx on the port `make up` uses, and YAML cannot
# read a declaration (tests/unit/test_compose.py checks that they agree).
ALLOWED = {("compose.yaml", "8080")}


def scanned() -> list[Path]:
    files = [*ROOT.glob("node/**/*.py"), *ROOT.glob("scripts/**/*.py"), *ROOT.glob("loadtest/**/*.py")]
    return [*files, ROOT / "Makefile", *ROOT.glob("nginx/*.template"), ROOT / "compose.yaml"]


def distinctive(default: object) -> str | None:
    """The default's literal if it is one no other text would have by chance."""
    if isinstance(default, bool):
        return None
    if isinstance(default, int | float) and default >= 100:
        return str(default)
    if isinstance(default, str) and re.search(r"[0-9:/]", default) and default not in NOT_DISTINCTIVE:
        return default
    return None


def test_no_default_is_written_twice() -> None:
    literals = {lit for d in DECLARED if (lit := distinctive(d.default)) is not None}
    texts = {path: path.read_text() for path in scanned()}
    twice = []
    for literal in sorted(literals):
        token = re.compile(rf"(?<![\w.]){re.escape(literal)}(?![\w])")
        found = [
            (path, n)
            for path, text in texts.items()
            if (n := len(token.findall(text))) and (str(path.relative_to(ROOT)), literal) not in ALLOWED
        ]
        # The declaration is the one occurrence allowed.
        if sum(n for _, n in found) > 1 or any(path not in DECLARING for path, _ in found):
            twice.append(f"{literal}: {', '.join(f'{p.relative_to(ROOT)} ×{n}' for p, n in found)}")
    assert not twice, "a declared default written again:\n" + "\n".join(twice)


def test_the_makefile_gives_no_declared_setting_a_default() -> None:
    makefile = (ROOT / "Makefile").read_text()
    defaulted = set(re.findall(r"^(\w+)\s*\?=", makefile, re.M))
    assert defaulted.isdisjoint(d.env for d in DECLARED), defaulted & {d.env for d in DECLARED}


def test_compose_gives_no_declared_setting_a_default_of_its_own() -> None:
    text = (ROOT / "compose.yaml").read_text()
    yaml.safe_load(text)  # it parses
    env = {d.env for d in DECLARED}
    own = [m.group(0) for m in re.finditer(r"\$\{(\w+):-([^}]+)\}", text) if m.group(1) in env]
    assert not own, f"an empty default lets the node's own apply: {own}"


@pytest.mark.parametrize("declared", DECLARED, ids=lambda d: d.env)
def test_the_docs_list_every_setting(declared: Declared) -> None:
    readme = (ROOT / SETTINGS_DOC).read_text()
    assert re.search(rf"^\| `{declared.env}` \|", readme, re.M), declared.env


def test_the_docs_settings_are_what_make_settings_prints() -> None:
    readme = (ROOT / SETTINGS_DOC).read_text()
    listed = readme.split(START, 1)[1].split(END, 1)[0]
    assert listed.strip() == settings_table().strip(), (
        "run: .venv/bin/python -c 'from scripts.cluster.settings_table import *; "
        'from pathlib import Path; p = Path("docs/running.md"); p.write_text(readme_with_table(p))\''
    )
