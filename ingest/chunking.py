"""Cut a document into paragraph- and sentence-aligned chunks sized in tiktoken tokens.

Every chunk is an exact slice of the document text: `doc.text[chunk.start:chunk.end] == chunk.text`.
"""
from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from dataclasses import dataclass

from .language import chunk_language
from .models import Chunk, Document
from .sentences import paragraph_spans, sentence_spans, within_punkt_budget
from .settings import IngestSettings
from .tokens import get_encoding

CHUNKER_VERSION = "3"
# More characters than this per token is taken as "over the limit" without encoding (cl100k_base
# averages ~4 characters per token on prose; a text averaging 16+ is a run of repeated characters).
_MAX_CHARS_PER_TOKEN = 16

# Headings found in the text itself: legal acts' articles/annexes, markdown headings.
_HEADING = re.compile(
    r"^(?:#{1,6}\s+\S.*|(?:Article|ARTICLE|Art\.)\s+\d+[a-z]?\b.*|(?:ANNEX|Annex)\s+[IVXLC\d]+\b.*|(?:CHAPTER|Chapter|SECTION|Section)\s+[IVXLC\d]+\b.*)$",
    re.MULTILINE,
)


_WORD = re.compile(r"\S+")


def chunking_fingerprint(settings: IngestSettings) -> str:
    key = f"v{CHUNKER_VERSION}|{settings.tokenizer}|{settings.chunk_tokens}|{settings.chunk_overlap}"
    return hashlib.sha256(key.encode()).hexdigest()[:12]


@dataclass(slots=True)
class _Unit:
    start: int
    end: int
    tokens: int
    para_start: bool  # first unit of a paragraph
    heading: bool
    page: int | None = None  # page the unit starts on (PDF); a window never spans two pages


def find_headings(doc: Document) -> list[tuple[int, str]]:
    """Headings known to the reader plus headings recognised in the text, sorted by offset."""
    found = {off: title for off, title in doc.headings}
    for m in _HEADING.finditer(doc.text):
        found.setdefault(m.start(), m.group(0).lstrip("#").strip())
    return sorted((off, title[:200]) for off, title in found.items())


def chunk_document(doc: Document, settings: IngestSettings) -> list[Chunk]:
    enc = get_encoding(settings.tokenizer)
    text = doc.text
    headings = find_headings(doc)
    heading_offsets = {off for off, _ in headings}
    page_starts = [p.start for p in doc.pages]

    def page_of(offset: int) -> int | None:  # Document.page_at, in O(log pages)
        i = bisect_right(page_starts, offset) - 1
        return doc.pages[i].number if i >= 0 else None

    units: list[_Unit] = []
    punkt = within_punkt_budget(text)
    for pa, pb in paragraph_spans(text):
        first = True
        for sa, sb in sentence_spans(text, pa, pb, doc.meta.language or "en", punkt=punkt):
            # a sentence far longer in characters than any window holds is split without being encoded
            # whole: tiktoken is superlinear on long words (10 MB of one "word": ~30 s per encode)
            too_long = sb - sa > settings.chunk_tokens * _MAX_CHARS_PER_TOKEN
            n = 0 if too_long else len(enc.encode(text[sa:sb], disallowed_special=()))
            if too_long or n > settings.chunk_tokens:
                for wa, wb, wn in _split_long(text, sa, sb, settings.chunk_tokens, enc):
                    units.append(_Unit(wa, wb, wn, first, False, page_of(wa)))
                    first = False
            else:
                units.append(_Unit(sa, sb, n, first, sa in heading_offsets, page_of(sa)))
                first = False
    windows = _pack(units, settings.chunk_tokens, settings.chunk_overlap, text, enc)
    chunks = []
    for i, (a, b, ntok) in enumerate(windows):
        chunks.append(
            Chunk(
                chunk_id=f"{doc.doc_id}:{a}-{b}",
                doc_id=doc.doc_id,
                ord=i,
                start=a,
                end=b,
                text=text[a:b],
                n_tokens=ntok,
                page=doc.page_at(a),
                section=_section_at(headings, a, b),
                language=chunk_language(text[a:b], doc.meta.language),
            )
        )
    return chunks


def _section_at(headings: list[tuple[int, str]], start: int, end: int) -> str:
    section = ""
    for off, title in headings:
        if off <= start:
            section = title
        else:
            break
    return section


