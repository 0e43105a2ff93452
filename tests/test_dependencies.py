"""Dependencies that earn their place: optional ones degrade as documented, dropped ones are not
reached, and pyproject.toml declares what the code imports."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def _block(name: str) -> str:
    match = re.search(rf"^{name} = \[(.*?)^\]", PYPROJECT, re.M | re.S)
    return match.group(1) if match else re.search(rf"^{name} = \[(.*?)\]$", PYPROJECT, re.M).group(1)


def test_cpca_and_pandas_are_extras_scipy_and_pyvis_are_gone() -> None:
    required = _block("dependencies")
    assert '"cpca' not in required and '"scipy' not in required and '"pandas' not in required
    assert '"cpca>=' in _block("extract") and '"pandas>=' in _block("notebook")
    assert "pyvis" not in PYPROJECT and "scipy" not in PYPROJECT


def without(module: str, code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter where ``import module`` fails."""
    guard = f"import sys; sys.modules[{module!r}] = None\n"
    return subprocess.run([sys.executable, "-c", guard + code], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def test_extract_without_cpca_suggests_regions_from_the_table() -> None:
    done = without("cpca", (
        "from chuzhi_graph.records.tables import load_dataset\n"
        "from chuzhi_graph.records.suggest import Suggester\n"
        "s = Suggester.from_dataset(load_dataset('data'))\n"
        "print(s.region('武汉市江汉区民权街道').code, s.region('仙桃市大数据中心'))\n"
        "from chuzhi_graph.extract.announcement import extract\n"
        "print(len(extract('data/sources/000_451b57e0ba31c9df.txt', 'data').cases))\n"
        "print('cpca' in sys.modules and sys.modules['cpca'] is not None)\n"))
    assert done.returncode == 0, done.stderr
    # the table knows 江汉区; 仙桃市 is not in data/regions.csv, and only cpca would know it
    assert done.stdout.split() == ["420103", "None", "27", "False"]


def test_to_pandas_without_pandas_says_which_extra(built) -> None:
    done = without("pandas", (
        "import chuzhi_graph\n"
        f"t = chuzhi_graph.open({str(built.out_dir)!r}).query('units-with-several-cases')\n"
        "try:\n    t.to_pandas()\nexcept Exception as exc:\n    print(type(exc).__name__, exc.exit_code, exc)\n"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "EnvironmentProblem 7 to_pandas needs pandas: pip install 'chuzhi-graph[notebook]'\n"


@pytest.mark.parametrize("n", [499, 500, 501])
def test_layouts_around_the_spring_limit_need_no_scipy(n: int) -> None:
    """networkx's spring_layout takes scipy from 500 nodes on; such components go to igraph."""
    done = without("scipy", (
        "import networkx as nx\n"
        "from chuzhi_graph.views.render import layout\n"
        f"g = nx.path_graph({n})\n"
        "nx.set_node_attributes(g, {v: {'label': str(v), 'kind': 'unit'} for v in g})\n"
        "print(len(layout(g)))\n"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(n)
