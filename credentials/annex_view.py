"""One view of a micro-credential, whatever its format: the Annex I elements.

Implements the elements of Annex I of EU Council Recommendation 2022/C 243/02
(16 June 2022) on micro-credentials (mandatory: learner, title, country,
awarding body, date of issuing, learning outcomes, workload in ECTS, level
(EQF / QF-EHEA), type of assessment, form of participation, quality assurance;
optional: prerequisites, supervision and identity verification, grade,
integration / stackability, further information) as a frozen
:class:`AnnexView`, filled by the mappers of :mod:`credentials.annex_mappers`
(microcred and EUDI learning SD-JWT VCs), :mod:`credentials.annex_ob3` (Open
Badges 3.0 / CLR 2.0) and :mod:`credentials.annex_elm` (ELM 3 / Europass EDC).

Every value is a :class:`Sourced`: the value as the source states it (a
multilingual value stays a whole language map ``{"en": …, "it": …}``; pick a
display language with :func:`pick_language`) and its RFC 6901 JSON Pointer in
the source document (for an SD-JWT VC: in its disclosed claims). Whatever the
mapper did not use is listed in :attr:`AnnexView.more_details`, each leaf with
its pointer (a language map counts as one leaf); only the members named in the
mapper's ``skip_keys`` (JSON-LD plumbing such as ``@context``, or the holder's
``cnf`` key) are left out, and each mapper's docstring names them.

:func:`stack_summary` adds up ECTS and the EQF range over the views a caller
marks verified. No I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "Sourced", "AwardingBody", "AnnexView", "StackSummary", "ViewBuilder",
    "ANNEX_LABELS", "json_pointer", "is_language_map", "pick_language", "stack_summary",
    "non_negative_number",
]

#: Labels of the Annex I elements, in the order pages show them.
ANNEX_LABELS: dict[str, str] = {
    "learner": "Learner",
    "title": "Title of the micro-credential",
    "countries": "Country of the issuer",
    "awarding_bodies": "Awarding body",
    "issued_on": "Date of issuing",
    "learning_outcomes": "Learning outcomes",
    "ects": "Workload (ECTS credits)",
    "workload": "Workload",
    "eqf_level": "Level (EQF)",
    "qf_ehea_cycle": "Cycle (QF-EHEA)",
    "assessment": "Type of assessment",
    "participation": "Form of participation",
    "quality_assurance": "Quality assurance",
    "prerequisites": "Prerequisites",
    "identity_verification": "Supervision and identity verification during assessment",
    "grade": "Grade achieved",
    "stackability": "Integration / stackability",
    "further_information": "Further information",
    "more_details": "More details",
}

_LANGUAGE_TAG = re.compile(r"^(?:[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*|und|@none)$")
_NOT_LANGUAGES = frozenset({"id"})


def json_pointer(path: Sequence[str | int]) -> str:
    """The RFC 6901 JSON Pointer of ``path`` (``~`` as ``~0``, ``/`` as ``~1``)."""
    if len(path) == 1:  # a member of the document itself: most of what a mapper takes
        return "/" + _escaped(str(path[0]))
    parts = list(map(str, path))
    joined = "".join(parts)
    if "~" in joined or "/" in joined:  # only then does any part need escaping
        return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)
    return "/" + "/".join(parts) if parts else ""


def _escaped(part: str) -> str:
    """One reference token of a JSON Pointer (RFC 6901 §3)."""
    return part.replace("~", "~0").replace("/", "~1") if "~" in part or "/" in part else part


def is_language_map(value: Any) -> bool:
    """A JSON-LD language map: a non-empty object of language tags to strings (or lists of strings)."""
    if not isinstance(value, Mapping) or not value:
        return False
    for key, text in value.items():  # a loop, not any() and all() over generators: every view asks (issue 16)
        if key in _NOT_LANGUAGES or not (isinstance(key, str) and _LANGUAGE_TAG.match(key)):
            return False
        if not (isinstance(text, str) or (isinstance(text, list) and all(isinstance(t, str) for t in text))):
            return False
    return True


def _from_value_objects(value: Any) -> dict[str, str] | None:
    """``[{"@value": "…", "@language": "en"}, …]`` (JSON-LD expanded strings) as a language map."""
    if isinstance(value, (str, int, float)) or value is None:  # the common case, without the Mapping check
        return None
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(i, Mapping) and isinstance(i.get("@value"), str) for i in items):
        return None
    return {str(i.get("@language") or "@none"): str(i["@value"]) for i in items}


def pick_language(value: Any, languages: Sequence[str] = ("en",)) -> str:
    """The text of ``value`` to show: a string as is; from a language map, the first of
    ``languages`` it has (``en-GB`` also matches ``en``), else English, else its first
    language in sorted order. Anything else is shown as compact text."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return format(value, "g") if isinstance(value, float) else str(value)
    if is_language_map(value):
        for wanted in [*languages, "en", "und", "@none"]:
            for tag in sorted(value):
                if tag == wanted or tag.split("-")[0] == wanted.split("-")[0]:
                    text = value[tag]
                    return text if isinstance(text, str) else "; ".join(text)
        first = value[sorted(value)[0]]
        return first if isinstance(first, str) else "; ".join(first)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {pick_language(v, languages)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "; ".join(pick_language(v, languages) for v in value)
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Sourced:
    """A value as the source states it, and its JSON Pointer there."""

    value: Any
    path: str
    label: str = ""

    def __init__(self, value: Any, path: str, label: str = "") -> None:
        object.__setattr__(self, "__dict__", {"value": value, "path": path, "label": label})  # see AnnexView

    def text(self, languages: Sequence[str] = ("en",)) -> str:
        return pick_language(self.value, languages)

    def to_json(self) -> dict[str, Any]:
        answer = {"value": self.value, "path": self.path}
        if self.label:
            answer["label"] = self.label
        return answer


@dataclass(frozen=True)
class AwardingBody:
    """Annex I element 4: a name, and where given an identifier and a country."""

    name: Sourced
    id: Sourced | None = None
    country: Sourced | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v.to_json() for k, v in (("name", self.name), ("id", self.id), ("country", self.country)) if v}


