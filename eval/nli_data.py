"""Training pairs for the draft checker's entailment model (`eval/train_nli.py`): public NLI data and
synthetic pairs made from public encyclopaedia text.

- Public NLI (`eval/datasets/nli/`, see its README for source and licence): SNLI 1.0 dev (train) and test
  (held out), SICK (both directions where its annotation gives them; a fifth of its SemEval TEST pairs held out).
- Synthetic, from the SQuAD 2.0 training articles' paragraphs (`shared/external`, CC BY-SA 4.0; the reader's
  dev and test articles are left out, and one training article is kept for a synthetic held-out set). For a
  source sentence S with its neighbours W:
  - entailment: (S, a shorter S: an opening phrase, a parenthesis, an aside or a trailing clause left out),
    (W, S) and (W, the shorter S);
  - contradiction: (S or W, S or the shorter S with one slot changed: a number, a year, a month, a name
    from the same article, a negation added or removed, a word swapped for its opposite);
  - neutral: (the shorter S, S) when what was left out holds content words the rest lacks; (W without S, S);
    (S, another sentence of the article sharing words with it, outside W).

Labels: 0 entailment, 1 neutral, 2 contradiction. Everything is seeded; nothing here reads the check sets.
"""
from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

LABELS = ("entailment", "neutral", "contradiction")
LABEL_ID = {name: i for i, name in enumerate(LABELS)}
NLI_DIR = Path(__file__).parent / "datasets" / "nli"
SYNTHETIC_DEV_ARTICLE = "Solar_energy"  # its synthetic pairs are held out (a sanity figure, never trained on)

Pair = tuple[str, str, int]  # premise, hypothesis, label id


@dataclass(frozen=True)
class Source:
    name: str
    train: list[Pair]
    dev: list[Pair]


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def public_pairs(nli_dir: Path = NLI_DIR, *, seed: int = 13, reverse_neutral_share: float = 0.35) -> list[Source]:
    """SNLI and SICK pairs: train and held-out parts."""
    rng = random.Random(seed)
    nli_dir = Path(nli_dir)
    snli_train = [(r["premise"], r["hypothesis"], LABEL_ID[r["label"]]) for r in _read_jsonl(nli_dir / "snli-dev.jsonl")]
    snli_dev = [(r["premise"], r["hypothesis"], LABEL_ID[r["label"]]) for r in _read_jsonl(nli_dir / "snli-test.jsonl")]
    sick_train, sick_dev = [], []
    for r in _read_jsonl(nli_dir / "sick.jsonl"):
        held = r["set"] == "TEST" and int(r["id"]) % 5 == 0
        pair = (r["premise"], r["hypothesis"], LABEL_ID[r["label"]])
        (sick_dev if held else sick_train).append(pair)
        rev = r.get("label_reverse")
        if not held and rev and (rev != "neutral" or rng.random() < reverse_neutral_share):
            sick_train.append((r["hypothesis"], r["premise"], LABEL_ID[rev]))
    return [Source("snli", snli_train, snli_dev), Source("sick", sick_train, sick_dev)]


# ----------------------------------------------------------------------------- synthetic pairs

_AUX = re.compile(r"\b(is|was|are|were|has|had|have|can|could|will|would|should|must|did|does|do)\b(\s+not\b|n't\b)?")
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![\w.]\w)")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_MONTH = re.compile(r"\b(" + "|".join(_MONTHS) + r")\b")
_OPPOSITES = [("increase", "decrease"), ("increased", "decreased"), ("increases", "decreases"), ("rise", "fall"),
              ("rose", "fell"), ("allow", "prohibit"), ("allowed", "prohibited"), ("allows", "prohibits"),
              ("before", "after"), ("more", "less"), ("larger", "smaller"), ("largest", "smallest"),
              ("higher", "lower"), ("highest", "lowest"), ("first", "last"), ("won", "lost"), ("win", "lose"),
              ("accepted", "rejected"), ("supported", "opposed"), ("north", "south"), ("east", "west"),
              ("northern", "southern"), ("eastern", "western"), ("early", "late"), ("earlier", "later"),
              ("began", "ended"), ("start", "end"), ("open", "closed"), ("opened", "closed"), ("strong", "weak"),
              ("successful", "unsuccessful"), ("major", "minor"), ("positive", "negative"), ("public", "private"),
              ("male", "female"), ("old", "new"), ("long", "short"), ("maximum", "minimum"), ("above", "below"),
              ("gained", "lost"), ("joined", "left"), ("hired", "fired"), ("bought", "sold"), ("buy", "sell"),
              ("always", "never"), ("all", "none of the"), ("most", "few"), ("legal", "illegal"),
              ("approved", "rejected"), ("agreed", "refused"), ("inside", "outside"), ("younger", "older")]
