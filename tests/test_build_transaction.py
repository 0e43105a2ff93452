"""`build` is one transaction: killed or failing runs leave the old out/, stale outputs go,
leftovers of killed runs are cleaned, and one build at a time writes a folder."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from chuzhi_graph.build import build
from chuzhi_graph.cli import cli
from chuzhi_graph.core.fileio import COMMIT_MARKER, claim, clean_leftovers, finish_move, release
from chuzhi_graph.errors import OutputError
from chuzhi_graph.records.synth import generate

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
VIEWS = ("institutions.html", "cases.html", "domains.html")
DUMPS = ("chuzhi.ttl", "chuzhi.nt", "chuzhi.jsonld", "chuzhi.context.jsonld", "void.ttl", "build.json")
#: the builds whose outputs are not compared with a pySHACL-validated build's bytes (build.json names the
#: engine) validate with the compiled shapes: validation is not this module's subject, and pySHACL takes
#: 7 of a 300-case build's 11 s (tests/test_scale.py: both engines find the same)
COMPILED = ("--validate", "compiled")


def digest(folder: Path) -> dict[str, str]:
    """Every visible file of the folder (not hidden ones, not the store)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")}


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "chuzhi_graph", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})


def wait_for(predicate, seconds: float = 300.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


@pytest.fixture(scope="module")
def synth300(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A corpus whose views take seconds to draw (the cases view: ~570 nodes)."""
    folder = tmp_path_factory.mktemp("synth") / "data"
    generate(folder, cases=300, editions=1, seed=2)
    return folder


@pytest.fixture(scope="module")
def old_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped data built with its views: the 'old' outputs a new build replaces."""
    out = tmp_path_factory.mktemp("old") / "out"
    build(DATA, out, views=True)
    return out


def copy_of(folder: Path, target: Path) -> Path:
    target.mkdir(parents=True)
    for p in folder.iterdir():
        if p.is_file():
            (target / p.name).write_bytes(p.read_bytes())
    return target


def test_kill_while_drawing_views_leaves_the_old_outputs(tmp_path: Path, old_out: Path, synth300: Path) -> None:
    out = copy_of(old_out, tmp_path / "out")
    before = digest(out)
    assert sorted(before) == sorted(DUMPS + VIEWS)
    proc = run_cli("build", "--data", str(synth300), "--out", str(out), *COMPILED)
    # the first view is complete in the staging folder: the second one is being drawn
    drawn = wait_for(lambda: any(out.glob("builds/*/institutions.html")) or proc.poll() is not None)
    assert drawn and proc.poll() is None, "the build ended before it could be killed while drawing"
    staged = sorted(p.name for p in next(out.glob("builds/*")).iterdir())
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert "institutions.html" in staged and "cases.html" not in staged and "chuzhi.nt" in staged
    assert digest(out) == before  # old dumps and old views, none of the new ones
    assert len(list(out.glob("builds/*"))) == 1 and not (out / "current").exists()  # what the killed run left
    # the next run cleans it up and puts a complete new build in place
    result = CliRunner().invoke(cli, ["build", "--data", str(DATA), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert digest(out) == before and hidden(out) == []
    assert list((out / "builds").iterdir()) == [(out / "current").resolve()]  # the killed run's build is gone


def test_failing_view_write_leaves_the_old_outputs(tmp_path: Path, old_out: Path, synth300: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import chuzhi_graph.views.render as render

    out = copy_of(old_out, tmp_path / "out")
    before = digest(out)
    real = render.write_text_atomic

    def full_disk(path: Path, text: str) -> Path:
        if Path(path).name == "cases.html":
            raise OutputError("cannot write: No space left on device", file=path)
        return real(path, text)

    monkeypatch.setattr(render, "write_text_atomic", full_disk)
    result = CliRunner().invoke(cli, ["build", "--data", str(synth300), "--out", str(out), *COMPILED])
    assert result.exit_code == 6
    assert result.stderr.splitlines()[-1].startswith("Error: ") and result.stderr.endswith(  # after the phases' lines
        "cases.html: cannot write: No space left on device\n")
    assert digest(out) == before and hidden(out) == []


def test_outputs_not_written_this_time_are_removed(tmp_path: Path, old_out: Path) -> None:
    out = copy_of(old_out, tmp_path / "out")
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "institutions.png").write_bytes(b"png")  # `render --format png` wrote it: not the build's
    (out / "store").mkdir()
    (out / "store" / "dump.json").write_text("{}", encoding="utf-8")
    result = build(DATA, out, formats=("ttl", "nt"), validate="compiled")  # no JSON-LD, no views
    assert sorted(p.name for p in result.files.values()) == ["build.json", "chuzhi.nt", "chuzhi.ttl", "void.ttl"]
    assert sorted(p.name for p in out.iterdir()) == [
        "build.json", "builds", "chuzhi.nt", "chuzhi.ttl", "current", "institutions.png", "notes.txt", "store",
        "void.ttl"]
    # the store is not a build output: it is kept, and refreshed to the new dump (store.refresh_store)
    assert '"file": "chuzhi.nt"' in (out / "store" / "dump.json").read_text(encoding="utf-8")
    # and `--no-views` after a build with views removes the views, which no longer match the dumps
    out2 = copy_of(old_out, tmp_path / "out2")
    result2 = CliRunner().invoke(cli, ["build", "--out", str(out2), "--no-views", *COMPILED])
    assert result2.exit_code == 0
    assert sorted(digest(out2)) == sorted(DUMPS)


def test_a_second_build_into_the_same_folder_refuses_or_waits(tmp_path: Path, synth300: Path,
                                                               old_out: Path) -> None:
    out = tmp_path / "out"
    first = run_cli("build", "--data", str(synth300), "--out", str(out), *COMPILED)
    assert wait_for(lambda: any(out.glob("builds/*")) or first.poll() is not None)
    assert first.poll() is None
    refused = CliRunner().invoke(cli, ["build", "--out", str(out)])
    assert refused.exit_code == 6
    assert refused.stderr == (f"Error: {out}: another `chuzhi-graph build` is writing this folder; "
                              "wait for it to end (or give --wait SECONDS)\n")
    waiting = run_cli("build", "--out", str(out), "--wait", "600")
    assert first.wait(600) == 0, first.stderr.read() if first.stderr else ""
    assert waiting.wait(600) == 0, waiting.stderr.read() if waiting.stderr else ""
    # the waiting build ran after the first one: its outputs, whole, and nothing of the first
    assert digest(out) == digest(old_out) and hidden(out) == []


def test_leftovers_of_killed_runs_are_cleaned_by_the_next_run(tmp_path: Path, old_out: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    out = copy_of(old_out, tmp_path / "out")
    temp = tmp_path / "tmp"
    temp.mkdir()
    (out / ".chuzhi.nt.k2j4h1x0.tmp").write_bytes(b"x" * 1000)  # AtomicFiles' temp of a killed run
    (out / ".staging-abc.tmp").mkdir()
    (out / ".staging-abc.tmp" / "chuzhi.nt").write_bytes(b"half")
    (out / ".notes.txt.tmp").write_bytes(b"not ours: another program's temporary file")
    (temp / "chuzhi-publish-zz9").mkdir()
    (temp / "chuzhi-publish-zz9" / "chuzhi.nt").write_bytes(b"work")
    hour_ago = time.time() - 3700  # folders in the shared temp folder are left alone for an hour
    os.utime(temp / "chuzhi-publish-zz9", (hour_ago, hour_ago))
    (temp / "chuzhi-publish-young").mkdir()
    live = out / ".cases.html.live0001.tmp"  # a running process's temp file: claimed, kept
    live.write_bytes(b"busy")
    claim(live)
    try:
        proc = run_cli("build", "--out", str(out), "--no-views", *COMPILED, env={"TMPDIR": str(temp)})
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        assert hidden(out) == [".cases.html.live0001.tmp", ".notes.txt.tmp"]
        assert [p.name for p in temp.iterdir()] == ["chuzhi-publish-young"]
    finally:
        release(live)
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    assert clean_leftovers(out, patterns=(".cases.html.*.tmp",)) == [live]


def test_a_move_interrupted_after_the_commit_mark_is_finished_by_the_next_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for name in ("chuzhi.ttl", "chuzhi.nt", "chuzhi.jsonld"):
        (out / name).write_text("old", encoding="utf-8")
    staging = out / ".staging-killed.tmp"
    staging.mkdir()
    (out / "chuzhi.ttl").write_text("new", encoding="utf-8")  # moved before the kill
    (staging / "chuzhi.nt").write_text("new", encoding="utf-8")  # not yet moved
    (staging / COMMIT_MARKER).write_text(json.dumps({"move": ["chuzhi.nt", "chuzhi.ttl"],
                                                    "remove": ["chuzhi.jsonld"]}), encoding="utf-8")
    assert clean_leftovers(out) == []  # without recovery it is left for the build
    assert staging.is_dir()
    clean_leftovers(out, recover=finish_move)
    assert sorted(p.name for p in out.iterdir()) == ["chuzhi.nt", "chuzhi.ttl"]
    assert {(out / n).read_text(encoding="utf-8") for n in ("chuzhi.nt", "chuzhi.ttl")} == {"new"}


def test_failed_build_into_a_new_folder_leaves_no_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["build", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 3
    assert not (tmp_path / "o").exists()


def test_the_store_beside_the_outputs_survives_and_follows_a_rebuild(tmp_path: Path, synth300: Path) -> None:
    out = tmp_path / "out"
    count = ["query", "--out", str(out), "--format", "csv", "--no-bom",
             "SELECT (COUNT(*) AS ?n) WHERE { ?c a <https://w3id.org/chuzhi/def#Case> }"]
    assert CliRunner().invoke(cli, ["build", "--out", str(out), "--no-views", *COMPILED]).exit_code == 0
    assert CliRunner().invoke(cli, count).stdout.splitlines() == ["n", "30"]  # 27 of 2022, 3 of the series
    assert (out / "store").is_dir()
    assert CliRunner().invoke(cli, ["build", "--data", str(synth300), "--out", str(out), "--no-views",
                                    *COMPILED]).exit_code == 0
    assert (out / "store").is_dir()
    assert CliRunner().invoke(cli, count).stdout.splitlines() == ["n", "300"]


# ---------------------------------------------------------------- the commit: one rename, killed at every step


KILL_BUILD = ("import sys; from chuzhi_graph.build import build; "
              "build(sys.argv[1], sys.argv[2], formats=tuple(sys.argv[3].split(',')), validate='compiled')")
COUNT_CASES = ["SELECT (COUNT(*) AS ?n) WHERE { ?c a <https://w3id.org/chuzhi/def#Case> }", "--format", "csv",
               "--no-bom"]


@pytest.fixture(scope="module")
def synth120(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("synth120") / "data"
    generate(folder, cases=120, editions=2, seed=3)
    return folder


def whole(folder: Path) -> dict[str, str]:
    """The visible files of a folder, links followed, dangling links left out."""
    return {n: h for n, h in digest(folder).items()}


@pytest.mark.parametrize("start", ["links", "files"])
def test_a_build_killed_at_every_step_of_its_commit_leaves_the_whole_old_or_the_whole_new_release(
        tmp_path: Path, synth120: Path, start: str) -> None:
    """`links`: the old build in this layout (ttl, nt; the new one adds JSON-LD: new names);
    `files`: regular files of the layout before builds/ and current (all formats; the new one
    leaves out JSON-LD: stale names). The kill hook stops the build at the K-th step of its commit."""
    from chuzhi_graph.core.fileio import current_build

    old_formats, new_formats = ("ttl,nt", "ttl,nt,jsonld") if start == "links" else ("ttl,nt,jsonld", "ttl,nt")
    old = tmp_path / "old"
    build(DATA, old, formats=tuple(old_formats.split(",")), validate="compiled", store=False)
    new = tmp_path / "new"
    build(synth120, new, formats=tuple(new_formats.split(",")), validate="compiled", store=False)
    releases = {"30": whole(old), "120": whole(new)}
    seen = []
    for step in range(1, 20):
        out = tmp_path / f"out{step}"
        if start == "links":
            subprocess.run(["cp", "-a", str(old), str(out)], check=True)
        else:
            copy_of(old, out)
        proc = subprocess.run([sys.executable, "-c", KILL_BUILD, str(synth120), str(out), new_formats],
                              capture_output=True, text=True, timeout=600,
                              env={**os.environ, "CHUZHI_GRAPH_KILL_AT": f"commit:{step}"})
        if proc.returncode == 0:
            break
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        answer = CliRunner().invoke(cli, ["query", "--graph", str(out), *COUNT_CASES])
        assert answer.exit_code == 0, answer.output
        cases = answer.stdout.splitlines()[1]
        seen.append(cases)
        # the query read one whole release, and the folder `current` shows is that release whole
        resolved = current_build(out) or out
        assert whole(resolved) == releases[cases], (step, cases)
        if start == "links":  # the stable names show the same release (in the older layout they may not until
            assert whole(out) == releases[cases], (step, cases)  # the one build that makes them links)
        # the next build repairs everything: the new release at every name, nothing left over
        build(synth120, out, formats=tuple(new_formats.split(",")), validate="compiled", store=False)
        assert whole(out) == releases["120"] and hidden(out) == []
        assert len(list((out / "builds").iterdir())) <= 2
    else:
        pytest.fail("the build was killed at 19 steps: the hook does not stop counting")
    print(f"{start}: killed at steps 1..{len(seen)}; query then read {seen}")
    assert seen[0] == "30" and seen[-1] == "120" and "120" in seen and seen == sorted(seen, key=int)


def test_readers_resolve_current_once_and_old_builds_are_pruned(tmp_path: Path, synth120: Path) -> None:
    from chuzhi_graph.core.dump import release_home
    from chuzhi_graph.release.reader import Release

    out = tmp_path / "out"
    build(DATA, out, formats=("nt",), validate="compiled", store=False)
    first = Release.open(out)
    assert first.dump == out / "builds" / "000001" / "chuzhi.nt"
    assert Release.open(out / "chuzhi.nt").dump == first.dump  # the stable link, resolved the same way
    assert release_home(first.dump) == out and (out / "chuzhi.nt").is_symlink()
    build(synth120, out, formats=("nt",), validate="compiled", store=False)
    # a reader that opened the first build still reads it whole; new readers read the second
    rdf_type = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    assert len({t.subject for t in first.triples() if t.predicate.value == rdf_type
                and t.object.value == "https://w3id.org/chuzhi/def#Case"}) == 30
    assert Release.open(out).dump == out / "builds" / "000002" / "chuzhi.nt"
    build(DATA, out, formats=("nt",), validate="compiled", store=False)
    assert sorted(p.name for p in (out / "builds").iterdir()) == ["000002", "000003"]  # current and the one before
    assert os.readlink(out / "current") == "builds/000003"
