"""Seeded synthetic investigation corpus: plain-text documents of a few hundred words with names,
numbers, dates, places and organisations, written to disk with a manifest and generated questions.

Document `i` depends only on (seed, i), so a smaller corpus is a prefix of a larger one with the
same seed, and regenerating gives byte-identical files. The corpus is sized with the real reader
and chunker (the settings given), so it yields about the requested number of chunks.

Layout of OUT:
  docs/NNN/dNNNNNNN.txt   the documents, 1000 per folder
  manifest.tsv            id, path, kind, title, publisher, date (what `dossier ingest --manifest` reads)
  queries.jsonl           {"id", "question", "answer", "path"}: one question per sampled document,
                          answerable from a sentence of that document
  corpus.json             parameters, counts and a digest of every file (what makes it repeatable)
"""
from __future__ import annotations

import hashlib
import json
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

GENERATOR_VERSION = "1"
DOCS_PER_FOLDER = 1000

FIRST = """Anna Boris Carla Dmitri Elena Farid Greta Hassan Ingrid Jonas Katarzyna Lars Maria Nikolai Olga Pavel Rasmus
Sofia Tomas Ulla Viktor Wanda Yusuf Zofia Aleksander Birgitte Cezary Daria Emil Fatima Gunnar Helena Igor Jana Kirill
Laura Mikkel Natalia Oskar Petra Ruslan Sanna Timur Ursula Vera Walter Ximena Yana Zbigniew Agnieszka Bjorn Clara
Denis Eva Filip Galina Henrik Irina Jakob Karina Leon Marta Nils Oksana Piotr Renata Sergei Tove Valentin Amina Mehmet
Lucia Marek Ines Andrei Svetlana Kasper Lina Artem Hanna Mateusz Sigrid Ivan Julia Stefan Ewa Maksim Astrid Roman
Dagmar Yuri Malin Viktoria Hugo Alina Erik Tatiana Omar Nadia Anders Ksenia Fredrik Daniela Mikhail Liv Janusz""".split()
LAST = """Andersen Baranov Castellano Dabrowski Eriksson Fedorova Gashi Halvorsen Ivanova Jensen Kowalski Lindqvist
Morozov Nielsen Orlova Petrenko Quist Rasmussen Sokolov Tanaka Udovenko Virtanen Wojcik Yilmaz Zielinski Abramov
Bergstrom Chernova Dahl Egorov Frandsen Gromov Holm Ilyin Jakobsen Kuznetsov Larsen Melnyk Novak Ostrowski Pedersen
Romanov Svensson Tkachenko Ulriksen Volkov Wisniewska Yakovlev Zaitsev Antonov Bjornsen Christensen Danilova Engstrom
Fischer Golubev Hansen Isaksen Johansson Karlsson Lebedev Madsen Nowak Olsen Popescu Rybak Sorensen Thomsen Ustinov
Vasquez Weber Yermakov Zhukov Aydin Bogdanova Celik Demir Evans Fontaine Garcia Horvat Iversen Jankowski Kovac Lund
Marino Nyberg Ozturk Pavlova Rossi Schmidt Tarasova Urban Varga Wagner Zoric Akhmetov Borisova Costa Duda Esposito
Ferreira Grabowski Hoffmann Ionescu Kaminski Lewandowski Mazur Nemeth Orsini Pajari Ruiz Sikora Toth Vesely""".split()
PLACES = [("Klaipeda", "Lithuania"), ("Gdansk", "Poland"), ("Riga", "Latvia"), ("Tallinn", "Estonia"), ("Rostock", "Germany"),
          ("Aarhus", "Denmark"), ("Esbjerg", "Denmark"), ("Gothenburg", "Sweden"), ("Kotka", "Finland"), ("Hamburg", "Germany"),
          ("Rotterdam", "the Netherlands"), ("Antwerp", "Belgium"), ("Constanta", "Romania"), ("Varna", "Bulgaria"),
          ("Odesa", "Ukraine"), ("Mersin", "Turkey"), ("Piraeus", "Greece"), ("Valletta", "Malta"), ("Limassol", "Cyprus"),
          ("Tbilisi", "Georgia"), ("Yerevan", "Armenia"), ("Baku", "Azerbaijan"), ("Almaty", "Kazakhstan"),
          ("Tashkent", "Uzbekistan"), ("Bishkek", "Kyrgyzstan"), ("Minsk", "Belarus"), ("Vilnius", "Lithuania"),
          ("Warsaw", "Poland"), ("Helsinki", "Finland"), ("Copenhagen", "Denmark"), ("Stockholm", "Sweden"),
          ("Oslo", "Norway"), ("Bergen", "Norway"), ("Dubai", "the United Arab Emirates"), ("Istanbul", "Turkey"),
          ("Alexandria", "Egypt"), ("Tripoli", "Libya"), ("Tangier", "Morocco"), ("Algeciras", "Spain"),
          ("Marseille", "France"), ("Genoa", "Italy"), ("Trieste", "Italy"), ("Koper", "Slovenia"), ("Rijeka", "Croatia"),
          ("Durres", "Albania"), ("Bar", "Montenegro"), ("Novorossiysk", "Russia"), ("Ust-Luga", "Russia"),
          ("Kaliningrad", "Russia"), ("Murmansk", "Russia"), ("Aktau", "Kazakhstan"), ("Turkmenbashi", "Turkmenistan"),
          ("Poti", "Georgia"), ("Batumi", "Georgia"), ("Izmir", "Turkey"), ("Haifa", "Israel"), ("Beirut", "Lebanon"),
          ("Jeddah", "Saudi Arabia"), ("Mumbai", "India"), ("Karachi", "Pakistan"), ("Colombo", "Sri Lanka"),
          ("Singapore", "Singapore"), ("Hong Kong", "China"), ("Shanghai", "China"), ("Busan", "South Korea")]
