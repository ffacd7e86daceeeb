"""Readers, sniffing, decoding, normalization and language detection, on the fixtures in tests/fixtures/."""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from dossier.ingest.errors import (
    ArchiveBomb, BinaryFile, CorruptFile, EmptyFile, IngestError, NoText, TooLarge, UnsupportedType,
)
from dossier.ingest.language import detect_language
from dossier.ingest.models import Document, DocumentMeta, PageSpan
from dossier.ingest.normalize import join_blocks, normalize_text
from dossier.ingest.readers import READERS, decode_text, read_bytes
from dossier.ingest.readers.pdf import join_pages
from dossier.ingest.settings import IngestSettings
from dossier.ingest.sniff import sniff

FIXTURES = Path(__file__).parent / "fixtures"
REPO = FIXTURES.parent.parent
BROKEN = FIXTURES / "broken"
SETTINGS = IngestSettings()


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def read(name: str, settings: IngestSettings = SETTINGS):
    return read_bytes(fixture(name), Path(name).name, settings)


def assert_headings_exact(text: str, headings: list[tuple[int, str]]) -> None:
    for offset, heading in headings:
        assert text[offset:offset + len(heading)] == heading


# --- normalize -----------------------------------------------------------------------------------

def test_normalize_examples():
    raw = "  Title\r\n\r\n\r\n\r\nLine one \t \rLine\x00 two\x07\n\n\n\nCafe\u0301 \u00a0\n  indented\n"
    assert normalize_text(raw) == "Title\n\nLine one\nLine two\n\nCafé\n  indented"


def test_normalize_keeps_tabs_and_line_breaking_controls_separate_words():
    assert normalize_text("a\tb\x0cc\u2028d") == "a\tb\nc\nd"


@given(st.text())
@hsettings(max_examples=300)
def test_normalize_is_idempotent(s):
    once = normalize_text(s)
    assert normalize_text(once) == once


_LINE_CHARS = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\ufeff")


# A lone "\r" is left out of the separators: before an empty line and "\n" it would form "\r\n".
@given(st.lists(st.text(_LINE_CHARS, max_size=30), max_size=12),
       st.lists(st.sampled_from(["\n", "\r\n", "\n\n\n\n", "\r\n\r\n\r\n"]), min_size=12, max_size=12))
@hsettings(max_examples=300)
def test_normalize_keeps_line_content(lines, separators):
    lines = [unicodedata.normalize("NFC", line) for line in lines]
    raw = "".join(line + sep for line, sep in zip(lines, separators))
    out = normalize_text(raw)
    # Lines keep their content: only trailing whitespace, blank-line runs and the outer edges change.
    breaks = {sep: "\n" * sep.replace("\r\n", "\n").replace("\r", "\n").count("\n") for sep in separators}
    model = "".join(line.rstrip() + breaks[sep] for line, sep in zip(lines, separators))
    expected = re.sub(r"\n{3,}", "\n\n", model).strip()
    assert out == expected
    for line in lines:
        assert line.strip() in out  # a quote within one line survives exactly


def test_join_blocks_offsets_point_at_headings():
    text, headings = join_blocks([("Title ", True), ("", False), ("Body\r\n", False), ("Sub", True)])
    assert text == "Title\n\nBody\n\nSub"
    assert headings == [(0, "Title"), (13, "Sub")]
    assert normalize_text(text) == text


# --- sniffing ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("nav-page.html", "html"),
    ("two-pages.pdf", "pdf"),
    ("report.docx", "docx"),
    ("latin1.txt", "text"),
    ("utf16.txt", "text"),
    ("notes.md", "markdown"),
    ("pdf-named.txt", "pdf"),
    ("html-named.txt", "html"),
])
def test_sniff_by_content(name, expected):
    assert sniff(fixture(name), name) == expected


def test_sniff_ignores_misleading_extensions():
    assert sniff(fixture("two-pages.pdf"), "report.docx") == "pdf"
    assert sniff(fixture("nav-page.html"), "page.md") == "html"
    assert sniff(b"Plain words, nothing more.\n", "report.pdf") == "text"


def test_sniff_markdown_by_headings_only_without_txt_extension():
    md = fixture("notes.md")
    assert sniff(md, "") == "markdown"
    assert sniff(md, "notes") == "markdown"
    assert sniff(md, "notes.txt") == "text"
    assert sniff(b"# not a heading here\nbut a comment\n", "x.txt") == "text"


