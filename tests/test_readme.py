"""The README's examples are executed, so it stays true."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_the_format_example_is_the_quickstart_file():
    example = re.search(r"<!-- example:start -->\n```yaml\n(.*?)```\n<!-- example:end -->",
                        README, flags=re.S)
    assert example, "README lost its example markers"
    assert example.group(1) == (ROOT / "scenarios/examples/quickstart.yaml").read_text()


def test_python_examples_run(monkeypatch):
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {}
    for code in blocks("python"):
        exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102


def test_run_examples_print_what_the_readme_shows():
    """Each `$ ilrs run ...` block gives the lines shown (but the timing line)."""
    runs = [b for b in blocks("console") if b.startswith("$ ilrs run")]
    assert runs
    for block in runs:
        command, *shown = block.strip().splitlines()
        args = command.removeprefix("$ ilrs ").split()
        done = subprocess.run([sys.executable, "-m", "sim", *args, "--workers", "1"],
                              capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        printed = done.stdout.splitlines()
        keep = [line for line in shown if not line.startswith("Trials")]
        assert [line for line in printed if not line.startswith("Trials")] == keep


def test_validate_example_matches(tmp_path):
    """The broken file behind the README's validate example gives exactly those lines."""
    block = next(b for b in blocks("console") if b.startswith("$ ilrs validate broken.yaml"))
    expected = block.strip().splitlines()[1:]
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN)
    done = subprocess.run([sys.executable, "-m", "sim", "validate", "broken.yaml"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines()[: len(expected)] == expected


BROKEN = """\
scenario: Broken
as_of: 2026-04-30
activities:
  ce7:
    name: Chang'e-7
    duration: 4
    succes: 0.9
  ce8:
    after: [ce_7]
    success: 1.2
    duration: 3
goal:
  name: g
  deadline: 2035-12-31
  requires: ce8
"""


def test_headline_answer_is_what_the_code_gives():
    """The README's results section (written by `make figures`) matches a re-run of the baseline,
    so a scenario change without `make figures` fails here instead of leaving stale numbers."""
    sys.path.insert(0, str(ROOT / "docs"))
    import make_figures

    from sim import load_scenario, run

    section = re.search(r"<!-- results:start -->\n(.*?)<!-- results:end -->", README, flags=re.S)
    assert section, "README lost its results markers"
    res = run(load_scenario(ROOT / "scenarios/ilrs_baseline.yaml"), trials=make_figures.TRIALS,
              seed=make_figures.SEED)
    lo, hi = res.ci95
    assert make_figures.headline(res.probability, lo, hi) in section.group(1)
    assert (ROOT / make_figures.FIGURE).exists()
