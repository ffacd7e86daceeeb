"""Word lists that several modules match against, kept in one place: verbs of saying and words that
mark an organisation's name. Each is a tuple of words (so a caller can build its own pattern) and,
where callers share a pattern, the compiled pattern itself.

Users: app/ui/starters.py (ATTRIBUTION_VERBS), app/question.py (STATEMENT_VERBS), the engines
(SPEECH, ORG). Who said a quotation is the quote index's business (dossier.ingest.quotes, dossier.index.quotes).
"""
from __future__ import annotations

import re

# verbs that attribute a statement to the (named) subject before them: "X said", "X has warned"
ATTRIBUTION_VERBS = ("said", "says", "accused", "decried", "noted", "warned", "reported", "criticized", "criticised", "described",
                     "told", "argued", "stated", "wrote", "claimed", "condemned", "called", "denied", "confirmed", "found")

# a sentence reports speech: "…, the minister said", "according to the report"
SPEECH_VERBS = ("said", "says", "say", "added", "adds", "argued", "argues", "wrote", "writes", "told", "tells", "noted", "notes",
                "warned", "warns", "explained", "explains", "stated", "states", "claimed", "claims", "according to",
                "underscored", "stressed", "insisted", "insists")

# a question asks what someone stated: "what did X say / add / warn"
STATEMENT_VERBS = ("say", "said", "says", "add", "added", "adds", "argue", "argued", "argues", "write", "wrote", "writes", "warn",
                   "warned", "caveat", "claim", "claimed", "tell", "told", "describe", "described", "comment", "commented",
                   "respond", "responded", "reply", "replied", "call", "called")

# capitalised words that make a name an organisation's: "Human Rights Watch", "the Ministry of Defence"
ORG_WORDS = ("Organisation", "Organization", "Agency", "Committee", "Council", "Commission", "Union", "Fund", "University",
             "Watch", "International", "Service", "Ministry", "Office", "Institute", "Project", "Parliament", "Court",
             "Police", "Guard", "Bank", "Foundation", "Centre", "Center", "Association", "Network")


def words_pattern(words: tuple[str, ...], flags: int = 0) -> re.Pattern[str]:
    """`\\b(w1|w2|...)\\b` over the words as written (regex-escaped)."""
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", flags)

SPEECH = words_pattern(SPEECH_VERBS, re.I)
ORG = words_pattern(ORG_WORDS)