@pytest.mark.parametrize("name, error, words", [
    ("broken/empty.txt", EmptyFile, "empty"),
    ("broken/blank.txt", EmptyFile, "empty"),
    ("broken/binary.txt", BinaryFile, "binary data, not text"),
    ("broken/image.png", UnsupportedType, "png"),
    ("broken/sheet.xlsx", UnsupportedType, "xlsx"),
])
def test_sniff_refuses(name, error, words):
    with pytest.raises(error) as info:
        sniff(fixture(name), Path(name).name)
    assert words in info.value.reason


def test_sniff_refuses_other_known_formats():
    import gzip

    with pytest.raises(UnsupportedType) as info:
        sniff(gzip.compress(b"hello" * 100, mtime=0), "notes.txt")
    assert "gz" in info.value.reason
    with pytest.raises(UnsupportedType) as info:
        sniff(rb"{\rtf1\ansi The tender was awarded.}", "memo.txt")
    assert "rtf" in info.value.reason


def test_sniff_takes_the_extension_hint_from_a_url_path():
    assert sniff(fixture("notes.md"), "https://example.org/notes.md?raw=1") == "markdown"
    assert sniff(fixture("notes.md"), "https://example.org/notes.txt#top") == "text"


def test_sniff_utf16_bom_only_is_empty():
    with pytest.raises(EmptyFile):
        sniff("\ufeff".encode("utf-16-le"), "x.txt")


def test_registry_covers_every_sniffed_format():
    assert set(READERS) == {"pdf", "docx", "html", "markdown", "text"}


# --- decoding ------------------------------------------------------------------------------------

SAMPLE = "Señor Müller paid 5 € in Zürich; naïve café.\n"


@pytest.mark.parametrize("encoding, bom, expected_name", [
    ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"),
    ("utf-16-le", b"\xff\xfe", "utf-16-le"),
    ("utf-16-be", b"\xfe\xff", "utf-16-be"),
    ("utf-32-le", b"\xff\xfe\x00\x00", "utf-32-le"),
    ("utf-32-be", b"\x00\x00\xfe\xff", "utf-32-be"),
])
def test_decode_text_honours_boms(encoding, bom, expected_name):
    assert decode_text(bom + SAMPLE.encode(encoding)) == (SAMPLE, expected_name)


def test_decode_text_utf8_then_detection():
    assert decode_text(SAMPLE.encode("utf-8")) == (SAMPLE, "utf-8")
    text, name = decode_text(fixture("latin1.txt"))
    assert name == "cp1252"
    for word in ("Café", "Señor", "naïve", "Zürich", "déjà vu"):
        assert word in text
    russian = "Государственный пограничный комитет закупил тепловизоры"
    assert decode_text(russian.encode("cp1251")) == (russian, "cp1251")


# --- text and markdown ---------------------------------------------------------------------------

def test_latin1_text_reads_correctly():
    result = read("latin1.txt")
    assert result.format == "text"
    assert "Señor Alvarez met the committee in Zürich to discuss the tender." in result.text
    assert "His naïve reading" in result.text and "Café Nordic" in result.text


def test_utf16_text_with_bom_reads_correctly():
    result = read("utf16.txt")
    assert result.meta["encoding"] == "utf-16-le"
    assert result.text == read("latin1.txt").text


def test_markdown_kept_as_written_with_headings():
    result = read("notes.md")
    assert result.format == "markdown"
    assert result.text.startswith("# Procurement notes\n\n")
    assert "- fourteen thermal cameras" in result.text
    assert [h for _, h in result.headings] == ["Procurement notes", "Tender of 2016", "Open questions"]
    for offset, heading in result.headings:
        assert result.text[offset:].startswith("#")
        assert result.text[offset:].split("\n", 1)[0].endswith(heading)


def test_markdown_headings_skip_fenced_code():
    result = read_bytes(b"# Real\n\n```\n# not a heading\n```\n\n## Also real ##\n", "a.md", SETTINGS)
    assert [h for _, h in result.headings] == ["Real", "Also real"]


# --- HTML ----------------------------------------------------------------------------------------

ARTICLE_SENTENCES = [
    "bought fourteen thermal cameras from a private supplier in 2016",
    "awarded in March 2016 to a single bidder, the Northwind Optics company",
    "financed from a regional assistance programme",
    "Delivery of the cameras was completed in the border town of Pinsk in November 2016",
    "declined to comment on the price",
]
CHROME = ["Home", "World desk", "Subscribe", "cookies", "Accept", "Recent stories", "Harbour dredging",
          "fishing quota", "Copyright", "Privacy policy", "TRACKING-SCRIPT-PAYLOAD", "INLINE-SCRIPT-PAYLOAD",
          "cookie-banner", "<", ">"]


def test_html_main_text_without_chrome():
    result = read("nav-page.html")
    assert result.format == "html"
    for sentence in ARTICLE_SENTENCES:
        assert sentence in result.text
    for chrome in CHROME:
        assert chrome not in result.text, chrome
    assert normalize_text(result.text) == result.text


