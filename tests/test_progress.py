"""Progress on stderr: a bar with N/M on a terminal (pseudo-terminal here), a line per phase in pipes, nothing
under -q."""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tqdm import tqdm

from chuzhi_graph.core.progress import LogReporter, RecordingReporter, advance, reporting, step, track
from chuzhi_graph.records.synth import generate
from chuzhi_graph.records.tables import TABLES, read_table

CHUZHI = str(Path(sys.executable).with_name("chuzhi-graph"))


def format_sizeof(n: int) -> str:
    """How the bar writes a total: scaled from 10,000 on (280000 -> 280k, 16200 -> 16.2k)."""
    return str(tqdm.format_sizeof(n)) if n >= 10_000 else str(n)


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("synth") / "data"
    generate(data, cases=200, editions=2, seed=3)
    return data


def run_with_terminal_stderr(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal and stdout on a pipe."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([CHUZHI, *args], stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL,
                            cwd=cwd, env={**os.environ, "COLUMNS": "100", "TERM": "xterm"})
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(master)
    stdout = proc.stdout.read().decode("utf-8") if proc.stdout else ""
    proc.wait(timeout=300)
    return proc.returncode, stdout, b"".join(chunks).decode("utf-8", "replace")


#: the build's phases, in order; each counts what it does (its N/M on a terminal) but the store's load, an
#: engine call that shows its clock
PHASES = ("read record tables", "check records", "map cases", "validate triples (compiled)", "write ttl", "write nt",
          "describe the dataset", "load the query store")
#: a finished phase in a log: its time, then the count (of the total) and the rate when it counts
PHASE_LINE = re.compile(r"(?P<name>[^:]+): \d+\.\d\d s(, (?P<n>\d+)(/(?P<total>\d+))? (?P<unit>\w+), \d+ \w+/s)?")


def test_build_shows_progress_on_a_terminal_and_nothing_extra_on_stdout(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stdout, terminal = run_with_terminal_stderr(["build", "--data", str(corpus), "--out", str(out)], tmp_path)
    assert code == 0, terminal
    text = ANSI.sub("", terminal).replace("\r", "\n")
    for stage in ("read record tables", "check records", "map cases", "write ttl", "write nt", "write jsonld",
                  "interactive graphs"):
        assert stage in text, (stage, text)
    assert re.search(r"validate \d+ triples \(shacl\)", text), text
    assert re.search(r"map cases: +\d+%\|.*\| \d+/200 \[", text), text  # the total from the start
    assert "built " in text and " triples: 200 cases" in text
    # stdout holds the written paths and nothing else
    assert stdout.splitlines() == [str(out / n) for n in (
        "chuzhi.ttl", "chuzhi.nt", "chuzhi.context.jsonld", "chuzhi.jsonld", "void.ttl", "build.json",
        "institutions.html", "cases.html", "domains.html")]


def test_a_large_build_shows_n_of_m_and_a_rate_for_each_phase(tmp_path: Path) -> None:
    """10,000 cases on a terminal: every phase that can count shows N/M and its rate, not a stuck counter."""
    generate(tmp_path / "data", cases=10_000, editions=5, seed=0)
    code, _, terminal = run_with_terminal_stderr(
        ["build", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "out"), "--no-views"], tmp_path)
    assert code == 0, terminal
    text = ANSI.sub("", terminal).replace("\r", "\n")
    built = re.search(r"built (\d+) triples", text)
    assert built, text
    rows = sum(len(read_table(tmp_path / "data", name)[1]) for name in TABLES)
    totals = {"read record tables": format_sizeof(len(TABLES)), "check records": format_sizeof(rows),
              "map cases": format_sizeof(10_000)}
    for phase in PHASES[:-2]:  # a bar: N%|...| N/M [elapsed<left, rate unit/s]
        bars = re.findall(rf"^{re.escape(phase)}: +(\d+)%\|.*\| ([\d.]+k?)/([\d.]+k?) \[[\d:]+<[\d:?]+, +"
                          rf"[\d.?]+[kMG]? \w+/s\]", text, re.MULTILINE)
        assert bars, (phase, text)
        assert bars[0][2] == totals.get(phase, format_sizeof(int(built[1]))), bars  # the total from the start
        assert any(int(percent) > 0 for percent, _, _ in bars) or phase == "read record tables", (phase, bars)
    assert re.search(r"^load the query store \[[\d:]+\]", text, re.MULTILINE), text
    assert ": 0 [" not in text  # no counter stuck at 0 with a clock


