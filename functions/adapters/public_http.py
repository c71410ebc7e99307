"""Outbound HTTP to an address a user chose (image URLs, client webhooks), closed to our own network.

A URL from a user can point anywhere: at the metadata server (169.254.169.254), at a service on
the VPC, at localhost, or at a host whose DNS answer changes between our check and our connect.
Every request made here:

- resolves the host once, through the injectable ``Resolver``, and goes on only if *every*
  answer is a public unicast address (no private, loopback, link-local, multicast, reserved,
  shared or unspecified address; no v4-mapped or NAT64 IPv6; 6to4 and Teredo are judged by
  the IPv4 address they carry). No answer, or a resolver error, refuses the request: fail closed;
- connects to that very address: there is no second lookup for an attacker's DNS to answer
  differently. HTTPS still verifies the certificate for the host name (SNI plus hostname check);
- never follows a redirect: a 3xx comes back as it is, for the caller to treat as a failure;
- runs under one total deadline (resolve, connect, TLS, send, headers, body): a watchdog shuts
  the socket when it passes, so a server that trickles one byte a second holds nothing past it;
- reads at most a byte cap of the response body.

Production speaks only https, to public addresses only. ``loopback_only`` (``OUTBOUND_LOOPBACK_ONLY``,
the local stack) turns that around: http or https to 127.0.0.0/8 and ::1 and nowhere else, with
``loopback_resolver`` answering ``localhost`` and no other name, so a URL from a test or a fuzzer
never sends a packet (not even a DNS query) off the machine.
"""

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from urllib.parse import urlsplit

Resolver = Callable[[str, int], Sequence[str]]  # (host, port) -> IP addresses as text
Connector = Callable[[str, int, float], socket.socket]  # (address, port, timeout_s) -> a connected socket
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

USER_AGENT = "CineWeave/1.0"
_CHUNK = 64 * 1024
_RESERVED_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}
# IANA's special-purpose ranges that are not globally reachable, named here as well as in the
# standard library's flags: those tables change between Python patch releases.
_NEVER = tuple(ipaddress.ip_network(net) for net in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
    "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
    "224.0.0.0/4", "240.0.0.0/4",
    "::/127", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "fc00::/7", "fe80::/10",
    "fec0::/10", "ff00::/8",
))
_lookups = ThreadPoolExecutor(max_workers=4, thread_name_prefix="public-http-dns")


class OutboundError(Exception):
    """Base of every refusal or failure. ``permanent``: the same URL will fail again (do not retry)."""

    permanent = False


class UrlRefused(OutboundError):
    """The URL itself is not allowed (scheme, credentials, no host, plain http)."""

    permanent = True


class AddressRefused(OutboundError):
    """The host resolves to an address that is not public."""

    permanent = True


class ResolutionFailed(OutboundError):
    """The host has no address we could learn: refused, never guessed."""


class ConnectionFailed(OutboundError):
    """Nothing answered, TLS failed (certificate included), or the reply was not HTTP."""


class DeadlineExceeded(OutboundError):
    """The whole request took longer than its deadline."""


class ResponseTooLarge(OutboundError):
    """The body is over the byte cap."""

    permanent = True


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]  # names lower-cased
    body: bytes
    truncated: bool = False  # POST only: the body was cut at the cap


def system_resolver(host: str, port: int) -> list[str]:
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def loopback_resolver(host: str, port: int) -> list[str]:
    """The local stack's resolver: ``localhost`` and nothing else, without asking anyone."""
    if host.rstrip(".") == "localhost":
        return ["127.0.0.1"]
    raise socket.gaierror(socket.EAI_NONAME, f"only localhost is resolved on the local stack, not {host}")


def connect_tcp(address: str, port: int, timeout_s: float) -> socket.socket:
    """A TCP connection to an IP address given as text (never a name: nothing is looked up here)."""
    ip = ipaddress.ip_address(address)
    sock = socket.socket(socket.AF_INET6 if ip.version == 6 else socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout_s)
    try:
        sock.connect((address, port))
    except BaseException:
        sock.close()
        raise
    return sock


