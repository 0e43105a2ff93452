"""The synthetic corpus: deterministic, in the format of data/, shaped like the real records."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from chuzhi_graph.cli import cli
from chuzhi_graph.errors import UsageError
from chuzhi_graph.records.synth import HUBEI, PROVINCE_DIRECT, generate
from chuzhi_graph.records.tables import load_dataset, normalise_name


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            h.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("synth") / "data"
    generate(folder, cases=1500, editions=4, seed=7)
    return folder


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    generate(tmp_path / "a", cases=200, editions=3, seed=1)
    generate(tmp_path / "b", cases=200, editions=3, seed=1)
    generate(tmp_path / "c", cases=200, editions=3, seed=2)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a") != digest(tmp_path / "c")


def test_corpus_passes_every_record_check(corpus: Path) -> None:
    ds = load_dataset(corpus)
    assert len(ds.cases) == 1500
    assert len(ds.editions) == 4
    assert {e.track for e in ds.editions} == {"bigdata", "social-governance", "poverty-alleviation"}
    assert all(1 <= len(c.applicants) <= 3 for c in ds.cases)
    assert all(1 <= len(c.domains) <= 3 for c in ds.cases)
    assert {len(c.applicants) for c in ds.cases} == {1, 2, 3}


def test_repeat_applicants_have_a_long_tail(corpus: Path) -> None:
    ds = load_dataset(corpus)
    per_unit = Counter(u for c in ds.cases for u in c.applicants)
    counts = sorted(per_unit.values(), reverse=True)
    once = sum(1 for n in counts if n == 1)
    assert once / len(counts) > 0.5  # most units apply once
    assert counts[0] >= 20 * (sum(counts) / len(counts))  # a few apply very often


def test_regions_are_real_hubei_codes(corpus: Path) -> None:
    codes = {r["code"]: r for r in rows(corpus / "regions.csv")}
    assert codes["420106"]["name_zh"] == "武昌区" and codes["420106"]["parent"] == "420100"
    assert codes["422800"]["name_zh"] == "恩施土家族苗族自治州"
    assert len(codes) == 1 + len(HUBEI) + sum(len(c) for _, c in HUBEI.values()) + len(PROVINCE_DIRECT)
    ds = load_dataset(corpus)
    assert all(u.region in codes for u in ds.units)


def test_units_have_aliases_and_parents_that_cases_use(corpus: Path) -> None:
    ds = load_dataset(corpus)
    by_id = ds.unit_by_id()
    assert sum(1 for u in ds.units if u.aliases) > len(ds.units) / 3
    with_parent = [u for u in ds.units if u.parent]
    assert with_parent and all(u.parent in by_id for u in with_parent)
    names = {normalise_name(u.name_zh) for u in ds.units}
    alias_keys = {normalise_name(a) for u in ds.units for a in u.aliases}
    cells = [a for r in rows(corpus / "cases.csv") for a in r["applicants"].split("|")]
    assert any(normalise_name(a) in alias_keys for a in cells)  # some cases name a unit by alias
    assert sum(normalise_name(a) in names for a in cells) > len(cells) / 2


def test_titles_look_like_case_titles(corpus: Path) -> None:
    titles = [r["title_zh"] for r in rows(corpus / "cases.csv")]
    assert all("“" in t and "”" in t for t in titles)
    assert len(set(titles)) > len(titles) * 0.9


def test_no_cases_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="need at least one case and one edition"):
        generate(tmp_path, cases=0)


def test_cli_synth(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["synth", "--cases", "30", "--editions", "2", "--seed", "4",
                                      "--out", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("wrote 30 cases, ")
    assert result.stdout.splitlines() == [str(tmp_path / "d" / f"{n}.csv") for n in
                                          ("sources", "regions", "units", "editions", "categories", "cases")]
    assert len(load_dataset(tmp_path / "d").cases) == 30


def test_cli_synth_refuses_zero_cases(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["synth", "--cases", "0", "--out", str(tmp_path / "d")])
    assert result.exit_code == 2
    assert "Invalid value for '--cases': 0 is not in the range x>=1." in result.stderr
