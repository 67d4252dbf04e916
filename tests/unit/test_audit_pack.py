"""The auditor pack, offline: a signed pack verifies, and every forgery an auditor could be handed fails with
the problem named. The packs here are sealed from made-up members with keys made for the test; the e2e test
(tests/e2e/test_pipeline.py) makes a real one from a published release and checks it against the warehouse."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import uuid
import warnings
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from egov.publication.audit_pack import (
    CONTENT_MEMBERS,
    MANIFEST,
    MEMBERS,
    SIGNATURE,
    SIGNER_KEY,
    Caps,
    SigningKeyError,
    TrustedKey,
    deployment_key,
    deployment_public_key,
    manifest,
    public_pem,
    read_public_key,
    seal,
    verify,
    write_archive,
)

RELEASE_ID = uuid.UUID("6f1c0d5e-3b7a-4c1e-9a55-0d2f8e6b9a11")
FIGURES_CSV = ("\ufefffigure_id,value,unit,report_section,quote_vi,meaning_en\n"
               "onestop_dossiers_received,38751,dossiers,1,Tiếp nhận 38.751 hồ sơ,dossiers received\n"
               "onestop_on_time_rate,0.953210,ratio,1,Đúng hạn 95,32%,share on time\n").encode()
FILES = {
    "release.json": json.dumps({"release_id": str(RELEASE_ID), "period": "2019Q1", "version": 1,
                                "content_hash": "ab" * 32}).encode(),
    "figures.csv": FIGURES_CSV,
    "indicator_definitions.csv": b"indicator_code,definition\nonestop_dossiers_received,received\n",
    "batch_manifest.csv": b"batch_id,row_count\n1b7e,12\n",
    "validation/gate.json": b'{"success": true}',
    "validation/checkpoint.json": b'{"success": true}',
    "dbt/run_results.json": b'{"results": []}',
    "dbt/manifest.json": b"null",
    "lineage/trace.json": b"{}",
    "lineage/openlineage.jsonl": b'{"eventType": "COMPLETE"}\n',
}
SIGNER = Ed25519PrivateKey.generate()
TRUSTED = TrustedKey(SIGNER.public_key(), "the test's key")


def sealed_members(files: dict[str, bytes] = FILES, key: Ed25519PrivateKey = SIGNER) -> dict[str, bytes]:
    return seal(files, key).members


def pack(tmp_path: Path, members: dict[str, bytes] | None = None, name: str = "pack.zip") -> Path:
    return write_archive(sealed_members() if members is None else members, tmp_path / name)


def pack_of_entries(path: Path, entries: list[tuple[str, bytes]]) -> Path:
    """An archive with exactly these entries, duplicates included (zipfile warns, and writes them)."""
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        warnings.simplefilter("ignore", UserWarning)
        for name, data in entries:
            archive.writestr(name, data)
    return path


def bad_signature(key: TrustedKey = TRUSTED) -> str:
    return (f"{SIGNATURE}: does not verify with the trusted key {key.key_id} ({key.source}): {MANIFEST} was "
            "changed after signing, or another key signed it")


def test_a_signed_pack_verifies_and_says_what_release_it_holds(tmp_path):
    checked = verify(pack(tmp_path), TRUSTED)
    assert checked.problems == () and checked.ok
    assert checked.members_matched == len(CONTENT_MEMBERS) == 10 and len(MEMBERS) == 13
    assert checked.manifest_sha256 == hashlib.sha256(manifest(FILES)).hexdigest()
    assert checked.release is not None and checked.release.release_id == RELEASE_ID
    assert str(checked.release.figures["onestop_on_time_rate"]) == "0.953210"


def test_after_unzipping_a_human_checks_it_with_sha256sum_and_openssl(tmp_path):
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(pack(tmp_path)) as archive:
        archive.extractall(folder)
    summed = subprocess.run(["sha256sum", "-c", MANIFEST], cwd=folder, capture_output=True, text=True)
    assert summed.returncode == 0, summed.stdout + summed.stderr
    assert summed.stdout.count(": OK") == len(CONTENT_MEMBERS)
    if not shutil.which("openssl"):
        pytest.skip("no openssl on this machine to check the signature the way the README shows")
    (tmp_path / "trusted.pem").write_bytes(public_pem(SIGNER.public_key()))
    command = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "trusted.pem"), "-rawin",
               "-in", MANIFEST, "-sigfile", SIGNATURE]
    signed = subprocess.run(command, cwd=folder, capture_output=True, text=True)
    assert signed.returncode == 0 and "Signature Verified Successfully" in signed.stdout, signed.stderr
    (folder / MANIFEST).write_bytes((folder / MANIFEST).read_bytes().replace(b"figures.csv", b"figures.CSV"))
    assert subprocess.run(command, cwd=folder, capture_output=True).returncode != 0


def test_a_changed_figure_with_a_regenerated_manifest_fails_on_the_signature(tmp_path):
    forged_files = {**FILES, "figures.csv": FIGURES_CSV.replace(b"38751", b"38752")}
    members = {**sealed_members(), "figures.csv": forged_files["figures.csv"], MANIFEST: manifest(forged_files)}
    checked = verify(pack(tmp_path, members), TRUSTED)
    assert checked.problems == (bad_signature(),)
    assert not checked.ok


def test_a_changed_figure_under_the_old_manifest_is_named(tmp_path):
    members = {**sealed_members(), "figures.csv": FIGURES_CSV.replace(b"38751", b"38752")}
    assert verify(pack(tmp_path, members), TRUSTED).problems == ("figures.csv: SHA-256 differs from the manifest",)


def test_a_pack_holding_only_an_empty_manifest_fails_naming_every_missing_member(tmp_path):
    checked = verify(pack_of_entries(tmp_path / "empty.zip", [(MANIFEST, b"")]), TRUSTED)
    missing = [f"{name}: missing from the archive" for name in MEMBERS if name != MANIFEST]
    unlisted = [f"{MANIFEST}: does not list {name}" for name in CONTENT_MEMBERS]
    assert list(checked.problems) == [*missing, f"{MANIFEST}: empty, where it must list the 10 members", *unlisted]


def test_an_emptied_manifest_in_a_whole_pack_fails_on_the_signature_and_names_the_unlisted(tmp_path):
    checked = verify(pack(tmp_path, {**sealed_members(), MANIFEST: b""}), TRUSTED)
    assert f"{MANIFEST}: empty, where it must list the 10 members" in checked.problems
    assert f"{MANIFEST}: does not list figures.csv" in checked.problems
    assert bad_signature() in checked.problems


def test_a_duplicate_member_is_refused_even_when_its_first_copy_is_the_signed_one(tmp_path):
    entries = [*sealed_members().items(), ("figures.csv", FIGURES_CSV.replace(b"38751", b"99999"))]
    checked = verify(pack_of_entries(tmp_path / "twice.zip", entries), TRUSTED)
    assert checked.problems == ("figures.csv: 2 entries of this name in the archive, where a pack has one",
                                "figures.csv: SHA-256 differs from the manifest")
    identical = [*sealed_members().items(), ("release.json", FILES["release.json"])]
    assert verify(pack_of_entries(tmp_path / "same.zip", identical), TRUSTED).problems == (
        "release.json: 2 entries of this name in the archive, where a pack has one",)


def test_a_missing_member_is_named(tmp_path):
    members = {name: data for name, data in sealed_members().items() if name != "lineage/trace.json"}
    checked = verify(pack(tmp_path, members), TRUSTED)
    assert checked.problems == ("lineage/trace.json: missing from the archive",)
    assert checked.members_matched == 9


def test_an_extra_member_is_named_and_not_opened(tmp_path):
    members = {**sealed_members(), "note.txt": b"added later", "../outside.csv": b"x"}
    assert verify(pack(tmp_path, members), TRUSTED).problems == (
        "../outside.csv: in the archive, but not a member of an audit pack",
        "note.txt: in the archive, but not a member of an audit pack")


def test_a_manifest_that_lists_a_member_twice_or_a_stranger_is_refused_line_by_line(tmp_path):
    listed = manifest(FILES).decode()
    strange = (listed + listed.splitlines()[0] + "\n" + "0" * 64 + "  note.txt\nnot a manifest line\n").encode()
    members = {**seal(FILES, SIGNER).members, MANIFEST: strange, SIGNATURE: SIGNER.sign(strange)}
    first = listed.splitlines()[0].partition("  ")[2]
    assert verify(pack(tmp_path, members), TRUSTED).problems == (
        f"{MANIFEST}: lists {first} twice",
        f"{MANIFEST}: lists 'note.txt', which is not a member it may list",
        f"{MANIFEST}: line 13 is not `<SHA-256>  <member>`: 'not a manifest line'")


def test_a_pack_signed_by_another_key_fails_and_names_both_keys(tmp_path):
    forger = Ed25519PrivateKey.generate()
    forged_files = {**FILES, "figures.csv": FIGURES_CSV.replace(b"38751", b"38752")}
    forged = pack(tmp_path, sealed_members(forged_files, forger))
    forger_id = hashlib.sha256(forger.public_key().public_bytes_raw()).hexdigest()
    assert verify(forged, TRUSTED).problems == (
        f"{SIGNER_KEY}: the pack was signed by key {forger_id}, not by the trusted key {TRUSTED.key_id} "
        f"(the test's key)", bad_signature())
    # The key the pack carries is not what makes it verify: the forger's key in signing_key.pem changes nothing.
    with_our_key = {**sealed_members(forged_files, forger), SIGNER_KEY: public_pem(SIGNER.public_key())}
    assert verify(pack(tmp_path, with_our_key, "ours.zip"), TRUSTED).problems == (bad_signature(),)
    # Trusting the forger's key is the one way it verifies: which key to trust is the auditor's choice.
    assert verify(forged, TrustedKey(forger.public_key(), "the forger's")).ok


def test_without_a_trusted_key_nothing_verifies(tmp_path, monkeypatch):
    monkeypatch.setenv("EGOV_STATE_DIR", str(tmp_path / "state"))
    checked = verify(pack(tmp_path), None)
    assert len(checked.problems) == 1 and checked.problems[0].startswith("no trusted public key: this deployment "
                                                                         "has no signing key")
    assert "--public-key FILE" in checked.problems[0]


@pytest.mark.parametrize("cut", [0.0, 0.1, 0.5, 0.9, 0.999])
def test_a_truncated_archive_is_one_clear_problem(tmp_path, cut):
    whole = pack(tmp_path).read_bytes()
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(whole[:int(len(whole) * cut)])
    assert verify(truncated, TRUSTED).problems == (
        "truncated.zip: not a readable zip archive (truncated, damaged or not a zip at all): File is not a zip file",)


def test_a_file_that_is_not_a_zip_or_not_there_is_one_clear_problem(tmp_path):
    text = tmp_path / "figures.txt"
    text.write_text("figure_id,value\n")
    assert verify(text, TRUSTED).problems == (
        "figures.txt: not a readable zip archive (truncated, damaged or not a zip at all): File is not a zip file",)
    assert verify(tmp_path / "absent.zip", TRUSTED).problems == (
        "absent.zip: not a readable zip archive (truncated, damaged or not a zip at all): No such file or directory",)


def test_any_cut_or_flipped_byte_gives_problems_never_an_exception(tmp_path):
    whole = pack(tmp_path).read_bytes()
    damaged = tmp_path / "damaged.zip"
    for offset in range(0, len(whole), 7):
        damaged.write_bytes(whole[:offset])
        assert not verify(damaged, TRUSTED).ok, offset
        damaged.write_bytes(whole[:offset] + bytes([whole[offset] ^ 0xFF]) + whole[offset + 1:])
        verify(damaged, TRUSTED)  # a flipped timestamp still verifies; what matters here is that nothing raises


def test_a_zip_bomb_stops_at_the_cap_per_member_and_in_total(tmp_path):
    bomb = {**FILES, "lineage/openlineage.jsonl": b"\n" * (4 << 20)}
    path = pack(tmp_path, sealed_members(bomb))
    assert path.stat().st_size < 64 << 10  # four MiB of newlines deflate to a few kB
    small = Caps(member_bytes=2 << 20, total_bytes=64 << 20)
    assert verify(path, TRUSTED, small).problems == (
        f"lineage/openlineage.jsonl: more than {2 << 20:,} bytes uncompressed (the cap per member); not read further",)
    in_total = Caps(member_bytes=8 << 20, total_bytes=3 << 20)
    assert verify(path, TRUSTED, in_total).problems == (
        f"the members hold more than {3 << 20:,} bytes uncompressed in all (the cap); stopped reading at "
        "lineage/openlineage.jsonl",)
    assert verify(path, TRUSTED).ok


def test_the_deployment_key_is_made_once_kept_0600_and_verifying_never_makes_one(tmp_path, monkeypatch):
    monkeypatch.setenv("EGOV_STATE_DIR", str(tmp_path / "state"))
    assert deployment_public_key() is None
    assert not (tmp_path / "state" / "secrets").exists()
    key = deployment_key()
    kept = tmp_path / "state" / "secrets" / "audit_pack_signing_key"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert kept.read_text() == key.private_bytes_raw().hex()
    assert deployment_key().private_bytes_raw() == key.private_bytes_raw()
    found = deployment_public_key()
    assert found is not None and found.key_id == hashlib.sha256(key.public_key().public_bytes_raw()).hexdigest()
    kept.write_text("not a key")
    with pytest.raises(SigningKeyError, match="changed by hand"):
        deployment_key()


def test_a_public_key_file_reads_as_pem_or_hex_and_anything_else_is_refused_by_name(tmp_path):
    pem, raw = tmp_path / "key.pem", tmp_path / "key.hex"
    pem.write_bytes(public_pem(SIGNER.public_key()))
    raw.write_text(SIGNER.public_key().public_bytes_raw().hex() + "\n")
    assert read_public_key(pem).key_id == read_public_key(raw).key_id == TRUSTED.key_id
    rsa_key = tmp_path / "rsa.pem"
    rsa_key.write_bytes(rsa.generate_private_key(65537, 2048).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    with pytest.raises(SigningKeyError, match=r"rsa.pem holds a RSAPublicKey, not an Ed25519 public key"):
        read_public_key(rsa_key)
    (tmp_path / "junk").write_text("hello")
    with pytest.raises(SigningKeyError, match="junk is neither a PEM public key nor 64 hex digits"):
        read_public_key(tmp_path / "junk")
    with pytest.raises(SigningKeyError, match=r"cannot read the public key .*absent\.pem"):
        read_public_key(tmp_path / "absent.pem")


def egov(*args: str, state: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "egov.cli", *args], capture_output=True, text=True, check=False,
                          env={**os.environ, "EGOV_STATE_DIR": str(state)})


def rezip(folder: Path, path: Path) -> Path:
    """Zip a folder again as a person would, every file under its relative path."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, file.relative_to(folder).as_posix())
    return path


