"""The plant's signing key: Ed25519, made once, shared by every worker; sign and verify certificates.

The private key is made the first time it is needed and kept where every worker finds it: in
the workers' Redis when there is one (set only if absent, so two workers starting together
agree), else in the data directory (an owner-only file, created exclusively). Without either
(an in-memory demo) the key lives as long as the process. The public key is published at
``/.well-known/tf-signing-key``; anyone can check a certificate with it, offline.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from factory.certificate import FORMAT, canonical

KEY_FILE = "signing-key.pem"
AUTHENTIC = "authentic: signed by this plant and unchanged"
REDIS_KEY = "tf:signing-key"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _new_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private_pem(data_dir: Path | None, redis_url: str | None) -> bytes:
    """Return the plant's private key (PEM), making it the first time."""
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url)
        client.set(REDIS_KEY, _new_pem(), nx=True)
        return client.get(REDIS_KEY)  # type: ignore[return-value]
    if data_dir is None:
        return _new_pem()
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(_new_pem())
        except FileExistsError:
            pass  # another worker made it first
    return path.read_bytes()


class Signer:
    """Signs certificate facts with the private key; verifies with its public half."""

    def __init__(self, private_pem: bytes) -> None:
        key = serialization.load_pem_private_key(private_pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the signing key is not an Ed25519 key")
        self._key = key
        self.verifier = Verifier(key.public_key())

    def sign(self, facts: dict[str, Any]) -> dict[str, Any]:
        """Return the signed certificate: the facts and the signature over their canonical bytes."""
        return {
            "certificate": facts,
            "signature": {
                "algorithm": "Ed25519",
                "key_id": self.verifier.key_id,
                "value": _b64(self._key.sign(canonical(facts))),
            },
        }


class Verifier:
    """Checks signed certificates against one public key."""

    def __init__(self, public_key: Ed25519PublicKey) -> None:
        self.public_key = public_key
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.key_id = _b64(hashlib.sha256(raw).digest()[:12])

    @classmethod
    def from_pem(cls, pem: bytes) -> Verifier:
        key = serialization.load_pem_public_key(pem)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return cls(key)

    def public_pem(self) -> bytes:
        return self.public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def check(self, document: Any) -> tuple[bool, str]:
        """Return (authentic, reason) for a signed certificate as parsed from its JSON."""
        if not isinstance(document, dict) or not isinstance(document.get("certificate"), dict):
            return False, "not a certificate: expected an object with 'certificate' and 'signature'"
        signature = document.get("signature")
        if not isinstance(signature, dict) or signature.get("algorithm") != "Ed25519":
            return False, "no Ed25519 signature"
        if document["certificate"].get("format") != FORMAT:
            return False, f"unknown format (expected {FORMAT})"
        if signature.get("key_id") != self.key_id:
            return False, "signed with another key than this plant's"
        try:
            value = _unb64(str(signature.get("value", "")))
            body = canonical(document["certificate"])
        except (ValueError, TypeError):
            return False, "the signature or the facts cannot be read"
        try:
            self.public_key.verify(value, body)
        except InvalidSignature:
            return False, "altered: the facts are not the ones that were signed"
        return True, AUTHENTIC
