"""Status lookup (status_exception, STATUS_CODES, reason_phrase) and the public names."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from hypothesis import given
from hypothesis import strategies as st

import weft.web_exceptions as we
from weft.web_exceptions import (
    STATUS_CODES,
    HTTPException,
    HTTPNotFound,
    HTTPOk,
    UnknownStatusError,
    reason_phrase,
    status_exception,
)


def test_lookup_known_status() -> None:
    """status_exception(404) is HTTPNotFound, status_exception(200) is HTTPOk."""
    assert status_exception(404) is HTTPNotFound
    assert status_exception(200) is HTTPOk


def test_table_has_every_class_with_a_status() -> None:
    """STATUS_CODES has the 51 aiohttp statuses, sorted, each mapped to its own class."""
    assert len(STATUS_CODES) == 51
    assert list(STATUS_CODES) == sorted(STATUS_CODES)
    for code, cls in STATUS_CODES.items():
        assert cls.status_code == code


def test_table_is_read_only() -> None:
    """STATUS_CODES cannot be changed."""
    with pytest.raises(TypeError):
        STATUS_CODES[418] = HTTPOk  # type: ignore[index]


@given(st.sampled_from(sorted(STATUS_CODES)))
def test_every_status_round_trips(status: int) -> None:
    """For every status in the table the class found has that status and its reason."""
    cls = status_exception(status)
    assert cls.status_code == status
    assert issubclass(cls, HTTPException)
    assert reason_phrase(status) == HTTPStatus(status).phrase


@given(st.integers().filter(lambda n: n not in STATUS_CODES))
def test_unknown_status_raises(status: int) -> None:
    """A code without a class raises UnknownStatusError, a KeyError and LookupError."""
    with pytest.raises(UnknownStatusError) as info:
        status_exception(status)
    assert isinstance(info.value, KeyError)
    assert isinstance(info.value, LookupError)
    assert info.value.status == status
    assert str(status) in str(info.value)


def test_unknown_status_message_says_what_to_do() -> None:
    """The error message names the status and points at STATUS_CODES."""
    with pytest.raises(LookupError, match=r"418.*STATUS_CODES"):
        status_exception(418)


def test_reason_phrase_of_unknown_status_is_empty() -> None:
    """reason_phrase returns "" for a code without a standard phrase."""
    assert reason_phrase(599) == ""


def test_all_is_complete_and_true() -> None:
    """__all__ names exactly the public attributes, each of which exists."""
    # ``annotations`` is the ``from __future__`` feature, not an API name.
    public = {n for n in vars(we) if not n.startswith("_") and n != "annotations"}
    public.add("__version__")
    assert set(we.__all__) == public
    assert len(we.__all__) == len(set(we.__all__))
    for name in we.__all__:
        assert hasattr(we, name)


def test_all_exports_every_exception_class() -> None:
    """Every HTTPException subclass defined by the package is exported."""
    exported = {getattr(we, n) for n in we.__all__ if isinstance(getattr(we, n), type)}

    def walk(cls: type[HTTPException]) -> set[type[HTTPException]]:
        found = {cls}
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("weft.web_exceptions"):
                found |= walk(sub)
        return found

    assert walk(HTTPException) <= exported


def test_version() -> None:
    """__version__ is the package version string."""
    assert we.__version__ == "0.1.0"
