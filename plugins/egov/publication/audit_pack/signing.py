"""The deployment's Ed25519 key that signs audit packs, and the public keys a verifier trusts.

The private key is made once per deployment, on the first pack, and kept in ``<state>/secrets/`` (mode 0600);
nothing prints it. A key is known by its id, the SHA-256 of its 32 raw bytes, which is also how
``audit.signing_keys`` records it. A verifier trusts the deployment's own key, or one an auditor holds
(``--public-key FILE``); never the key a pack carries, which anyone who forges the pack can replace.
"""

from __future__ import annotations

import binascii
import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from egov.core import config

#: The file in ``<state>/secrets/`` holding the private key, as 64 hex digits.
SECRET_NAME = "audit_pack_signing_key"
SIGNATURE_BYTES = 64


class SigningKeyError(ValueError):
    """A key that cannot be read: a public key file that is not Ed25519, or a private key changed by hand."""


@dataclass(frozen=True)
class TrustedKey:
    """A public key that a verification trusts, and where that trust comes from (shown in the output)."""

    public_key: Ed25519PublicKey
    source: str

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def accepts(self, message: bytes, signature: bytes) -> bool:
        try:
            self.public_key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


def key_id(public_key: Ed25519PublicKey) -> str:
    return hashlib.sha256(public_key.public_bytes_raw()).hexdigest()


def public_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _secret_path() -> Path:
    # Where config.persistent_secret keeps ``SECRET_NAME``: looked at first so that verifying never makes a key.
    return config.state_dir() / "secrets" / SECRET_NAME


def deployment_key() -> Ed25519PrivateKey:
    """The deployment's signing key, made on first use."""
    kept = config.persistent_secret(SECRET_NAME, lambda: Ed25519PrivateKey.generate().private_bytes_raw().hex())
    try:
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(kept))
    except ValueError:
        raise SigningKeyError(f"{_secret_path()} does not hold an Ed25519 private key (64 hex digits); it was changed "
                        "by hand. Restore it from the deployment's backup: a new key would not verify the packs "
                        "signed so far") from None


def deployment_public_key() -> TrustedKey | None:
    """The deployment's public key, or None where no pack was ever signed (verifying does not make a key)."""
    if not _secret_path().exists():
        return None
    return TrustedKey(deployment_key().public_key(), f"this deployment's key ({_secret_path()})")


def no_trusted_key_reason() -> str:
    return (f"no trusted public key: this deployment has no signing key ({_secret_path()} does not exist); "
            "give the signer's public key with --public-key FILE")


def read_public_key(path: Path) -> TrustedKey:
    """A public key from a file: PEM (``egov audit-pack --show-public-key``, or ``openssl pkey -pubout``), or the
    32 raw bytes in hex (``encode(public_key, 'hex')`` from ``audit.signing_keys``)."""
    try:
        data = path.read_bytes()
    except OSError as unreadable:
        raise SigningKeyError(f"cannot read the public key {path}: {unreadable.strerror or unreadable}") from None
    if len(data) > 16 * 1024:
        raise SigningKeyError(f"{path} is {len(data)} bytes: not a public key")
    text = data.strip()
    try:
        if text.startswith(b"-----BEGIN"):
            loaded = serialization.load_pem_public_key(text)
        else:
            loaded = Ed25519PublicKey.from_public_bytes(binascii.unhexlify(text))
    except (ValueError, TypeError, binascii.Error, UnsupportedAlgorithm) as unparsed:
        raise SigningKeyError(f"{path} is neither a PEM public key nor 64 hex digits: {unparsed}") from None
    if not isinstance(loaded, Ed25519PublicKey):
        raise SigningKeyError(f"{path} holds a {type(loaded).__name__.removeprefix('_')}, not an Ed25519 public key")
    return TrustedKey(loaded, str(path))


def parse_signer_key(pem: bytes) -> Ed25519PublicKey | None:
    """The key a pack says signed it, or None when it is not an Ed25519 public key in PEM."""
    try:
        loaded = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None
    return loaded if isinstance(loaded, Ed25519PublicKey) else None
