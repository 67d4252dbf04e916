"""What the warehouse keeps of audit packs, and ``--verify --against-warehouse``.

When a pack is made, its signing key (``audit.signing_keys``) and the pack (``audit.audit_packs``: the SHA-256
of its manifest, its release and content hash, the key and the signature) are recorded, append-only. Checking a
pack against the warehouse then asks what the archive cannot answer about itself: is its release the one
``published.releases`` holds, with the same content hash and the same figures, and did this warehouse make
this very pack, with this key?
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from egov.publication.audit_pack import signing
from egov.publication.audit_pack.checking import PackRelease, Verification
from egov.publication.release import release_intact


def record(conn: psycopg.Connection, release_id: uuid.UUID, content_hash: str, manifest_sha256: str,
           public_key: Ed25519PublicKey, signature: bytes) -> None:
    """Record the key (once) and the pack (each time one is made: who made it and when is part of the trail)."""
    conn.execute("insert into audit.signing_keys (key_id, public_key) values (%s, %s) on conflict do nothing",
                 (signing.key_id(public_key), public_key.public_bytes_raw()))
    conn.execute(
        "insert into audit.audit_packs (pack_id, pack_sha256, release_id, content_hash, key_id, signature) "
        "values (%s, %s, %s, %s, %s, %s)",
        (uuid.uuid4(), manifest_sha256, release_id, content_hash, signing.key_id(public_key), signature))


def against_warehouse(conn: psycopg.Connection, checked: Verification) -> list[str]:
    """Problems between the pack and the warehouse (none: its release and its record there agree with it)."""
    if checked.release is None:
        return ["the pack's release cannot be looked up in the warehouse: release.json or figures.csv is missing "
                "or unreadable"]
    return _release_problems(conn, checked.release) + _record_problems(conn, checked, checked.release)


def _release_problems(conn: psycopg.Connection, packed: PackRelease) -> list[str]:
    found = conn.execute("select period, version, content_hash from published.releases where release_id = %s",
                         (packed.release_id,)).fetchone()
    if found is None:
        return [f"release {packed.release_id} ({packed.period} version {packed.version}, as release.json says) is "
                "not in published.releases"]
    period, version, content_hash = found
    problems = []
    if (period, version) != (packed.period, packed.version):
        problems.append(f"release.json: release {packed.release_id} is {packed.period} version {packed.version}; "
                        f"published.releases has it as {period} version {version}")
    if content_hash != packed.content_hash:
        problems.append(f"release.json: content hash {packed.content_hash}; published.releases records "
                        f"{content_hash} for release {packed.release_id}")
    if not release_intact(conn, str(packed.release_id), content_hash):
        problems.append(f"published.report_figures of release {packed.release_id} no longer hash to the content "
                        f"hash recorded with it ({content_hash}): the warehouse's copy was changed")
    stored: dict[str, Decimal] = dict(conn.execute(
        "select figure_id, value from published.report_figures where release_id = %s",
        (packed.release_id,)).fetchall())
    for figure_id in sorted(set(stored) | set(packed.figures)):
        in_pack, in_warehouse = packed.figures.get(figure_id), stored.get(figure_id)
        if in_pack is None:
            problems.append(f"figures.csv: {figure_id} is missing; published.report_figures has "
                            f"{_number(in_warehouse)}")
        elif in_warehouse is None:
            problems.append(f"figures.csv: {figure_id} = {_number(in_pack)} is not a figure of release "
                            f"{packed.release_id}")
        elif in_pack != in_warehouse:
            problems.append(f"figures.csv: {figure_id} = {_number(in_pack)}; published.report_figures has "
                            f"{_number(in_warehouse)}")
    return problems


def _number(value: Decimal | None) -> str:
    """38751, not 38751.000000 (the warehouse's scale) nor 3.8751E+4 (Decimal's normal form)."""
    return "none" if value is None else f"{value.normalize():f}"


def _record_problems(conn: psycopg.Connection, checked: Verification, packed: PackRelease) -> list[str]:
    if checked.manifest_sha256 is None:
        return ["the pack's record in audit.audit_packs cannot be looked up: the pack has no single manifest"]
    made = conn.execute("select release_id, key_id, signature from audit.audit_packs where pack_sha256 = %s",
                        (checked.manifest_sha256,)).fetchall()
    if not made:
        return [f"audit.audit_packs has no pack with this manifest (SHA-256 {checked.manifest_sha256}): this "
                "warehouse did not make this pack, or a member was changed since"]
    problems = []
    for release_id, key_id, signature in made:
        if release_id != packed.release_id:
            problems.append(f"audit.audit_packs records this pack for release {release_id}, not "
                            f"{packed.release_id} as release.json says")
        if checked.trusted_key and key_id != checked.trusted_key.key_id:
            problems.append(f"audit.audit_packs records this pack as signed by key {key_id}; it was checked with "
                            f"key {checked.trusted_key.key_id} ({checked.trusted_key.source})")
        if checked.signature is not None and bytes(signature) != checked.signature:
            problems.append("MANIFEST.sha256.sig: not the signature audit.audit_packs recorded for this pack")
    return sorted(set(problems))
