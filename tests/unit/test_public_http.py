"""The SSRF-safe outbound client: injected resolvers and loopback servers only, never a packet elsewhere.

Where a test needs a *public* address, the resolver answers one and the injected connector
records it and dials the loopback server instead (tests/loopback_http.py): what the client would
have dialled is asserted, nothing leaves the machine.
"""

import ipaddress
import socket
import threading
import time

import pytest
import trustme

from functions.adapters.public_http import (
    AddressRefused,
    ConnectionFailed,
    DeadlineExceeded,
    PublicHttp,
    ResolutionFailed,
    ResponseTooLarge,
    UrlRefused,
    is_public,
)
from tests.loopback_http import PUBLIC, Answers, Dialled, LoopbackServer, answer, tls_server, trickle, trusting

@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture
def server(ca):
    """An HTTPS server on loopback with a certificate (from the test CA) for the NAMES."""
    with tls_server(ca) as running:
        yield running


@pytest.mark.parametrize("address", [
    "10.0.0.1", "172.16.0.1", "192.168.1.1", "127.0.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "224.0.0.1", "240.0.0.1", "255.255.255.255", "192.0.0.8", "198.18.0.1", "::1", "::", "fe80::1", "fc00::1",
    "ff02::1", "::ffff:127.0.0.1", "::ffff:8.8.8.8", "2002:7f00:1::1", "64:ff9b::808:808", "64:ff9b:1::1",
    "2001:db8::1", "2001::1",
])
def test_non_public_addresses_are_recognised(address):
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", [PUBLIC, "8.8.8.8", "2606:4700::1111", "2002:808:808::1"])
def test_public_addresses_are_recognised(address):
    assert is_public(ipaddress.ip_address(address))


def test_a_get_reaches_the_checked_address_with_the_host_name_in_the_host_header(server, ca):
    resolver, dialled = Answers([PUBLIC]), Dialled(server)
    client = PublicHttp(resolver=resolver, connector=dialled, tls=trusting(ca))

    response = client.get(f"https://images.example:{server.port}/cat.png?size=1", timeout_s=2, max_bytes=100)

    assert (response.status, response.body, response.headers["content-type"]) == (200, b"secure", "image/png")
    assert dialled.addresses == [PUBLIC]
    assert server.requests[0].request_line == "GET /cat.png?size=1 HTTP/1.1"
    assert server.requests[0].header("Host") == f"images.example:{server.port}"


def test_a_dns_answer_that_changes_between_check_and_connect_cannot_redirect_the_connection(server, ca):
    # The first answer is public and passes the check; every later one is private: a rebinding attack.
    resolver, dialled = Answers([PUBLIC], ["10.0.0.7"]), Dialled(server)
    client = PublicHttp(resolver=resolver, connector=dialled, tls=trusting(ca))

    assert client.get(f"https://rebind.example:{server.port}/", timeout_s=2, max_bytes=100).status == 200

    assert resolver.calls == 1
    assert dialled.addresses == [PUBLIC]


def test_one_private_answer_among_public_ones_refuses_the_request_before_any_connection(server):
    dialled = Dialled(server)
    client = PublicHttp(resolver=Answers([PUBLIC, "10.1.2.3"]), connector=dialled)

    with pytest.raises(AddressRefused, match="non-public"):
        client.get("https://mixed.example/", timeout_s=2, max_bytes=100)
    assert dialled.addresses == []


@pytest.mark.parametrize("url", ["https://169.254.169.254/latest/meta-data", "https://[::ffff:10.0.0.1]/", "https://[fd00::1]:8443/"])
def test_private_ip_literals_are_refused_without_a_lookup(server, url):
    resolver, dialled = Answers(socket.gaierror("must not be asked")), Dialled(server)
    client = PublicHttp(resolver=resolver, connector=dialled)

    with pytest.raises(AddressRefused):
        client.get(url, timeout_s=2, max_bytes=100)
    assert dialled.addresses == []


def test_loopback_is_refused_in_production():
    with LoopbackServer(answer(200, b"hello")) as plain:
        with pytest.raises(UrlRefused):
            PublicHttp().get(plain.url("/"), timeout_s=2, max_bytes=100)  # http: refused before resolving
        with pytest.raises(AddressRefused):
            PublicHttp(resolver=Answers(["127.0.0.1"])).get("https://localhost.example/", timeout_s=2, max_bytes=100)
    assert plain.requests == []


def test_the_local_stack_setting_reaches_loopback_and_nothing_else():
    local = PublicHttp(loopback_only=True)
    with LoopbackServer(answer(200, b"hello")) as plain:
        assert local.get(plain.url("/"), timeout_s=2, max_bytes=100).body == b"hello"
        assert local.get(plain.url("/", host="localhost"), timeout_s=2, max_bytes=100).body == b"hello"

    with pytest.raises(AddressRefused, match="loopback"):
        local.get("http://10.0.0.1/", timeout_s=2, max_bytes=1)
    with pytest.raises(AddressRefused, match="loopback"):
        PublicHttp(loopback_only=True, resolver=Answers([PUBLIC])).get("https://public.example/", timeout_s=2, max_bytes=1)
    with pytest.raises(ResolutionFailed):
        local.get("https://images.example/a.png", timeout_s=2, max_bytes=1)  # no name but localhost is looked up