def test_html_paragraphs_and_headings():
    result = read("nav-page.html")
    blocks = result.text.split("\n\n")
    assert blocks[0] == "Thermal cameras for the Nordland border"
    assert "How the contract was financed" in blocks
    assert len(blocks) >= 7  # h1, h2 and five paragraphs, each its own block
    assert [h for _, h in result.headings] == ["Thermal cameras for the Nordland border",
                                                "How the contract was financed"]
    assert_headings_exact(result.text, result.headings)


def test_html_metadata():
    meta = read("nav-page.html").meta
    assert meta["title"] == "Thermal cameras for the Nordland border"
    assert meta["publisher"] == "Northern Ledger"
    assert meta["date"] == "2019-01-31"
    assert meta["author"] == "Ada Fictional"


def test_html_named_txt_is_read_as_html():
    result = read("html-named.txt")
    assert result.format == "html"
    assert result.text.startswith("Committee statement\n\nThe State Border Committee of Nordland")
    assert "<p>" not in result.text and "</" not in result.text


def test_html_scripts_only_has_no_text():
    with pytest.raises(NoText) as info:
        read("broken/scripts-only.html")
    assert info.value.reason == "no extractable text in HTML"


def test_html_without_article_markup_keeps_blocks_apart():
    page = (b"<html><body><ul><li>one item</li><li>two <b>bold</b> item</li></ul>"
            b"<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>"
            b"<blockquote><p>quoted text here and there</p></blockquote>"
            b"<p>a sentence with a <a href='x'>link</a> &amp; <code>code</code> inside</p></body></html>")
    result = read_bytes(page, "page.html", SETTINGS)
    assert "two bold item" in result.text  # inline markup does not break the line
    assert "a sentence with a link & code inside" in result.text
    assert "quoted text here and there" in result.text.split("\n\n")
    assert "<" not in result.text


# --- PDF -----------------------------------------------------------------------------------------

def test_pdf_pages_map_to_sentences():
    result = read("two-pages.pdf")
    assert result.format == "pdf"
    assert [p.number for p in result.pages] == [1, 2]
    assert result.pages[0].start == 0
    page2 = result.pages[1].start
    first = result.text.index("The tender was awarded in March 2016.")
    second = result.text.index("Delivery of 14 thermal cameras was completed in Pinsk.")
    assert first < page2 <= second
    assert result.text[page2:].startswith("Delivery of 14 thermal cameras")
    assert result.text[page2 - 2:page2] == "\n\n"
    assert normalize_text(result.text) == result.text
    doc = Document(doc_id="d", source="two-pages.pdf", sha256="", format="pdf", text=result.text,
                   meta=DocumentMeta(), pages=result.pages)
    assert doc.page_at(first) == 1 and doc.page_at(second) == 2


def test_pdf_metadata():
    meta = read("two-pages.pdf").meta
    assert meta == {"title": "Nordland tender report", "author": "Nordland Audit Office", "date": "2020-05-04"}


def test_pdf_named_txt_is_read_as_pdf():
    result = read("pdf-named.txt")
    assert result.format == "pdf"
    assert result.text == read("two-pages.pdf").text


def test_join_pages_with_empty_pages():
    text, spans = join_pages(["one", "", "three", ""])
    assert text == "one\n\nthree"
    assert spans == [PageSpan(1, 0), PageSpan(2, 5), PageSpan(3, 5), PageSpan(4, 10)]


@pytest.mark.parametrize("name, error, reason", [
    ("broken/truncated.pdf", CorruptFile, "corrupt PDF: "),
    ("broken/fake.pdf", CorruptFile, "corrupt PDF: "),
    ("broken/encrypted.pdf", CorruptFile, "encrypted PDF (password required)"),
    ("broken/scanned.pdf", NoText, "no extractable text (scanned? needs OCR)"),
])
def test_bad_pdfs(name, error, reason):
    with pytest.raises(error) as info:
        read(name)
    assert info.value.reason.startswith(reason)
    assert "\n" not in info.value.reason


# --- DOCX ----------------------------------------------------------------------------------------

def test_docx_paragraphs_headings_and_table():
    result = read("report.docx")
    assert result.format == "docx"
    assert [h for _, h in result.headings] == ["Nordland border procurement review", "Background", "Findings"]
    assert_headings_exact(result.text, result.headings)
    blocks = result.text.split("\n\n")
    assert blocks[:4] == [
        "Nordland border procurement review",
        "This fictional review covers the purchases of the State Border Committee.",
        "Background",
        "The committee announced the tender for thermal cameras in January 2016.",
    ]
    table = "Item | Quantity | Unit price\nThermal camera | 14 | 150,000 crowns\nCommand vehicle | 2 | 150,000 crowns"
    assert table in blocks
    assert blocks.index(table) < blocks.index(
        "The review recommends publishing all contracts above one million crowns.")


