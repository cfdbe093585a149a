"""Analytic queueing for one support channel: Erlang C (M/M/c) and Erlang A (M/M/c+M).

These are the oracles the simulated support desk is checked against (docs/model.md §1.3, §4):
with one channel, Poisson arrivals, exponential handling and exponential patience the
desk is an M/M/c+M queue.

All formulas assume **exponential** handle times and (for Erlang A) **exponential**
patience.  A desk with lognormal handle times (the engine's default) is *not* an
M/M/c queue; for handle-time CV = 1 the numbers are close but not exact.

Units at the interface are those of a call centre: arrivals per hour, handle and
patience times in minutes, the answer-time target and the waits in seconds.

Definitions (identical for both models; a discrete-event simulation measures the same
ratios over all contacts that arrived during the measurement window):

``p_wait``
    Fraction of arriving contacts that find every agent busy and must wait (wait > 0).
``p_abandon``
    Fraction of arriving contacts that hang up before being answered (0 for Erlang C).
``asa_seconds``
    Average speed of answer: mean wait in queue of the *answered* contacts, those
    answered at once counted with a wait of 0.  Abandoned contacts are excluded.
``mean_wait_all_seconds``
    Mean time in queue over *all* arriving contacts, abandoned ones counted with the
    time they waited before hanging up (equals ``asa_seconds`` for Erlang C).
``service_level``
    Contacts *answered* within ``target_seconds`` divided by *all* arriving contacts
    (abandoned ones stay in the denominator, so abandonment never flatters it).  A wait
    exactly equal to the target counts as within it.
``service_level_answered``
    Contacts answered within the target divided by the answered contacts.
``occupancy``
    Fraction of agent time spent handling: carried load / agents,
    ``arrivals * (1 - p_abandon) * handle_time / agents``.

References
----------
.. [1] A. K. Erlang, "Solution of some problems in the theory of probabilities of
   significance in automatic telephone exchanges", *Elektroteknikeren* 13 (1917).
.. [2] O. Garnett, A. Mandelbaum and M. Reiman, "Designing a call center with impatient
   customers", *Manufacturing & Service Operations Management* 4(3):208-227 (2002).
.. [3] A. Mandelbaum and S. Zeltyn, "The Palm/Erlang-A queue, with applications to call
   centers" (teaching note, Technion, 2007).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
from scipy.special import betainc, digamma, gammaln, logsumexp

from ..kernel.errors import InputError, invalid_parameter

__all__ = ["QueueMetrics", "erlang_b", "erlang_c", "erlang_a", "required_agents"]

#: Terms of the stationary distribution smaller than exp(-_LOG_NEGLIGIBLE) times the
#: largest one are dropped (relative contribution below 1e-21).
_LOG_NEGLIGIBLE = 48.0
#: Largest truncated queue-length window the Erlang A sum may allocate.
_MAX_WINDOW = 1 << 23


@dataclass(frozen=True, slots=True)
class QueueMetrics:
    """Steady-state performance of one queue (see the module docstring for definitions).

    Attributes
    ----------
    model : str
        ``"erlang_c"`` or ``"erlang_a"``.
    offered_load_erlangs : float
        Arrival rate times mean handle time (agents kept busy if nobody abandoned).
    p_wait : float
        Probability that an arriving contact has to wait (all agents busy).
    asa_seconds : float
        Mean wait of answered contacts, seconds.
    service_level : float
        Fraction of all arriving contacts answered within the target.
    p_abandon : float
        Fraction of arriving contacts that abandon (0 for Erlang C).
    occupancy : float
        Fraction of agent time spent handling contacts.
    mean_wait_all_seconds : float
        Mean wait of all arriving contacts, abandoned ones included, seconds.
    service_level_answered : float
        Fraction of answered contacts answered within the target.
    """

    model: str
    offered_load_erlangs: float
    p_wait: float
    asa_seconds: float
    service_level: float
    p_abandon: float
    occupancy: float
    mean_wait_all_seconds: float
    service_level_answered: float

    def as_dict(self) -> dict[str, Any]:
        """Return the metrics as a plain ``dict`` (JSON-ready)."""
        return asdict(self)


# --------------------------------------------------------------------------- checks


def _positive(name: str, owner: str, value: object, *, allow_zero: bool = False,
              allow_inf: bool = False) -> float:
    low = "[0" if allow_zero else "(0"
    high = "inf]" if allow_inf else "inf)"
    allowed = f"a number in {low}, {high}"
    if isinstance(value, bool) or not isinstance(value, Real):
        raise invalid_parameter(name, owner, allowed, value)
    x = float(value)
    if math.isnan(x) or x < 0 or (x == 0 and not allow_zero) or (
        math.isinf(x) and not allow_inf
    ):
        raise invalid_parameter(name, owner, allowed, value)
    return x


def _agents(value: object, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or int(value) < 1:
        raise invalid_parameter("agents", owner, "an int in [1, inf)", value)
    return int(value)


# ----------------------------------------------------------------------- Erlang B/C


def _log_idle_ratio(n: int, a: float) -> float:
    """Return ``log(sum_{j<n} a**j/j! / (a**n/n!))``, stable for any ``n`` and ``a``.

    The ratio is ``sum_{i=1..n} prod_{l=0..i-1} (n-l)/a``; summing its terms in log
    space is the Erlang B recursion ``1/B(j) = 1 + (j/a)/B(j-1)`` unrolled.
    """
    steps = np.log(np.arange(n, 0, -1, dtype=float)) - math.log(a)
    return float(logsumexp(np.cumsum(steps)))


def erlang_b(offered_load_erlangs: float, agents: int) -> float:
    """Erlang B: blocking probability of the M/M/c/c loss system.

    Parameters
    ----------
    offered_load_erlangs : float
        Arrival rate times mean holding time, in Erlangs (> 0).
    agents : int
        Number of servers (>= 1).

    Returns
    -------
    float
        ``(a**c / c!) / sum_{j<=c} a**j / j!``, computed in log space (no factorials),
        so it is accurate for thousands of servers.

    Examples
    --------
    >>> round(erlang_b(10.0, 14), 4)
    0.0568
    """
    a = _positive("offered_load_erlangs", "erlang_b", offered_load_erlangs)
    n = _agents(agents, "erlang_b")
    return math.exp(-np.logaddexp(0.0, _log_idle_ratio(n, a)))


def _unstable(lam: float, handle_minutes: float, n: int, a: float) -> InputError:
    return InputError(
        f"The queue is unstable: arrivals_per_hour={lam:g} with handle_minutes="
        f"{handle_minutes:g} offer {a:.4g} Erlangs, so 'agents' must exceed {a:.4g} "
        f"(agents must exceed the offered load in Erlangs). Got agents={n}. "
        "Add agents, or give patience_minutes to use Erlang A."
    )


def erlang_c(
    arrivals_per_hour: float,
    handle_minutes: float,
    agents: int,
    target_seconds: float = 20.0,
) -> QueueMetrics:
    """Erlang C (M/M/c): waiting, speed of answer and service level without abandonment.

    Parameters
    ----------
    arrivals_per_hour : float
        Poisson arrival rate λ, contacts per hour (> 0).
    handle_minutes : float
        Mean handle time 1/μ, minutes (> 0); handle times are exponential.
    agents : int
        Number of agents c; must exceed the offered load λ/μ in Erlangs.
    target_seconds : float, default 20.0
        Answer-time target T of the service level, seconds (>= 0).

    Returns
    -------
    QueueMetrics
        With ``p_wait = C`` (Erlang's delay formula), ``asa_seconds = C / (cμ - λ)``,
        ``service_level = 1 - C exp(-(cμ - λ) T)``, ``p_abandon = 0`` and
        ``occupancy = λ / (cμ)``.

    Raises
    ------
    InputError
        For a non-positive rate or time, a non-integer or zero ``agents``, or an
        unstable queue (``agents <= offered load``).

    Notes
    -----
    ``C = B / (1 - ρ (1 - B))`` with ``B`` the Erlang B blocking probability and
    ``ρ = λ/(cμ)`` [1]_; ``B`` is computed in log space, never with factorials.

    References
    ----------
    .. [1] A. K. Erlang (1917), see the module references.

    Examples
    --------
    docs/model.md §4: 100 calls per 30 minutes, 180 s handle time, 14 agents.

    >>> m = erlang_c(200, 3, 14)
    >>> round(m.p_wait, 4), round(m.asa_seconds, 2), round(m.service_level, 4)
    (0.1741, 7.84, 0.8884)
    """
    owner = "erlang_c"
    lam = _positive("arrivals_per_hour", owner, arrivals_per_hour)
    h = _positive("handle_minutes", owner, handle_minutes)
    n = _agents(agents, owner)
    t_sec = _positive("target_seconds", owner, target_seconds, allow_zero=True)
    mu = 60.0 / h  # services per hour per agent
    a = lam / mu
    if a >= n:
        raise _unstable(lam, h, n, a)
    rho = a / n
    b = math.exp(-np.logaddexp(0.0, _log_idle_ratio(n, a)))
    c = b / (1.0 - rho * (1.0 - b))
    drain = n * mu - lam  # per hour
    asa = c / drain * 3600.0
    sl = 1.0 - c * math.exp(-drain * t_sec / 3600.0)
    return QueueMetrics(
        model="erlang_c",
        offered_load_erlangs=a,
        p_wait=c,
        asa_seconds=asa,
        service_level=sl,
        p_abandon=0.0,
        occupancy=rho,
        mean_wait_all_seconds=asa,
        service_level_answered=sl,
    )


# ------------------------------------------------------------------------- Erlang A


def _queue_window(x: float, y: float) -> tuple[np.ndarray, np.ndarray]:
    """Queue lengths ``k`` and ``log(π_{c+k} / π_c)`` where they are not negligible.

    ``π_{c+k} / π_c = prod_{i=1..k} y / (x + i)`` with ``x = cμ/θ``, ``y = λ/θ``.  The
    terms rise while ``k < y - x`` and fall afterwards; the window grows around the
    peak until both ends are negligible.
    """
    peak = max(0, math.floor(y - x))
    half = 256
    while True:
        lo = max(0, peak - half)
        hi = peak + half
        if hi - lo > _MAX_WINDOW:
            raise InputError(
                "The 'patience_minutes' parameter of erlang_a is too long for this "
                f"overloaded queue (about {y - x:.3g} contacts would wait); the Erlang A "
                "sum would need more than 8 million terms. Use a shorter patience or "
                "more agents."
            )
        k = np.arange(lo, hi + 1, dtype=float)
        offset = 0.0
        if lo > 0:
            offset = lo * math.log(y) - (gammaln(x + lo + 1.0) - gammaln(x + 1.0))
        steps = math.log(y) - np.log(x + k[1:])
        log_t = np.concatenate(([offset], offset + np.cumsum(steps)))
        top = log_t.max()
        left_ok = lo == 0 or log_t[0] < top - _LOG_NEGLIGIBLE
        if left_ok and log_t[-1] < top - _LOG_NEGLIGIBLE:
            return k, log_t
        half *= 4


def erlang_a(
    arrivals_per_hour: float,
    handle_minutes: float,
    agents: int,
    patience_minutes: float,
    target_seconds: float = 20.0,
) -> QueueMetrics:
    """Erlang A (Palm's M/M/c+M): the M/M/c queue with exponentially impatient callers.

    Parameters
    ----------
    arrivals_per_hour : float
        Poisson arrival rate λ, contacts per hour (> 0).
    handle_minutes : float
        Mean handle time 1/μ, minutes (> 0); handle times are exponential.
    agents : int
        Number of agents c (>= 1).  Any load is allowed: abandonment keeps the queue
        stable even when the offered load exceeds the agents.
    patience_minutes : float
        Mean patience 1/θ, minutes (> 0); a waiting contact hangs up after an
        exponential time with this mean unless answered first.  ``math.inf`` gives
        Erlang C (``model`` is then ``"erlang_c"``).
    target_seconds : float, default 20.0
        Answer-time target T of the service level, seconds (>= 0).

    Returns
    -------
    QueueMetrics
        Exact steady-state metrics; see the module docstring for the definitions
        (``asa_seconds`` is the mean wait of answered contacts, ``service_level`` the
        contacts answered within ``T`` over all arrivals).

    Raises
    ------
    InputError
        For a non-positive rate or time or a non-integer or zero ``agents``.

    Notes
    -----
    The number in system is a birth-death chain with birth rate λ and death rate
    ``min(j, c) μ + max(j - c, 0) θ``.  With ``x = cμ/θ`` and ``y = λ/θ``,
    ``π_{c+k} / π_c = y**k Γ(x+1) / Γ(x+k+1)``, whose sum is Garnett, Mandelbaum and
    Reiman's ``A(x, y) = x e**y y**(-x) γ(x, y)`` [2]_, so that
    ``P(wait) = A B / (1 + (A - 1) B)`` with ``B`` Erlang B.  This function sums the
    chain in log space over the queue lengths that matter (terms below 1e-21 of the
    largest are dropped), which stays accurate where the incomplete gamma function
    under- or overflows, and gives the quantities the closed form does not:

    - ``P(abandon) = θ E[queue] / λ`` (abandonment rate over arrival rate);
    - a contact arriving to find ``k`` waiting is answered with probability
      ``cμ / (cμ + (k+1)θ)``; its stages of waiting are exponential with rates
      ``cμ + mθ`` (``m = k+1 … 1``) independently of how it leaves, so the mean wait
      of the answered is ``Σ_m 1/(cμ + mθ)`` and ``P(wait <= T | answered)`` is the
      regularised incomplete beta ``I_{1 - exp(-θT)}(k + 1, x + 1)``.

    References
    ----------
    .. [2] O. Garnett, A. Mandelbaum, M. Reiman (2002), see the module references.

    Examples
    --------
    >>> m = erlang_a(200, 3, 14, patience_minutes=2)
    >>> m.p_abandon < 0.05 and m.p_wait < erlang_c(200, 3, 14).p_wait
    True
    """
    owner = "erlang_a"
    lam = _positive("arrivals_per_hour", owner, arrivals_per_hour)
    h = _positive("handle_minutes", owner, handle_minutes)
    n = _agents(agents, owner)
    patience = _positive("patience_minutes", owner, patience_minutes, allow_inf=True)
    t_sec = _positive("target_seconds", owner, target_seconds, allow_zero=True)
    if math.isinf(patience):
        return erlang_c(lam, h, n, t_sec)

    mu = 60.0 / h  # per hour
    theta = 60.0 / patience  # per hour
    t_hours = t_sec / 3600.0
    a = lam / mu
    x = n * mu / theta
    y = lam / theta

    k, log_t = _queue_window(x, y)
    log_idle = _log_idle_ratio(n, a)  # log Σ_{j<c} π_j / π_c
    log_queue = float(logsumexp(log_t))  # log Σ_{k>=0} π_{c+k} / π_c
    log_z = float(np.logaddexp(log_idle, log_queue))
    p_idle = math.exp(log_idle - log_z)  # P(an arrival finds a free agent)
    pi_q = np.exp(log_t - log_z)  # P(arrival finds c + k in system)

    p_wait = float(pi_q.sum())
    queue_mean = float(np.dot(k, pi_q))
    p_abandon = min(1.0, queue_mean / y)

    # The tagged contact arriving at c + k is answered with probability s_k.
    served = x / (x + k + 1.0)
    w_served = pi_q * served
    # Σ_{m=1..k+1} 1 / (x + m) (in units of 1/θ) by cumulative sums within the window.
    first = int(k[0])
    harmonic = np.cumsum(1.0 / (x + k + 1.0))
    if first > 0:
        harmonic += float(digamma(x + first + 1.0) - digamma(x + 1.0))
    p_answered = p_idle + float(w_served.sum())
    wait_answered_hours = float(np.dot(w_served, harmonic)) / theta / p_answered
    # P(wait <= T | answered, k): the sum of k+1 exponentials of rates cμ + mθ.
    u = -math.expm1(-theta * t_hours)
    within = betainc(k + 1.0, x + 1.0, u) if u > 0 else np.zeros_like(k)
    answered_within = p_idle + float(np.dot(w_served, within))

    return QueueMetrics(
        model="erlang_a",
        offered_load_erlangs=a,
        p_wait=min(1.0, p_wait),
        asa_seconds=wait_answered_hours * 3600.0,
        service_level=answered_within,
        p_abandon=p_abandon,
        occupancy=min(1.0, lam * (1.0 - p_abandon) / (n * mu)),  # rounding can exceed 1 in overload
        mean_wait_all_seconds=queue_mean / lam * 3600.0,
        service_level_answered=answered_within / p_answered,
    )


# ------------------------------------------------------------------------- staffing


def required_agents(
    arrivals_per_hour: float,
    handle_minutes: float,
    target_seconds: float,
    service_level_target: float,
    patience_minutes: float | None = None,
    max_occupancy: float | None = None,
) -> int:
    """Smallest number of agents meeting a service-level target (and an occupancy cap).

    Parameters
    ----------
    arrivals_per_hour : float
        Poisson arrival rate, contacts per hour (> 0).
    handle_minutes : float
        Mean (exponential) handle time, minutes (> 0).
    target_seconds : float
        Answer-time target, seconds (>= 0).
    service_level_target : float
        Required fraction of all arriving contacts answered within ``target_seconds``,
        in (0, 1), e.g. 0.8 for "80/20".
    patience_minutes : float, optional
        Mean patience, minutes; ``None`` (default) uses Erlang C, a number Erlang A.
    max_occupancy : float, optional
        Upper bound on occupancy, in (0, 1]; ``None`` for no bound.

    Returns
    -------
    int
        The smallest ``c`` with ``service_level >= service_level_target`` and (if
        given) ``occupancy <= max_occupancy``.

    Notes
    -----
    Both conditions are monotone in ``c`` (more agents answer more contacts sooner and
    are each less busy), so the search doubles an upper bound and then bisects.

    Examples
    --------
    >>> required_agents(200, 3, 20, 0.8)
    14
    """
    owner = "required_agents"
    lam = _positive("arrivals_per_hour", owner, arrivals_per_hour)
    h = _positive("handle_minutes", owner, handle_minutes)
    t_sec = _positive("target_seconds", owner, target_seconds, allow_zero=True)
    sl = _positive("service_level_target", owner, service_level_target)
    if sl >= 1.0:
        raise invalid_parameter("service_level_target", owner, "a number in (0, 1)",
                                service_level_target)
    if patience_minutes is not None:
        _positive("patience_minutes", owner, patience_minutes, allow_inf=True)
    if max_occupancy is not None:
        occ = _positive("max_occupancy", owner, max_occupancy)
        if occ > 1.0:
            raise invalid_parameter("max_occupancy", owner, "a number in (0, 1]",
                                    max_occupancy)
    a = lam * h / 60.0

    def ok(c: int) -> bool:
        if patience_minutes is None:
            if c <= a:
                return False
            m = erlang_c(lam, h, c, t_sec)
        else:
            m = erlang_a(lam, h, c, patience_minutes, t_sec)
        return m.service_level >= sl and (
            max_occupancy is None or m.occupancy <= max_occupancy
        )

    lo = 0 if patience_minutes is not None else max(0, math.floor(a))  # lo fails
    step = 1
    hi = lo + step
    while not ok(hi):
        lo = hi
        step *= 2
        hi = lo + step
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi
