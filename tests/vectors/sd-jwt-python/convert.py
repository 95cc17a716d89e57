"""Convert the sd-jwt-python test cases (``original/*.yml``) to our JSON case format.

Not a test. Run it after changing ``original/``::

    .venv/bin/python tests/vectors/sd-jwt-python/convert.py

The source is openwallet-foundation-labs/sd-jwt-python, ``tests/testcases/<name>/specification.yml``
(see SOURCE.md). In those files a ``!sd`` YAML tag marks a selectively disclosable object member
(tag on the key) or array element (tag on the element). ``holder_disclosed_claims`` says what the
holder discloses; we read it as sd-jwt-python's holder does (``SDJWTHolder._select_disclosures``):

- object: a member is disclosed when its entry is truthy; ``True`` for an object or array value
  discloses the value but none of the selectively disclosable items inside it;
- array: entries are positional; an element is disclosed unless its entry is ``False``/``null``/missing;
- a non-disclosed item's children are never disclosed.

Each output ``<name>.json`` holds ``claims`` (tags removed), ``frame`` (``"_sd"`` lists the disclosable
member names or 0-based element indices of a level; other keys, with decimal-string keys for array
positions, hold the frames of nested values), ``disclose`` (one path per disclosed item, an array index
being the position in the full array; every disclosable ancestor of a path is listed too), the expected
verified claims, ``key_binding`` and ``decoys``. Cases only about the JSON serialization are skipped.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ConversionError", "Sd", "convert", "load_specification", "main", "presented"]

HERE = Path(__file__).resolve().parent
ORIGINAL = HERE / "original"
SD_TAG = "!sd"
SD_KEY = "_sd"
SKIPPED = {
    "json_serialization": "tests the JWS JSON serialization only",
    "json_serialization_flattened": "tests the flattened JWS JSON serialization only",
    "json_serialization_general": "tests the general JWS JSON serialization (two issuer keys) only",
    "settings": "shared settings (keys, identifiers), not a test case",
}


class ConversionError(ValueError):
    """A specification uses something the frame notation cannot express."""


@dataclass(frozen=True)
class Sd:
    """A value or key tagged ``!sd`` in the YAML source."""

    value: Any


class _SpecLoader(yaml.SafeLoader):
    """SafeLoader plus the ``!sd`` tag."""


def _construct_sd(loader: _SpecLoader, node: yaml.Node) -> Sd:
    if isinstance(node, yaml.ScalarNode):
        if node.style in ('"', "'"):
            return Sd(loader.construct_scalar(node))
        tag = loader.resolve(yaml.ScalarNode, node.value, (True, False))
        return Sd(loader.construct_object(yaml.ScalarNode(tag, node.value, style=node.style)))
    if isinstance(node, yaml.MappingNode):
        return Sd(loader.construct_mapping(node, deep=True))
    if isinstance(node, yaml.SequenceNode):
        return Sd(loader.construct_sequence(node, deep=True))
    raise ConversionError(f"{SD_TAG} on an unsupported node: expected scalar, mapping or sequence, found {node!r}")


_SpecLoader.add_constructor(SD_TAG, _construct_sd)


def load_specification(path: Path) -> dict:
    """Parse one specification.yml with ``!sd`` values wrapped in :class:`Sd`."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_SpecLoader)