def test_docx_metadata():
    meta = read("report.docx").meta
    assert meta == {"title": "Nordland border procurement review", "author": "Nordland Audit Office",
                    "date": "2018-06-01"}


def test_docx_bomb_by_ratio():
    with pytest.raises(ArchiveBomb) as info:
        read("broken/bomb.docx")
    assert "archive expands" in info.value.reason and "limit 100 times" in info.value.reason


def test_docx_bomb_by_size():
    small = IngestSettings(max_decompressed_mb=10)
    with pytest.raises(ArchiveBomb) as info:
        read("broken/bomb.docx", small)
    assert info.value.reason == "archive expands to 50 MB (limit 10 MB)"


def test_docx_corrupt_zip():
    with pytest.raises(CorruptFile) as info:
        read("broken/not-a-zip.docx")
    assert info.value.reason.startswith("corrupt DOCX")


# --- limits and the error contract ---------------------------------------------------------------

def test_too_large_is_refused_before_reading():
    data = b"a" * (3 * 1024 * 1024 + 200 * 1024)
    with pytest.raises(TooLarge) as info:
        read_bytes(data, "big.txt", IngestSettings(max_file_mb=2))
    assert info.value.reason == "file is 3.2 MB, over the 2 MB limit"


@pytest.mark.parametrize("path", sorted(p.name for p in BROKEN.iterdir()))
def test_broken_inputs_raise_only_ingest_errors(path):
    with pytest.raises(IngestError) as info:
        read(f"broken/{path}")
    assert info.value.reason and info.value.reason == str(info.value)


@pytest.mark.parametrize("name", ["two-pages.pdf", "report.docx", "nav-page.html"])
@given(data=st.data())
@hsettings(max_examples=40, deadline=None)
def test_damaged_files_raise_only_ingest_errors(name, data):
    raw = bytearray(fixture(name))
    cut = data.draw(st.integers(1, len(raw)), label="cut")
    flips = data.draw(st.lists(st.tuples(st.integers(0, cut - 1), st.integers(0, 255)), max_size=8), label="flips")
    for at, value in flips:
        raw[at] = value
    try:
        result = read_bytes(bytes(raw[:cut]), name, SETTINGS)
    except IngestError as exc:
        assert exc.reason
    else:
        assert normalize_text(result.text) == result.text


# --- language ------------------------------------------------------------------------------------

def test_detect_language():
    assert detect_language(read("nav-page.html").text) == "en"
    assert detect_language("Die Kommission kaufte vierzehn Wärmebildkameras für die Grenze.") == "de"
    assert detect_language("Государственный пограничный комитет закупил тепловизоры для границы.") == "ru"
    assert detect_language("") == ""
    assert detect_language("12345 67 -- !!") == ""


def test_detect_language_english_with_a_russian_quote_stays_english():
    """A mostly English text holding a Russian paragraph must not become Russian (the document's quote rules, its
    chunks' language and its vectors follow from it): the model's call stands only on a one-script sample."""
    from dossier.ingest.language import chunk_language

    english = (REPO / "sources" / "docs" / "equipping-a-dictator.txt").read_text()[2000:5000]
    russian = (FIXTURES / "multilingual" / "ru-kessel-centre.txt").read_text()
    mixed = english[:1500] + "\n\n" + russian  # 72% of the letters Latin
    assert detect_language(mixed) == "en"
    assert chunk_language(english[:1200] + " " + russian[:400], "") == "en"
    assert detect_language(russian) == "ru"


def test_detect_language_gives_iso_639_1_codes():
    """Whatever the text, a two-letter code or "" (fastText also knows codes such as "yue", "arz", "war")."""
    texts = [read("nav-page.html").text] + [
        (FIXTURES / "multilingual" / p).read_text() for p in ("de-varnia-bericht.txt", "pl-kestrel-dostawy.txt")] + [
        "粤语广东话香港", "Ma3lesh ya basha, enta fein?", "λόγος", "ok ok ok", "ÿþ\x00b\x00i\x00n"]
    codes = [detect_language(t) for t in texts]
    assert codes[:3] == ["en", "de", "pl"]
    assert all(c == "" or (len(c) == 2 and c.isalpha() and c.islower()) for c in codes), codes


def test_detect_language_is_deterministic():
    short = "Nordland border"
    assert len({detect_language(short) for _ in range(5)}) == 1

