"""Manifests: a TSV (or CSV) of document metadata that overrides what readers find.

Columns (header row required): `id` and any of `path`, `url`, `kind`, `title`, `publisher`, `date`,
`language`. A row applies to an input whose path (relative to the manifest's folder) equals `path`,
whose URL equals `url`, or whose file stem equals `id`.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
import datetime as _dt
from pathlib import Path

from .models import DOC_KINDS

_DATE = re.compile(r"^(\d{4})(-\d{2}(-\d{2})?)?$")
_FIELDS = ("id", "path", "url", "kind", "title", "publisher", "date", "language")


class ManifestError(ValueError):
    """A configuration error: the manifest is unusable; the command stops before touching the store."""


@dataclass
class ManifestRow:
    id: str
    path: str = ""
    url: str = ""
    kind: str = ""
    title: str = ""
    publisher: str = ""
    date: str = ""
    language: str = ""

    def overrides(self) -> dict[str, str]:
        return {k: v for k, v in (("kind", self.kind), ("title", self.title), ("publisher", self.publisher),
                                  ("date", self.date), ("language", self.language), ("url", self.url)) if v}


def normalize_date(value: str) -> str:
    """'2019-01-31', '2018-01', '2011' stay; 'n.d.' / 'c.2016' become '' / '2016'."""
    v = value.strip()
    if not v or v.lower() in ("n.d.", "nd", "unknown", "-"):
        return ""
    v = re.sub(r"^(c\.|ca\.|circa)\s*", "", v, flags=re.I)
    if not _DATE.match(v):
        return ""
    try:  # the shape is right; is it a real date? ("2019-13-45" is not)
        _dt.date.fromisoformat((v + "-01-01")[:10] if len(v) < 10 else v)
    except ValueError:
        return ""
    return v


def validate_kind(kind: str, where: str) -> str:
    k = kind.strip().lower()
    if k and k not in DOC_KINDS:
        raise ManifestError(f"{where}: kind: expected one of {', '.join(DOC_KINDS)}, got {kind!r}")
    return k


def load_manifest(path: Path) -> list[ManifestRow]:
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"{path}: manifest not found")
    text = path.read_text(encoding="utf-8-sig")
    first = text.splitlines()[0] if text.strip() else ""
    if not first:
        raise ManifestError(f"{path}: empty manifest: expected a header row")
    dialect = "excel-tab" if "\t" in first else "excel"
    reader = csv.DictReader(text.splitlines(), dialect=dialect)
    if not reader.fieldnames or "id" not in reader.fieldnames:
        raise ManifestError(f"{path}: header: expected an 'id' column, got {reader.fieldnames}")
    unknown = [f for f in reader.fieldnames if f not in _FIELDS]
    if unknown:
        raise ManifestError(f"{path}: header: unknown column(s) {unknown}; expected some of {list(_FIELDS)}")
    rows, seen = [], set()
    for lineno, raw in enumerate(reader, start=2):
        where = f"{path}:{lineno}"
        rid = (raw.get("id") or "").strip()
        if not rid:
            raise ManifestError(f"{where}: id: expected a value, got an empty cell")
        if rid in seen:
            raise ManifestError(f"{where}: id: duplicate id {rid!r}")
        seen.add(rid)
        date_raw = (raw.get("date") or "").strip()
        date = normalize_date(date_raw)
        if date_raw and not date and date_raw.lower() not in ("n.d.", "nd", "unknown", "-"):
            raise ManifestError(f"{where}: date: expected YYYY, YYYY-MM or YYYY-MM-DD, got {date_raw!r}")
        rows.append(ManifestRow(
            id=rid, path=(raw.get("path") or "").strip(), url=(raw.get("url") or "").strip(),
            kind=validate_kind(raw.get("kind") or "", where), title=(raw.get("title") or "").strip(),
            publisher=(raw.get("publisher") or "").strip(), date=date, language=(raw.get("language") or "").strip(),
        ))
    return rows


class ManifestIndex:
    """Finds the manifest row for an input path or URL."""

    def __init__(self, manifests: list[tuple[Path, list[ManifestRow]]]):
        self.by_path: dict[str, ManifestRow] = {}
        self.by_url: dict[str, ManifestRow] = {}
        self.by_id: dict[str, ManifestRow] = {}
        for mpath, rows in manifests:
            base = Path(mpath).resolve().parent
            for r in rows:
                if r.path:
                    self.by_path[str((base / r.path).resolve())] = r
                if r.url:
                    self.by_url[r.url] = r
                self.by_id[r.id] = r

    def match(self, source: str) -> ManifestRow | None:
        if source.startswith(("http://", "https://")):
            return self.by_url.get(source)
        row = self.by_path.get(str(Path(source).resolve()))
        return row or self.by_id.get(Path(source).stem)
