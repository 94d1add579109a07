"""Machine-readable views of a live monograph: schema.org JSON-LD, plain JSON and HL7 FHIR R5.

All text goes through the one renderer (`rendering`) and is then reduced to plain text, so the
structured data says exactly what the page says.
"""

from __future__ import annotations

import html as html_lib
import json
import re
from dataclasses import dataclass
from functools import cached_property

from django.utils.safestring import SafeString, mark_safe

from .models import Drug, Monograph, Revision, Surroundings
from .rendering import RenderedPage, html_text, plain_text

# Inside <script>, "</script>" or "<!--" in content would end or confuse the element; JSON allows
# these characters as \u escapes, so nothing in the content can break out (as Django's json_script).
_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}

# Level-2 headings that name the parts FHIR has places for.
_SECTION_KINDS = {
    "indication": ("usage", "uses", "indication"),
    "dosage": ("dosage", "dose", "dosing"),
    "contraindication": ("contraindication",),
    "interaction": ("interaction",),
    "warning": ("precaution", "warning"),
}
_HEADING = re.compile(r"^##(?!#)\s+(.+?)\s*#*\s*$", re.M)
_LIST_ITEM = re.compile(r"^\s*[*+-]\s+(.+)$", re.M)


def script_json(data) -> SafeString:
    """JSON that is safe inside <script type="application/ld+json">."""
    return mark_safe(json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_SCRIPT_ESCAPES))  # noqa: S308


def _iso(value) -> str | None:
    return value.isoformat() if value else None


@dataclass
class Page:
    """What the structured views need of a monograph page (the same objects the HTML page uses)."""

    drug: Drug | None  # None for a topic's monograph (monograph.topic)
    monograph: Monograph
    revision: Revision
    rendered: RenderedPage
    url: str  # absolute

    @cached_property
    def surroundings(self) -> Surroundings:
        """The drug's names and classes and the live content around the page, read in one query."""
        return Drug.objects.surroundings(self.drug, self.monograph)

    @property
    def brands(self):
        return self.surroundings.brands

    @property
    def classes(self):
        return self.surroundings.classes

    @property
    def aliases(self):
        return self.surroundings.aliases

    @property
    def last_reviewed(self):
        signed = [credit.at for credit in self.revision.credits.all() if credit.role == "proof_reader" and credit.at]
        return max(signed, default=None) or self.revision.reviewed_at

    def sections(self) -> dict[str, str]:
        """Level-2 sections of the body by kind (indication, dosage, …) as Markdown."""
        body = self.revision.body
        found: dict[str, str] = {}
        matches = list(_HEADING.finditer(body))
        for index, match in enumerate(matches):
            heading = match.group(1).replace("*", "").strip().lower()
            end = matches[index + 1].start() if index + 1 < len(matches) else len(body)
            for kind, words in _SECTION_KINDS.items():
                if kind not in found and any(word in heading for word in words):
                    found[kind] = body[match.end() : end].strip()
        return found


def _faq_texts(rendered: RenderedPage) -> list[str]:
    """The answers as plain text: stored with the rendered page (a page cached before they were is
    given them here)."""
    texts = getattr(rendered, "faq_texts", None)  # absent from pages cached before the field
    if texts is not None and len(texts) == len(rendered.faqs):
        return texts
    return [html_text(answer_html) for _, answer_html in rendered.faqs]


def _people(authors) -> list[dict]:
    return [{"@type": "Person", "name": author.name} for author in authors]


def json_ld(page: Page) -> dict:
    """schema.org: the page (MedicalWebPage), the drug it is about (Drug) — or its topic (MedicalEntity) —
    and its FAQs (FAQPage)."""
    revision, drug = page.revision, page.drug
    drug_id, page_id = f"{page.url}#drug" if drug else f"{page.url}#topic", f"{page.url}#page"
    web_page = {
        "@type": "MedicalWebPage",
        "@id": page_id,
        "url": page.url,
        "name": revision.title,
        "description": revision.summary,
        "inLanguage": "en-GB",
        "about": {"@id": drug_id},
        "author": _people(revision.authors),
        "reviewedBy": _people(revision.proof_readers),
        "lastReviewed": _iso(page.last_reviewed),
        "datePublished": _iso(revision.published_at),
        "dateModified": _iso(revision.updated_at),
    }
    if page.monograph.kind == Monograph.Kind.PATIENT:
        web_page["audience"] = {"@type": "PeopleAudience", "audienceType": "Patient"}
    if drug is None:
        drug_node = {"@type": "MedicalEntity", "@id": drug_id, "name": page.monograph.topic.name}
    else:
        drug_node = {
            "@type": "Drug",
            "@id": drug_id,
            "name": drug.name,
            "nonProprietaryName": drug.name,
            "proprietaryName": [brand.name for brand in page.brands],
            "drugClass": [{"@type": "DrugClass", "name": drug_class.name} for drug_class in page.classes],
            "alternateName": [alias.name for alias in page.aliases],
        }
    web_page = {key: value for key, value in web_page.items() if value not in (None, "", [])}
    graph = [web_page, drug_node]
    if page.rendered.faqs:
        graph.append(
            {
                "@type": "FAQPage",
                "@id": f"{page.url}#faqs",
                "isPartOf": {"@id": page_id},
                "mainEntity": [
                    {
                        "@type": "Question",
                        "name": question,
                        "acceptedAnswer": {"@type": "Answer", "text": text},
                    }
                    for (question, _), text in zip(page.rendered.faqs, _faq_texts(page.rendered), strict=True)
                ],
            }
        )
    return {"@context": "https://schema.org", "@graph": graph}