CARGO = """fertiliser potash timber sawn-wood coal diesel-fuel jet-fuel wheat barley sunflower-oil steel-pipes aluminium
ball-bearings machine-tools drones thermal-cameras microchips radio-equipment spare-parts trucks tyres cement nickel
copper-cathodes ammonium-nitrate medicines cigarettes vodka caviar furniture textiles""".split()
SECTORS = "Logistics Shipping Trading Holding Energy Metals Agro Chemicals Marine Freight Industrial Capital Invest Transit Supply".split()
SUFFIXES = "GmbH Ltd LLC A/S OOO JSC PLC AG BV AB Oy SA".split()
SYLL = "bal tra nor vik sta mar kon tek vel ros dan gor lin mir sev zap ark pol tur nova via pro ost sud kor fen dor kas".split()
ORG_TEMPLATES = ["the {city} Port Authority", "the {city} District Court", "the Ministry of {portfolio}", "{adj} Rights Watch",
                 "the {adj} Anti-Corruption Centre", "the {country} Customs Service", "the {adj} Institute for Security Studies",
                 "the Financial Intelligence Unit of {country}", "the {adj} Transparency Network", "the {city} Prosecutor's Office"]
PORTFOLIOS = "Finance Defence Economy Foreign Affairs Trade Transport Justice Interior Agriculture Energy".split()
ADJ = "Baltic Nordic Eastern Black Sea Caspian Adriatic Central Danube Open Civic Northern Southern Independent European".split()
ROLES = ["chief executive", "finance director", "logistics manager", "former accountant", "compliance officer", "board member",
         "spokesperson", "senior analyst", "legal adviser", "procurement officer", "head of security", "founder"]
PUBLISHERS = ["Baltic Ledger", "Nordic Investigations Desk", "The Harbour Review", "Eastern Wire", "OpenFiles Collective",
              "Danube Post", "Caspian Monitor", "The Transit Journal", "Sea Lanes Weekly", "Civic Audit Project"]
