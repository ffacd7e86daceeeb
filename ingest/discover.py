"""Expand the command line's inputs (files, folders, URLs) into individual sources."""
from __future__ import annotations

from pathlib import Path


def is_url(s: str) -> bool:
    return s.startswith(("http://", "https://"))


def expand_inputs(inputs: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Returns (sources, missing): sources are absolute file paths or URLs in a stable order;
    missing are (input, reason) for inputs that name nothing."""
    sources: list[str] = []
    missing: list[tuple[str, str]] = []
    seen: set[str] = set()

    def add(s: str) -> None:
        if s not in seen:
            seen.add(s)
            sources.append(s)

    for item in inputs:
        if is_url(item):
            add(item)
            continue
        p = Path(item).expanduser()
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p).parts
                if f.is_file() and not f.is_symlink() and not any(part.startswith(".") for part in rel):
                    add(str(f.resolve()))
        elif p.is_file():
            add(str(p.resolve()))
        elif p.exists():
            missing.append((item, "not a regular file"))
        else:
            missing.append((item, "no such file or folder"))
    return sources, missing
