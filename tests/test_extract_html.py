"""Reading HTML announcements: deep nesting is read in linear time, oversized files are refused."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from chuzhi_graph.cli import cli
from chuzhi_graph.extract.announcement import html_lines

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "data" / "sources" / "000_451b57e0ba31c9df.txt"


def _bold_units(line: str) -> str:
    m = re.match(r"^(\d+)\. (.*?)([:：])(.*)$", line)
    return f"{m[1]}. <b>{m[2]}</b>{m[3]}{m[4]}" if m else line


def nested_page(depth: int) -> str:
    """The 2022 announcement, one paragraph per line, inside ``depth`` nested divs and spans."""
    lines = [line.strip() for line in SOURCE.read_text(encoding="utf-8").splitlines() if line.strip()]
    body = "".join(f"<p>{_bold_units(line)}</p>" for line in lines)
    wrap = depth // 2
    return ("<!DOCTYPE html><html><body>" + "<div class='x'>" * wrap + "<span>" * wrap + body
            + "</span>" * wrap + "</div>" * wrap + "</body></html>")


def test_deeply_nested_announcement_is_read_whole(tmp_path: Path) -> None:
    # 20,000 levels: before the fix (a subtree search per tag, an ancestor walk per text
    # node) this took minutes; see bench/bench_extract.py for the figures.
    page = tmp_path / "deep.html"
    page.write_text(nested_page(20_000), encoding="utf-8")
    result = CliRunner().invoke(cli, ["extract", str(page), "--data", str(ROOT / "data")])
    assert result.exit_code == 0, result.output
    assert "extracted 27 cases in 4 groups (edition bigdata-2022)" in result.stderr


def test_text_at_every_level_of_deep_nesting_keeps_its_lines() -> None:
    n = 30_000
    _, lines = html_lines("<html><body>" + "".join(f"<div>d{i}" for i in range(n)) + "</div>" * n + "</body></html>")
    assert lines == [f"d{i}" for i in range(n)]
    _, lines = html_lines("<html><body><p>" + "<span>s" * n + "</span>" * n + "<br>end</p></body></html>")
    assert lines == ["s" * n, "end"]


def test_junk_inside_deep_nesting_is_dropped() -> None:
    n = 10_000
    page = ("<html><body>" + "<div>" * n + "<nav>菜单</nav><div class='share-bar'>分享</div><p>正文</p>"
            + "</div>" * n + "</body></html>")
    assert html_lines(page)[1] == ["正文"]


def test_oversized_source_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    page = tmp_path / "huge.html"
    page.write_bytes(b"<html><body>" + b"<p>x</p>" * (9 * 2**20 // 8) + b"</body></html>")
    result = CliRunner().invoke(cli, ["extract", str(page), "--data", str(ROOT / "data")])
    assert result.exit_code == 3
    assert result.output.strip().splitlines() == [
        f"Error: {page}: 9.0 MiB is more than an announcement holds (the limit is 8 MiB): "
        "is this the saved press release?"]
