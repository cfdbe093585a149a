"""The MBG/NBD model of repeat buying (Batislam, Denizel & Filiztekin 2007).

As the BG/NBD (:mod:`retention_sim.fit.bgnbd`), except that a customer may also become
inactive right after her first purchase, so customers without repeat purchases are not
certainly alive.  Sources: Batislam, E. P., Denizel, M. & Filiztekin, A. (2007),
"Empirical validation and comparison of models for customer base analysis",
International Journal of Research in Marketing 24(3), 201-209; with the corrections of
Wagner, U. & Hoppe, D. (2008), "Erratum on the MBG/NBD model", IJRM 25(3), 225-226.
The same formulas are implemented in R's BTYDplus (``mbgcnbd`` with k = 1).
"""

from __future__ import annotations

import numpy as np

from .base import ArrayLike, hyp2f1
from .bgnbd import BGNBD

__all__ = ["MBGNBD"]


class MBGNBD(BGNBD):
    """MBG/NBD model: ``r, alpha`` (purchase rate), ``a, b`` (dropout, also at time 0).

    Likelihood (Batislam et al. 2007; Wagner & Hoppe 2008):
    L = G(r+x)/G(r) alpha^r/(alpha+T)^(r+x) B(a, b+x+1)/B(a, b)
    * [1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)];
    P(alive | x, t_x, T) = 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)) for every x.

    Examples
    --------
    >>> from retention_sim.data import load_cdnow_summary
    >>> m = MBGNBD().fit(load_cdnow_summary())
    >>> {k: round(v, 3) for k, v in m.params_.items()}
    {'r': 0.525, 'alpha': 6.183, 'a': 0.891, 'b': 1.614}
    """

    name = "mbgnbd"
    label = "MBG/NBD"
    _drop_at_zero = 1

    def expected_transactions(self, t: ArrayLike, *, unit: str | None = None) -> np.ndarray:
        """Unconditional E[X(t)] of a new customer (Batislam et al. 2007).

        E[X(t)] = b/(a-1) * [1 - (alpha/(alpha+t))^r 2F1(r, b+1; a+b; t/(alpha+t))];
        ``t`` in ``unit`` (default: the model's unit).
        """
        r, alpha, a, b = self._check_fitted()
        t = self.horizon(t, unit)
        z = t / (alpha + t)
        return b / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b + 1, a + b, z))

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """P(still active at T | x, t_x, T), below 1 also for customers with x = 0."""
        return super().p_alive(frequency, recency, T)
