"""A raw HTTP server on 127.0.0.1 whose every answer a test scripts: well-behaved, trickling, redirecting.

Raw sockets rather than ``http.server``, so a test controls each byte and its timing (a server
that trickles its headers is something ``http.server`` cannot be). Optionally TLS, for
certificate checks with a test CA (``trustme``).
"""

import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import trustme

from functions.adapters.public_http import connect_tcp

Behaviour = Callable[[socket.socket, "Request", threading.Event], None]


@dataclass(frozen=True)
class Request:
    head: str
    body: bytes

    @property
    def request_line(self) -> str:
        return self.head.split("\r\n", 1)[0]

    def header(self, name: str) -> str | None:
        for line in self.head.split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None


def answer(status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None, chunked: bool = False) -> Behaviour:
    def respond(conn: socket.socket, request: Request, stop: threading.Event) -> None:
        lines = [f"HTTP/1.1 {status} Whatever", *(f"{k}: {v}" for k, v in (headers or {}).items()), "Connection: close"]
        if chunked:
            lines.append("Transfer-Encoding: chunked")
            payload = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 512]), body[i:i + 512]) for i in range(0, len(body), 512))
            payload += b"0\r\n\r\n"
        else:
            lines.append(f"Content-Length: {len(body)}")
            payload = body
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)

    return respond


def trickle(data: bytes, every_s: float) -> Behaviour:
    """Sends ``data`` one byte at a time, ``every_s`` apart: the slow-loris server."""

    def respond(conn: socket.socket, request: Request, stop: threading.Event) -> None:
        for i in range(len(data)):
            if stop.wait(every_s):
                return
            conn.sendall(data[i:i + 1])

    return respond


@dataclass
class LoopbackServer:
    behaviour: Behaviour
    tls: ssl.SSLContext | None = None
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}{path}"

    def close(self) -> None:
        self._stop.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() (Linux)
        except OSError:
            pass
        self._listener.close()
        self._thread.join(5)

    def __enter__(self) -> "LoopbackServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            if self.tls:
                conn = self.tls.wrap_socket(conn, server_side=True)
            conn.settimeout(10)
            request = _read_request(conn)
            self.requests.append(request)
            self.behaviour(conn, request, self._stop)
        except (OSError, ssl.SSLError):
            pass  # the client hung up (deadline tests do exactly that)
        finally:
            conn.close()


def _read_request(conn: socket.socket) -> Request:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    request = Request(head.decode("latin-1"), body)
    length = int(request.header("Content-Length") or 0)
    while len(body) < length:
        chunk = conn.recv(4096)
        if not chunk:
            break
        body += chunk
    return Request(request.head, body)


PUBLIC = "93.184.215.14"  # a public address no test ever dials: ``Dialled`` goes to loopback instead
NAMES = ("images.example", "rebind.example", "redirect.example")


class Dialled:
    """A connector (public_http's port) that records the address it was asked for and connects to
    the loopback server instead, so a test can use public addresses without sending them a packet."""

    def __init__(self, server: LoopbackServer):
        self.server, self.addresses = server, []

    def __call__(self, address: str, port: int, timeout_s: float) -> socket.socket:
        self.addresses.append(address)
        return connect_tcp("127.0.0.1", self.server.port, timeout_s)


class Answers:
    """A resolver that gives each lookup the next answer in turn (an exception is raised), and counts them."""

    def __init__(self, *answers):
        self.answers, self.calls = list(answers), 0

    def __call__(self, host: str, port: int):
        answer_now = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        if isinstance(answer_now, Exception):
            raise answer_now
        return answer_now


def tls_server(ca: trustme.CA, behaviour: Behaviour | None = None, names=NAMES) -> LoopbackServer:
    """An HTTPS server on loopback whose certificate (from the test CA) names ``names``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return LoopbackServer(behaviour or answer(200, b"secure", {"Content-Type": "image/png"}), tls=context)


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    """A client TLS context that trusts the test CA (and nothing else)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies the certificate and the host name
    ca.configure_trust(context)
    return context
