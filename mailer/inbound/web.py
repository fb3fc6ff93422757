"""The one-click unsubscribe endpoint (RFC 8058) that `lets serve` runs when [digest] public_url is set.

`POST /u/TOKEN` with the body `List-Unsubscribe=One-Click` turns the digest off for the
address the signed token names (the same token as the mailto: address). `GET` only shows
a page with a button that makes that POST: link scanners and previews follow GETs, and a
GET that unsubscribed would unsubscribe members whose mail is scanned. A forged, stale or
malformed token gets the same bare 404 as any other path, so the endpoint tells a
stranger nothing. HTTPS is normally terminated by the group's web server, which forwards
`public_url/u/…` here; [web] cert_file and key_file serve HTTPS directly instead.

The port may face the internet, so a client gets [web] timeout_seconds from connecting
for its TLS handshake and its whole request, and at most [web] max_connections are
served at once, each in its own thread. The stdlib server stays: a deadline on reads, a
semaphore and the handshake in the connection's thread bound what a client can hold,
and an answer takes milliseconds, so an async server would add a dependency and gain
nothing here.
"""
from __future__ import annotations

import contextlib
import email.parser
import email.policy
import io
import logging
import re
import selectors
import socket
import ssl
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

from db import database
from db.models import Member

from .. import unsubscribe
from ..message.compose import Composer
from ..message.subaddress import verify

log = logging.getLogger(__name__)

PATH = re.compile(r"^/u/([0-9a-z-]{1,40})/?$")
MAX_BODY = 4096
ONE_CLICK = "One-Click"


def one_click(content_type: str, body: bytes) -> bool:
    """Whether a POST body says List-Unsubscribe=One-Click, in either encoding RFC 8058 allows."""
    if content_type.lower().startswith("multipart/form-data"):
        head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        return any(part.get_param("name", header="content-disposition") == "List-Unsubscribe"
                   and part.get_content().strip() == ONE_CLICK
                   for part in message.iter_parts()) if message.is_multipart() else False
    fields = parse_qs(body.decode("latin-1"), keep_blank_values=True)
    return fields.get("List-Unsubscribe") == [ONE_CLICK]


class Deadline(io.RawIOBase):
    """A connection's bytes until a deadline: a client that sends one byte a second is cut off all the same.

    A socket timeout alone bounds each read, not the request (a slow-loris client never
    lets one read wait that long).
    """

    def __init__(self, connection: socket.socket, deadline: float):
        self.connection, self.deadline = connection, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("request not complete within [web] timeout_seconds")
        self.connection.settimeout(left)
        return self.connection.recv_into(buffer)


class Handler(BaseHTTPRequestHandler):
    server_version = "lets-mail"
    sys_version = ""
    settings = None
    composer: Composer = None
    timeout = 10   # [web] timeout_seconds

    def setup(self):
        # HTTP/1.0 (the base class's default): one request per connection, so the deadline
        # covers the handshake and the only request.
        deadline = time.monotonic() + self.timeout
        self.connection = self.request
        self.server.wait_for_first_byte(self.connection, deadline)
        if isinstance(self.connection, ssl.SSLSocket):
            # Here, in the connection's own thread, never in the accept loop.
            self.connection.settimeout(max(deadline - time.monotonic(), 0.001))
            self.connection.do_handshake()
        self.rfile = io.BufferedReader(Deadline(self.connection, deadline))
        self.wfile = self.connection.makefile("wb")

    def end_headers(self):
        # Reads left the socket with what was left of the deadline; the answer gets its own.
        self.connection.settimeout(self.timeout)
        super().end_headers()

    def log_request(self, code="-", size="-"):
        # The path holds a token: log the method and status only.
        log.info("%s %s", self.command, getattr(code, "value", code))

    def log_error(self, format, *args):   # noqa: A002  (the base class's name)
        # send_error quotes the request line, and with it a token: log the status or the error only.
        log.info("request not answered: %s", args[0] if args else format)

    def _address(self):
        found = PATH.match(self.path.split("?", 1)[0])
        return verify(self.settings, "u", found.group(1)) if found else None

    def _page(self, status: HTTPStatus, name: str | None, language: str = "", **context) -> None:
        body = b"" if name is None else self.composer.env.get_template(
            self.composer.source(f"web/{name}", "html")).render(
            {**self.composer.common(language), **context}).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        # The URL is a credential: no caching, no Referer to other sites.
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        with database.connection_context():
            address = self._address()
            if address is None:
                return self._page(HTTPStatus.NOT_FOUND, None)
            member = Member.get_by_id(address.member_id)
            self._page(HTTPStatus.OK, "unsubscribe", member.language, done=member.digest == "off")

    do_HEAD = do_GET

    def do_POST(self):
        if not PATH.match(self.path.split("?", 1)[0]):
            return self._page(HTTPStatus.NOT_FOUND, None)
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            return self._page(HTTPStatus.LENGTH_REQUIRED, None)
        if not 0 <= length <= MAX_BODY:
            return self._page(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, None)
        # Read before connecting to the database: a slow client holds a thread, not a connection.
        body = self.rfile.read(length)
        with database.connection_context():
            address = self._address()
            if address is None:
                return self._page(HTTPStatus.NOT_FOUND, None)
            if not one_click(self.headers.get("Content-Type", ""), body):
                return self._page(HTTPStatus.BAD_REQUEST, None)
            member = unsubscribe.unsubscribe(address)
            log.info("one-click unsubscribe: member %s", member.number)
            self._page(HTTPStatus.OK, "unsubscribe", member.language, done=True)


