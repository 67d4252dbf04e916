"""The auditor pack's manifest: what verifies, and every way an archive can fail to."""

from __future__ import annotations

import zipfile

from egov.publication.audit_pack import MANIFEST, manifest, verify

FILES = {"release.json": b'{"version": 1}', "figures.csv": b"figure_id,value\nx,38751\n",
         "lineage/trace.json": b"{}"}


def write(path, files, listed=None):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr(MANIFEST, manifest(listed if listed is not None else files))
    return path


def test_an_intact_pack_verifies_and_its_manifest_reads_with_sha256sum(tmp_path):
    import hashlib
    import subprocess

    outcome = verify(write(tmp_path / "pack.zip", FILES))
    assert outcome.ok and outcome.files == 3 and outcome.problems == []
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(tmp_path / "pack.zip") as archive:
        archive.extractall(folder)
    checked = subprocess.run(["sha256sum", "-c", MANIFEST], cwd=folder, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"{hashlib.sha256(FILES['release.json']).hexdigest()}  release.json" in (folder / MANIFEST).read_text()


def test_a_changed_missing_or_unlisted_file_fails_and_is_named(tmp_path):
    changed = write(tmp_path / "changed.zip", {**FILES, "figures.csv": b"figure_id,value\nx,38752\n"}, FILES)
    assert verify(changed).problems == ["figures.csv: SHA-256 differs from the manifest"]
    missing = write(tmp_path / "missing.zip", {k: v for k, v in FILES.items() if k != "lineage/trace.json"}, FILES)
    assert verify(missing).problems == ["lineage/trace.json: listed in the manifest, missing from the archive"]
    extra = write(tmp_path / "extra.zip", {**FILES, "note.txt": b"added later"}, FILES)
    assert verify(extra).problems == ["note.txt: in the archive, not in the manifest"]
    with zipfile.ZipFile(tmp_path / "bare.zip", "w") as archive:
        archive.writestr("release.json", b"{}")
    assert not verify(tmp_path / "bare.zip").ok
