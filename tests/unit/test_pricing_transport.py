"""Pieces of the HTTP transport that need no network: Retry-After parsing, the secret token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from handlers.adapters.pricing.discogs import DiscogsClient
from handlers.adapters.pricing.transport import Token, Transport, parse_retry_after

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "header, expected",
    [("3", 3.0), (" 0.5 ", 0.5), ("-4", 0.0), (None, None), ("", None), ("soon", None)],
)
def test_parse_retry_after_delta_seconds(header, expected):
    assert parse_retry_after(header, NOW) == expected


def test_parse_retry_after_http_date():
    header = format_datetime(NOW + timedelta(seconds=7), usegmt=True)
    assert parse_retry_after(header, NOW) == pytest.approx(7.0)


def test_token_never_prints():
    secret = "sekrit-token-9f8e"
    token = Token(secret)
    transport = Transport("http://127.0.0.1:1/", token, "ua")
    for text in (repr(token), str(token), repr(transport), repr(DiscogsClient(transport))):
        assert secret not in text
    assert token.reveal() == secret
    assert transport.base_url == "http://127.0.0.1:1"


@pytest.mark.parametrize("bad", ["", "abc\r\nX-Evil: 1", "two words", "tok\u00e9n"])
def test_token_rejects_empty_or_header_injection(bad):
    with pytest.raises(ValueError):
        Token(bad)
