"""A notebook run by nbclient, as a reader runs one: a view shown inline (the interactive
page in an iframe), and a matplotlib picture whose Chinese labels have their glyphs."""

from __future__ import annotations

import html
import shutil

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat (test extra) writes the notebook")
nbclient = pytest.importorskip("nbclient", reason="nbclient and ipykernel (test extra) run it")


def test_notebook_shows_a_view_inline_and_draws_chinese(built, tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(built.files["nt"], out / "chuzhi.nt")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(f"import chuzhi_graph\nrelease = chuzhi_graph.open({str(out)!r})\n"
                                  "release.page('domains')"),
        nbformat.v4.new_code_cell("import warnings\nwarnings.simplefilter('always')\n"
                                  "fig = release.draw('institutions')\nfig"),
        nbformat.v4.new_code_cell("release.page('map')"),
    ]
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
                            ).execute()
    page, picture, map_page = (cell["outputs"] for cell in nb.cells)
    shown = next(o for o in page if o["output_type"] == "execute_result")["data"]["text/html"]
    assert shown.startswith('<iframe srcdoc="') and 'sandbox="allow-scripts"' in shown
    inner = html.unescape(shown[len('<iframe srcdoc="'):shown.index('" sandbox=')])
    assert inner.startswith("<!DOCTYPE html>") and "治理领域共现" in inner and 'id="graph-data"' in inner
    assert "https://" not in inner.split('id="graph-data"')[0].replace("https://w3id.org/chuzhi/", "")  # offline
    images = [o for o in picture if o["output_type"] in ("execute_result", "display_data") and "image/png" in o["data"]]
    assert images, picture
    warned = "".join(o.get("text", "") for o in picture if o["output_type"] == "stream")
    assert "missing from" not in warned and "Glyph" not in warned, warned
    assert "map-data" in next(o for o in map_page if o["output_type"] == "execute_result")["data"]["text/html"]


def test_plain_matplotlib_lacks_the_glyphs() -> None:
    """What the test above guards against: matplotlib's default font has no Chinese glyphs."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.set_title("国网湖北省电力有限公司")
    with warnings.catch_warnings(record=True) as caught, matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):
        warnings.simplefilter("always")
        fig.canvas.draw()
    plt.close(fig)
    assert any("missing from" in str(w.message) for w in caught)
