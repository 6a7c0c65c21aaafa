"""Outbound URLs: only public addresses unless private ones are allowed."""

import pytest

from surveys.errors import Invalid
from surveys.outbound_urls import address_is_public, check_public_url, split_url


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "224.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "192.0.2.1",
    ],
)  # fmt: skip
def test_non_public_addresses(address):
    assert not address_is_public(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses(address):
    assert address_is_public(address)


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "http:///nohost", "https://user:pw@example.com/", "http://[::1/", "x"],
)
def test_not_callable_urls(url):
    with pytest.raises(Invalid):
        split_url(url)


def test_loopback_refused_unless_allowed():
    with pytest.raises(Invalid) as caught:
        check_public_url("http://127.0.0.1:9/hook", allow_private=False)
    assert caught.value.details["addresses"] == ["127.0.0.1"]
    assert check_public_url("http://127.0.0.1:9/hook", allow_private=True) == ["127.0.0.1"]


def test_literal_public_address_passes_without_dns():
    assert check_public_url("https://1.1.1.1/hook", allow_private=False) == ["1.1.1.1"]
