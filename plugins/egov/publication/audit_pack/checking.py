"""``egov audit-pack --verify``, offline: is this archive a pack the trusted key signed, member for member?

Everything is checked and every problem named, rather than stopping at the first: an auditor should see at
once that a pack has a member too many *and* a figure changed. The archive is read as hostile input: each
member is hashed while it streams, with a cap per member and in total, so that a zip bomb stops at the cap
instead of filling the memory; an archive that is not a zip, or is cut short, is one problem like the others.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import uuid
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from egov.publication.audit_pack import signing
from egov.publication.audit_pack.layout import CONTENT_MEMBERS, MANIFEST, MEMBERS, SEAL_MEMBERS, SIGNATURE, SIGNER_KEY

#: What reading a zip can raise on a damaged or hostile archive: zipfile's own errors, a cut-off stream (EOFError),
#: a broken deflate stream (zlib.error), an unsupported compression method (NotImplementedError), an encrypted
#: member (RuntimeError), a header whose fields point nowhere (ValueError, OSError).
UNREADABLE = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError,
              ValueError, OSError)

CHUNK = 1 << 20
MANIFEST_LINE = re.compile(r"([0-9a-f]{64})  (.+)")
#: The members read whole to know what the pack is about: the release it packs, and its figures.
KEPT = ("release.json", "figures.csv")


@dataclass(frozen=True)
class Caps:
    """How much an archive may make us read, uncompressed. A real pack's largest member, dbt's manifest, is a
    few MB; the caps leave two orders of magnitude of room and still stop a zip bomb long before memory."""

    member_bytes: int = 256 * 1024 * 1024
    total_bytes: int = 1024 * 1024 * 1024
    #: The manifest, the signature and the signer's key: a few hundred bytes each.
    seal_bytes: int = 64 * 1024


CAPS = Caps()


@dataclass(frozen=True)
class PackRelease:
    """What the pack says it is about: its release, and the figures it shows."""

    release_id: uuid.UUID
    period: str
    version: int
    content_hash: str
    figures: dict[str, Decimal]


@dataclass(frozen=True)
class Verification:
    path: Path
    problems: tuple[str, ...]
    #: Content members whose SHA-256 equals the manifest's.
    members_matched: int
    #: The SHA-256 of the pack's manifest: how the warehouse knows the pack (audit.audit_packs.pack_sha256).
    manifest_sha256: str | None
    signature: bytes | None
    trusted_key: signing.TrustedKey | None
    release: PackRelease | None

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class _Member:
    """One entry of the archive as read: its SHA-256 and, for the few read whole, its bytes."""

    digest: str
    data: bytes | None


class _Reader:
    """Streams entries out of an open archive, keeping count of everything read against the caps."""

    def __init__(self, archive: zipfile.ZipFile, caps: Caps):
        self.archive, self.caps, self.total = archive, caps, 0
        self.problems: list[str] = []
        self.out_of_budget = False

    def read(self, entry: zipfile.ZipInfo, cap: int, keep: bool) -> _Member | None:
        # The caps count what comes out of the decompressor, not what the header declares: a header can lie.
        name, hasher, parts, size = entry.filename, hashlib.sha256(), [], 0
        try:
            with self.archive.open(entry) as stream:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > cap:
                        self.problems.append(f"{name}: more than {cap:,} bytes uncompressed (the cap per member); "
                                             "not read further")
                        return None
                    if self.total + size > self.caps.total_bytes:
                        self.out_of_budget = True
                        self.problems.append(f"the members hold more than {self.caps.total_bytes:,} bytes "
                                             f"uncompressed in all (the cap); stopped reading at {name}")
                        return None
                    hasher.update(chunk)
                    if keep:
                        parts.append(chunk)
        except UNREADABLE as damaged:
            self.problems.append(f"{name}: cannot be read ({type(damaged).__name__}: {damaged}); the archive is "
                                 "damaged or truncated")
            return None
        self.total += size
        return _Member(hasher.hexdigest(), b"".join(parts) if keep else None)


def verify(path: Path, trusted: signing.TrustedKey | None, caps: Caps = CAPS) -> Verification:
    """Check the archive at ``path``: its members, each one's SHA-256 against the manifest, and the manifest's
    signature under ``trusted`` (None: no key to trust, which is itself a problem)."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            reader = _Reader(archive, caps)
            members = _read_members(reader, entries)
    except UNREADABLE as unreadable:
        reason = unreadable.strerror if isinstance(unreadable, OSError) and unreadable.strerror else unreadable
        return Verification(path, (f"{path.name}: not a readable zip archive (truncated, damaged or not a zip at "
                                   f"all): {reason}",), 0, None, None, trusted, None)
    problems = _member_problems(entries) + reader.problems
    manifest = _single(members, MANIFEST)
    manifest_problems, matched = _manifest_problems(manifest, members)
    signature = _single(members, SIGNATURE)
    release, release_problems = _release(members)
    problems += manifest_problems + _signature_problems(manifest, signature, _single(members, SIGNER_KEY),
                                                        trusted) + release_problems
    return Verification(path, tuple(problems), matched,
                        hashlib.sha256(manifest).hexdigest() if manifest is not None else None,
                        signature, trusted, release)


