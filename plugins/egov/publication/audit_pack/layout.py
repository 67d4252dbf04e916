"""The members of an audit pack, fixed: what a pack must hold, and nothing else.

A fixed list is what lets ``--verify`` refuse a pack that holds less (a member dropped, or only an empty
manifest), more (a member slipped in) or the same name twice (a zip may carry two entries of one name, and
tools disagree on which one they show).
"""

from __future__ import annotations

import hashlib

MANIFEST = "MANIFEST.sha256"
#: The Ed25519 signature of the manifest's bytes, raw (64 bytes), as ``openssl pkeyutl -verify -rawin`` reads it.
SIGNATURE = "MANIFEST.sha256.sig"
#: The signer's public key (PEM). It names the key; it is never trusted because the pack carries it.
SIGNER_KEY = "signing_key.pem"

#: Every member the manifest lists, in the order the pack writes them. The dbt artifacts are always there
#: (``null`` for a release published before the project kept them), so that the list does not depend on the pack.
CONTENT_MEMBERS = (
    "release.json",
    "figures.csv",
    "indicator_definitions.csv",
    "batch_manifest.csv",
    "validation/gate.json",
    "validation/checkpoint.json",
    "dbt/run_results.json",
    "dbt/manifest.json",
    "lineage/trace.json",
    "lineage/openlineage.jsonl",
)

#: Members the manifest cannot list: the manifest itself, and what vouches for it.
SEAL_MEMBERS = (MANIFEST, SIGNATURE, SIGNER_KEY)

MEMBERS = (*CONTENT_MEMBERS, *SEAL_MEMBERS)


def manifest(files: dict[str, bytes]) -> bytes:
    """``sha256sum`` text format, one line per member, sorted: ``sha256sum -c`` checks it after unzipping."""
    return "".join(f"{hashlib.sha256(data).hexdigest()}  {path}\n" for path, data in sorted(files.items())).encode()
