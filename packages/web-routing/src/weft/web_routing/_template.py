"""Path templates: ``'/users/{id:\\d+}/posts/{slug}'`` parsed once, at registration.

A template is literal text and variables.  ``{name}`` matches one segment
(``[^{}/]+``); ``{name:regex}`` matches ``regex``, which may itself contain
one level of braces (``{year:\\d{4}}``).  Literals are compared, as
written, with the path-safe form of the request's path (see ``_quoting``):
``'/caf\u00e9'`` matches a request for ``/caf%C3%A9``; ``'/a%2Cb'`` matches no
request, as in aiohttp, since a request's ``%2C`` is decoded before matching.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._quoting import requote

__all__ = ["DEFAULT_VAR_RE", "Template", "is_dynamic", "parse_template"]

DEFAULT_VAR_RE = r"[^{}/]+"

# A variable: '{' identifier-start, then anything with at most one level of braces.
_VARIABLE = re.compile(r"(\{[_a-zA-Z][^{}]*(?:\{[^{}]*\}[^{}]*)*\})")
_PLAIN_VAR = re.compile(r"\{(?P<var>[_a-zA-Z][_a-zA-Z0-9]*)\}")
_REGEX_VAR = re.compile(r"\{(?P<var>[_a-zA-Z][_a-zA-Z0-9]*):(?P<re>.+)\}")
# Things that make a custom regex unsafe to splice into a combined pattern.
_BACKREF = re.compile(r"\\[1-9]|\(\?P=")


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed dynamic path."""

    formatter: str  # '/users/{id}': requoted literals, variables by name
    pattern: re.Pattern[str]  # named groups, matched against the path-safe path
    names: tuple[str, ...]
    var_res: tuple[str | None, ...]  # None for the default segment regex
    literal_prefix: str  # path-safe text before the first variable
    alternative: str | None  # unnamed-group source for a combined regex, or None
    slashes: int | None  # the '/' count of every matching path; None if a regex may span
    # With ``slashes``: each '/'-separated segment's path-safe text, None where a variable is.
    segments: tuple[str | None, ...] | None
    # When every variable is a whole segment with the default pattern
    # ('/users/{id}/posts/{post}'): each variable's segment index (its value is
    # ``path.split('/')[index]``), in ``names`` order; else None.
    var_segments: tuple[int, ...] | None


def is_dynamic(path: str) -> bool:
    """Whether ``path`` has variables (any brace makes it a template)."""
    return "{" in path or "}" in path


def parse_template(path: str) -> Template:
    """Parse ``path``; ValueError names the bad part or the bad regex."""
    pattern: list[str] = []
    alternative: list[str] = []
    formatter: list[str] = []
    names: list[str] = []
    var_res: list[str | None] = []
    literal_prefix: str | None = None
    combinable = True
    slashes: int | None = 0
    shape: list[str | None] = []  # literals, None for each variable
    for part in _VARIABLE.split(path):
        if not part:
            continue
        var_re: str | None
        if match := _PLAIN_VAR.fullmatch(part):
            name, var_re = match.group("var"), None
        elif match := _REGEX_VAR.fullmatch(part):
            name, var_re = match.group("var"), match.group("re")
        else:
            if "{" in part or "}" in part:
                raise ValueError(
                    f"Invalid path '{path}'['{part}']: a variable is '{{name}}' or "
                    "'{name:regex}', with name a Python identifier"
                )
            formatter.append(requote(part))
            # Matched as written, as aiohttp's plain paths are (its dynamic
            # ones requote first and so never match a non-ASCII literal).
            decoded = part
            if slashes is not None:
                slashes += decoded.count("/")
            shape.append(decoded)
            literal = re.escape(decoded)
            pattern.append(literal)
            alternative.append(literal)
            if literal_prefix is None:
                literal_prefix = decoded
            continue
        if literal_prefix is None:
            literal_prefix = ""
        if name in names:
            raise ValueError(f"Invalid path '{path}': variable '{name}' appears more than once")
        body = DEFAULT_VAR_RE if var_re is None else var_re
        if var_re is not None:
            slashes = None  # a custom regex may match '/'
            try:
                compiled = re.compile(var_re)
            except re.error as exc:
                raise ValueError(f"Bad pattern '{var_re}' in path '{path}': {exc}") from None
            if compiled.groups or _BACKREF.search(var_re):
                combinable = False
        shape.append(None)
        names.append(name)
        var_res.append(var_re)
        formatter.append("{" + name + "}")
        pattern.append(f"(?P<{name}>{body})")
        alternative.append(f"({body})")
    source = "".join(pattern)
    try:
        compiled_pattern = re.compile(source)
    except re.error as exc:
        raise ValueError(f"Bad pattern '{source}' for path '{path}': {exc}") from None
    return Template(
        formatter="".join(formatter),
        pattern=compiled_pattern,
        names=tuple(names),
        var_res=tuple(var_res),
        literal_prefix=literal_prefix or "",
        alternative="".join(alternative) if combinable else None,
        slashes=slashes,
        segments=_segments(shape) if slashes is not None else None,
        var_segments=_var_segments(shape, var_res),
    )


def _segments(shape: list[str | None]) -> tuple[str | None, ...]:
    segments: list[str | None] = []
    text: list[str] = []
    has_var = False
    for piece in shape:
        if piece is None:
            has_var = True
            continue
        *complete, rest = piece.split("/")
        for part in complete:
            text.append(part)
            segments.append(None if has_var else "".join(text))
            text, has_var = [], False
        text.append(rest)
    segments.append(None if has_var else "".join(text))
    return tuple(segments)


def _var_segments(shape: list[str | None], var_res: list[str | None]) -> tuple[int, ...] | None:
    if any(var_re is not None for var_re in var_res):
        return None
    indexes: list[int] = []
    slashes = 0
    for pos, piece in enumerate(shape):
        if piece is not None:
            slashes += piece.count("/")
            continue
        before = shape[pos - 1] if pos > 0 else None
        after = shape[pos + 1] if pos + 1 < len(shape) else "/"
        # A variable glued to text or to another variable shares its segment.
        if before is None or not before.endswith("/") or after is None or not after.startswith("/"):
            return None
        indexes.append(slashes)
    return tuple(indexes)