def test_quiet_is_silent_on_a_terminal(corpus: Path, tmp_path: Path) -> None:
    code, stdout, terminal = run_with_terminal_stderr(
        ["-q", "build", "--data", str(corpus), "--out", str(tmp_path / "out"), "--no-views"], tmp_path)
    assert code == 0
    assert terminal == ""
    assert stdout.count("\n") == 6


def test_pipes_get_one_line_per_phase_with_its_time(corpus: Path, tmp_path: Path) -> None:
    piped = subprocess.run([CHUZHI, "build", "--data", str(corpus), "--out", str(tmp_path / "a"), "--no-views",
                            "--validate", "compiled"], capture_output=True, text=True, timeout=300)
    assert piped.returncode == 0, piped.stderr
    *phases, last = piped.stderr.splitlines()
    built = re.fullmatch(r"built (\d+) triples: 200 cases, 143 applicant units, 2 edition\(s\)", last)
    assert built, last
    lines = [PHASE_LINE.fullmatch(line) for line in phases]
    assert all(lines), phases
    assert [m["name"] for m in lines if m] == [*PHASES[:6], "write jsonld", *PHASES[6:]]
    counts = {m["name"]: (m["n"], m["total"], m["unit"]) for m in lines if m}
    assert counts["map cases"] == ("200", "200", "cases")
    assert counts["write nt"] == (built[1], built[1], "triples")
    assert counts["validate triples (compiled)"] == (built[1], built[1], "triples")
    assert counts["load the query store"] == (None, None, None)
    quiet = subprocess.run([CHUZHI, "-q", "build", "--data", str(corpus), "--out", str(tmp_path / "b"), "--no-views"],
                           capture_output=True, text=True, timeout=300)
    assert (quiet.returncode, quiet.stderr) == (0, "")


def test_a_failed_phase_has_no_line_and_the_error_is_last(corpus: Path, tmp_path: Path) -> None:
    broken = tmp_path / "data"
    shutil.copytree(corpus, broken)
    cases = (broken / "cases.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    header, first = cases[0].split(","), cases[1].split(",")
    first[header.index("domains")] = "星际航行"  # read, then refused by the check
    (broken / "cases.csv").write_text(cases[0] + ",".join(first) + "".join(cases[2:]), encoding="utf-8")
    piped = subprocess.run([CHUZHI, "build", "--data", str(broken), "--out", str(tmp_path / "o")],
                           capture_output=True, text=True, timeout=300)
    assert piped.returncode == 3
    *phases, error = piped.stderr.splitlines()
    assert [line.split(":")[0] for line in phases] == ["read record tables"]
    assert error.startswith(f"Error: {broken / 'cases.csv'}, line 2, field domains: unknown domain '星际航行'"), error


def test_library_reports_steps_without_click() -> None:
    with reporting(RecordingReporter()) as rec:
        for _ in track(["a", "b"], "items"):
            pass
        step("next")
        advance(3)
    assert rec.events == [("step", "items", 2), ("advance", 1), ("advance", 1), ("step", "next", None),
                          ("advance", 3), ("close",)]
    step("nobody listens")  # outside a reporting block: ignored
    log = LogReporter()
    with reporting(log):
        step("x")
    import chuzhi_graph.core.progress as progress_module

    assert "click" not in progress_module.__dict__
