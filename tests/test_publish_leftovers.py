"""`publish` leaves nothing behind when killed, wherever: temp folder, staging, the old site; a symlinked
--output-dir is followed (the folder it points to is replaced, the link stays)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from chuzhi_graph.core.fileio import CLAIMED_MARK

ROOT = Path(__file__).resolve().parents[1]


def publish(output: Path, temp: Path, kill_at: str | None = None, data: Path = ROOT / "data"):
    env = {**os.environ, "TMPDIR": str(temp)}
    if kill_at:
        env["CHUZHI_GRAPH_KILL_AT"] = kill_at
    return subprocess.run([sys.executable, "-m", "chuzhi_graph", "publish", "--data", str(data),
                           "--output-dir", str(output)], capture_output=True, text=True, timeout=900, env=env)


def ours(temp: Path) -> list[str]:
    return sorted(p.name for p in temp.iterdir() if p.name.startswith("chuzhi-publish-"))


def test_killed_publishes_leave_nothing_and_a_symlinked_site_is_followed(tmp_path: Path) -> None:
    temp, www, out = tmp_path / "tmp", tmp_path / "www", tmp_path / "out"
    temp.mkdir()
    www.mkdir()
    out.mkdir()
    link = out / "site"
    link.symlink_to("../www/chuzhi")  # the site is served from elsewhere
    real = www / "chuzhi"
    (temp / "chuzhi-publish-older-version").mkdir()  # a young folder without the mark: maybe an old run's, kept

    first = publish(link, temp)
    assert first.returncode == 0, first.stderr
    assert link.is_symlink() and os.readlink(link) == "../www/chuzhi"
    manifest = (real / "dataset" / "manifest.json").read_text(encoding="utf-8")
    assert sorted(p.name for p in www.iterdir()) == ["chuzhi"] and sorted(p.name for p in out.iterdir()) == ["site"]
    assert ours(temp) == ["chuzhi-publish-older-version"]

    # killed with the site written but not moved in: its work folder in temp, its staging folder beside the site
    killed = publish(link, temp, kill_at="publish:1")
    assert killed.returncode == -signal.SIGKILL
    left = [n for n in ours(temp) if n != "chuzhi-publish-older-version"]
    assert len(left) == 1 and (temp / left[0] / CLAIMED_MARK).is_file()
    assert len(list(www.glob(".chuzhi.*.tmp"))) == 1
    assert (real / "dataset" / "manifest.json").read_text(encoding="utf-8") == manifest

    # killed between the two renames of the swap: the old site sits at .chuzhi.old-PID, none at the target
    swapped = publish(link, temp, kill_at="publish-swap:1")
    assert swapped.returncode == -signal.SIGKILL
    assert ours(temp) == ["chuzhi-publish-older-version"]  # the first kill's work folder went at once
    assert not real.exists()
    # the old site and the first kill's staging folder (its random name may sort either side of "old-")
    olds = sorted(p.name for p in www.iterdir())
    assert len(olds) == 2 and all(name.startswith(".chuzhi.") for name in olds)
    assert sum(name.startswith(".chuzhi.old-") for name in olds) == 1

    # the next run, even one that fails at once, puts the old site back and removes the rest
    failed = publish(link, temp, data=tmp_path / "no-data")
    assert failed.returncode == 3
    assert sorted(p.name for p in www.iterdir()) == ["chuzhi"]
    assert (real / "dataset" / "manifest.json").read_text(encoding="utf-8") == manifest
    assert json.loads(manifest)["counts"]["cases"] == 30
    assert link.is_symlink() and ours(temp) == ["chuzhi-publish-older-version"]
