"""The guide on paper (article 8.2.2): today's offers and requests by category, and the
circle news, as an HTML document to print, or as PDF where a converter is installed.

The document shows what LIJST shows a member, no more: the poster's number and name, and
the poster's address only where the group shows addresses (`[privacy] show_addresses`);
otherwise how to answer through the group. The PDF comes from a headless Chromium
(`--print-to-pdf`) when one is on the PATH; nothing is installed for it.
"""
from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from db import listings
from db.categories import OTHER
from db.models import Announcement

from ..message.compose import Composer

# Browsers that print a page to PDF headless, looked for on the PATH in this order.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PDF_SECONDS = 120


class NoConverter(Exception):
    """No program on this machine turns HTML into PDF."""


class ConversionFailed(Exception):
    pass


def build(settings, *, today: dt.date, language: str, news_since: dt.date, composer: Composer | None = None) -> str:
    """The guide as one HTML document in `language`."""
    composer = composer or Composer(settings)
    categories = settings.listings.categories

    def category(listing) -> str:
        return listing.category if categories.known(listing.category) else OTHER

    rows = list(listings.current(today))
    sections = []
    for kind in ("offer", "request"):
        ordered = sorted((r for r in rows if r.kind == kind), key=lambda r: (categories.position(category(r)), r.id))
        sections.append((kind, [(code, [_item(r, settings) for r in items])
                                for code, items in itertools.groupby(ordered, key=category)]))
    news = list(Announcement.select().where(Announcement.created >= dt.datetime.combine(news_since, dt.time()))
                .order_by(Announcement.created, Announcement.id))
    context = {**composer.common(language), "today": today, "sections": sections, "news": news,
               "count": len(rows)}
    return composer.env.get_template(composer.source("guide/print", "html")).render(context)


def _item(listing, settings) -> dict:
    address = listing.member.primary_address if settings.privacy.show_addresses else None
    return {"id": listing.id, "kind": listing.kind, "title": listing.title, "description": listing.description,
            "level": listing.level, "rate_text": listing.rate_text, "expires": listing.expires,
            "number": listing.member.number, "name": listing.member.name, "address": address}


def converter() -> str | None:
    """The browser that prints to PDF here, or None."""
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


def to_pdf(html: str, output: Path) -> None:
    """Print `html` to the PDF file `output` with a headless browser."""
    browser = converter()
    if browser is None:
        raise NoConverter(f"no PDF converter found: install one of {', '.join(BROWSERS)}, "
                          "or print the HTML (--format html) from a browser")
    with tempfile.TemporaryDirectory(prefix="lets-guide-") as folder:
        page = Path(folder) / "guide.html"
        page.write_text(html, encoding="utf-8")
        target = Path(folder) / "guide.pdf"
        command = [browser, "--headless", "--disable-gpu", f"--user-data-dir={Path(folder) / 'profile'}",
                   "--no-pdf-header-footer", f"--print-to-pdf={target}", page.as_uri()]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            # Chromium will not start as root with its sandbox; the page is our own, without scripts.
            command.insert(1, "--no-sandbox")
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=PDF_SECONDS)
        except subprocess.TimeoutExpired:
            raise ConversionFailed(f"{browser} did not finish within {PDF_SECONDS} seconds") from None
        if done.returncode != 0 or not target.exists() or not target.read_bytes().startswith(b"%PDF"):
            said = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise ConversionFailed(f"{browser} made no PDF (exit {done.returncode}): {' / '.join(said)}")
        shutil.copyfile(target, output)