KINDS = ["article"] * 6 + ["ngo-report", "press-release", "legal", "un-report"]
MONTHS = "January February March April May June July August September October November December".split()
VESSELS = "Aurora Baltic-Star Polar-Wind Sea-Falcon Nordic-Pearl Grey-Heron Amber-Coast Iron-Gull Silver-Tern Kara-Sea Volga-Trader Blue-Fjord".split()


def _company_pool(n: int, seed: int) -> list[str]:
    r = random.Random(f"companies-{seed}")
    out, seen = [], set()
    while len(out) < n:
        stem = "".join(r.choice(SYLL) for _ in range(r.choice((2, 2, 3)))).capitalize()
        name = f"{stem} {r.choice(SECTORS)} {r.choice(SUFFIXES)}"
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


@dataclass
class Cast:
    persons: list[str]
    companies: list[str]
    orgs: list[str]
    places: list[tuple[str, str]]
    cargo: list[str]
    vessel: str
    publisher: str


@dataclass
class GenDoc:
    index: int
    rel_path: str
    title: str
    publisher: str
    date: str
    kind: str
    text: str
    facts: list[dict] = field(default_factory=list)


class _Doc:
    """One document's generator: a cast of entities, fact sentences (with a question each) and context."""

    def __init__(self, r: random.Random, companies: list[str]):
        self.r = r
        places = r.sample(PLACES, 3)
        self.year = r.randint(2011, 2024)
        self.cast = Cast(
            persons=[f"{r.choice(FIRST)} {r.choice(LAST)}" for _ in range(3)],
            companies=r.sample(companies, 3),
            orgs=[self._org(places) for _ in range(2)],
            places=places,
            cargo=[c.replace("-", " ") for c in r.sample(CARGO, 2)],
            vessel="MV " + r.choice(VESSELS).replace("-", " "),
            publisher=r.choice(PUBLISHERS),
        )
        self.facts: list[dict] = []
        self._used: set[str] = set()

    def _org(self, places) -> str:
        r = self.r
        city, country = r.choice(places)
        return r.choice(ORG_TEMPLATES).format(city=city, country=country, portfolio=r.choice(PORTFOLIOS), adj=r.choice(ADJ))

    # --- slot fillers -------------------------------------------------------------------
    def date(self) -> str:
        r = self.r
        return f"{r.randint(1, 28)} {r.choice(MONTHS)} {self.year + r.choice((-1, 0, 0, 1))}"

    def money(self) -> str:
        r = self.r
        cur = r.choice(("€", "$", "£"))
        return r.choice((f"{cur}{r.randint(2, 95) / 10:.1f} million", f"{cur}{r.randint(12, 990) * 1000:,}",
                         f"{r.randint(3, 480)} million roubles"))

    def num(self, lo: int, hi: int) -> str:
        return f"{self.r.randint(lo, hi):,}"

    def pick(self, seq):
        return self.r.choice(seq)

    # --- sentences ----------------------------------------------------------------------
    def fact(self) -> str:
        r, c = self.r, self.cast
        p, p2 = r.sample(c.persons, 2)
        co, co2 = r.sample(c.companies, 2)
        org = r.choice(c.orgs)
        (pl, cn), (pl2, cn2) = r.sample(c.places, 2)
        cargo = r.choice(c.cargo)
        k = r.randrange(12)
        if k == 0:
            n, m = self.num(120, 48000), self.pick(MONTHS)
            s = f"{co} shipped {n} tonnes of {cargo} from {pl} to {pl2} in {m} {self.year}."
            q, a = f"How many tonnes of {cargo} did {co} ship to {pl2}?", n
        elif k == 1:
            money = self.money()
            s = f"According to {org}, the contract between {co} and {co2} was worth {money}."
            q, a = f"How much was the contract between {co} and {co2} worth?", money
        elif k == 2:
            role, d = self.pick(ROLES), self.date()
            s = f"{p}, the {role} of {co}, told reporters on {d} that the deliveries through {pl} had stopped."
            q, a = f"Who is the {role} of {co}?", p
        elif k == 3:
            d, n = self.date(), r.randint(3, 41)
            s = f"The vessel {c.vessel} docked in {pl} on {d} after a {n}-day voyage from {pl2}."
            q, a = f"When did the vessel {c.vessel} dock in {pl}?", d
        elif k == 4:
            money = self.money()
            s = f"{org[0].upper() + org[1:]} fined {co} {money} in {self.year} for breaching export rules."
            q, a = f"How much was {co} fined for breaching export rules?", money
        elif k == 5:
            y = self.year - r.randint(2, 15)
            s = f"{p} founded {co} in {pl} in {y}, according to the company register."
            q, a = f"Who founded {co}?", p
        elif k == 6:
            d = self.date()
            s = f"{org[0].upper() + org[1:]} opened an investigation into {co} on {d}."
            q, a = f"When was an investigation into {co} opened?", d
        elif k == 7:
            s = f"{co} is registered in {pl}, {cn}, and is owned by {p} through a holding in {pl2}."
            q, a = f"Where is {co} registered?", f"{pl}, {cn}"
        elif k == 8:
            y1, pct = self.year - r.randint(1, 6), r.randint(4, 310)
            s = f"Between {y1} and {self.year}, imports of {cargo} to {cn} rose by {pct} percent."
            q, a = f"By how much did imports of {cargo} to {cn} rise between {y1} and {self.year}?", f"{pct} percent"
        elif k == 9:
            n, d = r.randint(2, 14), self.date()
            s = f"{p} was sentenced to {n} years in prison by the {pl} District Court on {d}."
            q, a = f"How many years in prison was {p} sentenced to?", f"{n} years"
        elif k == 10:
            n = self.num(3, 900)
            s = f"A spokesperson for {org} said it had received {n} complaints about {co} since {self.year - 1}."
            q, a = f"How many complaints about {co} were received?", n
        else:
            n = self.num(14, 5200)
            s = f"{co} employed {n} people at its plant near {pl} at the end of {self.year}."
            q, a = f"How many people did {co} employ near {pl}?", n
        self.facts.append({"question": q, "answer": a, "sentence": s})
        return s

    def context(self) -> str:
        r, c = self.r, self.cast
        p, co, org = r.choice(c.persons), r.choice(c.companies), r.choice(c.orgs)
        pl, cn = r.choice(c.places)
        cargo = r.choice(c.cargo)
        options = [
            f"The documents, seen by {c.publisher}, do not explain why the payments were routed through {pl}.",
            f"Neither {co} nor {p} responded to repeated requests for comment.",
            f"Officials in {pl} declined to say whether the {cargo} had been inspected before it left the port.",
            f"The case has drawn attention to gaps in the way {cn} monitors exports of {cargo}.",
            f"Records show that the company changed its name twice in {self.year - 1} and moved its office to {pl}.",
            "Several former employees described a pattern of late payments, missing paperwork and unexplained cash transfers.",
            "It is not clear whether the transfers were legal at the time they were made.",
            f"{org[0].upper() + org[1:]} has previously criticised the lack of transparency in the sector.",
            "The ministry said in a short statement that it was reviewing the findings and would respond in due course.",
            f"Analysts estimate that the trade was worth more than {self.money()} a year at its peak.",
            f"Customs data for {self.year} list {self.num(2, 400)} consignments declared under the same commodity code.",
            f"Residents of {pl} told {c.publisher} that they had noticed lorries arriving at the terminal late at night.",
            f"In an interview, {p}, who worked as a {self.pick(ROLES)} in {pl} until {self.year - 1}, said the instructions "
            f"came directly from the head office and were rarely put in writing, which made it difficult to trace who had "
            f"approved each shipment.",
            f"The {c.vessel} switched off its transponder for {r.randint(2, 60)} hours while sailing past {pl}.",
            f"Invoices reviewed for this report were issued in {self.pick(MONTHS)} and {self.pick(MONTHS)}, "
            f"weeks before the goods were declared at the border.",
            f"Lawyers for {co} said the company had always complied with the law and that the allegations were unfounded.",
            f"The sanctions regime introduced in {self.year - r.randint(0, 3)} prohibits the sale of {cargo} to listed entities.",
            f"A report by {org} published on {self.date()} listed {co} among {self.num(4, 90)} companies that required closer scrutiny.",
            "Experts say that such arrangements are common in the region and rarely lead to prosecution.",
            f"Bank statements show {r.randint(3, 70)} payments from an account in {pl} to a company registered in {cn}.",
            f"The freight was later relabelled as {r.choice(CARGO).replace('-', ' ')} and sent on by rail.",
        ]
        s = r.choice(options)
        for _ in range(3):  # a context sentence rarely repeats within a document
            if s not in self._used:
                break
            s = r.choice(options)
        self._used.add(s)
        return s

    def paragraph(self) -> str:
        r = self.r
        n = r.choice((1, 2, 2, 3, 3, 3, 4, 4, 5, 6))
        sents = [self.fact() if r.random() < 0.4 else self.context() for _ in range(n)]
        return " ".join(sents)

    def title(self) -> str:
        r, c = self.r, self.cast
        co, (pl, cn), cargo = c.companies[0], c.places[0], c.cargo[0]
        return r.choice([
            f"{co} and the {cargo} trade through {pl}", f"Inside the investigation into {co}",
            f"How {cargo} reached {cn} despite the restrictions", f"{c.orgs[0][0].upper() + c.orgs[0][1:]}: findings on {co}",
            f"The {c.vessel} and its cargo of {cargo}", f"Follow the money: {co} in {pl}",
        ])


