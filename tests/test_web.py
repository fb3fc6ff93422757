"""The RFC 8058 one-click unsubscribe endpoint, through a real socket with urllib."""
import re
import urllib.error
import urllib.request

import pytest

from db.models import Address, Member
from mailer import settings as settings_module
from mailer.runs.digest import run_scheduled
from mailer.message.subaddress import sign
from mailer.inbound.web import Endpoint

from test_digest import MONDAY_AFTER, digests

PUBLIC = "https://lets.example/"


@pytest.fixture
def endpoint(group):
    group.settings = settings_module.replace(group.settings, digest={"public_url": PUBLIC}, web={"port": 0})
    group.processor.settings = group.settings
    server = Endpoint(group.settings).start()
    yield server
    server.stop()


def local(endpoint, url):
    """The public URL as the proxy would forward it to the endpoint."""
    return url.replace(PUBLIC.rstrip("/"), f"http://127.0.0.1:{endpoint.port}")


def request(url, data=None, content_type="application/x-www-form-urlencoded", method=None):
    headers = {"Content-Type": content_type} if data is not None else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers, method=method),
                                    timeout=10) as response:
            return response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers


def one_click_url(group, email):
    run_scheduled(group.settings, MONDAY_AFTER, group.processor.composer)
    header = digests(group, email)[-1].message["List-Unsubscribe"]
    return re.search(r"<(https://[^>]+)>", header).group(1), header


def test_bulk_mail_carries_both_unsubscribe_methods_and_the_one_click_post_header(group, endpoint, an):
    url, header = one_click_url(group, "an@example.org")
    mail = digests(group, "an@example.org")[-1].message
    address_id = Address.get(Address.email == "an@example.org").id
    assert header.startswith("<mailto:lets+u-") and url == f"https://lets.example/u/{sign(group.settings, 'u', address_id)}"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_get_shows_a_button_and_never_unsubscribes(group, endpoint, an):
    url, _ = one_click_url(group, "an@example.org")
    status, page, headers = request(local(endpoint, url))
    assert status == 200 and "<form method=\"post\">" in page and "Afmelden" in page
    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
    assert Member.get_by_id(an.id).digest == "weekly"


def test_one_click_post_unsubscribes_and_is_idempotent(group, endpoint, an, sam):
    url, _ = one_click_url(group, "sam@example.org")
    for _ in range(2):
        status, page, _ = request(local(endpoint, url), b"List-Unsubscribe=One-Click")
        assert status == 200 and "You are unsubscribed" in page
    assert Member.get_by_id(sam.id).digest == "off"
    assert Member.get_by_id(an.id).digest == "weekly"


def test_one_click_post_as_multipart_form_data_unsubscribes(group, endpoint, claire):
    url, _ = one_click_url(group, "claire@example.org")
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\n"
            b"One-Click\r\n--XyZ--\r\n")
    status, page, _ = request(local(endpoint, url), body, "multipart/form-data; boundary=XyZ")
    assert status == 200 and "désabonné" in page
    assert Member.get_by_id(claire.id).digest == "off"


def test_a_post_without_the_one_click_body_is_refused(group, endpoint, an):
    url, _ = one_click_url(group, "an@example.org")
    status, page, _ = request(local(endpoint, url), b"something=else")
    assert status == 400 and page == ""
    assert Member.get_by_id(an.id).digest == "weekly"


@pytest.mark.parametrize("path", ["/u/1-aaaaaaaaaaaaaaaa", "/u/not-a-token", "/u/", "/", "/admin"])
def test_forged_or_unknown_tokens_get_a_bare_404_and_change_nothing(group, endpoint, an, path):
    url, _ = one_click_url(group, "an@example.org")
    genuine = url.rsplit("/", 1)[1]
    for data in (None, b"List-Unsubscribe=One-Click"):
        status, page, _ = request(f"http://127.0.0.1:{endpoint.port}{path}", data)
        assert status == 404 and page == ""
    forged = genuine[:-4] + ("aaaa" if not genuine.endswith("aaaa") else "bbbb")
    status, page, _ = request(local(endpoint, url).replace(genuine, forged), b"List-Unsubscribe=One-Click")
    assert status == 404 and page == ""
    assert Member.get_by_id(an.id).digest == "weekly"


def test_the_endpoint_serves_https_itself_when_given_a_certificate(group, an, tls_certificate):
    import ssl
    group.settings = settings_module.replace(
        group.settings, digest={"public_url": PUBLIC},
        web={"port": 0, "cert_file": str(tls_certificate.cert), "key_file": str(tls_certificate.key)})
    server = Endpoint(group.settings).start()
    try:
        url, _ = one_click_url(group, "an@example.org")
        context = ssl.create_default_context(cafile=str(tls_certificate.cert))
        target = url.replace(PUBLIC.rstrip("/"), f"https://127.0.0.1:{server.port}")
        request_ = urllib.request.Request(target, data=b"List-Unsubscribe=One-Click")
        with urllib.request.urlopen(request_, context=context, timeout=10) as response:
            assert response.status == 200
    finally:
        server.stop()
    assert Member.get_by_id(an.id).digest == "off"


def test_serve_starts_the_endpoint_only_when_a_public_url_is_set(settings):
    from mailer.inbound.web import start
    assert start(settings) is None


def test_lets_serve_starts_the_endpoint_beside_smtp_and_a_post_unsubscribes(settings, db, an, tmp_path):
    """The whole `lets serve`, as a process: SMTP and the one-click endpoint run together."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from conftest import free_port, wait_for

    web_port = free_port()
    env = {**os.environ, "LETS_DATABASE_URL": settings.database_url, "LETS_SECURITY_SECRET": settings.security.secret,
           "LETS_OUTBOUND_MAILDIR": str(tmp_path / "outbox"), "LETS_INBOUND_PORT": "0",
           "LETS_DIGEST_PUBLIC_URL": PUBLIC, "LETS_WEB_PORT": str(web_port)}
    root = Path(__file__).resolve().parent.parent
    address_id = Address.get(Address.email == "an@example.org").id
    url = f"http://127.0.0.1:{web_port}/u/{sign(settings, 'u', address_id)}"
    with open(tmp_path / "serve.log", "wb") as log:
        serve = subprocess.Popen([sys.executable, "-m", "mailer.cli", "--settings", str(root / "settings.ini"),
                                  "serve"], env=env, cwd=root, stdout=log, stderr=log)
        try:
            def answered():
                try:
                    return request(url, data=b"List-Unsubscribe=One-Click")[0]
                except OSError:   # the endpoint is not listening yet
                    return None
            assert wait_for(answered, timeout=20) == 200, (tmp_path / "serve.log").read_text()
        finally:
            serve.send_signal(signal.SIGTERM)
            serve.wait(30)
    assert serve.returncode == 0, (tmp_path / "serve.log").read_text()
    assert Member.get(Member.name == an.name).digest == "off"
