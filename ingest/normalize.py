"""Text normalization shared by every reader: the normalized text is what all offsets refer to."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Characters that break a line: turned into "\n" rather than dropped, so words stay apart.
_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# C0/C1 control characters other than \t and \n, DEL, and a stray byte-order mark.
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ufeff]")
# Starts only where a run of horizontal whitespace starts and never backtracks into the run: a plain
# `[^\S\n]+$` is quadratic on a long run not followed by a line end ("    ...    x": 15 s for 40 KB, days for 10 MB).
_TRAILING_SPACE = re.compile(r"(?<![^\S\n])[^\S\n]++$", re.MULTILINE)
_BLANK_RUNS = re.compile(r"\n{3,}")

PARAGRAPH_BREAK = "\n\n"


def normalize_text(s: str) -> str:
    """Normalize text: NFC, LF line ends, no control chars, no trailing spaces, at most one blank line.

    The content of each line is otherwise kept as it is, and the function is idempotent.
    """
    s = _LINE_BREAKS.sub("\n", s)
    s = _CONTROLS.sub("", s)
    # NFC after removing controls: dropping one can bring a base letter and a combining mark together.
    s = unicodedata.normalize("NFC", s)
    s = _TRAILING_SPACE.sub("", s)
    s = _BLANK_RUNS.sub(PARAGRAPH_BREAK, s)
    return s.strip()


def join_blocks(blocks: Iterable[tuple[str, bool]]) -> tuple[str, list[tuple[int, str]]]:
    """Join (block text, is_heading) pairs into normalized text, one blank line between blocks.

    Empty blocks are dropped. Returns the text and the (offset, heading) pairs for heading blocks,
    with offsets into the returned text.
    """
    parts: list[str] = []
    headings: list[tuple[int, str]] = []
    offset = 0
    for raw, is_heading in blocks:
        block = normalize_text(raw)
        if not block:
            continue
        if parts:
            offset += len(PARAGRAPH_BREAK)
        if is_heading:
            headings.append((offset, block))
        parts.append(block)
        offset += len(block)
    return PARAGRAPH_BREAK.join(parts), headings