def test_the_cli_refuses_an_unzipped_pack_with_a_changed_figure_and_a_recomputed_manifest(tmp_path):
    state = tmp_path / "state"
    shown = egov("audit-pack", "--show-public-key", state=state)
    assert shown.returncode == 0 and shown.stdout.startswith("-----BEGIN PUBLIC KEY-----"), shown.stderr
    private = (state / "secrets" / "audit_pack_signing_key").read_text()
    assert private not in shown.stdout + shown.stderr
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(private))
    original = write_archive(seal(FILES, key).members, tmp_path / "pack.zip")
    (tmp_path / "auditor.pem").write_text(shown.stdout)

    intact = egov("audit-pack", "--verify", str(original), state=state)
    assert intact.returncode == 0 and "verified: 10 members match MANIFEST.sha256" in intact.stdout, intact.stdout
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(original) as archive:
        archive.extractall(folder)
    figures = folder / "figures.csv"
    figures.write_bytes(figures.read_bytes().replace(b",38751,", b",38752,"))
    summed = subprocess.run(["sha256sum", *CONTENT_MEMBERS], cwd=folder, capture_output=True, check=True).stdout
    (folder / MANIFEST).write_bytes(summed)
    assert subprocess.run(["sha256sum", "-c", MANIFEST], cwd=folder, capture_output=True).returncode == 0
    forged = rezip(folder, tmp_path / "forged.zip")

    for trust in ([], ["--public-key", str(tmp_path / "auditor.pem")]):
        refused = egov("audit-pack", "--verify", str(forged), *trust, state=state)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert f"  {SIGNATURE}: does not verify with the trusted key" in refused.stdout
        assert f"{forged}: does NOT verify (1 problem)" in refused.stdout and "Traceback" not in refused.stderr


