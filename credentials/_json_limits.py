"""Limits on parsed JSON, against "bombs" in the large imported documents (RFC 8259 §9 lets a parser set them).

Europass EDC documents run to about 0.5 MB, so their byte cap is 2 MB
(:data:`credentials.europass.MAX_EDC_BYTES`); within that, a document could
still be nested thousands deep or hold a million tiny members, which every
later walk over it (rendering, JSON-LD processing) would pay for. This module
walks a parsed value once and refuses it past :class:`JsonLimits`: recursively
(never deeper than the depth limit lets it) to admit it, and without
recursion, counting, to say why not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from credentials._json import json_loads
from credentials.errors import FormatError, InvalidInput

__all__ = ["JsonLimits", "check_json_limits", "parse_limited_json", "within_limits"]


@dataclass(frozen=True)
class JsonLimits:
    """Most nesting, values (objects, arrays, scalars and member names together) and characters per string."""

    max_depth: int = 64
    max_nodes: int = 200_000
    max_string: int = 1_048_576


class _PastLimits(Exception):
    """Raised by :func:`within_limits` at the first limit crossed."""


def within_limits(value: Any, limits: JsonLimits) -> bool:
    """Whether ``value`` keeps ``limits``, counting as :func:`check_json_limits` does (each value, each member name).

    A recursive walk, never more than ``max_depth`` + 1 frames deep (a deeper container stops it), several
    times cheaper than the explicit stack; the stack walks word a refusal."""
    max_depth, max_nodes, max_string = limits.max_depth, limits.max_nodes, limits.max_string
    nodes = 0

    def walk(item: Any, depth: int) -> None:
        nonlocal nodes
        nodes += 1
        if isinstance(item, str):
            if len(item) > max_string:
                raise _PastLimits
        elif isinstance(item, dict):
            if depth > max_depth or nodes > max_nodes:
                raise _PastLimits
            nodes += len(item)
            for key, member in item.items():
                if isinstance(key, str) and len(key) > max_string:
                    raise _PastLimits
                walk(member, depth + 1)
        elif isinstance(item, list):
            if depth > max_depth or nodes > max_nodes:
                raise _PastLimits
            for member in item:
                walk(member, depth + 1)

    try:
        walk(value, 1)
    except _PastLimits:
        return False
    return nodes <= max_nodes


def check_json_limits(value: Any, limits: JsonLimits, *, what: str) -> None:
    """Raise :class:`InvalidInput` if ``value`` (parsed JSON) goes past ``limits``."""
    if within_limits(value, limits):
        return
    stack: list[tuple[Any, int]] = [(value, 1)]
    nodes = 0
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if nodes > limits.max_nodes:
            raise InvalidInput(f"{what} holds more than {limits.max_nodes} JSON values")
        if isinstance(item, dict):
            if depth > limits.max_depth:
                raise InvalidInput(f"{what} is nested deeper than {limits.max_depth} levels")
            for key, member in item.items():
                if len(key) > limits.max_string:
                    raise InvalidInput(f"{what} has a member name longer than {limits.max_string} characters")
                stack.append((member, depth + 1))
            nodes += len(item)
        elif isinstance(item, list):
            if depth > limits.max_depth:
                raise InvalidInput(f"{what} is nested deeper than {limits.max_depth} levels")
            stack.extend((member, depth + 1) for member in item)
        elif isinstance(item, str) and len(item) > limits.max_string:
            raise InvalidInput(f"{what} has a string longer than {limits.max_string} characters")


def parse_limited_json(data: bytes | str, limits: JsonLimits, *, max_bytes: int, what: str) -> dict[str, Any]:
    """A JSON object of at most ``max_bytes``, strict and within ``limits``; :class:`FormatError` saying why not."""
    size = len(data.encode("utf-8", "surrogatepass")) if isinstance(data, str) else len(data)
    if size > max_bytes:
        raise FormatError(f"{what} is {size} bytes, over the limit of {max_bytes}")
    try:
        value = json_loads(data, what=what)
        check_json_limits(value, limits, what=what)
    except InvalidInput as exc:
        raise FormatError(str(exc)) from None
    if not isinstance(value, dict):
        raise FormatError(f"{what} must be a JSON object")
    return value
