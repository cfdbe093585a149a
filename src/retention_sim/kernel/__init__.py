"""The kernel every layer imports: errors and argument checks, seeds, confidence
intervals, time units, atomic file output, shipped files, the documented defaults,
typed per-customer state, the configuration base and the model's codes."""