def test_the_cli_names_an_unreadable_archive_or_key_and_trusts_no_key_it_was_not_given(tmp_path):
    (tmp_path / "pack.zip").write_bytes(pack(tmp_path).read_bytes()[:-40])
    cut = egov("audit-pack", "--verify", str(tmp_path / "pack.zip"), "--public-key", str(tmp_path / "none.pem"),
               state=tmp_path / "state")
    assert cut.returncode == 2 and "cannot read the public key" in cut.stderr and "Traceback" not in cut.stderr
    (tmp_path / "key.pem").write_bytes(public_pem(SIGNER.public_key()))
    cut = egov("audit-pack", "--verify", str(tmp_path / "pack.zip"), "--public-key", str(tmp_path / "key.pem"),
               state=tmp_path / "state")
    assert cut.returncode == 1 and "pack.zip: not a readable zip archive (truncated" in cut.stdout, cut.stderr
    whole = pack(tmp_path, name="whole.zip")
    untrusted = egov("audit-pack", "--verify", str(whole), state=tmp_path / "state")
    assert untrusted.returncode == 1 and "no trusted public key" in untrusted.stdout, untrusted.stdout
    assert not (tmp_path / "state" / "secrets").exists()
    lone = egov("audit-pack", "--public-key", str(tmp_path / "key.pem"), state=tmp_path / "state")
    assert lone.returncode == 2 and "go with --verify FILE" in lone.stderr


def test_sealing_refuses_members_outside_the_fixed_list():
    from egov.publication.audit_pack import AuditPackError

    with pytest.raises(AuditPackError, match=r"missing: \['lineage/trace.json'\], not a member: \['notes.txt'\]"):
        seal({**{k: v for k, v in FILES.items() if k != "lineage/trace.json"}, "notes.txt": b""}, SIGNER)


def test_the_pack_members_are_written_in_the_fixed_order(tmp_path):
    with zipfile.ZipFile(pack(tmp_path)) as archive:
        assert archive.namelist() == list(MEMBERS)
    assert len(sealed_members()[SIGNATURE]) == 64