def is_public(address: IPAddress) -> bool:
    """A globally routable unicast address, and not one that smuggles a private IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address):
        carried = [address.sixtofour, *(address.teredo or ())]
        if any(v4 is not None and not is_public(v4) for v4 in carried):
            return False
    if any(address in net for net in _NEVER if net.version == address.version):
        return False
    return address.is_global and not (
        address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
        or address.is_reserved or address.is_unspecified
    )


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # ASCII (IDNA) host name or IP literal, as it goes in SNI and the Host header
    port: int
    path: str  # path and query, never the fragment


class PublicHttp:
    """GET with a byte cap, POST with a body: both under the rules in the module docstring."""

    def __init__(
        self,
        loopback_only: bool = False,
        resolver: Resolver | None = None,
        connector: Connector = connect_tcp,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._loopback_only = loopback_only
        self._resolver = resolver or (loopback_resolver if loopback_only else system_resolver)
        self._connector = connector
        self._tls = tls or _default_tls()

    def get(self, url: str, *, timeout_s: float, max_bytes: int, headers: Mapping[str, str] | None = None) -> Response:
        """The response (any status: a 3xx is not followed); ``ResponseTooLarge`` past ``max_bytes``."""
        return self._exchange("GET", url, None, headers or {}, timeout_s, max_bytes, truncate=False)

    def post(
        self, url: str, body: bytes, *, timeout_s: float, headers: Mapping[str, str] | None = None,
        max_response_bytes: int = 64 * 1024,
    ) -> Response:
        """The response to one POST of ``body``; its body is cut (``truncated``) at ``max_response_bytes``."""
        return self._exchange("POST", url, body, headers or {}, timeout_s, max_response_bytes, truncate=True)

    def check_url(self, url: str) -> None:
        """Refuses a URL that no request could be made to, without touching the network."""
        self._target(url)

    def check(self, url: str, *, timeout_s: float) -> None:
        """Refuses a URL that no request would be made to, resolving its host once and sending
        nothing: what a webhook receiver's registration checks before it is stored."""
        self._resolve(self._target(url), time.monotonic() + timeout_s)

    def _exchange(
        self, method: str, url: str, body: bytes | None, headers: Mapping[str, str], timeout_s: float,
        max_bytes: int, truncate: bool,
    ) -> Response:
        if reserved := _RESERVED_HEADERS & {name.lower() for name in headers}:
            raise ValueError(f"these headers are set by the client itself: {sorted(reserved)}")
        target = self._target(url)
        deadline = time.monotonic() + timeout_s
        address = self._resolve(target, deadline)
        with _Watchdog(timeout_s) as watchdog:
            try:
                return self._send(target, address, method, body, headers, deadline, max_bytes, truncate, watchdog)
            except OutboundError:
                raise
            except (OSError, http.client.HTTPException) as exc:
                if watchdog.fired or isinstance(exc, TimeoutError):
                    raise DeadlineExceeded(f"{target.host} did not answer within {timeout_s:g} s") from exc
                raise ConnectionFailed(f"{target.host}: {type(exc).__name__}: {exc}") from exc

    def _send(
        self, target: _Target, address: IPAddress, method: str, body: bytes | None, headers: Mapping[str, str],
        deadline: float, max_bytes: int, truncate: bool, watchdog: "_Watchdog",
    ) -> Response:
        sock = watchdog.watch(self._connector(str(address), target.port, _remaining(deadline)))
        if target.scheme == "https":
            sock = watchdog.watch(self._tls.wrap_socket(sock, server_hostname=target.host))
        connection_class = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
        connection = connection_class(target.host, target.port, timeout=_remaining(deadline))
        connection.sock = sock  # connected to the checked address: http.client never dials on its own
        request_headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity", **headers, "Connection": "close"}
        connection.request(method, target.path, body=body, headers=request_headers)
        # Read the answer on our socket, not through getresponse(), which closes the socket under
        # "Connection: close" while the body is still to be read under the watchdog.
        response = http.client.HTTPResponse(sock, method=method)
        try:
            sock.settimeout(_remaining(deadline))
            response.begin()
            data, cut = _read_capped(response, sock, deadline, max_bytes, truncate, target.host)
            return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, data, cut)
        finally:
            response.close()

    def _target(self, url: str) -> _Target:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise UrlRefused(f"not a valid URL: {exc}") from exc
        schemes = {"https", "http"} if self._loopback_only else {"https"}
        if parts.scheme not in schemes:
            raise UrlRefused("only https URLs are allowed")
        if parts.username is not None or parts.password is not None:
            raise UrlRefused("URLs with credentials are refused")
        if not parts.hostname:
            raise UrlRefused("the URL has no host")
        try:
            host = parts.hostname.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise UrlRefused("the host name is not valid") from exc
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return _Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)

    def _resolve(self, target: _Target, deadline: float) -> IPAddress:
        """The one address to connect to, after every answer passed the check."""
        try:
            return self._allowed([ipaddress.ip_address(target.host)], target.host)
        except ValueError:
            pass  # a name, not an IP literal
        lookup = _lookups.submit(self._resolver, target.host, target.port)
        try:
            answers = [ipaddress.ip_address(str(a).split("%", 1)[0]) for a in lookup.result(timeout=_remaining(deadline))]
        except FutureTimeout as exc:
            raise DeadlineExceeded(f"{target.host} could not be resolved in time") from exc
        except (OSError, UnicodeError, ValueError) as exc:
            raise ResolutionFailed(f"{target.host} could not be resolved") from exc
        if not answers:
            raise ResolutionFailed(f"{target.host} has no address")
        return self._allowed(answers, target.host)

    def _allowed(self, answers: list[IPAddress], host: str) -> IPAddress:
        for address in answers:
            if self._loopback_only and not address.is_loopback:
                raise AddressRefused(f"{host} is not a loopback address, the only kind the local stack reaches")
            if not self._loopback_only and not is_public(address):
                raise AddressRefused(f"{host} resolves to a non-public address")
        return answers[0]