def monograph_json(page: Page) -> dict:
    """The live monograph as plain JSON (/drugs/<slug>.json)."""
    revision, drug = page.revision, page.drug
    return {
        "url": page.url,
        "drug": {
            "name": drug.name,
            "slug": drug.slug,
            "banned": drug.is_banned,
            # Names only: a brand's note (strength, indication) is an editors' note that no proof-reader
            # signs off; doses reach readers through the monograph text.
            "brands": [{"name": brand.name} for brand in page.brands],
            "classes": [drug_class.name for drug_class in page.classes],
            "aliases": [{"name": alias.name, "kind": alias.kind} for alias in page.aliases],
        },
        "monograph": {"slug": page.monograph.slug, "kind": page.monograph.kind},
        "revision": {
            "number": revision.number,
            "title": revision.title,
            "summary": revision.summary,
            "body_markdown": revision.body,
            "body_html": page.rendered.html,
            "change_note": revision.change_note,
            "authors": [author.name for author in revision.authors],
            "proof_readers": [author.name for author in revision.proof_readers],
            "published_at": _iso(revision.published_at),
            "updated_at": _iso(revision.updated_at),
            "last_reviewed": _iso(page.last_reviewed),
            "next_review": _iso(page.monograph.next_review),
        },
        "faqs": [{"question": q, "answer_html": a} for q, a in page.rendered.faqs],
    }


def _text(value: str) -> dict:
    return {"text": value}


def fhir_medication_knowledge(page: Page) -> dict:
    """An HL7 FHIR R5 MedicationKnowledge resource; contraindications and interactions are contained
    ClinicalUseDefinition resources referenced from clinicalUseIssue."""
    revision, drug = page.revision, page.drug
    sections = page.sections()
    resource = {
        "resourceType": "MedicationKnowledge",
        "id": drug.slug,
        "meta": {"lastUpdated": _iso(revision.published_at)},
        "text": {
            "status": "generated",
            "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{html_lib.escape(revision.title)}: '
            f"{html_lib.escape(revision.summary or drug.name)}</p></div>",
        },
        "status": "inactive" if drug.is_banned else "active",
        "code": _text(drug.name),
        "name": [drug.name] + [brand.name for brand in page.brands],
        "monograph": [{"type": _text(page.monograph.get_kind_display()), "source": {"display": page.url}}],
    }
    if page.classes:
        resource["medicineClassification"] = [
            {"type": _text("Pharmacological class"), "classification": [_text(c.name) for c in page.classes]}
        ]
    guideline = {}
    if "indication" in sections or revision.summary:
        guideline["indication"] = [{"concept": _text(plain_text(sections.get("indication", revision.summary)))}]
    doses = [plain_text(sections["dosage"])] if "dosage" in sections else []  # proof-read text only
    if doses:
        guideline["dosingGuideline"] = [
            {"dosage": [{"type": _text("Dosing guidance"), "dosage": [_text(text) for text in doses]}]}
        ]
    if guideline:
        resource["indicationGuideline"] = [guideline]
    contained = []
    for n, item in enumerate(_items(sections.get("contraindication", "")), start=1):
        contained.append(
            {
                "resourceType": "ClinicalUseDefinition",
                "id": f"contraindication-{n}",
                "type": "contraindication",
                "contraindication": {"diseaseSymptomProcedure": {"concept": _text(item)}},
            }
        )
    for n, item in enumerate(_items(sections.get("interaction", "")), start=1):
        interactant = re.split(r"[(:]", item, maxsplit=1)[0].strip() or item
        contained.append(
            {
                "resourceType": "ClinicalUseDefinition",
                "id": f"interaction-{n}",
                "type": "interaction",
                "interaction": {
                    "interactant": [{"itemCodeableConcept": _text(interactant)}],
                    "effect": {"concept": _text(item)},
                },
            }
        )
    if "warning" in sections:
        contained.append(
            {
                "resourceType": "ClinicalUseDefinition",
                "id": "warning-1",
                "type": "warning",
                "warning": {"description": plain_text(sections["warning"])},
            }
        )
    if contained:
        resource["contained"] = contained
        resource["clinicalUseIssue"] = [{"reference": f"#{item['id']}"} for item in contained]
    return resource


def _items(markdown_text: str) -> list[str]:
    """The list items of a section as plain text (the whole section when it is prose)."""
    items = [plain_text(item) for item in _LIST_ITEM.findall(markdown_text)]
    if not items and markdown_text.strip():
        items = [plain_text(markdown_text)]
    return [item for item in items if item]
