"""weft.web's public names against aiohttp.web's server side.

AIOHTTP_WEB_ALL is aiohttp 3.14's ``aiohttp.web.__all__``, frozen here so
the test does not depend on the installed aiohttp: weft.web must provide
every one of them (deliberate additions are listed below).
"""

from __future__ import annotations

from weft import web

AIOHTTP_WEB_ALL = frozenset(
    """
    AbstractResource AbstractRoute AbstractRouteDef AppKey AppRunner Application
    BaseRequest BaseRunner BaseSite CleanupError ContentCoding DynamicResource
    FileField FileResponse GracefulExit HTTPAccepted HTTPBadGateway HTTPBadRequest
    HTTPClientError HTTPConflict HTTPCreated HTTPError HTTPException
    HTTPExpectationFailed HTTPFailedDependency HTTPForbidden HTTPFound
    HTTPGatewayTimeout HTTPGone HTTPInsufficientStorage HTTPInternalServerError
    HTTPLengthRequired HTTPMethodNotAllowed HTTPMisdirectedRequest HTTPMove
    HTTPMovedPermanently HTTPMultipleChoices HTTPNetworkAuthenticationRequired
    HTTPNoContent HTTPNonAuthoritativeInformation HTTPNotAcceptable HTTPNotExtended
    HTTPNotFound HTTPNotImplemented HTTPNotModified HTTPOk HTTPPartialContent
    HTTPPaymentRequired HTTPPermanentRedirect HTTPPreconditionFailed
    HTTPPreconditionRequired HTTPProxyAuthenticationRequired HTTPRedirection
    HTTPRequestEntityTooLarge HTTPRequestHeaderFieldsTooLarge
    HTTPRequestRangeNotSatisfiable HTTPRequestTimeout HTTPRequestURITooLong
    HTTPResetContent HTTPSeeOther HTTPServerError HTTPServiceUnavailable
    HTTPSuccessful HTTPTemporaryRedirect HTTPTooManyRequests HTTPUnauthorized
    HTTPUnavailableForLegalReasons HTTPUnprocessableEntity HTTPUnsupportedMediaType
    HTTPUpgradeRequired HTTPUseProxy HTTPVariantAlsoNegotiates HTTPVersionNotSupported
    NamedPipeSite NotAppKeyWarning PayloadAccessError PlainResource
    PrefixedSubAppResource Request RequestHandler RequestKey RequestPayloadError
    Resource ResourceRoute Response ResponseKey RouteDef RouteTableDef Server
    ServerRunner SockSite StaticDef StaticResource StreamResponse TCPSite UnixSite
    UrlDispatcher UrlMappingMatchInfo View WSMsgType WebSocketReady
    WebSocketResponse delete get head json_bytes_response json_response middleware
    normalize_path_middleware options patch post put route run_app static view
    """.split()
)


def test_all_is_true() -> None:
    """Every name in weft.web.__all__ exists."""
    missing = [name for name in web.__all__ if not hasattr(web, name)]
    assert missing == []


def test_all_has_no_duplicates() -> None:
    """weft.web.__all__ lists each name once."""
    assert len(web.__all__) == len(set(web.__all__))


def test_aiohttp_names_present() -> None:
    """Each aiohttp.web server-side name is in weft.web."""
    assert AIOHTTP_WEB_ALL - set(web.__all__) == set()


# aiohttp.web has these as attributes (imported from aiohttp.web_log) though
# not in its __all__; weft lists them so that mypy accepts web.AccessLogger.
# weft's own additions (issue 17): the trusted-proxy middleware and its request
# key, the structured access logger and its JSON-lines formatter.
DELIBERATE_EXTRAS = {
    "AbstractAccessLogger",
    "AccessLogger",
    "trusted_proxies_middleware",
    "FORWARDED_CLIENT",
    "StructuredAccessLogger",
    "JsonAccessFormatter",
}


def test_extra_names_are_deliberate() -> None:
    """weft.web adds no names beyond aiohttp.web's, except documented ones."""
    extra = set(web.__all__) - AIOHTTP_WEB_ALL
    assert extra == DELIBERATE_EXTRAS


def test_exception_hierarchy_is_not_response() -> None:
    """HTTP exceptions are plain exceptions, not responses (docs/design.md)."""
    assert issubclass(web.HTTPNotFound, web.HTTPClientError)
    assert issubclass(web.HTTPClientError, web.HTTPError)
    assert issubclass(web.HTTPException, Exception)
    assert not issubclass(web.HTTPException, web.StreamResponse)


def test_test_utils_at_aiohttps_path() -> None:
    """weft.test_utils offers aiohttp.test_utils' main names."""
    from weft import test_utils

    names = (
        "TestClient",
        "TestServer",
        "RawTestServer",
        "make_mocked_request",
        "unused_port",
        "get_port_socket",
        "get_unused_port_socket",
    )
    for name in names:
        assert hasattr(test_utils, name), name


def test_application_is_callable_for_gunicorn() -> None:
    """gunicorn loads callables only: an Application returns itself, as aiohttp's does."""
    app = web.Application()
    assert app() is app


def test_reason_phrases_are_aiohttps() -> None:
    """A response's default reason is aiohttp's (http.HTTPStatus's) for every status."""
    import aiohttp.web

    for status in range(100, 600):
        ours = web.Response(status=status).reason
        assert ours == aiohttp.web.Response(status=status).reason, status
