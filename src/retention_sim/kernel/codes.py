"""The model's vocabulary as small integer codes, shared by the engine and the levers.

Codes are stored in the per-customer and per-contact numpy arrays (docs/model.md §1).
"""

from __future__ import annotations

__all__ = ["SBG", "BG", "PARETO", "DROPOUT_MODELS", "PENDING", "ACTIVE", "CHURNED", "SOURCES",
           "INITIAL", "PAID", "ORGANIC", "WORD_OF_MOUTH", "REFERRAL", "EXISTING", "ROUTINE",
           "COMPLAINT", "OUTREACH", "KINDS", "ABANDONED", "UNRESOLVED", "RESOLVED", "NO_PRIORITY",
           "HISTORY_KINDS", "HISTORY_OUTCOMES"]

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
#: kinds of event in a customer-history events log (docs/model.md §5.6): a purchase, a problem
#: the customer did not report, and desk contacts (a reported problem, a routine question, an
#: outreach call)
HISTORY_KINDS = ("purchase", "unreported_problem", "problem", "routine", "outreach")
#: how a contact of an events log ended
HISTORY_OUTCOMES = ("resolved_first_contact", "resolved_after_retries", "unresolved", "abandoned")
