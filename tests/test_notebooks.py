"""Every notebook executes top to bottom in fast mode (small populations)."""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.py"))


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, monkeypatch) -> None:
    monkeypatch.setenv("RETENTION_SIM_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = jupytext.read(path)
    # a cell that raises (each notebook asserts its key numbers) fails the test here
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()


def test_every_notebook_is_run() -> None:
    # numbered from 01 without repeats; a number may be held for a notebook still to come
    # (07, kept for work on another branch)
    numbers = [int(p.stem[:2]) for p in NOTEBOOKS]
    assert numbers == sorted(set(numbers)) and numbers[0] == 1
    assert set(range(1, numbers[-1] + 1)) - set(numbers) <= {7}