@dataclass(frozen=True)
class AnnexView:
    """The Annex I elements of one credential, each with its source path.

    ``kind`` names the mapper (``microcred``, ``eudi-learning``, ``ob3``,
    ``clr``, ``elm``). ``ects`` is set only when the source states ECTS
    credits; other workload (hours, credits of an unstated system) is in
    ``workload``.
    """

    kind: str
    learner: tuple[Sourced, ...] = ()
    title: Sourced | None = None
    awarding_bodies: tuple[AwardingBody, ...] = ()
    countries: tuple[Sourced, ...] = ()
    issued_on: Sourced | None = None
    learning_outcomes: tuple[Sourced, ...] = ()
    ects: Sourced | None = None
    workload: Sourced | None = None
    eqf_level: Sourced | None = None
    qf_ehea_cycle: Sourced | None = None
    assessment: Sourced | None = None
    participation: Sourced | None = None
    quality_assurance: tuple[Sourced, ...] = ()
    prerequisites: tuple[Sourced, ...] = ()
    identity_verification: Sourced | None = None
    grade: Sourced | None = None
    stackability: Sourced | None = None
    further_information: tuple[Sourced, ...] = ()
    more_details: tuple[Sourced, ...] = ()

    def __init__(self, kind: str, learner: tuple[Sourced, ...] = (), title: Sourced | None = None,
                 awarding_bodies: tuple[AwardingBody, ...] = (), countries: tuple[Sourced, ...] = (),
                 issued_on: Sourced | None = None, learning_outcomes: tuple[Sourced, ...] = (),
                 ects: Sourced | None = None, workload: Sourced | None = None, eqf_level: Sourced | None = None,
                 qf_ehea_cycle: Sourced | None = None, assessment: Sourced | None = None,
                 participation: Sourced | None = None, quality_assurance: tuple[Sourced, ...] = (),
                 prerequisites: tuple[Sourced, ...] = (), identity_verification: Sourced | None = None,
                 grade: Sourced | None = None, stackability: Sourced | None = None,
                 further_information: tuple[Sourced, ...] = (), more_details: tuple[Sourced, ...] = ()) -> None:
        # every field set at once: a frozen dataclass's own __init__ calls object.__setattr__ for each of the
        # twenty, and every verification of a known type builds one view (issue 16)
        object.__setattr__(self, "__dict__", {
            "kind": kind, "learner": learner, "title": title, "awarding_bodies": awarding_bodies,
            "countries": countries, "issued_on": issued_on, "learning_outcomes": learning_outcomes, "ects": ects,
            "workload": workload, "eqf_level": eqf_level, "qf_ehea_cycle": qf_ehea_cycle, "assessment": assessment,
            "participation": participation, "quality_assurance": quality_assurance, "prerequisites": prerequisites,
            "identity_verification": identity_verification, "grade": grade, "stackability": stackability,
            "further_information": further_information, "more_details": more_details})

    @property
    def ects_value(self) -> Decimal | None:
        """The ECTS credits as a number (a numeric string counts), None if absent or not a number >= 0."""
        return non_negative_number(self.ects.value) if self.ects else None

    @property
    def eqf_level_value(self) -> int | None:
        """The EQF level 1-8, None if absent or out of range."""
        value = non_negative_number(self.eqf_level.value) if self.eqf_level else None
        if value is None or value != value.to_integral_value() or not 1 <= value <= 8:
            return None
        return int(value)

    def paths(self) -> frozenset[str]:
        """Every source path the view shows, mapped or in more details."""
        found: set[str] = set()
        for item in fields(self):
            value = getattr(self, item.name)
            for entry in value if isinstance(value, tuple) else (value,):
                parts = (entry.name, entry.id, entry.country) if isinstance(entry, AwardingBody) else (entry,)
                found.update(p.path for p in parts if isinstance(p, Sourced))
        return frozenset(found)

    def to_json(self) -> dict[str, Any]:
        """The view as JSON: each element present, with values and source paths."""
        answer: dict[str, Any] = {"kind": self.kind}
        for name, value in self.__dict__.items():  # the fields, in their order (set at once by __init__)
            if isinstance(value, tuple) and value:
                answer[name] = [entry.to_json() for entry in value]
            elif isinstance(value, Sourced):
                answer[name] = value.to_json()
        return answer


