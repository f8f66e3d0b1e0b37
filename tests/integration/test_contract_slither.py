"""Static analysis of the contract with Slither: no high, medium or low finding stands unexplained.

Slither builds contracts/Community.sol through forge (foundry.toml: the pinned solc-js behind
scripts/solc, offline), so nothing is downloaded. A finding counts as explained only when the
line before one of its places is `// slither-disable-next-line <its detector>` and the comment
lines right above that directive say why; this test applies that rule itself, on Slither's full
list (--show-ignored-findings), so a bare directive explains nothing. A directive that explains
no finding any more fails too, so stale ones do not pile up.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.integration.foundry import ROOT, forge_env

SOURCE = "contracts/Community.sol"
JUDGED = {"High", "Medium", "Low"}
DIRECTIVE = re.compile(r"^\s*//\s*slither-disable-next-line\s+([\w,-]+)\s*$")
COMMENT = re.compile(r"^\s*//(?!\s*slither-)\s*(.*)$")
MIN_WHY_WORDS = 5


@dataclass(frozen=True)
class Finding:
    check: str
    impact: str
    description: str
    lines: tuple[int, ...]  # first line of each of its places in SOURCE


def run_slither(workdir: Path) -> list[Finding]:
    """Slither's findings on SOURCE, ignored ones included, from a fresh forge build.

    The optimizer is off for this build only: Slither reads the AST, which the optimizer does
    not change, and an unoptimised via-IR build of solc-js takes a third of the time.
    """
    out = ROOT / "build" / "slither"
    shutil.rmtree(out, ignore_errors=True)
    env = forge_env() | {
        "FOUNDRY_OUT": str(out / "out"),
        "FOUNDRY_CACHE_PATH": str(out / "cache"),
        "FOUNDRY_OPTIMIZER": "false",
    }
    report = workdir / "slither.json"
    command = [sys.executable, "-m", "slither", SOURCE, "--foundry-out-directory", str(out / "out")]
    command += ["--show-ignored-findings"]
    command += ["--exclude-informational", "--exclude-optimization"]
    result = subprocess.run(
        [*command, "--json", str(report)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1100,
        check=False,
    )
    assert report.is_file(), "slither did not run:\n" + result.stdout + result.stderr
    data = json.loads(report.read_text())
    assert data["success"], f"slither failed: {data['error']}\n{result.stderr}"
    # Findings only in imported libraries (OpenZeppelin's, node_modules) are theirs to judge. This
    # filter is Slither's --exclude-dependencies, which Slither skips under --show-ignored-findings.
    return [_finding(r) for r in data["results"].get("detectors", []) if not _in_dependencies_only(r)]


def _in_dependencies_only(result: dict[str, Any]) -> bool:
    places = [e.get("source_mapping", {}) for e in result["elements"]]
    return bool(places) and all(p.get("is_dependency", False) for p in places)


def _finding(result: dict[str, Any]) -> Finding:
    lines = tuple(
        min(e["source_mapping"]["lines"])
        for e in result["elements"]
        if e.get("source_mapping", {}).get("filename_relative") == SOURCE and e["source_mapping"]["lines"]
    )
    return Finding(result["check"], result["impact"], result["description"].strip(), lines)


def directives(source: list[str]) -> dict[int, tuple[set[str], str]]:
    """Each directive's line number (1-based) -> the detectors it names, and its why-comment."""
    found: dict[int, tuple[set[str], str]] = {}
    for index, text in enumerate(source):
        match = DIRECTIVE.match(text)
        if not match:
            continue
        why: list[str] = []
        above = index - 1
        while above >= 0 and (comment := COMMENT.match(source[above])):
            why.insert(0, comment.group(1))
            above -= 1
        found[index + 1] = (set(match.group(1).split(",")), " ".join(why).strip())
    return found


def explained_by(finding: Finding, known: dict[int, tuple[set[str], str]]) -> int | None:
    """The directive line explaining `finding`: the line before one of its places, naming its
    detector, with a why of MIN_WHY_WORDS words or more."""
    for line in finding.lines:
        checks, why = known.get(line - 1, (set(), ""))
        if finding.check in checks and len(why.split()) >= MIN_WHY_WORDS:
            return line - 1
    return None


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_every_slither_finding_is_fixed_or_explained(tmp_path: Path) -> None:
    findings = [f for f in run_slither(tmp_path) if f.impact in JUDGED]
    known = directives((ROOT / SOURCE).read_text().splitlines())
    unexplained = [f for f in findings if explained_by(f, known) is None]
    assert not unexplained, "Slither findings to fix, or to explain above a slither-disable-next-line:\n" + (
        "\n".join(f"[{f.impact} {f.check}] {f.description}" for f in unexplained)
    )
    used = {explained_by(f, known) for f in findings}
    stale = sorted(set(known) - used)
    assert not stale, f"slither-disable-next-line directives that explain no finding: {SOURCE} lines {stale}"


def test_a_bare_directive_explains_nothing() -> None:
    # The rule above on a made-up source: the why must be a comment right above the directive.
    source = [
        "    // A sentinel: zero means no request, as a block's timestamp is never zero.",
        "    // slither-disable-next-line timestamp",
        "    if (a == 0) revert X();",
        "    x = 1;",
        "    // slither-disable-next-line timestamp",
        "    if (b == 0) revert Y();",
    ]
    known = directives(source)
    explained = Finding("timestamp", "Low", "a", (3,))
    bare = Finding("timestamp", "Low", "b", (6,))
    other_detector = Finding("incorrect-equality", "Medium", "a", (3,))
    assert explained_by(explained, known) == 2
    assert explained_by(bare, known) is None
    assert explained_by(other_detector, known) is None


def test_only_findings_wholly_in_libraries_are_left_out() -> None:
    # A finding that touches the contract (say, its call of a library function) stays in.
    library = {"source_mapping": {"is_dependency": True}}
    own = {"source_mapping": {"is_dependency": False}}
    assert _in_dependencies_only({"elements": [library, library]})
    assert not _in_dependencies_only({"elements": [library, own]})
    assert not _in_dependencies_only({"elements": []})
