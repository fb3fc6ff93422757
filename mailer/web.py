"""The one-click unsubscribe endpoint (RFC 8058) that `lets serve` runs when [digest] public_url is set.

`POST /u/TOKEN` with the body `List-Unsubscribe=One-Click` turns the digest off for the
address the signed token names (the same token as the mailto: address). `GET` only shows
a page with a button that makes that POST: link scanners and previews follow GETs, and a
GET that unsubscribed would unsubscribe members whose mail is scanned. A forged, stale or
malformed token gets the same bare 404 as any other path, so the endpoint tells a
stranger nothing. HTTPS is normally terminated by the group's web server, which forwards
`public_url/u/…` here; [web] cert_file and key_file serve HTTPS directly instead.
"""
from __future__ import annotations

import email.parser
import email.policy
import logging
import re
import ssl
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from db import database
from db.models import Member

from . import unsubscribe
from .compose import Composer
from .subaddress import verify

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


class Handler(BaseHTTPRequestHandler):
    server_version = "lets-mail"
    sys_version = ""
    settings = None
    composer: Composer = None

    def log_message(self, format, *args):   # noqa: A002  (the base class's name)
        # The path holds a token: log the method and status only.
        log.info("%s %s", self.command, args[1] if len(args) > 1 else "")

    def _address(self):
        found = PATH.match(self.path.split("?", 1)[0])
        return verify(self.settings, "u", found.group(1)) if found else None

    def _page(self, status: HTTPStatus, name: str | None, language: str = "", **context) -> None:
        body = b"" if name is None else self.composer.env.get_template(f"{language}/web/{name}.html").render(
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
        with database.connection_context():
            address = self._address()
            if address is None:
                return self._page(HTTPStatus.NOT_FOUND, None)
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                return self._page(HTTPStatus.LENGTH_REQUIRED, None)
            if not 0 <= length <= MAX_BODY:
                return self._page(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, None)
            if not one_click(self.headers.get("Content-Type", ""), self.rfile.read(length)):
                return self._page(HTTPStatus.BAD_REQUEST, None)
            member = unsubscribe.unsubscribe(address)
            log.info("one-click unsubscribe: member %s", member.number)
            self._page(HTTPStatus.OK, "unsubscribe", member.language, done=True)


class Endpoint:
    """The HTTP server in its own thread; `port` is the one it actually listens on."""

    def __init__(self, settings, composer: Composer | None = None, port: int | None = None):
        handler = type("BoundHandler", (Handler,), {"settings": settings,
                                                     "composer": composer or Composer(settings)})
        web = settings.web
        self.server = ThreadingHTTPServer((web.host, web.port if port is None else port), handler)
        self.server.daemon_threads = True
        if web.cert_file and web.key_file:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(settings.path(web.cert_file), settings.path(web.key_file))
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
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