def non_negative_number(value: Any) -> Decimal | None:
    """``value`` as a finite number ≥ 0 (a JSON number or its text), or None: how ECTS and EQF levels are read."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() and number >= 0 else None


class ViewBuilder:
    """Reads values out of one source document, remembering which paths were used."""

    def __init__(self, source: Mapping[str, Any], *, skip_keys: Collection[str] = ()) -> None:
        self.source = source
        self.skip_keys = frozenset(skip_keys)
        self._used: set[str] = set()

    def get(self, path: Sequence[str | int]) -> Any:
        node: Any = self.source
        for part in path:
            if type(node) is dict and type(part) is str:  # the usual step, without the ABC checks below
                if part not in node:
                    return None
                node = node[part]
            elif isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
                node = node[part]
            elif isinstance(part, str) and isinstance(node, (dict, Mapping)) and part in node:
                node = node[part]
            else:
                return None
        return node

    def use(self, path: Sequence[str | int]) -> None:
        """Mark ``path`` (and everything under it) as shown."""
        self._used.add(json_pointer(path))

    def take(self, path: Sequence[str | int], label: str = "") -> Sourced | None:
        """The value at ``path`` (None when absent, null or empty), marked as shown."""
        if len(path) == 1 and type(self.source) is dict and type(path[0]) is str:  # a member of the document
            name = path[0]
            value = self.source.get(name)
            if type(value) is str and value:  # the usual value: nothing to expand, nothing to escape mostly
                pointer = "/" + (_escaped(name) if "~" in name or "/" in name else name)
                self._used.add(pointer)
                return Sourced(value, pointer, label)
        else:
            value = self.get(path)
        if value is None or value == "" or value == [] or value == {}:
            return None
        if type(value) is str:  # the usual value: nothing to expand
            pointer = json_pointer(path)
            self._used.add(pointer)
            return Sourced(value, pointer, label)
        expanded = _from_value_objects(value)
        pointer = json_pointer(path)
        self._used.add(pointer)
        return Sourced(expanded if expanded is not None else value, pointer, label)

    def take_each(self, path: Sequence[str | int], label: str = "") -> tuple[Sourced, ...]:
        """Each entry of the list at ``path`` (a single value counts as a list of one)."""
        value = self.get(path)
        if isinstance(value, list) and _from_value_objects(value) is None:
            taken = (self.take([*path, index], label) for index in range(len(value)))
            return tuple(t for t in taken if t is not None)
        one = self.take(path, label)
        return (one,) if one else ()

    def more_details(self) -> tuple[Sourced, ...]:
        """Every leaf not used (language maps as one leaf), in document order."""
        found: list[Sourced] = []
        self._walk(self.source, "", found)
        return tuple(found)

    def _shown(self, pointer: str) -> bool:
        """Whether ``pointer`` or one of its ancestors was used (an ancestor ends where a '/' starts)."""
        used = self._used
        while pointer:
            if pointer in used:
                return True
            pointer = pointer[:pointer.rfind("/")]
        return "" in used  # the whole document was used

    def _walk(self, node: Any, pointer: str, found: list[Sourced]) -> None:
        """``pointer``: the JSON Pointer of ``node``, extended one part at a time ("" for the whole document)."""
        if pointer and self._shown(pointer):
            return
        if isinstance(node, (dict, Mapping)) and not is_language_map(node):
            skip, used = self.skip_keys, self._used
            for key, value in node.items():
                if key not in skip:
                    child = f"{pointer}/{_escaped(str(key))}"
                    if child not in used:  # a used member skipped without a call (_walk looks at ancestors)
                        self._walk(value, child, found)
        elif isinstance(node, list) and node and _from_value_objects(node) is None:
            for index, value in enumerate(node):
                self._walk(value, f"{pointer}/{index}", found)
        elif node is not None and node != [] and node != {}:
            expanded = _from_value_objects(node)
            found.append(Sourced(expanded if expanded is not None else node, pointer, pointer))


@dataclass(frozen=True)
class StackSummary:
    """ECTS and EQF over a stack of credentials; only verified ones count."""

    total_ects: Decimal
    counted: int
    without_ects: int
    not_verified: int
    eqf_min: int | None
    eqf_max: int | None


def stack_summary(entries: Iterable[tuple[AnnexView, bool]]) -> StackSummary:
    """Add up ``(view, verified)`` pairs: ECTS total, how many counted, and the EQF range.

    A view the caller does not mark verified counts for nothing but
    ``not_verified``; a verified one without ECTS counts in ``without_ects``.
    """
    total, counted, without, unverified, levels = Decimal(0), 0, 0, 0, []
    for view, verified in entries:
        if not verified:
            unverified += 1
            continue
        ects = view.ects_value
        if ects is None:
            without += 1
        else:
            total += ects
            counted += 1
        if view.eqf_level_value is not None:
            levels.append(view.eqf_level_value)
    return StackSummary(total, counted, without, unverified, min(levels, default=None), max(levels, default=None))
