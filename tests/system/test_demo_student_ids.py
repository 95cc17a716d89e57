"""The demo learner has one student number per university, the same on every credential it issues her, and
none has a double hyphen (issue 15 §1.12: "TU--00001", and a different number on each credential)."""

from __future__ import annotations

import re

from microcred.system import UNIVERSITIES, learner_rows


def test_one_well_formed_student_number_per_university_on_every_credential():
    numbers = {}
    for university in UNIVERSITIES:
        rows = learner_rows(university, {"kty": "EC"})
        found = {row["learner"]["student_id"] for row in rows}
        assert len(found) == 1, f"{university.name} gives the learner {sorted(found)}"
        numbers[university.name] = found.pop()
    assert all(re.fullmatch(r"[A-Z]{2,4}-\d{5}", number) for number in numbers.values()), numbers
    assert len(set(numbers.values())) == len(numbers)
