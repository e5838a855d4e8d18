"""The README's generated parts are current."""
from __future__ import annotations

import re

from kzgraph import catalog

from .conftest import ROOT


def _block(name: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- {name}:start -->\n(.*?)\n<!-- {name}:end -->", text, re.S)
    assert match, f"README has no {name} block"
    return match.group(1)


def test_catalog_table_is_current():
    assert _block("catalog") == catalog.markdown_table(catalog.load().values())


def test_checks_table_is_current():
    assert _block("checks") == catalog.markdown_table(catalog.checks().values())


def test_quick_start_has_exactly_two_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^make \w+", quick.split("```sh", 1)[1].split("```", 1)[0], re.M)
    assert commands == ["make run", "make test"]


def test_dataset_examples_are_current():
    """The console examples of the README's "Datasets" section give the output shown (each
    is `kzgraph ...` piped through `head` or `grep`)."""
    import shlex
    import subprocess

    from .conftest import run_cli

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Datasets: one source, or the sources compared", 1)[1]
    section = section.split("\n## ", 1)[0]
    blocks = re.findall(r"```console\n\$ (.*?)\n(.*?)```", section, re.S)
    assert len(blocks) >= 3
    for command, shown in blocks:
        first, *rest = command.split(" | ")
        done = run_cli(*shlex.split(first)[1:])
        assert done.returncode == 0, done.stderr
        out = done.stdout
        for step in rest:
            out = subprocess.run(shlex.split(step), input=out, capture_output=True,
                                 text=True).stdout
        assert out == shown, command
