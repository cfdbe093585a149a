"""Typed per-customer state: numpy arrays declared as columns of a class.

A component that keeps its own per-customer values (a lever's stamp count, the service
model's memory of silent problems) declares them once::

    class CardState(CustomerState):
        stamps = column(np.int32, -1)      # stamps on the current card; -1: none yet
        issued_day = column(np.float64, np.nan)

and registers an instance with the population (``Population.register``), which
allocates each column for every customer and grows it with the population.  Attribute
access is plain (``state.stamps[ids]``), typed and visible to readers and tools.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

__all__ = ["Column", "column", "CustomerState"]


@dataclass(frozen=True)
class Column:
    """Declaration of one per-customer array: dtype, fill value, optional width."""

    dtype: Any
    fill: float = 0
    width: int | None = None

    def allocate(self, capacity: int) -> np.ndarray:
        shape = (capacity,) if self.width is None else (capacity, self.width)
        return np.full(shape, self.fill, dtype=self.dtype)


def column(dtype: Any, fill: float = 0, width: int | None = None) -> Any:
    """Declare a per-customer column on a :class:`CustomerState` subclass."""
    return Column(dtype, fill, width)


class CustomerState:
    """Per-customer arrays of one component (see the module docstring).

    Columns whose width depends on the configuration are declared per instance with
    :meth:`add_column` before registration.
    """

    _columns: ClassVar[dict[str, Column]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cols = dict(getattr(cls, "_columns", {}))
        cols.update({k: v for k, v in vars(cls).items() if isinstance(v, Column)})
        cls._columns = cols

    def __init__(self) -> None:
        self.columns: dict[str, Column] = dict(self._columns)
        self.capacity = 0

    def add_column(self, name: str, col: Column) -> None:
        """Declare one more column on this instance (before it is registered)."""
        if self.capacity:
            raise RuntimeError(f"column {name!r} declared after registration")
        self.columns[name] = col

    def resize(self, capacity: int, n: int) -> None:
        """Allocate every column for ``capacity`` customers, keeping the first ``n`` rows."""
        for name, col in self.columns.items():
            new = col.allocate(capacity)
            if self.capacity:
                new[:n] = getattr(self, name)[:n]
            setattr(self, name, new)
        self.capacity = capacity

    def view(self, name: str, n: int) -> np.ndarray:
        """The first ``n`` rows of column ``name``."""
        return getattr(self, name)[:n]