@pytest.mark.parametrize("failure", [socket.gaierror(socket.EAI_NONAME, "Name or service not known"), []])
def test_a_host_that_does_not_resolve_fails_closed(server, failure):
    dialled = Dialled(server)
    client = PublicHttp(resolver=Answers(failure), connector=dialled)

    with pytest.raises(ResolutionFailed):
        client.get("https://nowhere.example/", timeout_s=2, max_bytes=100)
    assert dialled.addresses == []


def test_a_resolver_that_hangs_is_held_to_the_deadline(server):
    release = threading.Event()
    client = PublicHttp(resolver=lambda host, port: release.wait(10) and [PUBLIC], connector=Dialled(server))

    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        client.get("https://slow-dns.example/", timeout_s=0.3, max_bytes=100)
    release.set()
    assert time.monotonic() - started < 2


def test_a_redirect_to_a_private_address_is_returned_not_followed(ca):
    with tls_server(ca, answer(302, headers={"Location": "http://10.0.0.1/secret"})) as redirecting:
        dialled = Dialled(redirecting)
        client = PublicHttp(resolver=Answers([PUBLIC]), connector=dialled, tls=trusting(ca))

        response = client.get(redirecting.url("/a.png", host="redirect.example"), timeout_s=2, max_bytes=100)

    assert (response.status, response.headers["location"]) == (302, "http://10.0.0.1/secret")
    assert dialled.addresses == [PUBLIC] and len(redirecting.requests) == 1


@pytest.mark.parametrize("what", ["headers", "body"])
def test_a_server_that_trickles_bytes_is_cut_off_at_the_total_deadline(what):
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
    behaviour = trickle(head + b"x" * 1000, every_s=0.05) if what == "headers" else _head_then_trickle(head)
    with LoopbackServer(behaviour) as slow:
        client = PublicHttp(loopback_only=True)

        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            client.get(slow.url("/"), timeout_s=0.5, max_bytes=10_000)
        elapsed = time.monotonic() - started

    # Every byte came well within any per-read timeout; only a total deadline stops this.
    assert 0.45 < elapsed < 1.5


def _head_then_trickle(head: bytes):
    send_rest = trickle(b"x" * 1000, every_s=0.05)

    def respond(conn, request, stop):
        conn.sendall(head)
        send_rest(conn, request, stop)

    return respond


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_the_cap_is_refused(chunked):
    with LoopbackServer(answer(200, b"y" * 5000, chunked=chunked)) as big:
        with pytest.raises(ResponseTooLarge):
            PublicHttp(loopback_only=True).get(big.url("/"), timeout_s=2, max_bytes=4096)


def test_a_post_sends_body_and_headers_and_cuts_a_long_answer():
    with LoopbackServer(answer(200, b"z" * 300)) as receiver:
        response = PublicHttp(loopback_only=True).post(
            receiver.url("/hook"), b'{"type":"job.done"}', timeout_s=2,
            headers={"Content-Type": "application/json", "webhook-id": "msg_1"}, max_response_bytes=100,
        )

    request = receiver.requests[0]
    assert request.request_line == "POST /hook HTTP/1.1"
    assert (request.body, request.header("webhook-id"), request.header("Content-Length")) == (b'{"type":"job.done"}', "msg_1", "19")
    assert (response.status, len(response.body), response.truncated) == (200, 100, True)


def test_the_caller_cannot_set_the_host_header():
    with pytest.raises(ValueError, match="host"):
        PublicHttp(loopback_only=True).post("http://127.0.0.1:9/", b"", timeout_s=1, headers={"Host": "internal"})


@pytest.mark.parametrize("url", ["ftp://files.example/a.png", "https://user:pw@images.example/a.png", "https:///a.png",
                                 "https://images.example:99999/", "file:///etc/passwd", "http://images.example/a.png"])
def test_urls_that_no_request_may_go_to_are_refused_without_a_lookup(url):
    resolver = Answers([PUBLIC])
    with pytest.raises(UrlRefused):
        PublicHttp(resolver=resolver).check_url(url)
    assert resolver.calls == 0


def test_https_verifies_the_certificate_for_the_host_name_while_dialling_the_checked_address(ca):
    with tls_server(ca) as secure:
        dialled = Dialled(secure)
        client = PublicHttp(resolver=Answers([PUBLIC]), connector=dialled, tls=trusting(ca))

        response = client.get(f"https://images.example:{secure.port}/a.png", timeout_s=2, max_bytes=100)

    assert (response.status, response.body, dialled.addresses) == (200, b"secure", [PUBLIC])


def test_https_refuses_a_certificate_for_another_name(ca):
    with tls_server(ca, names=("other.example",)) as impostor:
        client = PublicHttp(resolver=Answers([PUBLIC]), connector=Dialled(impostor), tls=trusting(ca))

        with pytest.raises(ConnectionFailed, match="CERTIFICATE_VERIFY_FAILED|certificate"):
            client.get(f"https://images.example:{impostor.port}/a.png", timeout_s=2, max_bytes=100)


def test_a_trickling_https_server_is_cut_off_at_the_total_deadline_too(ca):
    with tls_server(ca, _head_then_trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")) as slow:
        client = PublicHttp(resolver=Answers([PUBLIC]), connector=Dialled(slow), tls=trusting(ca))

        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            client.get(f"https://images.example:{slow.port}/", timeout_s=0.5, max_bytes=10_000)

    assert time.monotonic() - started < 1.5
