"""json_response's encoding is json.dumps's, on its own paths as on the C encoder's.

``_json_response._encode`` stands in for ``json.dumps(data)`` with its
defaults: a flat object (str keys, scalar values) is written by
``_flat_object``, anything else by json's C encoder made per call. Both are
held to json.dumps itself: the same text, or the same exception.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from weft.web_core import json_response
from weft.web_core._json_response import _encode, _flat_object


class Text(str):
    """A str subclass: json.dumps writes it as a string; the flat path leaves it."""


class Number(int):
    """An int subclass whose repr json.dumps does not use (it writes int's)."""

    def __repr__(self) -> str:
        return "Number()"


scalars = (
    st.text()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.booleans()
    | st.none()
)
flat_objects = st.dictionaries(st.text(), scalars, max_size=8)
odd_values = st.sampled_from([Text("s"), Number(3), [1], {"a": 1}, (1, 2), 10**30])
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
)


def outcome(data: Any) -> tuple[str, str]:
    try:
        return ("text", _encode(data))
    except Exception as exc:  # compared with json.dumps's
        return (type(exc).__name__, str(exc))


def dumps(data: Any) -> tuple[str, str]:
    try:
        return ("text", json.dumps(data))
    except Exception as exc:
        return (type(exc).__name__, str(exc))


@given(flat_objects)
def test_flat_objects_are_written_as_json_dumps(data: dict[str, Any]) -> None:
    """Every object of str keys and scalar values takes the flat path, with dumps's text."""
    assert _flat_object(data) == json.dumps(data)
    assert _encode(data) == json.dumps(data)


@given(flat_objects, st.text(), odd_values)
def test_other_values_leave_the_flat_path(data: dict[str, Any], key: str, odd: Any) -> None:
    """A subclass, a container or a non-str key goes to the C encoder: dumps's text still."""
    data = {**data, key: odd}
    if type(odd) is not int:  # 10**30 is an int: the flat path writes it
        assert _flat_object(data) is None
    assert outcome(data) == dumps(data)
    keyed: dict[Any, Any] = {1: "a", None: "b", 2.5: "c", False: "d"}
    assert _flat_object(keyed) is None
    assert outcome(keyed) == dumps(keyed)


@given(json_values)
def test_any_json_value_is_json_dumps(data: Any) -> None:
    assert outcome(data) == dumps(data)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"message": "Hello, World!"},
        {"nan": math.nan, "inf": math.inf, "-inf": -math.inf, "zero": -0.0, "tiny": 5e-324},
        {"big": 10**20, "neg": -7, "t": True, "f": False, "n": None},
        {"é": '\u2028\x00"\\', "\ud800": "\udfff"},
    ],
)
def test_examples(data: dict[str, Any]) -> None:
    assert _encode(data) == json.dumps(data)
    assert json_response(data).text == json.dumps(data)


def test_unserializable_value_in_a_flat_object_is_dumps_error() -> None:
    data = {"a": 1, "b": object()}
    assert _flat_object(data) is None
    with pytest.raises(TypeError) as ours:
        _encode(data)
    with pytest.raises(TypeError) as theirs:
        json.dumps(data)
    assert str(ours.value) == str(theirs.value)


def test_the_table_of_keys_is_bounded_and_exact() -> None:
    """Keys are remembered escaped, at most _KEYS_MAX of them; a long key never is."""
    from weft.web_core import _json_response

    for number in range(_json_response._KEYS_MAX + 10):
        data = {f"key{number}": number, "é\n": "x"}
        assert _encode(data) == json.dumps(data)
        assert len(_json_response._KEYS) <= _json_response._KEYS_MAX
    long_key = "k" * (_json_response._KEY_MAX + 1)
    assert _encode({long_key: 1}) == json.dumps({long_key: 1})
    assert long_key not in _json_response._KEYS
    # A key remembered is served for an equal key only: one character differs, a miss.
    assert _encode({"name": 1}) == '{"name": 1}'
    assert _encode({"namf": 1}) == '{"namf": 1}'