_OPPOSITE = {**{a: b for a, b in _OPPOSITES}, **{b: a for a, b in _OPPOSITES}}
_OPP_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _OPPOSITE), key=len, reverse=True)) + r")\b", re.I)
_NAME = re.compile(r"(?<=[a-z,;:] )(?:[A-Z][a-z\u00e0-\u00ff]+)(?:\s+(?:of |de |the |von |van )?[A-Z][a-z\u00e0-\u00ff]+)*")
_WORD = re.compile(r"[A-Za-z\u00c0-\u00ff]+")
_OPENER = re.compile(r"(In|On|At|During|After|Before|By|For|From|Since|Until|With|Without|Although|Though|While|When|As|"
                     r"However|Despite|Unlike|Like|Following|According|Today|Also|Still|Meanwhile|Furthermore|Moreover|"
                     r"Instead|Thus|Therefore|Later|Earlier|Then|Initially|Eventually|Finally|Additionally|Over|Under|"
                     r"Within|Between|Among|Throughout|Upon|\d{4})\b")
_SUBORDINATE = re.compile(r"(Although|Though|While|When|If|Because|Since|Despite|Unlike|Whereas|After|Before|As)\b")
_TAIL = re.compile(r"(and|but|which|who|where|while|whereas|including|although|though|with|[a-z]+ing|[a-z]+ed)\b")
_NOTE = re.compile(r"\[(?:note )?\d+\]\s*")
_STOP = frozenset("""a an the of in on at to for from by with and or but is are was were be been being what which who whom
whose when where why how did do does done had has have that this these those it its as into than then there their they he she
his her him them not no also can could would should will may might its""".split())


def _content(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if w.lower() not in _STOP and len(w) > 2}


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip(" ,;:")
    text = re.sub(r"\s+([,.;:])", r"\1", text)
    if text and text[0].islower():
        text = text[0].upper() + text[1:]
    if text and text[-1] not in ".!?":
        text += "."
    return text


def shorter(sentence: str, rng: random.Random) -> str | None:
    """The sentence with a part left out that it still entails (an opening phrase before a comma, a parenthesis,
    a short aside between commas, a trailing clause after a comma); None when nothing can go."""
    options = []
    no_paren = re.sub(r"\s*\([^()]*\)", "", sentence)
    if no_paren != sentence:
        options.append(no_paren)
    parts = sentence.rstrip(".").split(", ")
    if len(parts) >= 2:
        head, rest = parts[0], ", ".join(parts[1:])
        if (len(head.split()) <= 8 and len(rest.split()) >= 6 and "(" not in head and _OPENER.match(head)
                and not rest[:1].isdigit()):
            options.append(rest)
        kept = ", ".join(parts[:-1])
        if (len(kept.split()) >= 6 and not _SUBORDINATE.match(kept) and not _OPENER.match(kept) and _TAIL.match(parts[-1])
                and kept.count("(") == kept.count(")")):
            options.append(kept)
        for i in range(1, len(parts) - 1):
            if len(parts[i].split()) <= 6 and len((", ".join(parts[:i] + parts[i + 1:])).split()) >= 6:
                options.append(", ".join(parts[:i] + parts[i + 1:]))
    m = re.search(r",? (which|who|where|while|although|because|as well as|including|such as) ", sentence)
    if m and len(sentence[:m.start()].split()) >= 6:
        options.append(sentence[:m.start()])
    options = [_tidy(o) for o in options]
    options = [o for o in options if o.rstrip(".") != sentence.rstrip(".") and len(o.split()) >= 5]
    return rng.choice(options) if options else None


def _change_number(sentence: str, rng: random.Random) -> str | None:
    found = [m for m in _NUMBER.finditer(sentence)]
    if not found:
        return None
    m = rng.choice(found)
    raw = m.group(1).replace(",", "")
    value = int(raw)
    if 1000 <= value <= 2100 and not m.group(2) and "," not in m.group(1):  # a year
        new = value + rng.choice([-1, 1]) * rng.randint(1, 12)
        text = str(new)
    else:
        if value <= 12 and not m.group(2):
            new = rng.choice([v for v in range(0, 21) if v != value])
        else:
            new = int(round(value * rng.choice([0.3, 0.5, 0.6, 0.75, 1.3, 1.5, 2, 3, 10])))
            if new == value:
                new = value + rng.randint(1, 9)
        text = f"{new:,}" if "," in m.group(1) else str(new)
    return sentence[:m.start(1)] + text + sentence[m.end(1):]


def _change_month(sentence: str, rng: random.Random) -> str | None:
    m = _MONTH.search(sentence)
    if not m:
        return None
    return sentence[:m.start()] + rng.choice([x for x in _MONTHS if x != m.group(1)]) + sentence[m.end():]


def _change_name(sentence: str, names: list[str], rng: random.Random) -> str | None:
    found = [m for m in _NAME.finditer(sentence)]
    if not found or not names:
        return None
    m = rng.choice(found)
    size = len(m.group(0).split())
    pool = [n for n in names if n not in sentence and n.split()[0] != m.group(0).split()[0]]
    same = [n for n in pool if len(n.split()) == size]
    pool = same or pool
    if not pool:
        return None
    return sentence[:m.start()] + rng.choice(pool) + sentence[m.end():]


