"""Fuzz the readers for a bounded time: `make fuzz` (FUZZ_SECONDS, default 120).

    .venv/bin/python tests/fuzz_readers.py [--seconds 120] [--engine auto|atheris|hypothesis] [--corpus DIR]

The target feeds bytes to `ingest.readers.read_bytes` under a file name chosen by the first byte (the
extension is a hint to the sniffer), then chunks what it read and checks every chunk is an exact slice.
The contract: only `IngestError` may escape a reader, and a single input must not take longer than
`--input-timeout` seconds. The seeds are the reader fixtures (tests/fixtures, broken/ included).

Engines: atheris (coverage-guided libFuzzer, when installed: it is in the `test` extra on Linux), else
hypothesis mutating the seeds until the time is up. A crash prints the input's bytes as a file under
--artifacts and exits 1.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

NAMES = ["x.txt", "x.md", "x.html", "x.pdf", "x.docx", "x", "x.htm", "x.markdown"]


def seeds() -> list[bytes]:
    out = []
    for p in sorted((REPO / "tests" / "fixtures").rglob("*")):
        if p.is_file() and p.suffix != ".py" and p.stat().st_size < 256 * 1024:
            out.append(p.read_bytes())
    return out


class InputTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise InputTimeout


def make_target(input_timeout: float):
    from dossier.ingest.chunking import chunk_document
    from dossier.ingest.errors import IngestError
    from dossier.ingest.models import Document, DocumentMeta
    from dossier.ingest.readers import read_bytes
    from dossier.ingest.settings import IngestSettings

    settings = IngestSettings(chunk_tokens=64, chunk_overlap=8, max_file_mb=4, max_decompressed_mb=32)

    def target(data: bytes) -> None:
        name = NAMES[data[0] % len(NAMES)] if data else "x.txt"
        body = data[1:]
        signal.setitimer(signal.ITIMER_REAL, input_timeout)
        try:
            try:
                read = read_bytes(body, name, settings)
            except IngestError as exc:
                assert exc.reason and "\n" not in exc.reason.strip(), repr(exc.reason)
                return
            doc = Document("dfuzz", name, "", read.format, read.text, DocumentMeta(language="en"),
                           pages=read.pages, headings=read.headings)
            for c in chunk_document(doc, settings):
                assert read.text[c.start:c.end] == c.text
        except InputTimeout:
            raise AssertionError(f"one input took over {input_timeout:g} s ({len(data)} bytes as {name})") from None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    return target


def run_atheris(seconds: int, input_timeout: float, corpus: Path, artifacts: Path) -> int:
    import atheris

    with atheris.instrument_imports(include=["ingest", "pypdf", "docx", "trafilatura", "charset_normalizer",
                                             "filetype", "htmldate", "justext"]):
        target = make_target(input_timeout)
    corpus.mkdir(parents=True, exist_ok=True)
    for i, data in enumerate(seeds()):
        for j in (0, 1, 2, 3, 4):
            (corpus / f"seed-{i}-{j}").write_bytes(bytes([j]) + data)  # the same seed under several names
    artifacts.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGALRM, _alarm)
    argv = [sys.argv[0], str(corpus), f"-max_total_time={seconds}", "-max_len=262144", "-rss_limit_mb=3072",
            f"-artifact_prefix={artifacts}/", "-print_final_stats=1"]
    atheris.Setup(argv, target)
    atheris.Fuzz()  # exits the process: 0 when the time ran out, non-zero on a finding
    return 0


def _mutate(data: bytearray, ops: list[tuple[int, int, int, bytes]], pool: list[bytes]) -> bytes:
    """Apply (op, position, size, bytes) mutations: flip, insert, delete, cut, splice, repeat."""
    for op, at, size, blob in ops:
        at = at % (len(data) + 1)
        if op == 0 and data:
            data[min(at, len(data) - 1)] = size % 256
        elif op == 1:
            data[at:at] = blob
        elif op == 2:
            del data[at:at + size]
        elif op == 3:
            del data[at:]
        elif op == 4:
            other = pool[size % len(pool)]
            k = (at * 7919) % (len(other) + 1)
            data[at:at] = other[k:k + 64 + size * 8]
        else:
            data[at:at] = bytes(data[at:at + 1 + size % 64]) * (2 + size % 200)
    return bytes(data[: 1 << 20])


def run_hypothesis(seconds: int, input_timeout: float, artifacts: Path) -> int:
    """Hypothesis drawing a seed and a list of mutations, in batches until the time is up (a failure is
    shrunk to a small reproducing input before it is reported)."""
    from hypothesis import HealthCheck, Phase, given, settings, strategies as st

    target = make_target(input_timeout)
    signal.signal(signal.SIGALRM, _alarm)
    pool = seeds()
    op = st.tuples(st.integers(0, 5), st.integers(0, 1 << 20), st.integers(0, 4096), st.binary(max_size=64))
    count = [0]
    found: list[bytes] = []

    @settings(max_examples=200, deadline=None, database=None, derandomize=False,
              phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
    @given(st.integers(0, 255), st.integers(0, len(pool) - 1), st.lists(op, max_size=12))
    def fuzz_once(name_byte: int, which: int, ops) -> None:
        data = bytes([name_byte]) + _mutate(bytearray(pool[which]), ops, pool)
        count[0] += 1
        try:
            target(data)
        except BaseException:
            found[:] = [data]
            raise

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            fuzz_once()
        except Exception as exc:
            artifacts.mkdir(parents=True, exist_ok=True)
            path = artifacts / f"crash-{int(time.time())}"
            path.write_bytes(found[0] if found else b"")
            print(f"FINDING after {count[0]} inputs: {type(exc).__name__}: {str(exc)[:500]} (input saved to {path})",
                  file=sys.stderr)
            return 1
    print(f"fuzz (hypothesis): {count[0]} inputs in {seconds} s, no finding")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", "120")))
    ap.add_argument("--engine", choices=["auto", "atheris", "hypothesis"], default="auto")
    ap.add_argument("--input-timeout", type=float, default=20.0)
    ap.add_argument("--corpus", type=Path, default=REPO / "test-artifacts" / "fuzz" / "corpus")
    ap.add_argument("--artifacts", type=Path, default=REPO / "test-artifacts" / "fuzz" / "findings")
    args = ap.parse_args()
    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # noqa: F401

            engine = "atheris"
        except ImportError:
            engine = "hypothesis"
    print(f"fuzzing the readers with {engine} for {args.seconds} s", flush=True)
    if engine == "atheris":
        return run_atheris(args.seconds, args.input_timeout, args.corpus, args.artifacts)
    return run_hypothesis(args.seconds, args.input_timeout, args.artifacts)


if __name__ == "__main__":
    sys.exit(main())
