"""The one-click endpoint under slow and idle clients: real sockets on loopback, no mocks.

Half-open requests hold at most [web] max_connections threads and are cut off after
[web] timeout_seconds; connections that have sent nothing make room for real clients;
with HTTPS, the handshake runs in the connection's own thread, never in the accept loop.
"""
import contextlib
import socket
import ssl
import threading
import time
import urllib.request

import pytest

from db.models import Address, Member
from mailer import settings as settings_module
from mailer.message.subaddress import sign
from mailer.inbound.web import Endpoint

from conftest import wait_for

PUBLIC = "https://lets.example/"
ONE_CLICK = b"List-Unsubscribe=One-Click"


@contextlib.contextmanager
def running(group, **web):
    group.settings = settings_module.replace(group.settings, digest={"public_url": PUBLIC}, web={"port": 0, **web})
    server = Endpoint(group.settings).start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def connections(port: int, count: int, first_bytes: bytes = b""):
    """`count` TCP connections to the endpoint, each having sent `first_bytes`, closed on exit."""
    opened = []
    try:
        for _ in range(count):
            client = socket.create_connection(("127.0.0.1", port), timeout=10)
            opened.append(client)
            client.settimeout(None)   # blocking, so that MSG_DONTWAIT alone decides whether a read waits
            if first_bytes:
                client.sendall(first_bytes)
        yield opened
    finally:
        for client in opened:
            client.close()


def closed_by_server(client: socket.socket) -> bool:
    """Whether the endpoint has closed this connection (FIN or reset), without waiting."""
    try:
        return client.recv(4096, socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def token_path(group, email: str) -> str:
    return f"/u/{sign(group.settings, 'u', Address.get(Address.email == email).id)}"


def post(base: str, path: str, context=None) -> int:
    request = urllib.request.Request(base + path, data=ONE_CLICK,
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=10, context=context) as response:
        return response.status


class ThreadCount:
    """The most threads this process ran beyond `baseline`, sampled while waiting."""

    def __init__(self):
        self.baseline = threading.active_count()
        self.most = 0

    def sample(self) -> int:
        extra = threading.active_count() - self.baseline
        self.most = max(self.most, extra)
        return extra


def test_half_open_requests_hold_at_most_max_connections_threads_and_are_cut_off_at_the_timeout(group, an):
    with running(group, max_connections=8, timeout_seconds=3) as server:
        threads = ThreadCount()
        started = time.monotonic()
        with connections(server.port, 30, b"POST /u/1-aaaa HT") as clients:
            def cut_off():
                threads.sample()
                return sum(map(closed_by_server, clients))
            # Beyond the bound, a connection is closed at once, without a thread of its own.
            wait_for(lambda: cut_off() >= 22)
            assert cut_off() == 22
            # The 8 it holds are cut off once the timeout has passed, not before.
            wait_for(lambda: cut_off() == 30)
            assert time.monotonic() - started >= 3
            wait_for(lambda: threads.sample() == 0)
        assert threads.most <= 8
        # Room again for a real client.
        assert post(f"http://127.0.0.1:{server.port}", token_path(group, "an@example.org")) == 200
    assert Member.get_by_id(an.id).digest == "off"


def test_a_one_click_post_is_answered_while_100_idle_connections_are_open(group, an):
    """With the default bound (64): connections that have sent nothing make room for one that has."""
    with running(group) as server:
        threads = ThreadCount()
        with connections(server.port, 100) as idle:
            wait_for(lambda: threads.sample() >= 64)
            assert post(f"http://127.0.0.1:{server.port}", token_path(group, "an@example.org")) == 200
            # The oldest idle ones were closed to make room: 36 for the other idle ones, one for the POST.
            wait_for(lambda: sum(map(closed_by_server, idle)) >= 37)
            threads.sample()
        assert threads.most <= 64
    assert Member.get_by_id(an.id).digest == "off"


def test_with_https_an_idle_connection_that_never_starts_a_handshake_does_not_hold_up_another_client(
        group, an, tls_certificate):
    with running(group, cert_file=str(tls_certificate.cert), key_file=str(tls_certificate.key),
                 timeout_seconds=2) as server:
        context = ssl.create_default_context(cafile=str(tls_certificate.cert))
        with connections(server.port, 1) as (silent,):
            assert post(f"https://127.0.0.1:{server.port}", token_path(group, "an@example.org"), context) == 200
            # The handshake that never starts is given up at the timeout, like a request.
            wait_for(lambda: closed_by_server(silent), timeout=10)
    assert Member.get_by_id(an.id).digest == "off"


def test_with_https_a_handshake_that_stops_halfway_is_cut_off_at_the_timeout(group, tls_certificate):
    with running(group, cert_file=str(tls_certificate.cert), key_file=str(tls_certificate.key),
                 timeout_seconds=2) as server:
        # The first bytes of a TLS record header (a handshake record), then nothing.
        with connections(server.port, 1, b"\x16\x03\x01\x02") as (stalled,):
            started = time.monotonic()
            wait_for(lambda: closed_by_server(stalled), timeout=10)
            assert time.monotonic() - started < 8


@pytest.mark.parametrize("sent, drip", [
    ("POST {path} HTTP/1.1\r\nHost: lets.example\r\n"
     "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 4096\r\n\r\n", b"L"),
    ("POST {path} HTTP/1.1\r\n", b"X"),
], ids=["body", "headers"])
def test_a_request_sent_one_byte_a_second_is_cut_off_at_the_timeout(group, an, sent, drip):
    with running(group, timeout_seconds=2) as server:
        with connections(server.port, 1, sent.format(path=token_path(group, "an@example.org")).encode()) as (slow,):
            started = time.monotonic()
            answer = b""
            slow.settimeout(1)
            while time.monotonic() - started < 10:
                try:
                    slow.sendall(drip)
                    # One byte a second: wait a second for the endpoint to answer or close.
                    chunk = slow.recv(4096)
                except TimeoutError:
                    continue
                except (ConnectionResetError, BrokenPipeError):
                    break
                if not chunk:
                    break
                answer += chunk
            assert time.monotonic() - started < 6, "the slow request was not cut off"
            assert b" 200 " not in answer
    assert Member.get_by_id(an.id).digest == "weekly"


def test_the_limits_come_from_settings_ini_and_must_be_at_least_one(settings):
    from pathlib import Path
    loaded = settings_module.load(Path(__file__).resolve().parent.parent / "settings.ini",
                                  environ={"LETS_WEB_MAX_CONNECTIONS": "16"})
    assert (loaded.web.timeout_seconds, loaded.web.max_connections) == (10, 16)
    for web in ({"max_connections": 0}, {"timeout_seconds": 0}):
        with pytest.raises(ValueError, match=r"\[web\]"):
            Endpoint(settings_module.replace(settings, web={"port": 0, **web}))
