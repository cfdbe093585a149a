"""Queueing: Erlang B, C and A with staffing, and the simulated desk checked against them
(docs/model.md §1.3, §4)."""

from .desk_check import QUEUE_METRICS, simulate_queue
from .erlang import QueueMetrics, erlang_a, erlang_b, erlang_c, required_agents

__all__ = ["QUEUE_METRICS", "QueueMetrics", "erlang_a", "erlang_b", "erlang_c",
           "required_agents", "simulate_queue"]
