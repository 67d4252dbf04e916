"""Making a pack: its members, the manifest over them, the deployment key's signature over the manifest, the
archive, and the warehouse's record of it."""

from __future__ import annotations

import hashlib
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from egov.core.periods import Period
from egov.publication.audit_pack import records, signing
from egov.publication.audit_pack.contents import AuditPackError, contents, release_of
from egov.publication.audit_pack.layout import CONTENT_MEMBERS, MANIFEST, SIGNATURE, SIGNER_KEY, manifest


@dataclass(frozen=True)
class SealedPack:
    """Every member of a pack, in the order the archive holds them, and what identifies it."""

    members: dict[str, bytes]
    manifest_sha256: str
    signature: bytes
    key_id: str


@dataclass(frozen=True)
class MadePack:
    path: Path
    release_id: uuid.UUID
    version: int
    manifest_sha256: str
    key_id: str


def seal(files: dict[str, bytes], key: Ed25519PrivateKey) -> SealedPack:
    """The pack of ``files`` (exactly the content members) signed with ``key``."""
    missing, extra = sorted(set(CONTENT_MEMBERS) - set(files)), sorted(set(files) - set(CONTENT_MEMBERS))
    if missing or extra:
        raise AuditPackError(f"a pack holds exactly {', '.join(CONTENT_MEMBERS)}; missing: {missing or 'none'}, "
                             f"not a member: {extra or 'none'}")
    listed = manifest(files)
    signature = key.sign(listed)
    members = {name: files[name] for name in CONTENT_MEMBERS}
    members |= {MANIFEST: listed, SIGNATURE: signature, SIGNER_KEY: signing.public_pem(key.public_key())}
    return SealedPack(members, hashlib.sha256(listed).hexdigest(), signature, signing.key_id(key.public_key()))


def write_archive(members: dict[str, bytes], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def write(conn: psycopg.Connection, period: Period, output: Path, version: int | None = None) -> MadePack:
    """Write the signed pack of the release of ``period`` (its latest version, or ``version``) to ``output``.

    The pack is recorded in the warehouse, and the record committed, before the archive takes its name, so that
    no pack is left lying about that the warehouse has no record of. (``conn`` is committed, so it may not be
    inside a transaction block of the caller's.)
    """
    release = release_of(conn, period, version)
    key = signing.deployment_key()
    sealed = seal(contents(conn, period, release), key)
    partial = write_archive(sealed.members, output.with_name(output.name + ".part"))
    try:
        with conn.transaction():
            records.record(conn, release["release_id"], release["content_hash"], sealed.manifest_sha256,
                           key.public_key(), sealed.signature)
        conn.commit()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(output)
    return MadePack(output, release["release_id"], release["version"], sealed.manifest_sha256, sealed.key_id)
