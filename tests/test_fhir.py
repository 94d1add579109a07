"""/drugs/<slug>/fhir.json: an HL7 FHIR R5 MedicationKnowledge that validates with fhir.resources."""

import pytest
from fhir.resources import __fhir_version__
from fhir.resources.medicationknowledge import MedicationKnowledge

from monographs.models import Revision

from . import factories

pytestmark = pytest.mark.django_db


def resource(client, url="/drugs/denosumab/fhir.json"):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    return response.json()


def test_fhir_resources_is_the_r5_model():
    assert __fhir_version__.startswith("5.")


def test_it_validates_as_an_r5_medication_knowledge(client, seeded):
    data = resource(client)
    knowledge = MedicationKnowledge.model_validate(data)
    assert knowledge.status == "active"
    assert knowledge.name == ["Denosumab", "Prolia®", "Xgeva®"]
    assert [c.text for c in knowledge.medicineClassification[0].classification] == [
        "Antiresorptive agents",
        "RANK ligand (RANKL) inhibitor",
    ]


def test_it_carries_indication_and_dosing_text(client, seeded):
    data = resource(client)
    guideline = data["indicationGuideline"][0]
    assert "osteoporosis" in guideline["indication"][0]["concept"]["text"]
    doses = [d["text"] for d in guideline["dosingGuideline"][0]["dosage"][0]["dosage"]]
    assert doses[0].startswith("Standard Dosage Adults: Osteoporosis (Prolia®): 60 mg subcutaneously every 6 months.")


def test_contraindications_and_interactions_are_contained_clinical_use_definitions(client, seeded):
    data = resource(client)
    contained = {item["id"]: item for item in data["contained"]}
    assert contained["contraindication-1"]["contraindication"]["diseaseSymptomProcedure"]["concept"] == {
        "text": "Hypocalcemia"
    }
    interaction = contained["interaction-1"]["interaction"]
    assert interaction["interactant"][0]["itemCodeableConcept"]["text"] == "Immunosuppressants"
    assert {ref["reference"] for ref in data["clinicalUseIssue"]} == {f"#{key}" for key in contained}


def test_a_banned_drug_is_inactive(client, db):
    factories.monograph(factories.drug("Rofecoxib", banned=True), body="## Uses\n\nNone.")
    assert MedicationKnowledge.model_validate(resource(client, "/drugs/rofecoxib/fhir.json")).status == "inactive"


def test_only_live_content_is_exported(client, db):
    factories.monograph(factories.drug("Alendronic acid"), status=Revision.Status.DRAFT)
    assert client.get("/drugs/alendronic-acid/fhir.json").status_code == 404