def _pack(units: list[_Unit], max_tokens: int, overlap: int, text: str, enc) -> list[tuple[int, int, int]]:
    """Greedy packing: fill a window with whole units; break early at a heading, at a new page or at
    a paragraph start once the window is half full; start the next window with trailing units worth
    at most `overlap` tokens (never across a heading or a page break). A window's size is the token
    count of its actual text (separators included), never more than `max_tokens`.

    Spans strictly advance: each window starts and ends after the previous one. A window that would
    end where (or before) the previous one ended, i.e. lie inside it (the overlap plus the next unit
    do not fit, or a paragraph or separator rule stops it early), is retried with one overlapped unit
    fewer, down to no overlap, which always reaches past the previous end."""
    windows: list[tuple[int, int, int]] = []
    i, prev_j = 0, 0
    while i < len(units):
        j, total = i, 0
        while j < len(units):
            u = units[j]
            if j > i and total + u.tokens > max_tokens:
                break
            if j > i and (u.heading or u.page != units[i].page):
                break
            if j > i and u.para_start and total >= max_tokens // 2 and total + u.tokens > max_tokens * 3 // 4:
                break
            total += u.tokens
            j += 1
        # the separators between units count too: drop trailing units until the real text fits
        total = len(enc.encode(text[units[i].start:units[j - 1].end], disallowed_special=()))
        while j - 1 > i and total > max_tokens:
            j -= 1
            total = len(enc.encode(text[units[i].start:units[j - 1].end], disallowed_special=()))
        if j <= prev_j:  # inside the previous window (only possible while i < prev_j): less overlap
            i += 1
            continue
        windows.append((units[i].start, units[j - 1].end, total))
        prev_j = j
        if j >= len(units):
            break
        # overlap: step back over trailing units of this window, within budget
        k, back = j, 0
        while (k - 1 > i and not units[k].heading and units[k - 1].page == units[j].page
               and back + units[k - 1].tokens <= overlap):
            back += units[k - 1].tokens
            k -= 1
        i = k
    return windows


def _split_long(text: str, a: int, b: int, max_tokens: int, enc) -> list[tuple[int, int, int]]:
    """Split an over-long sentence at whitespace into pieces of at most max_tokens tokens."""
    words = ((m.start() - a, m.end() - a) for m in _WORD.finditer(text, a, b))
    pieces: list[tuple[int, int, int]] = []
    cur_start, cur_end, cur_tok = None, None, 0
    for ws, we in words:
        giant = we - ws > max_tokens * _MAX_CHARS_PER_TOKEN  # cut by characters without encoding it whole
        n = 0 if giant else len(enc.encode(text[a + ws : a + we], disallowed_special=())) + 1
        if giant or n > max_tokens:  # a single giant "word": cut it by characters
            if cur_start is not None:
                pieces.extend(_fit(text, a + cur_start, a + cur_end, cur_tok, max_tokens, enc))
                cur_start, cur_end, cur_tok = None, None, 0
            step = max(1, max_tokens * 2)
            cs = ws
            while cs < we:
                ce = min(we, cs + step)
                n_piece = len(enc.encode(text[a + cs : a + ce], disallowed_special=()))
                while n_piece > max_tokens and ce - cs > 1:  # many tokens per character (CJK, emoji...)
                    ce = cs + (ce - cs) // 2
                    n_piece = len(enc.encode(text[a + cs : a + ce], disallowed_special=()))
                pieces.append((a + cs, a + ce, n_piece))
                cs = ce
            continue
        if cur_start is not None and cur_tok + n > max_tokens:
            pieces.extend(_fit(text, a + cur_start, a + cur_end, cur_tok, max_tokens, enc))
            cur_start, cur_tok = None, 0
        if cur_start is None:
            cur_start = ws
        cur_end = we
        cur_tok += n
    if cur_start is not None:
        pieces.extend(_fit(text, a + cur_start, a + cur_end, cur_tok, max_tokens, enc))
    return pieces  # the pieces of words are checked by _fit; those of a giant word were counted exactly


def _fit(text: str, a: int, b: int, estimate: int, max_tokens: int, enc) -> list[tuple[int, int, int]]:
    """A piece with its real token count, cut in two (at the whitespace nearest its middle, else at the middle)
    while over `max_tokens`: the per-word estimate above can fall short by the separators (a tab, a double
    space, a letter outside the Basic Multilingual Plane after a word)."""
    n = len(enc.encode(text[a:b], disallowed_special=()))
    if n <= max_tokens or b - a <= 1:
        # a piece that fits keeps its estimate (the packing sums estimates, as before; a window's own count is exact)
        return [(a, b, estimate or n)]
    mid = (a + b) // 2
    cut = max(text.rfind(" ", a + 1, mid + 1), text.rfind("\t", a + 1, mid + 1), text.rfind("\n", a + 1, mid + 1))
    if cut <= a:
        cut = mid
    left_end, right_start = cut, cut
    while left_end > a and text[left_end - 1].isspace():
        left_end -= 1
    while right_start < b and text[right_start].isspace():
        right_start += 1
    if left_end <= a or right_start >= b:  # whitespace at one end only: cut by characters
        left_end = right_start = mid
    return _fit(text, a, left_end, 0, max_tokens, enc) + _fit(text, right_start, b, 0, max_tokens, enc)