def generate_doc(seed: int, index: int, companies: list[str]) -> GenDoc:
    r = random.Random(f"{seed}-{index}")
    g = _Doc(r, companies)
    target_words = int(r.triangular(180, 900, 350))
    title = g.title()
    paras = [title]
    words = len(title.split())
    while words < target_words:
        p = g.paragraph()
        paras.append(p)
        words += len(p.split())
    folder = index // DOCS_PER_FOLDER
    return GenDoc(
        index=index, rel_path=f"docs/{folder:03d}/d{index:07d}.txt", title=title, publisher=g.cast.publisher,
        date=f"{g.year}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}", kind=r.choice(KINDS),
        text="\n\n".join(paras) + "\n", facts=g.facts,
    )


class ChunkCounter:
    """Chunks a generated document exactly as ingest will: the real reader, then the real chunker."""

    def __init__(self, settings=None):
        from dossier.ingest.settings import IngestSettings

        self.settings = settings or IngestSettings()

    def count(self, doc: GenDoc) -> int:
        from dossier.ingest.chunking import chunk_document
        from dossier.ingest.models import Document, DocumentMeta
        from dossier.ingest.readers import read_bytes

        read = read_bytes(doc.text.encode("utf-8"), Path(doc.rel_path).name, self.settings)
        d = Document(doc_id="dcount", source=doc.rel_path, sha256="", format=read.format, text=read.text,
                     meta=DocumentMeta(title=doc.title, language="en"), headings=read.headings)
        return len(chunk_document(d, self.settings))


