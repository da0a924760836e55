"""The public surface: weft.web_core.__all__ is complete and every name in it is real."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

from aiohttp import web as aioweb

import weft.web_core as web_core

# Names web-core exports that aiohttp.web does not have (the server side, and helpers).
_WEFT_ONLY = {
    "__version__",
    "COMPILED",  # which build is installed: mypyc-compiled or pure Python
    "ETag",  # aiohttp.helpers.ETag, not in aiohttp.web
    "ChainMapProxy",  # aiohttp.helpers.ChainMapProxy: the type of request.config_dict
    "RequestProtocol",
    "StreamWriter",
    "WriterProtocol",
    "Signal",
    "exception_response",
    "is_response",
    "web_logger",
    # multipart: aiohttp has these at its top level (aiohttp.MultipartReader), not in aiohttp.web
    "BodyPartReader",
    "MultipartReader",
    "MultipartWriter",
    "MultipartError",
    "MultipartHeadersTooLarge",
    "MultipartTooManyParts",
    # payloads: aiohttp has these in aiohttp.payload (most also at its top level), not in
    # aiohttp.web; PayloadLookupError is aiohttp.payload.LookupError, PayloadWriter the
    # writer protocol (aiohttp's AbstractStreamWriter role)
    "Payload",
    "BytesPayload",
    "StringPayload",
    "JsonPayload",
    "JsonBytesPayload",
    "IOBasePayload",
    "BufferedReaderPayload",
    "TextIOPayload",
    "BytesIOPayload",
    "StringIOPayload",
    "AsyncIterablePayload",
    "BodyPartReaderPayload",
    "PAYLOAD_REGISTRY",
    "PayloadRegistry",
    "PayloadLookupError",
    "PayloadWriter",
    "Order",
    "get_payload",
    "payload_type",
    # WebSockets: aiohttp has these at its top level (aiohttp.WSCloseCode), not in aiohttp.web
    "WSCloseCode",
    "WSMessage",
    "WSMessageTypeError",
    # behind reverse proxies: weft's own (aiohttp leaves it to aiohttp-remotes)
    "trusted_proxies_middleware",
    "TrustedProxies",
    "ForwardedClient",
    "FORWARDED_CLIENT",
    "ProxyHeaderError",
    # the protocol hand-off a server implements (web-runner's connection)
    "UpgradableProtocol",
    "UpgradeReceiver",
}


def test_all_names_exist_once() -> None:
    """Every name in __all__ is an attribute of the package, listed once."""
    assert len(web_core.__all__) == len(set(web_core.__all__))
    missing = [name for name in web_core.__all__ if not hasattr(web_core, name)]
    assert missing == []


def test_all_is_complete() -> None:
    """Every public class or function the package namespace holds is listed in __all__."""
    public = {
        name
        for name, value in vars(web_core).items()
        if not name.startswith("_") and (inspect.isclass(value) or inspect.isfunction(value))
    }
    assert public <= set(web_core.__all__)


def test_private_modules_exports_are_reexported() -> None:
    """Each private module's __all__ is re-exported by the package, or is internal."""
    internal = {"is_new_style", "parse_content_type", "sentinel"}
    internal |= {"build_chain", "warn_old_style", "parse_forwarded"}
    internal |= {"AppHandling"}  # the Application's per-request path
    internal |= {"Handler", "LooseHeaders", "Middleware"}
    internal |= {"Heartbeat"}  # WebSocketResponse's heartbeat timers
    internal |= {  # files, conditional requests, compression
        "ETAG_ANY",
        "format_etag",
        "format_http_date",
        "parse_etag",
        "parse_etag_list",
        "parse_http_date",
        "parse_range",
        "validate_etag_value",
        "MAX_SYNC_CHUNK_SIZE",
        "ZLibCompressor",
        "accepted_codings",
        "add_vary",
        "coding_acceptable",
        "negotiate_coding",
        "DEFAULT_CHUNK_SIZE",
    }
    internal |= {  # forms and multipart
        "PostValue",
        "read_post",
        "content_disposition_filename",
        "content_disposition_header",
        "parse_content_disposition",
    }
    internal |= {"TCHAR", "TCHARS", "TOKEN"}  # RFC 9110's token, shared by the parsers
    internal |= {"parse_cookie_header"}  # request.cookies
    internal |= {"LOADS", "decode"}  # request.json()'s default decoding
    internal |= {"register_server_factory"}  # web-runner's Server for make_handler()
    for path in Path(web_core.__file__).parent.glob("_*.py"):
        if path.stem.startswith("__"):
            continue
        module = importlib.import_module(f"weft.web_core.{path.stem}")
        for name in getattr(module, "__all__", []):
            assert name in web_core.__all__ or name in internal, f"{path.stem}.{name}"


def test_aiohttp_names_are_aiohttp_web_names() -> None:
    """Names shared with aiohttp.web are the same kind of object there (class or function)."""
    for name in set(web_core.__all__) - _WEFT_ONLY:
        assert hasattr(aioweb, name), name
        ours, theirs = getattr(web_core, name), getattr(aioweb, name)
        assert inspect.isclass(ours) == inspect.isclass(theirs), name


def test_readme_api_table_is_exported() -> None:
    """Every name in the README's API table is exported."""
    readme = Path(__file__).parents[1] / "README.md"
    table = [line for line in readme.read_text().splitlines() if line.startswith("| `")]
    names = {m for line in table for m in re.findall(r"`(\w+)", line.split("|")[1])}
    assert names
    assert names <= set(web_core.__all__)


def test_version() -> None:
    """__version__ is a dotted release number."""
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", web_core.__version__)
