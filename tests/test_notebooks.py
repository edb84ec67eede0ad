"""The how-to notebooks run from top to bottom (at a few trials) and are stored without outputs.

The kernel is this interpreter (sys.executable), named through a kernel spec written for the
test: a "python3" spec found on the machine could belong to another Python without `sim`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
EXPECTED = ["01_quickstart.ipynb", "02_what_if.ipynb", "03_news_update.ipynb",
            "04_explore.ipynb", "05_widgets.ipynb"]
TRIALS = "300"  # enough to exercise every cell; the notebooks default to 2000
TIMEOUT_S = 600  # per cell


@pytest.fixture(scope="module")
def kernel_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of kernel specs holding one, `ilrs-test`, that runs this very interpreter."""
    root = tmp_path_factory.mktemp("kernels")
    spec = root / "ilrs-test"
    spec.mkdir()
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "ilrs-sim tests",
        "language": "python",
    }))
    return root


def test_the_notebooks_are_there() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_stored_without_outputs(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_runs(name: str, kernel_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The kernel process inherits the environment: fewer trials, and no display needed.
    monkeypatch.setenv("ILRS_NOTEBOOK_TRIALS", TRIALS)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    km = KernelManager(kernel_name="ilrs-test",
                       kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernel_dir)]))
    client = NotebookClient(nb, km=km, timeout=TIMEOUT_S,
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert errors == []
    # The figure cells drew something.
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {})]
    assert images, "no figure was shown"
