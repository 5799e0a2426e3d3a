"""Signed links to printable pages: one path, a quarter of an hour, one key."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from daiban_intake.domain.links import LINK_TTL_SECONDS, LinkSigner, link_key

PATH = "/v1/cases/370285101295-20261201-0001/receipt.html"
NOW = 1_796_000_000.0


def _parts(url: str) -> tuple[str, int, str]:
    split = urlsplit(url)
    query = parse_qs(split.query)
    return split.path, int(query["expires"][0]), query["sig"][0]


def test_a_link_opens_its_path_until_it_expires() -> None:
    signer = LinkSigner(link_key("s" * 32))
    path, expires, sig = _parts(signer.sign(PATH, now=NOW))
    assert path == PATH and expires == int(NOW) + LINK_TTL_SECONDS == int(NOW) + 900
    assert signer.valid(PATH, expires=expires, sig=sig, now=NOW + 899)
    assert not signer.valid(PATH, expires=expires, sig=sig, now=NOW + 900)


def test_a_link_opens_nothing_else() -> None:
    signer = LinkSigner(link_key("s" * 32))
    _, expires, sig = _parts(signer.sign(PATH, now=NOW))
    assert not signer.valid(PATH.replace("0001", "0002"), expires=expires, sig=sig, now=NOW)
    assert not signer.valid(PATH, expires=expires + 3600, sig=sig, now=NOW)
    assert not signer.valid(PATH, expires=expires, sig=sig[:-1] + ("0" if sig[-1] != "0" else "1"), now=NOW)
    assert not signer.valid(PATH, expires=expires, sig="签名", now=NOW)
    assert not LinkSigner(link_key("t" * 32)).valid(PATH, expires=expires, sig=sig, now=NOW)
    # The key is not the JWT secret itself: a link's HMAC never doubles as a token's.
    assert link_key("s" * 32) != ("s" * 32).encode()