def _read_members(reader: _Reader, entries: list[zipfile.ZipInfo]) -> dict[str, list[_Member]]:
    """Every entry that bears a member's name, read (duplicates too: each must match); others are not opened."""
    members: dict[str, list[_Member]] = {}
    for entry in entries:
        if entry.filename not in MEMBERS or reader.out_of_budget:
            continue
        seal = entry.filename in SEAL_MEMBERS
        read = reader.read(entry, reader.caps.seal_bytes if seal else reader.caps.member_bytes,
                           keep=seal or entry.filename in KEPT)
        if read:
            members.setdefault(entry.filename, []).append(read)
    return members


def _member_problems(entries: list[zipfile.ZipInfo]) -> list[str]:
    counts = Counter(entry.filename for entry in entries)
    return ([f"{name}: {count} entries of this name in the archive, where a pack has one"
             for name, count in sorted(counts.items()) if count > 1 and name in MEMBERS]
            + [f"{name}: in the archive, but not a member of an audit pack" for name in sorted(counts)
               if name not in MEMBERS]
            + [f"{name}: missing from the archive" for name in MEMBERS if name not in counts])


def _single(members: dict[str, list[_Member]], name: str) -> bytes | None:
    """The bytes of a member read whole, if the archive holds it exactly once (a duplicate is already a problem,
    and which of two copies to believe is not ours to choose)."""
    found = members.get(name, [])
    return found[0].data if len(found) == 1 else None


def _manifest_problems(manifest: bytes | None, members: dict[str, list[_Member]]) -> tuple[list[str], int]:
    """The manifest against the fixed list of members, and each member's SHA-256 against the manifest; with the
    number of members that match."""
    if manifest is None:
        return [], 0
    try:
        lines = manifest.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return [f"{MANIFEST}: not UTF-8 text"], 0
    problems = [] if lines else [f"{MANIFEST}: empty, where it must list the {len(CONTENT_MEMBERS)} members"]
    listed: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        found = MANIFEST_LINE.fullmatch(line)
        if not found:
            problems.append(f"{MANIFEST}: line {number} is not `<SHA-256>  <member>`: {line[:80]!r}")
        elif found[2] in listed:
            problems.append(f"{MANIFEST}: lists {found[2]} twice")
        elif found[2] not in CONTENT_MEMBERS:
            problems.append(f"{MANIFEST}: lists {found[2]!r}, which is not a member it may list")
        else:
            listed[found[2]] = found[1]
    matched = 0
    for name in CONTENT_MEMBERS:
        if name not in listed:
            problems.append(f"{MANIFEST}: does not list {name}")
            continue
        read = members.get(name, [])
        if any(member.digest != listed[name] for member in read):
            problems.append(f"{name}: SHA-256 differs from the manifest")
        elif read:
            matched += 1
    return problems, matched


def _signature_problems(manifest: bytes | None, signature: bytes | None, signer_pem: bytes | None,
                        trusted: signing.TrustedKey | None) -> list[str]:
    if trusted is None:
        return [signing.no_trusted_key_reason()]
    problems = []
    if signer_pem is not None:
        signer = signing.parse_signer_key(signer_pem)
        if signer is None:
            problems.append(f"{SIGNER_KEY}: not an Ed25519 public key in PEM")
        elif signing.key_id(signer) != trusted.key_id:
            problems.append(f"{SIGNER_KEY}: the pack was signed by key {signing.key_id(signer)}, not by the trusted "
                            f"key {trusted.key_id} ({trusted.source})")
    if manifest is None or signature is None:
        return problems  # a missing (or doubled) manifest or signature is already named
    if len(signature) != signing.SIGNATURE_BYTES:
        problems.append(f"{SIGNATURE}: {len(signature)} bytes, where an Ed25519 signature has "
                        f"{signing.SIGNATURE_BYTES}")
    elif not trusted.accepts(manifest, signature):
        problems.append(f"{SIGNATURE}: does not verify with the trusted key {trusted.key_id} ({trusted.source}): "
                        f"{MANIFEST} was changed after signing, or another key signed it")
    return problems


def _release(members: dict[str, list[_Member]]) -> tuple[PackRelease | None, list[str]]:
    """The release the pack is about, from release.json and figures.csv (None if either cannot be read)."""
    document, table = _single(members, "release.json"), _single(members, "figures.csv")
    if document is None or table is None:
        return None, []
    try:
        found = json.loads(document)
        release = (uuid.UUID(found["release_id"]), str(found["period"]), int(found["version"]),
                   str(found["content_hash"]))
    except (ValueError, KeyError, TypeError) as unread:
        return None, [f"release.json: not a release document ({type(unread).__name__}: {unread})"]
    try:
        figures = {row["figure_id"]: Decimal(row["value"])
                   for row in csv.DictReader(io.StringIO(table.decode("utf-8-sig")))}
    except (UnicodeDecodeError, csv.Error, KeyError, TypeError, InvalidOperation) as unread:
        return None, [f"figures.csv: not the table of figures ({type(unread).__name__}: {unread})"]
    return PackRelease(*release, figures=figures), []
