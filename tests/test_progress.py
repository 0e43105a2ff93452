"""Progress on stderr: a bar on a terminal (pseudo-terminal here), silent in pipes and under -q."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from chuzhi_graph.core.progress import LogReporter, RecordingReporter, advance, reporting, step, track
from chuzhi_graph.records.synth import generate

CHUZHI = str(Path(sys.executable).with_name("chuzhi-graph"))
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


def test_build_shows_progress_on_a_terminal_and_nothing_extra_on_stdout(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stdout, terminal = run_with_terminal_stderr(["build", "--data", str(corpus), "--out", str(out)], tmp_path)
    assert code == 0, terminal
    text = ANSI.sub("", terminal).replace("\r", "\n")
    for stage in ("read records", "map 200 cases", "validate", "write ttl, nt, jsonld", "interactive graphs"):
        assert stage in text, (stage, text)
    assert "built " in text and " triples: 200 cases" in text
    # stdout holds the written paths and nothing else
    assert stdout.splitlines() == [str(out / n) for n in (
        "chuzhi.ttl", "chuzhi.nt", "chuzhi.context.jsonld", "chuzhi.jsonld", "void.ttl", "build.json",
        "institutions.html", "cases.html", "domains.html")]


def test_quiet_is_silent_on_a_terminal(corpus: Path, tmp_path: Path) -> None:
    code, stdout, terminal = run_with_terminal_stderr(
        ["-q", "build", "--data", str(corpus), "--out", str(tmp_path / "out"), "--no-views"], tmp_path)
    assert code == 0
    assert terminal == ""
    assert stdout.count("\n") == 6


def test_pipes_get_no_progress_and_verbose_logs_step_times(corpus: Path, tmp_path: Path) -> None:
    piped = subprocess.run([CHUZHI, "build", "--data", str(corpus), "--out", str(tmp_path / "a"), "--no-views"],
                           capture_output=True, text=True, timeout=300)
    assert piped.returncode == 0
    summary = re.fullmatch(r"built (\d+) triples: 200 cases, 143 applicant units, 2 edition\(s\)\n", piped.stderr)
    assert summary, piped.stderr  # one line, nothing else
    verbose = subprocess.run([CHUZHI, "-v", "build", "--data", str(corpus), "--out", str(tmp_path / "b"),
                              "--no-views"], capture_output=True, text=True, timeout=300)
    times = [line for line in verbose.stderr.splitlines() if re.fullmatch(r"INFO: .+: \d+\.\d\d s(, \d+ done)?", line)]
    assert [t.split(":")[1].strip() for t in times] == [
        "read records", "map 200 cases", f"validate {summary.group(1)} triples (shacl)", "write ttl, nt, jsonld",
        "load the query store"]


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