def _plain(node: Any) -> Any:
    if isinstance(node, Sd):
        return _plain(node.value)
    if isinstance(node, dict):
        return {_plain(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _frame(node: Any) -> dict | None:
    """The disclosure frame of ``node``, or None when nothing inside it is disclosable."""
    if isinstance(node, Sd):
        return _frame(node.value)
    frame: dict = {}
    if isinstance(node, dict):
        disclosable = []
        for key, value in node.items():
            if isinstance(value, Sd) and not isinstance(key, Sd):
                raise ConversionError(f"{SD_TAG} on the value of member {key!r}: expected it on the key")
            name = _plain(key)
            if not isinstance(name, str):
                raise ConversionError(f"member names must be strings, found {name!r}")
            if isinstance(key, Sd):
                disclosable.append(name)
            child = _frame(value)
            if child is not None:
                frame[name] = child
    elif isinstance(node, list):
        disclosable = []
        for index, element in enumerate(node):
            if isinstance(element, Sd):
                disclosable.append(index)
            child = _frame(element)
            if child is not None:
                frame[str(index)] = child
    else:
        return None
    if disclosable:
        frame[SD_KEY] = disclosable
    return frame or None


def _disclosed(node: Any, directive: Any, path: list, out: list[list]) -> None:
    """Append to ``out`` the paths sd-jwt-python's holder discloses for ``directive``."""
    if isinstance(node, dict):
        if directive is None:
            return
        if directive is True:
            directive = {}
        if not isinstance(directive, dict):
            raise ConversionError(f"at {path}: expected an object of disclosures, found {directive!r}")
        for key, value in node.items():
            name = _plain(key)
            wanted = directive.get(name)
            if isinstance(key, Sd):
                if wanted:
                    out.append(path + [name])
                    _disclosed(_plain_top(value), _container_default(value, wanted), path + [name], out)
            else:
                _disclosed(value, wanted, path + [name], out)
    elif isinstance(node, list):
        if directive is None:
            return
        if directive is True:
            directive = []
        if not isinstance(directive, list):
            raise ConversionError(f"at {path}: expected an array of disclosures, found {directive!r}")
        for index, element in enumerate(node):
            wanted = directive[index] if index < len(directive) else None
            if isinstance(element, Sd):
                if wanted is None or wanted is False:
                    continue
                out.append(path + [index])
                _disclosed(element.value, _container_default(element.value, wanted), path + [index], out)
            else:
                _disclosed(element, wanted, path + [index], out)


def _plain_top(value: Any) -> Any:
    return value.value if isinstance(value, Sd) else value


def _container_default(value: Any, wanted: Any) -> Any:
    """``True`` for a disclosed object/array discloses nothing inside it (sd-jwt-python)."""
    value = _plain_top(value)
    if wanted is True and isinstance(value, dict):
        return {}
    if wanted is True and isinstance(value, list):
        return []
    return wanted


def presented(node: Any, frame: dict | None, disclosed: set[tuple], path: tuple = ()) -> Any:
    """The claims a verifier sees when the holder discloses exactly ``disclosed`` (a self-check)."""
    frame = frame or {}
    hidden = set(frame.get(SD_KEY, []))
    if isinstance(node, dict):
        return {
            key: presented(value, frame.get(key), disclosed, path + (key,))
            for key, value in node.items()
            if key not in hidden or path + (key,) in disclosed
        }
    if isinstance(node, list):
        return [
            presented(element, frame.get(str(index)), disclosed, path + (index,))
            for index, element in enumerate(node)
            if index not in hidden or path + (index,) in disclosed
        ]
    return node


def convert(name: str, spec: dict) -> dict:
    """Our JSON case for one parsed specification."""
    if spec.get("serialization_format", "compact") != "compact":
        raise ConversionError(f"{name}: expected compact serialization, found {spec['serialization_format']!r}")
    claims = spec["user_claims"]
    disclose: list[list] = []
    _disclosed(claims, spec["holder_disclosed_claims"], [], disclose)
    case = {
        "description": f"sd-jwt-python test case '{name}' (tests/testcases/{name}/specification.yml)",
        "claims": _plain(claims),
        "frame": _frame(claims) or {},
        "disclose": disclose,
        "expect_verified_claims": _plain(spec["expect_verified_user_claims"]),
        "key_binding": bool(spec.get("key_binding", False)),
        "decoys": bool(spec.get("add_decoy_claims", False)),
    }
    shown = presented(case["claims"], case["frame"], {tuple(p) for p in disclose})
    if shown != case["expect_verified_claims"]:
        raise ConversionError(f"{name}: the converted case shows {shown!r}, expected {case['expect_verified_claims']!r}")
    if "extra_header_parameters" in spec:
        case["extra_header_parameters"] = spec["extra_header_parameters"]
    return case


def main() -> int:
    written = []
    for path in sorted(ORIGINAL.glob("*.yml")):
        name = path.stem
        if name in SKIPPED:
            print(f"skip {name}: {SKIPPED[name]}")
            continue
        case = convert(name, load_specification(path))
        target = HERE / f"{name}.json"
        target.write_text(json.dumps(case, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(name)
    print(f"wrote {len(written)} cases: {', '.join(written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
