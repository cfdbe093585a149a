"""The model's vocabulary as small integer codes, shared by the engine and the levers.

Codes are stored in the per-customer and per-contact numpy arrays (docs/model.md §1).
"""

from __future__ import annotations

__all__ = ["SBG", "BG", "PARETO", "DROPOUT_MODELS", "PENDING", "ACTIVE", "CHURNED", "SOURCES",
           "INITIAL", "PAID", "ORGANIC", "WORD_OF_MOUTH", "REFERRAL", "EXISTING", "ROUTINE", "COMPLAINT",
           "OUTREACH", "KINDS", "ABANDONED", "UNRESOLVED", "RESOLVED", "NO_PRIORITY"]

#: dropout mechanisms (docs/model.md §1.1)
SBG, BG, PARETO = 0, 1, 2
DROPOUT_MODELS = ("sbg", "bg", "pareto")
#: phase of a customer
PENDING, ACTIVE, CHURNED = 0, 1, 2
#: where a customer came from
SOURCES = ("initial", "paid", "organic", "word_of_mouth", "referral", "existing")
INITIAL, PAID, ORGANIC, WORD_OF_MOUTH, REFERRAL, EXISTING = range(len(SOURCES))
#: kinds of desk contact (docs/model.md §1.3)
ROUTINE, COMPLAINT, OUTREACH = 0, 1, 2
KINDS = ("routine", "complaint", "outreach")
#: how a contact ended
ABANDONED, UNRESOLVED, RESOLVED = 0, 1, 2
#: per-customer support priority meaning "no override" (lower is served first)
NO_PRIORITY = 127