class Server(HTTPServer):
    """Accepts in one thread and answers each connection in its own, at most max_connections at once.

    At the bound, a connection that has not sent a byte yet (a browser's spare
    connection, or someone holding the port) is closed to make room, as nginx reuses its
    idle connections; when every connection is busy, a new one is closed at once,
    without a thread. TLS is only wrapped here; the handshake runs in the connection's
    thread, so a client that never starts one holds up nobody.
    """

    # A burst of connections waits in the kernel for the accept loop, which never blocks long.
    request_queue_size = 128

    def __init__(self, address, handler, context: ssl.SSLContext | None, max_connections: int):
        super().__init__(address, handler)
        self.context = context
        self.slots = threading.BoundedSemaphore(max_connections)
        self.lock = threading.Lock()
        # Connections that have sent nothing yet, oldest first, with their threads.
        self.idle: dict[socket.socket, threading.Thread] = {}

    def get_request(self):
        connection, address = self.socket.accept()
        if self.context is not None:
            connection = self.context.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
        return connection, address

    def process_request(self, request, client_address):
        if not (self.slots.acquire(blocking=False) or self._make_room()):
            self.shutdown_request(request)
            return
        thread = threading.Thread(target=self._serve, args=(request, client_address),
                                  name="lets-web-connection", daemon=True)
        with self.lock:
            self.idle[request] = thread
        thread.start()

    def _make_room(self) -> bool:
        with self.lock:
            # Its thread may not have looked yet: one whose bytes already wait is not idle.
            with selectors.DefaultSelector() as probe:
                for connection in self.idle:
                    probe.register(connection, selectors.EVENT_READ)
                sent = {key.fileobj for key, _ in probe.select(0)}
            oldest = next((connection for connection in self.idle if connection not in sent), None)
            if oldest is None:
                return False
            thread = self.idle.pop(oldest)
            # Under the lock: a connection in `idle` is never closed by its own thread.
            with contextlib.suppress(OSError):   # the client may have gone already
                oldest.shutdown(socket.SHUT_RDWR)
        # Its thread wakes at once, finds it was closed and ends, giving up its slot.
        thread.join(timeout=1)
        return self.slots.acquire(blocking=False)

    def wait_for_first_byte(self, connection: socket.socket, deadline: float) -> None:
        """Wait, while this connection may be closed to make room, for its first byte (or TLS ClientHello)."""
        with selectors.DefaultSelector() as selector:
            selector.register(connection, selectors.EVENT_READ)
            readable = selector.select(max(deadline - time.monotonic(), 0))
        with self.lock:
            if connection not in self.idle:
                raise ConnectionAbortedError("closed to make room for another connection")
            del self.idle[connection]
        if not readable:
            raise TimeoutError("nothing sent within [web] timeout_seconds")

    def _serve(self, request, client_address):
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            with self.lock:
                self.idle.pop(request, None)
            self.shutdown_request(request)
            self.slots.release()

    def handle_error(self, request, client_address):
        error = sys.exc_info()[1]
        if isinstance(error, OSError):   # timeouts, resets, failed handshakes: routine on an open port
            log.info("connection dropped: %s", error)
        else:
            log.exception("request failed")


class Endpoint:
    """The HTTP server in its own thread; `port` is the one it actually listens on."""

    def __init__(self, settings, composer: Composer | None = None, port: int | None = None):
        web = settings.web
        if web.timeout_seconds < 1 or web.max_connections < 1:
            raise ValueError("[web] timeout_seconds and max_connections must be at least 1")
        handler = type("BoundHandler", (Handler,), {"settings": settings, "timeout": web.timeout_seconds,
                                                     "composer": composer or Composer(settings)})
        context = None
        if web.cert_file and web.key_file:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(settings.path(web.cert_file), settings.path(web.key_file))
        self.server = Server((web.host, web.port if port is None else port), handler, context, web.max_connections)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="lets-web", daemon=True)

    def start(self) -> "Endpoint":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def start(settings, composer: Composer | None = None) -> Endpoint | None:
    """The running endpoint, or None when the group has no [digest] public_url."""
    if not settings.digest.public_url:
        return None
    return Endpoint(settings, composer).start()