class _Watchdog:
    """Shuts the watched socket when the deadline passes, unblocking any read or write in progress."""

    def __init__(self, timeout_s: float) -> None:
        self.fired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(timeout_s, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> "_Watchdog":
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            if self._sock is not None:
                self._sock.close()

    def watch(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sock = sock
            if self.fired:
                _shut(sock)
        return sock

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            if self._sock is not None:
                _shut(self._sock)


def _shut(sock: socket.socket) -> None:
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the TCP socket under TLS too: no TLS alert to send
    except OSError:
        pass  # already closed


def _read_capped(
    response: http.client.HTTPResponse, sock: socket.socket, deadline: float, max_bytes: int, truncate: bool, host: str,
) -> tuple[bytes, bool]:
    length = response.getheader("Content-Length")
    if not truncate and length and length.isdigit() and int(length) > max_bytes:
        raise ResponseTooLarge(f"{host} sent {int(length)} bytes; at most {max_bytes} are accepted")
    body = bytearray()
    while True:
        sock.settimeout(_remaining(deadline))
        chunk = response.read(min(_CHUNK, max_bytes + 1 - len(body)))
        if not chunk:
            return bytes(body), False
        body += chunk
        if len(body) > max_bytes:
            if truncate:
                return bytes(body[:max_bytes]), True
            raise ResponseTooLarge(f"{host} sent more than {max_bytes} bytes")


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise DeadlineExceeded("the deadline passed")
    return left


def _default_tls() -> ssl.SSLContext:
    try:
        import certifi

        return ssl.create_default_context(cafile=certifi.where())
    except ImportError:  # pragma: no cover - certifi comes with requests
        return ssl.create_default_context()