def _change_polarity(sentence: str, rng: random.Random) -> str | None:
    m = _AUX.search(sentence)
    if not m:
        return None
    if m.group(2):  # "was not" -> "was"
        return sentence[:m.end(1)] + sentence[m.end(2):]
    return sentence[:m.end(1)] + " not" + sentence[m.end(1):]


def _change_opposite(sentence: str, rng: random.Random) -> str | None:
    found = [m for m in _OPP_RE.finditer(sentence)]
    if not found:
        return None
    m = rng.choice(found)
    word = m.group(0)
    new = _OPPOSITE[word.lower()]
    if word[0].isupper():
        new = new[0].upper() + new[1:]
    return sentence[:m.start()] + new + sentence[m.end():]


def contradict(sentence: str, names: list[str], rng: random.Random) -> tuple[str, str] | None:
    """(kind, the sentence with one slot changed), the kinds tried in a random order."""
    kinds = [("number", 3), ("name", 3), ("polarity", 2), ("opposite", 2), ("month", 1)]
    order = sorted(kinds, key=lambda kw: -rng.random() ** (1.0 / kw[1]))
    for kind, _ in order:
        out = {"number": lambda: _change_number(sentence, rng), "name": lambda: _change_name(sentence, names, rng),
               "polarity": lambda: _change_polarity(sentence, rng), "opposite": lambda: _change_opposite(sentence, rng),
               "month": lambda: _change_month(sentence, rng)}[kind]()
        if out and out != sentence:
            return kind, out
    return None


def article_sentences(paragraphs: list[str]) -> list[list[str]]:
    from dossier.ingest.sentences import sentence_spans

    return [[" ".join(_NOTE.sub("", p[a:b]).split()) for a, b in sentence_spans(p)] for p in paragraphs]


def synthetic_pairs(paragraphs: list[str], rng: random.Random, rounds: int = 1) -> list[Pair]:
    """Entailed, neutral and contradicted pairs from one article's paragraphs (see the module docstring)."""
    paras = article_sentences(paragraphs)
    names = sorted({m.group(0) for ss in paras for s in ss for m in _NAME.finditer(s)})
    flat = [(pi, si, s) for pi, ss in enumerate(paras) for si, s in enumerate(ss)]
    index = [(pi, si, _content(s)) for pi, si, s in flat]
    out: list[Pair] = []
    for _ in range(rounds):
        for pi, si, s in flat:
            n = len(s.split())
            if n < 7 or n > 70:
                continue
            ss = paras[pi]
            window = " ".join(ss[max(0, si - 1):si + 2])
            others = " ".join(ss[max(0, si - 1):si] + ss[si + 1:si + 2])
            short = shorter(s, rng)
            # entailment
            r = rng.random()
            if short and r < 0.45:
                out.append((s, short, 0))
            elif window != s and r < 0.8:
                out.append((window, short if short and rng.random() < 0.5 else s, 0))
            elif short:
                out.append((window, short, 0))
            elif rng.random() < 0.3:
                out.append((s, s, 0))
            # contradiction
            base = short if short and rng.random() < 0.5 else s
            changed = contradict(base, names, rng)
            if changed:
                out.append((window if rng.random() < 0.4 else s, _tidy(changed[1]), 2))
            # neutral
            r = rng.random()
            if short and r < 0.35 and _content(s) - _content(short) - _content(others):
                out.append((short if rng.random() < 0.6 else " ".join(filter(None, [others, short])), s, 1))
            elif others and r < 0.7 and len(_content(s) - _content(others)) >= 2:
                out.append((others, short if short and rng.random() < 0.4 else s, 1))
            else:
                mine = _content(s)
                near = [(len(mine & c), p2, s2) for p2, s2, c in index if (p2 != pi or abs(s2 - si) > 1) and len(mine & c) >= 2]
                if near:
                    near.sort(key=lambda t: -t[0])
                    _, p2, s2 = rng.choice(near[:5])
                    out.append((s, paras[p2][s2], 1))
    return out


def squad_synthetic(external: Path, *, seed: int = 13, rounds: int = 2) -> Source:
    """Synthetic pairs from the SQuAD training articles; the SYNTHETIC_DEV_ARTICLE's are the held-out part."""
    from .squad import articles

    rng = random.Random(seed)
    train, dev = [], []
    for art in sorted(articles(external, "train"), key=lambda a: a.title):
        pairs = synthetic_pairs(art.paragraphs, rng, rounds=1 if art.title == SYNTHETIC_DEV_ARTICLE else rounds)
        (dev if art.title == SYNTHETIC_DEV_ARTICLE else train).extend(pairs)
    return Source("synthetic", train, dev)
