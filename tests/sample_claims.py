"""A valid micro-credential claim set shared by the core and verifier tests (not a test module)."""

MICRO_CREDENTIAL_CLAIMS = {
    "learner": {"given_name": "Jan", "family_name": "Novák", "birth_date": "2000-01-31", "student_id": "X-1"},
    "title": "Data Protection Law in Practice",
    "issuer_country": ["CZ"],
    "awarding_body": [{"name": "Univerzita Příklad", "id": "https://uni.example", "country": "CZ"}],
    "issued_on": "2026-05-01",
    "learning_outcomes": ["Apply the GDPR to research data", "Draft a data protection impact assessment"],
    "ects": 4,
    "eqf_level": 7,
    "qf_ehea_cycle": "second",
    "assessment_type": "Oral examination",
    "participation": "online",
    "quality_assurance": "Internal QA, NAB accredited",
}
