"""The archive's 'Download for an agenda: Word · PDF': links on every page, files served like the images."""
from __future__ import annotations

import html
import io
import re

import httpx
import pytest
from docx import Document
from pypdf import PdfReader

FIG2 = "2015-07-20"
WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(scope="module")
def open_base(app, live_server):
    return live_server(app())


@pytest.fixture(scope="module")
def token_base(app, live_server):
    return live_server(app({"ARCHIVE_TOKEN": "archive-token-0000002"}))


def get(url: str, **kw) -> httpx.Response:
    return httpx.get(url, timeout=120, **kw)


def downloads(page: str) -> dict[str, str]:
    """The 'Download for an agenda' links of a page: {'Word': href, 'PDF': href}."""
    m = re.search(r"Download for an agenda:(.*?)</p>", page, re.S)
    assert m, "the page has no 'Download for an agenda' line"
    return {label: html.unescape(href) for href, label in re.findall(r'<a href="([^"]+)"[^>]*>(Word|PDF)</a>',
                                                                       m.group(1))}


def test_tracker_page_links_its_agenda_pack_in_word_and_pdf(open_base):
    page = get(f"{open_base}/trackers/{FIG2}/leeds").text
    links = downloads(page)
    assert links["Word"].startswith(f"/packs/{FIG2}/leeds.docx") and links["PDF"].startswith(f"/packs/{FIG2}/leeds.pdf")
    word = get(open_base + links["Word"])
    assert word.status_code == 200 and word.headers["content-type"] == WORD
    assert f'filename="agenda-pack-{FIG2}-leeds.docx"' in word.headers["content-disposition"]
    doc = Document(io.BytesIO(word.content))
    assert doc.paragraphs[0].text == "Agenda pack: weekly obsessions tracker, Leeds"
    pdf = get(open_base + links["PDF"])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert len(PdfReader(io.BytesIO(pdf.content)).pages) == 10      # index, tracker, 4 breakdowns, 4 curves


def test_cluster_and_breakdown_pages_link_their_own_files(open_base):
    links = downloads(get(f"{open_base}/trackers/{FIG2}/armley").text)
    reader = PdfReader(io.BytesIO(get(open_base + links["PDF"]).content))
    assert reader.metadata.title == "Agenda pack: weekly obsessions tracker, Armley" and len(reader.pages) == 6
    links = downloads(get(f"{open_base}/breakdowns/{FIG2}/cla").text)
    assert links["Word"].startswith(f"/breakdowns/{FIG2}/cla.docx")
    r = get(open_base + links["Word"])
    assert f'filename="breakdown-{FIG2}-cla.docx"' in r.headers["content-disposition"]
    assert Document(io.BytesIO(r.content)).paragraphs[0].text == "Children looked after by cluster"


def test_one_views_files(open_base):
    r = get(f"{open_base}/trackers/{FIG2}/armley.pdf")
    assert r.status_code == 200 and f'filename="tracker-{FIG2}-armley.pdf"' in r.headers["content-disposition"]
    assert PdfReader(io.BytesIO(r.content)).metadata.title.startswith("Weekly obsessions tracker: Armley")
    assert get(f"{open_base}/trackers/{FIG2}/armley.docx").content[:2] == b"PK"     # a zip: the .docx
    # Again: from the archive's cache, the same bytes.
    assert get(f"{open_base}/trackers/{FIG2}/armley.pdf").content == r.content


@pytest.mark.parametrize("path", [f"/packs/{FIG2}/nowhere.docx", f"/packs/{FIG2}/leeds", f"/packs/{FIG2}/leeds.odt",
                                  "/packs/2015-13-40/leeds.pdf", f"/trackers/{FIG2}/nowhere.pdf",
                                  f"/breakdowns/{FIG2}/nothing.docx", "/packs/1999-01-04/leeds.pdf"])
def test_wrong_addresses_are_404(open_base, path):
    r = get(open_base + path)
    assert r.status_code == 404
    assert "No such" in r.text or "no figures" in r.text.lower()


def test_any_day_redirects_to_the_monday(open_base):
    r = get(f"{open_base}/packs/2015-07-22/leeds.pdf", follow_redirects=False)
    assert r.status_code == 308 and r.headers["location"] == f"/packs/{FIG2}/leeds.pdf"


def test_a_closed_archive_opens_the_files_to_signed_links_only(token_base):
    page = get(f"{token_base}/trackers/{FIG2}/leeds", headers={"Authorization": "Bearer archive-token-0000002"}).text
    signed = downloads(page)["PDF"]
    path, _, sig = signed.partition("?sig=")
    assert sig
    assert get(token_base + signed).status_code == 200
    assert get(token_base + path).status_code == 401
    assert get(token_base + f"/packs/{FIG2}/armley.pdf?sig={sig}").status_code == 401   # one file per signature
