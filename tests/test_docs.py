"""The documentation keeps up with the commands (in the manner of sqlite-utils' tests/test_docs.py).

Every command has help, a row in the README and a concept page; docs/cli.md is the
commands' --help as it is now (tools/cli_docs.py writes it); every option the README and
docs/ show on a `chuzhi-graph` command line is an option that command has.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import click
import pytest

from chuzhi_graph.cli import cli

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
COMMANDS = sorted(cli.commands)


def load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cli_docs", ROOT / "tools" / "cli_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def visible_options(command: click.Command) -> set[str]:
    names = {"-h", "--help", "-v", "--verbose", "-q", "--quiet"}  # the group's, given before the command
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            names |= set(param.opts) | set(param.secondary_opts)
    return names


def test_cli_reference_is_up_to_date() -> None:
    tool = load_tool()
    assert (DOCS / "cli.md").read_text(encoding="utf-8") == tool.reference(), "run: python tools/cli_docs.py"


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help_and_every_option_too(name: str) -> None:
    command = cli.commands[name]
    assert (command.help or "").strip(), f"{name} has no help"
    undocumented = [p.opts[0] for p in command.params
                    if isinstance(p, click.Option) and not p.hidden and not (p.help or "").strip()]
    assert undocumented == []


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_a_section_a_readme_row_and_a_concept_page(name: str) -> None:
    reference = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert f"\n## chuzhi-graph {name}\n" in reference
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(rf"^\| `{name}\b", readme, re.MULTILINE), f"{name} has no row in the README's Commands table"
    page = load_tool().CONCEPT_DOCS[name]
    assert (DOCS / page).is_file()
    assert f"chuzhi-graph {name}" in (DOCS / page).read_text(encoding="utf-8") or name == "build"


def command_lines() -> list[tuple[str, int, str, list[str]]]:
    """``(file, line, command, options)`` for each command line shown in the README and docs/."""
    found = []
    pages = [ROOT / "README.md", *sorted(p for p in DOCS.rglob("*.md") if p.name != "cli.md")]
    for page in pages:
        if "decisions" in page.parts:  # the decisions quote the old spellings on purpose
            continue
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            shown = [(m.group(1), m.group(2)) for m in re.finditer(r"chuzhi-graph ([a-z]+)\b([^`|#>;&]*)", line)]
            row = re.match(r"^\| `([a-z]+)\b([^`]*)`", line)  # the README's Commands table
            if row:
                shown.append((row.group(1), row.group(2)))
            for command, rest in shown:
                if command not in cli.commands:
                    continue
                tokens = re.findall(r"(?<![\w/-])-{1,2}[\w-]+", rest)
                options = [re.sub(r"[=\[\]\),.:]+.*$", "", token) for token in tokens]
                found.append((str(page.relative_to(ROOT)), number, command, [o for o in options if o]))
    return found


def test_the_docs_show_command_lines() -> None:
    assert len(command_lines()) > 40  # the scan below reads the pages it should


def test_docs_show_only_options_the_commands_have() -> None:
    unknown = [f"{page}:{line}: chuzhi-graph {command} {option}" for page, line, command, options in command_lines()
               for option in options if option not in visible_options(cli.commands[command])]
    assert unknown == []


def test_links_stay_in_the_repository() -> None:
    """Every relative link of the README and docs/ names a file of the repository."""
    broken = []
    for page in [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        targets = re.findall(r"\]\(([^)\s]+)\)", text)
        if page.name == "README.md":  # a path in code there is one a reader of the clone would open
            targets += re.findall(r"`(\.\./[^`\s]+)`", text)
        for target in targets:
            if re.match(r"[a-z][a-z0-9+.-]*:|#", target):  # a URL or an anchor on the page
                continue
            path = (page.parent / target.split("#")[0]).resolve()
            if not path.is_relative_to(ROOT) or not path.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert broken == []
