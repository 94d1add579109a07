"""`manage.py make_corpus N OUTDIR [--seed S]`: a synthetic corpus shaped like the two seed documents.

For the benchmark only (never used by `make run`).  Same N and seed → byte-identical files.

Most documents are format B drug references (FAQs with the seed's `**`/`A:**` debris in the front
matter, an "Alternate Names" section of brands, some with `速` mojibake, a classification sentence);
about one in seven is a format A patient page (HTML, an aside, a comparison table with a footnote,
links to other generated pages' uris).  Some format A titles are one letter-swap away from a format B
drug, so the importer records them as misspellings.  Drug names are pronounceable INN-like names,
unique and at least two slips apart from one another for any N up to well beyond 20,000, so no
generated name is mistaken for another drug's misspelling.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

ONSETS = [
    "b",
    "c",
    "d",
    "f",
    "g",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "z",
    "br",
    "cl",
    "dr",
    "fl",
    "gr",
    "pr",
    "tr",
    "st",
]
VOWELS = ["a", "e", "i", "o", "u"]
# INN stems and the class they name (plural, so both formats' sentences find one class).
STEMS = {
    "mab": "Monoclonal antibody agents",
    "tinib": "Kinase inhibitors",
    "pril": "ACE inhibitors",
    "sartan": "Angiotensin receptor blockers",
    "olol": "Beta blockers",
    "prazole": "Proton pump inhibitors",
    "vastatin": "Statins",
    "dronate": "Bisphosphonates",
    "cillin": "Penicillins",
    "floxacin": "Fluoroquinolones",
    "avir": "Antivirals",
    "glutide": "GLP-1 receptor agonists",
    "parin": "Anticoagulants",
    "setron": "Antiemetics",
    "gliptin": "Gliptins",
    "lukast": "Leukotriene receptor antagonists",
    "dipine": "Calcium channel blockers",
    "oxetine": "Serotonin reuptake inhibitors",
}
BRAND_ENDINGS = ["a", "ex", "ix", "on", "ra", "ia", "os", "ine", "yl"]
CONDITIONS = [
    "hypertension",
    "osteoporosis",
    "rheumatoid arthritis",
    "type 2 diabetes",
    "chronic kidney disease",
    "atrial fibrillation",
    "heart failure",
    "asthma",
    "migraine",
    "major depressive disorder",
    "bacterial pneumonia",
    "urinary tract infection",
    "plaque psoriasis",
    "Crohn's disease",
    "ulcerative colitis",
    "multiple myeloma",
    "metastatic bone disease",
    "gastro-oesophageal reflux",
    "hypercholesterolaemia",
    "deep vein thrombosis",
    "chemotherapy-induced nausea",
    "chronic hepatitis B",
    "HIV-1 infection",
    "allergic rhinitis",
    "generalised anxiety disorder",
    "angina pectoris",
]
SIDE_EFFECTS = [
    "headache",
    "nausea",
    "dizziness",
    "fatigue",
    "diarrhoea",
    "constipation",
    "rash",
    "pruritus",
    "back pain",
    "arthralgia",
    "peripheral oedema",
    "cough",
    "insomnia",
    "dry mouth",
    "abdominal pain",
    "hypocalcaemia",
    "hyperkalaemia",
    "elevated liver enzymes",
    "photosensitivity",
    "tachycardia",
    "bradycardia",
    "hypotension",
    "muscle cramps",
    "upper respiratory tract infection",
    "osteonecrosis of the jaw",
    "QT prolongation",
    "angioedema",
    "neutropenia",
]
MONITORING = [
    "serum calcium",
    "renal function",
    "liver function tests",
    "blood pressure",
    "full blood count",
    "serum potassium",
    "heart rate",
    "HbA1c",
    "lipid profile",
    "bone mineral density",
    "INR",
    "body weight",
    "ECG",
]
ROUTES = ["orally", "subcutaneously", "intravenously", "by intramuscular injection"]
INTERVALS = ["once daily", "twice daily", "once weekly", "every 2 weeks", "every 4 weeks", "every 6 months"]
LINK_TARGETS = [
    "/diagnosis/a-z/necrosis/hard/detailed",
    "/diagnosis/a-z/tumour/metastases",
    "/treatment/radiotherapy",
    "/treatment/surgery/reconstruction",
]
AUTHORS = [
    "Angelika Sebald",
    "David A. Mitchell",
    "Jane Doe",
    "John Smith",
    "Ann Lee",
    "Bob Brown",
    "Carol White",
    "Mary-Jane O'Neil",
    "Peter Parker",
    "Ravi Patel",
]
ATTRIBUTES = ["Category", "Target", "Mechanism of action", "Distribution", "Onset of action", "Offset of action"]
URI_PREFIX = "treatment/other/medication/miscellaneous/"
FORMAT_A_EVERY = 7  # one document in seven is a format A patient page


def one_slip_keys(word: str) -> list[str]:
    """The word and every one-letter deletion of it.

    Two words one substitution, insertion, deletion or neighbour swap apart always share a key, so
    a name whose keys are all new is at least two slips from every name seen.
    """
    return [word, *(word[:i] + word[i + 1 :] for i in range(len(word)))]


def name_slug(name: str) -> str:
    """`slugify(name)`, which for a name of ASCII letters (every generated one) is `name.lower()`: the test of
    brand names at 20,000 documents asks it ~900,000 times, and slugify spent 40 % of that test."""
    return name.lower() if name.isascii() and name.isalpha() else slugify(name)


@dataclass
class NameRegistry:
    """Generated names, their one-slip neighbourhoods and letter multisets (for non-neighbour swaps)."""

    taken: set[str] = field(default_factory=set)  # slugs of every drug, brand and misspelling
    neighbourhood: dict[str, str] = field(default_factory=dict)  # one-slip key → drug name it belongs to
    anagrams: dict[str, str] = field(default_factory=dict)

    def is_clear(self, name: str, owner: str | None = None) -> bool:
        word = name.lower()
        if name_slug(name) in self.taken:
            return False
        if any(self.neighbourhood.get(key, owner) != owner for key in one_slip_keys(word)):
            return False
        return self.anagrams.get("".join(sorted(word)), owner) == owner

    def add(self, name: str, owner: str | None = None) -> None:
        word, owner = name.lower(), owner or name
        self.taken.add(name_slug(name))
        for key in one_slip_keys(word):
            self.neighbourhood.setdefault(key, owner)
        self.anagrams.setdefault("".join(sorted(word)), owner)


@dataclass
class Drug:
    name: str
    stem: str
    brands: list[tuple[str, str]] = field(default_factory=list)

    @property
    def drug_class(self) -> str:
        return STEMS[self.stem]


class CorpusWriter:
    def __init__(self, count: int, seed: int):
        self.count = count
        self.rng = random.Random(seed)
        self.names = NameRegistry()

    # -- names ---------------------------------------------------------------------------------

    def _syllable(self) -> str:
        return self.rng.choice(ONSETS) + self.rng.choice(VOWELS)

    def new_drug(self) -> Drug:
        for _ in range(10_000):
            stem = self.rng.choice(list(STEMS))
            syllables = self.rng.choice((2, 3, 3, 3, 4))
            name = ("".join(self._syllable() for _ in range(syllables)) + stem).capitalize()
            if self.names.is_clear(name):
                self.names.add(name)
                return Drug(name, stem)
        raise CommandError("ran out of drug names; use a different seed")

    def new_brand(self) -> str:
        """A short brand name; a syllable longer once the two-syllable names run out (~20,000 of them)."""
        for attempt in range(10_000):
            syllables = 2 if attempt < 50 else 3
            name = "".join(self._syllable() for _ in range(syllables))[:-1] + self.rng.choice(BRAND_ENDINGS)
            if name_slug(name) not in self.names.taken:
                self.names.taken.add(name_slug(name))
                return name.capitalize()
        raise CommandError("ran out of brand names; use a different seed")

    def misspelling(self, drug: Drug) -> str | None:
        """The drug's name with two neighbouring letters swapped (never the first), if it is unambiguous."""
        word = drug.name
        positions = list(range(1, len(word) - 1))
        self.rng.shuffle(positions)
        for i in positions:
            if word[i] == word[i + 1]:
                continue
            variant = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
            if self.names.is_clear(variant, owner=drug.name):
                self.names.add(variant, owner=drug.name)
                return variant
        return None

    # -- text ----------------------------------------------------------------------------------

    def _pick(self, items, k=1):
        return self.rng.sample(items, k)

    def _date(self, start_year: int) -> str:
        r = self.rng
        return (
            f"{r.randint(start_year, 2025)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
            f"T{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}"
        )

    def _usage_sentences(self, drug: Drug, conditions: list[str]) -> list[str]:
        first = f"{drug.name} is prescribed for the treatment of {conditions[0]}"
        if len(conditions) > 1:
            first += f" and {conditions[1]}"
        sentences = [first + " in adults who have not responded to first-line therapy."]
        for condition in conditions[2:]:
            sentences.append(f"It is also used to reduce the risk of complications of {condition}.")
        return sentences

    def _paragraph(self, drug: Drug, others: list[Drug]) -> str:
        r = self.rng
        effect, other_effect = self._pick(SIDE_EFFECTS, 2)
        monitor = r.choice(MONITORING)
        other = r.choice(others).name if others else "other agents"
        templates = [
            f"Patients taking {drug.name} should have {monitor} checked before treatment and at regular intervals.",
            f"{drug.name} may cause {effect}, which is usually mild and settles within the first weeks of treatment.",
            f"Co-administration with {other} can increase the risk of {other_effect}; the dose may need adjusting.",
            f"The effect of {drug.name} is dose-dependent, and {effect} is more frequent at higher doses.",
            f"In clinical studies {drug.name} reduced symptoms compared with placebo, with {other_effect} "
            "reported in fewer than one in ten patients.",
        ]
        return " ".join(r.sample(templates, r.randint(2, 4)))

    # -- format B ------------------------------------------------------------------------------

    def format_b(self, drug: Drug, others: list[Drug], large: bool) -> str:
        r = self.rng
        conditions = self._pick(CONDITIONS, r.randint(2, 4))
        mojibake = r.random() < 0.3
        mark = "速" if mojibake else ""
        dose, route, interval = r.choice([5, 10, 20, 40, 60, 120, 250]), r.choice(ROUTES), r.choice(INTERVALS)
        brands = []
        for _ in range(r.randint(1, 3)):
            brands.append((self.new_brand(), f"{r.choice([5, 10, 20, 60, 120])} mg dose for {r.choice(conditions)}"))
        drug.brands = brands
        effects = self._pick(SIDE_EFFECTS, 7)
        serious = self._pick(SIDE_EFFECTS, 4)
        monitor = self._pick(MONITORING, 3)
        interacting = self._pick(others, min(2, len(others))) if others else []
        usage = " ".join(self._usage_sentences(drug, conditions))
        description = usage if len(usage) <= 240 else usage[:237].rstrip() + "..."
        depth = r.randint(4, 7) if large else 1

        faqs = [
            (
                f"What is the recommended dosage for {drug.name}?",
                f"{dose} mg {route} {interval}; the dose may be adjusted to response and tolerance.",
            ),
            (
                f"What is the mechanism of action of {drug.name}?",
                f"{drug.name} belongs to the {drug.drug_class.lower()} and acts on its target to relieve "
                f"{conditions[0]}.",
            ),
            (
                f"What are the serious side effects of {drug.name}?",
                f"Serious side effects include {', '.join(serious[:3])} and {serious[3]}.",
            ),
            (
                f"What are the contraindications for using {drug.name}?",
                f"{drug.name} is contraindicated in patients with hypersensitivity to it and during pregnancy.",
            ),
            (
                f"What are the important drug interactions with {drug.name}?",
                "Interactions are listed in the Drug Interactions section; "
                + (f"take particular care with {interacting[0].name}." if interacting else "none are major."),
            ),
            (
                f"Can {drug.name} be used during pregnancy or breastfeeding?",
                f"{drug.name} is not recommended during pregnancy. Breastfeeding is not recommended while taking it.",
            ),
            (
                f"What monitoring is required for patients on {drug.name}?",
                f"Monitor {', '.join(monitor)} during treatment.",
            ),
            (
                f"What should be done if a patient develops {serious[0]} while on {drug.name}?",
                f"{serious[0].capitalize()} should be managed promptly; interrupting treatment may be needed.",
            ),
            (
                f"What is the significance of a baseline assessment prior to {drug.name} initiation?",
                f"A baseline assessment of {monitor[0]} identifies patients at risk and guides the starting dose.",
            ),
            (
                f"What is the recommended course of action upon discontinuation of {drug.name}?",
                "Treatment should be tapered where possible and the patient reviewed within four weeks.",
            ),
        ]
        front = [
            "---",
            f"title: {drug.name}",
            "description: >-",
            f"  {description}",
            f"is_banned: {'true' if r.random() < 0.02 else 'false'}",
            f"lastModified: '{self._date(2019)}.{r.randint(0, 999):03d}Z'",
            "faqs:",
        ]
        for question, answer in faqs:
            # The seed's debris: the question drags its answer along after `?**`, the answer starts `A:**`.
            front += [
                "  - q: >-",
                f"      {question}**",
                "",
                f"      **A:** {answer}",
                "    a: >-",
                f"      A:** {answer}",
            ]
        front.append("---")

        brand_text = " and ".join(f"**{name}{mark}** ({notes})" for name, notes in brands)
        body = [
            "## **Usage**",
            "",
            usage,
            "",
            f"{drug.name}'s pharmacological classification is  **{drug.drug_class[:-1]}**.",
            "",
            *(p for _ in range(depth) for p in (self._paragraph(drug, others), "")),
            "## **Alternate Names**",
            "",
            f"{drug.name} is marketed under the brand names {brand_text}.",
            "",
            "## **How It Works**",
            "",
        ]
        for label in ("Pharmacodynamics", "Pharmacokinetics", "Mode of Action", "Elimination Pathways"):
            body += [f"**{label}:** {self._paragraph(drug, others)}", ""]
        body += ["", "## **Dosage**", "", "### **Standard Dosage**", "", "#### **Adults:**", ""]
        for condition in conditions:
            body.append(f"* **{condition.capitalize()}:** {dose} mg {route} {interval}.")
        body += [
            "",
            "#### **Children:**",
            "",
            f"{drug.name} is generally not recommended for paediatric use. {self._paragraph(drug, others)}",
            "",
            "### **Dosage Adjustments**",
            "",
            *(p for _ in range(depth) for p in (self._paragraph(drug, others), "")),
            "## **Side Effects**",
            "",
            "",
            "### **Common Side Effects:**",
            *(f"* {effect.capitalize()}" for effect in effects),
            "",
            "### **Rare but Serious Side Effects:**",
            "",
            *(f"* {effect.capitalize()}" for effect in serious),
            "",
            "## **Contraindications**",
            "",
            f"* Hypersensitivity to {drug.name.lower()}",
            "* Pregnancy",
            "",
            "## **Drug Interactions**",
            "",
            *(f"* {other.name} (increased risk of {r.choice(SIDE_EFFECTS)})." for other in interacting),
            "",
            "",
            "## **Pregnancy and Breastfeeding**",
            "",
            f"* **Pregnancy Safety Category:**  {drug.name} is not recommended in pregnancy.",
            "",
            "## **Precautions**",
            "",
            *(f"* {self._paragraph(drug, others)}" for _ in range(depth)),
            "",
            "## **FAQs (Frequently Asked Questions)**",
            "",
        ]
        for number, (question, answer) in enumerate(faqs, start=1):
            body += [f"### **Q{number}: {question}**", f"**A:** {answer}", ""]
        return "\n".join(front) + "\n" + "\n".join(body).rstrip() + "\n"

    # -- format A ------------------------------------------------------------------------------

    def format_a(self, title: str, drug: Drug, comparators: list[Drug], links: list[str]) -> str:
        r = self.rng
        slug = slugify(title)
        authors = self._pick(AUTHORS, r.randint(1, 2))
        proof = [name for name in AUTHORS if name not in authors][r.randint(0, 5)]
        created = self._date(2015)
        updated = max(created, self._date(2015))
        link = iter(links + LINK_TARGETS)
        cls = drug.drug_class.lower()
        cls_uri = "/" + URI_PREFIX + slugify(drug.drug_class)
        front = [
            "---",
            f"id: {URI_PREFIX.replace('/', '-')}{slug}",
            f"uri: {URI_PREFIX}{slug}",
            f"title: {title}",
            "type: page",
            f"authorship: Authored by {' and '.join(authors)};Proof-read/edited by {proof}",
            f"updated_at: {updated}Z",
            f"created_at: {created}Z",
            "---",
            "",
        ]
        paragraphs = [
            f'<p>{title} belongs to a class of drugs called <a href="{cls_uri}">{cls}</a>.\n'
            f"    {self._paragraph(drug, comparators)} It is used in the treatment of\n"
            f'    <a href="{next(link)}">{r.choice(CONDITIONS)}</a> (levels of Ca<sup>2+</sup> may change).</p>',
            f'<aside>\n    <p>Read more on our <a href="{next(link)}">detailed page</a>.</p>\n</aside>',
            f'<p>{self._paragraph(drug, comparators)} See also <a href="{next(link)}">this page</a>.</p>',
        ]
        subjects = [f"{drug.drug_class}*", title, *(other.name for other in comparators)]
        header = "".join(f"\n            <th>{label}</th>" for label in subjects)
        rows = ""
        for attribute in ATTRIBUTES:
            cells = "".join(f"\n            <td> {r.choice(SIDE_EFFECTS)}</td>" for _ in subjects)
            rows += f"\n        <tr>\n            <td> {attribute}</td>{cells}\n        </tr>"
        other_names = " and ".join([cls, *(other.name for other in comparators)])
        table = [
            f"<p>Table 1 summarises some of the key properties of {title} and {other_names}.</p>",
            f"<h2>Table 1 Comparison of {title} and {other_names}</h2>",
            f"<table>\n    <tbody>\n        <tr>\n<th></th>{header}\n        </tr>{rows}\n    </tbody>\n</table>",
            f'<p>* the range of {cls} in clinical use cover a range of <a href="{cls_uri}">potencies</a></p>',
        ]
        return "\n".join(front) + "\n".join(paragraphs + table) + "\n"

    # -- the corpus ----------------------------------------------------------------------------

    def documents(self):
        """(filename, text) for every document, in a fixed order."""
        formats = ["A" if i % FORMAT_A_EVERY == FORMAT_A_EVERY - 4 else "B" for i in range(self.count)]
        reference = [self.new_drug() for f in formats if f == "B"]
        # Patient pages about reference drugs: each drug at most once (a page's uri is its title).
        about = self.rng.sample(range(len(reference)), min(len(reference), formats.count("A")))
        patient_pages = []
        for n in range(formats.count("A")):
            roll = self.rng.random()
            if n < len(about) and roll < 0.7:
                drug = reference[about[n]]
                title = (self.misspelling(drug) if roll < 0.35 else None) or drug.name
            else:
                drug = self.new_drug()
                title = drug.name
            patient_pages.append((title, drug))
        uris = ["/" + URI_PREFIX + slugify(title) for title, _ in patient_pages]

        b_index = a_index = 0
        for i, fmt in enumerate(formats):
            filename = f"{i:05d}_{self.rng.getrandbits(64):016x}.txt"
            if fmt == "B":
                drug = reference[b_index]
                others = [reference[j] for j in self.rng.sample(range(len(reference)), min(3, len(reference)))]
                others = [other for other in others if other is not drug]
                text = self.format_b(drug, others, large=self.rng.random() < 0.05)
                b_index += 1
            else:
                title, drug = patient_pages[a_index]
                pool = [d for d in reference if d is not drug]
                comparators = self._pick(pool, min(len(pool), self.rng.randint(1, 2)))
                links = [u for u in self._pick(uris, min(3, len(uris))) if u != uris[a_index]]
                text = self.format_a(title, drug, comparators, links)
                a_index += 1
            yield filename, text


class Command(BaseCommand):
    help = "Write N synthetic source documents (both formats) into OUTDIR; same N and seed give identical files."

    def add_arguments(self, parser):
        parser.add_argument("count", type=int, help="number of documents")
        parser.add_argument("outdir", help="directory to write into (created; must not hold .txt files)")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")

    def handle(self, *args, count, outdir, seed, **options):
        if count < 1:
            raise CommandError("N must be at least 1")
        out = Path(outdir)
        out.mkdir(parents=True, exist_ok=True)
        if any(out.glob("*.txt")):
            raise CommandError(f"{out} already holds .txt files; give an empty or new directory")
        written = 0
        for filename, text in CorpusWriter(count, seed).documents():
            (out / filename).write_bytes(text.encode("utf-8"))
            written += 1
        self.stdout.write(self.style.SUCCESS(f"wrote {written} documents to {out}"))