def corpus_params(chunks: int, seed: int, settings) -> dict:
    from dossier.ingest.chunking import chunking_fingerprint

    return {"generator": GENERATOR_VERSION, "target_chunks": chunks, "seed": seed, "chunking": chunking_fingerprint(settings)}


def load_info(out: Path) -> dict | None:
    p = Path(out) / "corpus.json"
    return json.loads(p.read_text()) if p.is_file() else None


def ensure_corpus(chunks: int, out: Path, seed: int = 0, *, settings=None, max_queries: int = 2000,
                  log=None) -> dict:
    """The corpus in OUT for these parameters: reused when corpus.json says it matches (and every file is
    there), generated otherwise. Returns corpus.json's content."""
    from dossier.ingest.settings import IngestSettings

    settings = settings or IngestSettings()
    out = Path(out)
    params = corpus_params(chunks, seed, settings)
    info = load_info(out)
    if info and info.get("params") == params and all((out / f).is_file() for f in ("manifest.tsv", "queries.jsonl")):
        if sum(1 for _ in (out / "docs").rglob("*.txt")) == info["documents"]:
            info["reused"] = True
            return info
    return generate_corpus(chunks, out, seed, settings=settings, max_queries=max_queries, log=log)


def generate_corpus(chunks: int, out: Path, seed: int = 0, *, settings=None, max_queries: int = 2000, log=None) -> dict:
    from dossier.ingest.settings import IngestSettings

    settings = settings or IngestSettings()
    out = Path(out)
    t0 = time.perf_counter()
    if (out / "docs").exists():
        shutil.rmtree(out / "docs")
    out.mkdir(parents=True, exist_ok=True)
    companies = _company_pool(3000, seed)
    counter = ChunkCounter(settings)
    digest = hashlib.sha256()
    manifest = ["id\tpath\tkind\ttitle\tpublisher\tdate"]
    facts_by_doc: list[tuple[str, list[dict]]] = []
    total_chunks = total_words = total_chars = 0
    i = 0
    while total_chunks < chunks:
        d = generate_doc(seed, i, companies)
        n = counter.count(d)
        path = out / d.rel_path
        path.parent.mkdir(parents=True, exist_ok=True)
        data = d.text.encode("utf-8")
        path.write_bytes(data)
        digest.update(d.rel_path.encode() + b"\0" + hashlib.sha256(data).digest())
        manifest.append("\t".join((Path(d.rel_path).stem, d.rel_path, d.kind, d.title, d.publisher, d.date)))
        facts_by_doc.append((d.rel_path, d.facts))
        total_chunks += n
        total_words += len(d.text.split())
        total_chars += len(d.text)
        i += 1
        if log and i % 2000 == 0:
            log(f"corpus: {i} documents, {total_chunks}/{chunks} chunks")
    (out / "manifest.tsv").write_text("\n".join(manifest) + "\n", encoding="utf-8")
    queries = _sample_queries(facts_by_doc, max_queries, seed)
    with open(out / "queries.jsonl", "w", encoding="utf-8") as fh:
        for q in queries:
            fh.write(json.dumps(q, ensure_ascii=False) + "\n")
    info = {
        "params": corpus_params(chunks, seed, settings),
        "documents": i, "chunks": total_chunks, "words": total_words, "chars": total_chars,
        "queries": len(queries), "digest": digest.hexdigest()[:16],
        "generate_seconds": round(time.perf_counter() - t0, 2), "reused": False,
    }
    (out / "corpus.json").write_text(json.dumps(info, indent=2) + "\n")
    return info


def _sample_queries(facts_by_doc: list[tuple[str, list[dict]]], limit: int, seed: int) -> list[dict]:
    """One question per document, from documents spread evenly over the corpus (seeded choice of fact)."""
    with_facts = [(p, f) for p, f in facts_by_doc if f]
    if not with_facts:
        return []
    step = max(1, len(with_facts) // limit)
    r = random.Random(f"queries-{seed}")
    out = []
    for j, (path, facts) in enumerate(with_facts[::step][:limit]):
        f = r.choice(facts)
        out.append({"id": f"q{j:05d}", "question": f["question"], "answer": f["answer"], "path": path})
    r.shuffle(out)
    return out


def read_queries(out: Path) -> list[dict]:
    return [json.loads(line) for line in (Path(out) / "queries.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
