"""Sealed secrets: round trip, no plain text at rest, purposes and keys kept apart."""

import pytest

from surveys.sealed import Sealer, SealError, is_sealed

KEY = "k" * 64


def test_round_trip_and_no_plain_text_at_rest():
    sealer = Sealer(KEY, "totp")
    stored = sealer.seal("JBSWY3DPEHPK3PXP")
    assert is_sealed(stored)
    assert "JBSWY3DPEHPK3PXP" not in stored
    assert sealer.open(stored) == "JBSWY3DPEHPK3PXP"
    # Fernet tokens carry a random IV: the same secret never seals to the same text twice.
    assert sealer.seal("JBSWY3DPEHPK3PXP") != stored


def test_another_purpose_or_key_cannot_open():
    stored = Sealer(KEY, "totp").seal("secret")
    with pytest.raises(SealError):
        Sealer(KEY, "webhook").open(stored)
    with pytest.raises(SealError):
        Sealer("x" * 64, "totp").open(stored)


def test_plain_or_tampered_values_are_refused():
    sealer = Sealer(KEY, "totp")
    with pytest.raises(SealError):
        sealer.open("JBSWY3DPEHPK3PXP")
    stored = sealer.seal("secret")
    tampered = stored[:-4] + ("AAAA" if not stored.endswith("AAAA") else "BBBB")
    with pytest.raises(SealError):
        sealer.open(tampered)
