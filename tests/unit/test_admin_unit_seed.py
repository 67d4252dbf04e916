"""The admin_units seed is what the reference lists of Trà Vinh give, and it carries both maps.

The committed seed is read as dbt reads it (a CSV), so the checks below hold for the file the warehouse
loads; the generator is only asked to write it again.
"""

from __future__ import annotations

import csv
import shutil
from collections import Counter, defaultdict
from importlib import resources
from pathlib import Path

import pytest
from egov_demo import admin_unit_seed
from egov_demo.admin_unit_seed import (
    COMMUNES_2025_07,
    UNITS_2019,
    UNITS_2025_01,
    ReferenceDataError,
    build_seed,
    read_reference_files,
    render,
)

JULY = "2025-07-01"


def seed_rows() -> list[dict[str, str]]:
    with admin_unit_seed.SEED_PATH.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def reference(name: str) -> list[dict[str, str]]:
    with resources.files("egov_demo").joinpath("data", name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_committed_seed_is_exactly_what_the_reference_files_give():
    assert admin_unit_seed.SEED_PATH.read_text(encoding="utf-8") == render(build_seed(read_reference_files()))
    assert admin_unit_seed.main(["--check"]) == 0


def test_the_check_fails_on_a_seed_edited_by_hand(tmp_path, monkeypatch, capsys):
    edited = tmp_path / "admin_units.csv"
    edited.write_text(admin_unit_seed.SEED_PATH.read_text(encoding="utf-8").replace("Phường Trà Vinh", "Phường X"))
    monkeypatch.setattr(admin_unit_seed, "SEED_PATH", edited)
    assert admin_unit_seed.main(["--check"]) == 1
    assert "is not what the reference files give" in capsys.readouterr().err


def test_every_one_of_the_104_communes_of_january_2025_ends_in_a_new_commune_of_vinh_long():
    rows = seed_rows()
    january = {row["code"] for row in reference(UNITS_2025_01) if row["level"] == "commune"}
    new_units = {row["admin_unit_code"]: row for row in rows
                 if row["valid_from"] == JULY and row["admin_level"] == "commune"}
    ended = {row["admin_unit_code"]: row for row in rows
             if row["admin_level"] == "commune" and row["valid_from"] == "2018-01-01" and row["valid_to"] == JULY}
    assert len(january) == 104 and set(ended) == january
    assert all(row["successor_code"] in new_units for row in ended.values())
    mapped = {row["old_code"]: row["new_code"] for row in reference(COMMUNES_2025_07)}
    assert {code: row["successor_code"] for code, row in ended.items()} == mapped


def test_41_new_communes_6_phuong_and_35_xa_under_vinh_long_from_1_july_2025():
    new_units = [row for row in seed_rows() if row["valid_from"] == JULY and row["admin_level"] == "commune"]
    assert len(new_units) == 41 == len({row["admin_unit_code"] for row in new_units})
    assert Counter(row["unit_type"] for row in new_units) == {"Phường": 6, "Xã": 35}
    assert {row["parent_code"] for row in new_units} == {"86"}
    assert all(row["valid_to"] == "" and row["successor_code"] == "" for row in new_units)
    assert all("1687/NQ-UBTVQH15 Art.1 cl." in row["change_basis"] for row in new_units)
    trà_vinh = next(row for row in new_units if row["admin_unit_code"] == "29242")
    assert (trà_vinh["admin_unit_name"], trà_vinh["unit_type"]) == ("Phường Trà Vinh", "Phường")


def test_every_new_code_is_the_old_code_of_one_of_its_own_constituents():
    constituents: defaultdict[str, set[str]] = defaultdict(set)
    for row in seed_rows():
        if row["admin_level"] == "commune" and row["valid_to"] == JULY:
            constituents[row["successor_code"]].add(row["admin_unit_code"])
    assert len(constituents) == 41
    assert [code for code, old in constituents.items() if code not in old] == []


def test_the_other_changes_keep_their_dates_successors_and_basis():
    rows = {(row["admin_unit_code"], row["valid_from"]): row for row in seed_rows()}
    for ward in ("29245", "29251"):  # Phường 2 and Phường 6, into Phường 3 on 1 January 2025
        row = rows[(ward, "2018-01-01")]
        assert (row["valid_to"], row["successor_code"]) == ("2025-01-01", "29242")
        assert "Nghị quyết 1277/NQ-UBTVQH15" in row["change_basis"]
    assert (rows[("84", "2018-01-01")]["valid_to"], rows[("84", "2018-01-01")]["successor_code"]) == (JULY, "86")
    assert rows[("86", JULY)]["admin_unit_name"] == "Tỉnh Vĩnh Long" and rows[("86", JULY)]["valid_to"] == ""
    districts = [row for row in rows.values() if row["admin_level"] == "district"]
    assert len(districts) == 9 and {(row["valid_to"], row["successor_code"]) for row in districts} == {(JULY, "")}
    versions_2018 = {code for code, valid_from in rows if valid_from == "2018-01-01"}
    assert versions_2018 == {row["code"] for row in reference(UNITS_2019)}


# ---------------------------------------------------------------- reference files that contradict each other


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    for name in (UNITS_2019, UNITS_2025_01, COMMUNES_2025_07):
        with resources.as_file(resources.files("egov_demo").joinpath("data", name)) as path:
            shutil.copy(path, tmp_path / name)
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(("old", "new", "message"), [
    ("29536,Xã Đông Hải,850,Xã Đông Hải,Xã,29536,final,Res. 1687/NQ-UBTVQH15 Art.1 cl.121 (not rearranged); "
     "code: GSO list 2025-07-01\n", "", r"missing \['29536'\]"),
    ("29236,Phường 4,842,Phường Long Đức,Phường,29263", "29236,Phường 4,842,Phường Long Đức,Phường,29236",
     r"named alike under different codes: \['Phường Long Đức'\]"),
    ("29239,Phường 1,842,Phường Trà Vinh,Phường", "29239,Phường 1,842,Phường Trà Vinh,Xã",
     "new code 29242: 29239 and 29242 describe it differently"),
    ("29248,Phường 5,842,Phường Hòa Thuận,Phường,29398,final", "29248,Phường 5,842,Phường Hòa Thuận,Phường,29398,draft",
     "only the final resolution"),
    ("29248,Phường 5,842,", "29248,Phường 5,844,", "the map says Phường 5 in 844"),
    ("29248,Phường 5,842,Phường Hòa Thuận,Phường", "29248,Phường 5,842,Phường Hòa Thuận,Thị trấn",
     "new unit type 'Thị trấn'"),
])
def test_a_map_that_contradicts_the_lists_is_refused_with_the_row_named(data_dir, old, new, message):
    _edit(data_dir / COMMUNES_2025_07, old, new)
    with pytest.raises(ReferenceDataError, match=message):
        build_seed(read_reference_files(data_dir))


def test_a_new_code_that_is_none_of_its_constituents_codes_is_refused(data_dir):
    moves = data_dir / COMMUNES_2025_07
    for old_code in ("29236", "29263"):  # both constituents of Phường Long Đức, code 29263 → 29999
        text = moves.read_text(encoding="utf-8").splitlines(keepends=True)
        moves.write_text("".join(line.replace(",29263,final", ",29999,final") if line.startswith(old_code) else line
                                 for line in text), encoding="utf-8")
    with pytest.raises(ReferenceDataError, match=r"new code 29999 .* is not the old code of one of its constituents"):
        build_seed(read_reference_files(data_dir))


def test_a_ward_gone_from_the_january_list_without_a_known_destination_is_refused(data_dir):
    _edit(data_dir / UNITS_2025_01, "29248,842,Phường 5,Phường,commune\n", "")
    with pytest.raises(ReferenceDataError, match=r"units gone by 2025-01 are \['29245', '29248', '29251'\]"):
        build_seed(read_reference_files(data_dir))


def test_a_file_without_a_column_the_seed_needs_is_refused(data_dir):
    _edit(data_dir / COMMUNES_2025_07, "new_code,", "code_moi,")
    with pytest.raises(ReferenceDataError, match=f"{COMMUNES_2025_07} has no column new_code"):
        build_seed(read_reference_files(data_dir))


def test_the_command_reports_contradicting_files_without_writing(data_dir, tmp_path, monkeypatch, capsys):
    _edit(data_dir / COMMUNES_2025_07, ",final,", ",draft,")
    monkeypatch.setattr(admin_unit_seed, "read_reference_files", lambda: read_reference_files(data_dir))
    monkeypatch.setattr(admin_unit_seed, "SEED_PATH", tmp_path / "admin_units.csv")
    assert admin_unit_seed.main([]) == 2
    assert "only the final resolution" in capsys.readouterr().err and not (tmp_path / "admin_units.csv").exists()
