"""The auditor pack: everything behind one release in one archive, signed, and recorded in the warehouse.

    release.json                the release: ids, content hash, reason, who and what published it, its diff
    figures.csv                 the figures as published, with the report's wording
    indicator_definitions.csv   the definitions of the indicators behind them (ratios' parts included)
    batch_manifest.csv          the load batches the figures were computed from
    validation/gate.json        the gate run that let the release through: failures, warnings, waivers
    validation/checkpoint.json  the Great Expectations checkpoint result as GX wrote it
    dbt/run_results.json        the dbt build the figures came from (null: not recorded for this release)
    dbt/manifest.json
    lineage/trace.json          every figure traced to its raw rows and batches, with the reconciliation
    lineage/openlineage.jsonl   the OpenLineage events of the release, its gate, its dbt build and its batches
    MANIFEST.sha256             `sha256sum -c` format, over every file above
    MANIFEST.sha256.sig         Ed25519 signature of MANIFEST.sha256's bytes (64 raw bytes)
    signing_key.pem             the public key that signed it: names the key, is never trusted for being here

These thirteen members, each once, and nothing else: ``--verify`` refuses a pack with a member missing, added
or doubled. A manifest alone proves nothing (whoever changes a figure can recompute it), so the manifest is
signed with the deployment's key (``signing``), made on the first pack and kept in ``<state>/secrets/``.
The key and the pack (the SHA-256 of its manifest, its release and content hash, the signature) are recorded,
append-only, in ``audit.signing_keys`` and ``audit.audit_packs`` when the pack is made (``records``).

An auditor checks a pack with ``egov audit-pack --verify FILE`` (``--public-key FILE`` to trust a key of
their own rather than the deployment's; ``--against-warehouse`` to compare it with the release and the record
in the warehouse), or by hand after unzipping::

    sha256sum -c MANIFEST.sha256
    openssl pkeyutl -verify -pubin -inkey TRUSTED_KEY.pem -rawin -in MANIFEST.sha256 -sigfile MANIFEST.sha256.sig

    layout    the fixed list of members, and the manifest's format
    contents  the content members, read from the warehouse
    signing   the deployment's key, key ids, the public keys a verifier trusts
    making    sealing the members (manifest, signature) and writing the archive and its record
    checking  --verify: the members, each one's SHA-256 streamed under caps, the signature
    records   the warehouse's record of packs, and --against-warehouse
"""

from egov.publication.audit_pack.checking import CAPS, Caps, PackRelease, Verification, verify
from egov.publication.audit_pack.contents import AuditPackError, contents, release_of
from egov.publication.audit_pack.layout import CONTENT_MEMBERS, MANIFEST, MEMBERS, SIGNATURE, SIGNER_KEY, manifest
from egov.publication.audit_pack.making import MadePack, SealedPack, seal, write, write_archive
from egov.publication.audit_pack.records import against_warehouse
from egov.publication.audit_pack.signing import (
    SigningKeyError,
    TrustedKey,
    deployment_key,
    deployment_public_key,
    public_pem,
    read_public_key,
)

__all__ = [
    "CAPS", "CONTENT_MEMBERS", "MANIFEST", "MEMBERS", "SIGNATURE", "SIGNER_KEY", "AuditPackError", "Caps",
    "MadePack", "PackRelease", "SealedPack", "SigningKeyError", "TrustedKey", "Verification", "against_warehouse",
    "contents", "deployment_key", "deployment_public_key", "manifest", "public_pem", "read_public_key",
    "release_of", "seal", "verify", "write", "write_archive",
]
