"""The dbt seed ``admin_units.csv`` written from the reference lists of Trà Vinh, never by hand.

Three reference files in ``egov_demo/data`` describe the territory: the 2019-09 list of units (taken as
in force from 2018), the January-2025 list (Phường 2 and Phường 6 merged into Phường 3) and the map of
each January-2025 commune to the commune it became part of on 1 July 2025, when the district level was
abolished and the province merged into Vĩnh Long. From them come the SCD2 versions the warehouse reads:

* every 2019 unit from 2018-01-01;
* the two wards merged away on 2025-01-01, ended with Phường 3 as successor;
* on 2025-07-01 every commune ends with the code of its new commune as successor, every district ends
  with none (its communes went to several new ones), Trà Vinh ends with Vĩnh Long as successor;
* from 2025-07-01 the new communes under Vĩnh Long. A new commune keeps the code of one of its
  constituents, so a code can name one territory before the date and a larger one after it.

``python -m egov_demo.admin_unit_seed`` rewrites the seed; ``--check`` only says whether it is up to date.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, fields
from importlib import resources
from pathlib import Path

from egov.core import config

SEED_PATH = config.DBT_PROJECT_DIR / "seeds" / "admin_units.csv"
UNITS_2019 = "tra_vinh_admin_units_2019-09.csv"
UNITS_2025_01 = "tra_vinh_admin_units_2025-01.csv"
COMMUNES_2025_07 = "tra_vinh_communes_2025-07.csv"

LIST_START = "2018-01-01"
JANUARY_2025 = "2025-01-01"
JULY_2025 = "2025-07-01"
OLD_PROVINCE = "84"
NEW_PROVINCE = "86"
NEW_PROVINCE_NAME = "Tỉnh Vĩnh Long"
NEW_COMMUNE_TYPES = ("Phường", "Xã")

PROVINCE_MERGER_BASIS = "Nghị quyết 202/2025/QH15: tỉnh Trà Vinh nhập vào tỉnh Vĩnh Long, từ 01/07/2025"
DISTRICTS_ABOLISHED_BASIS = "Luật Tổ chức chính quyền địa phương 2025: bỏ cấp huyện, từ 01/07/2025"
# The January-2025 list says which wards are gone, not where they went: that comes from the resolution.
JANUARY_2025_ABSORBED_BY = {"29245": "29242", "29251": "29242"}
JANUARY_2025_BASIS = ("Nghị quyết 1277/NQ-UBTVQH15: Phường 2 và Phường 6 nhập vào Phường 3 (TP Trà Vinh), "
                      "từ 01/01/2025")


class ReferenceDataError(ValueError):
    """The reference files contradict each other or the rules of the seed; the message says where."""


@dataclass(frozen=True)
class ListedUnit:
    """One row of a list of units (2019-09 or 2025-01)."""

    code: str
    parent_code: str
    name: str
    unit_type: str
    level: str


@dataclass(frozen=True)
class CommuneMove:
    """One row of the July-2025 map: a January-2025 commune and the new commune it became part of."""

    old_code: str
    old_name: str
    old_district_code: str
    new_name: str
    new_unit_type: str
    new_code: str
    source: str
    basis: str


@dataclass(frozen=True)
class UnitVersion:
    """One row of the seed, in its column order (empty strings where the seed has no value)."""

    admin_unit_code: str
    parent_code: str
    admin_unit_name: str
    unit_type: str
    admin_level: str
    valid_from: str
    valid_to: str
    successor_code: str
    change_basis: str


@dataclass(frozen=True)
class ReferenceFiles:
    units_2019: tuple[ListedUnit, ...]
    units_2025_01: tuple[ListedUnit, ...]
    communes_2025_07: tuple[CommuneMove, ...]


def _read_rows(path: Path | None, resource: str, columns: Iterable[str]) -> list[dict[str, str]]:
    source = resources.files("egov_demo").joinpath("data", resource) if path is None else path
    with source.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = sorted(set(columns) - set(reader.fieldnames or ()))
        if missing:
            raise ReferenceDataError(f"{resource} has no column {', '.join(missing)}")
        return list(reader)


def read_reference_files(data_dir: Path | None = None) -> ReferenceFiles:
    """The three reference files, from ``data_dir`` or from the package's own copies. Their columns are
    named as the fields of ``ListedUnit`` and ``CommuneMove``."""

    def read(resource: str, row_type: type[ListedUnit] | type[CommuneMove]) -> tuple:
        names = [f.name for f in fields(row_type)]
        rows = _read_rows(None if data_dir is None else data_dir / resource, resource, names)
        return tuple(row_type(**{name: row[name] for name in names}) for row in rows)

    return ReferenceFiles(
        units_2019=read(UNITS_2019, ListedUnit),
        units_2025_01=read(UNITS_2025_01, ListedUnit),
        communes_2025_07=read(COMMUNES_2025_07, CommuneMove),
    )


def _communes(units: Iterable[ListedUnit]) -> dict[str, ListedUnit]:
    return {unit.code: unit for unit in units if unit.level == "commune"}


def _check_january_2025(units_2019: Sequence[ListedUnit], units_2025_01: Sequence[ListedUnit]) -> None:
    before, after = {u.code: u for u in units_2019}, {u.code: u for u in units_2025_01}
    if set(after) - set(before):
        raise ReferenceDataError(f"units in the 2025-01 list but not in 2019's: {sorted(set(after) - set(before))}")
    gone = set(before) - set(after)
    if gone != set(JANUARY_2025_ABSORBED_BY):
        raise ReferenceDataError(f"units gone by 2025-01 are {sorted(gone)}, the seed knows where "
                                 f"{sorted(JANUARY_2025_ABSORBED_BY)} went")
    changed = sorted(code for code in after if after[code] != before[code])
    if changed:
        raise ReferenceDataError(f"units changed between the 2019 and 2025-01 lists, not only merged: {changed}")


def _check_july_2025(units_2025_01: Sequence[ListedUnit], moves: Sequence[CommuneMove]) -> None:
    communes = _communes(units_2025_01)
    mapped = [move.old_code for move in moves]
    if len(mapped) != len(set(mapped)):
        raise ReferenceDataError(f"communes mapped twice: {sorted({c for c in mapped if mapped.count(c) > 1})}")
    if set(mapped) != set(communes):
        missing, unknown = sorted(set(communes) - set(mapped)), sorted(set(mapped) - set(communes))
        raise ReferenceDataError(f"the July-2025 map does not cover the 2025-01 communes exactly: missing {missing}, "
                                 f"unknown {unknown}")
    for move in moves:
        listed = communes[move.old_code]
        if (move.old_name, move.old_district_code) != (listed.name, listed.parent_code):
            raise ReferenceDataError(f"{move.old_code}: the map says {move.old_name} in {move.old_district_code}, "
                                     f"the 2025-01 list {listed.name} in {listed.parent_code}")
        if move.source != "final":
            raise ReferenceDataError(f"{move.old_code}: source {move.source!r}, only the final resolution is used")
        if move.new_unit_type not in NEW_COMMUNE_TYPES:
            raise ReferenceDataError(f"{move.old_code}: new unit type {move.new_unit_type!r}")


def new_communes(moves: Sequence[CommuneMove]) -> dict[str, CommuneMove]:
    """Each new commune by its code (the first row that names it), after checking that every row naming it
    agrees on name, type and clause, that no two codes share a name, and that its code is the old code of
    one of its own constituents."""
    by_code: dict[str, CommuneMove] = {}
    for move in moves:
        first = by_code.setdefault(move.new_code, move)
        if (first.new_name, first.new_unit_type, first.basis) != (move.new_name, move.new_unit_type, move.basis):
            raise ReferenceDataError(f"new code {move.new_code}: {first.old_code} and {move.old_code} describe it "
                                     "differently")
    names = Counter(move.new_name for move in by_code.values())
    if names.most_common(1)[0][1] > 1:
        raise ReferenceDataError(f"new communes named alike under different codes: "
                                 f"{sorted(name for name, count in names.items() if count > 1)}")
    constituents = {move.old_code for move in moves}
    for code, move in by_code.items():
        if code not in constituents or next(m for m in moves if m.old_code == code).new_code != code:
            raise ReferenceDataError(f"new code {code} ({move.new_name}) is not the old code of one of its "
                                     "constituents")
    return by_code


def _list_versions(files: ReferenceFiles) -> list[UnitVersion]:
    """The 2019 units, from 2018 to the day they ended, grouped under their district in list order."""
    moves = {move.old_code: move for move in files.communes_2025_07}
    versions = []
    for unit in files.units_2019:
        if unit.level == "province":
            valid_to, successor, basis = JULY_2025, NEW_PROVINCE, PROVINCE_MERGER_BASIS
        elif unit.level == "district":
            valid_to, successor, basis = JULY_2025, "", DISTRICTS_ABOLISHED_BASIS
        elif unit.code in JANUARY_2025_ABSORBED_BY:
            valid_to, successor, basis = JANUARY_2025, JANUARY_2025_ABSORBED_BY[unit.code], JANUARY_2025_BASIS
        else:
            valid_to, successor, basis = JULY_2025, moves[unit.code].new_code, moves[unit.code].basis
        versions.append(UnitVersion(unit.code, unit.parent_code, unit.name, unit.unit_type, unit.level,
                                    LIST_START, valid_to, successor, basis))
    return versions


def build_seed(files: ReferenceFiles) -> list[UnitVersion]:
    """Every version of the seed: the 2019 units, then Vĩnh Long and its communes from July 2025."""
    if {unit.level for unit in files.units_2019} != {"province", "district", "commune"}:
        raise ReferenceDataError("the 2019 list must hold a province, its districts and their communes")
    _check_january_2025(files.units_2019, files.units_2025_01)
    _check_july_2025(files.units_2025_01, files.communes_2025_07)
    created = new_communes(files.communes_2025_07)
    province = UnitVersion(NEW_PROVINCE, "", NEW_PROVINCE_NAME, "Tỉnh", "province", JULY_2025, "", "",
                           PROVINCE_MERGER_BASIS)
    communes = [UnitVersion(code, NEW_PROVINCE, move.new_name, move.new_unit_type, "commune", JULY_2025, "", "",
                            move.basis) for code, move in created.items()]
    return [*_list_versions(files), province, *communes]


def render(versions: Sequence[UnitVersion]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([f.name for f in fields(UnitVersion)])
    writer.writerows(astuple(version) for version in versions)
    return out.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m egov_demo.admin_unit_seed",
                                     description="write the admin_units seed from the reference lists")
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed seed differs, write nothing")
    args = parser.parse_args(argv)
    try:
        text = render(build_seed(read_reference_files()))
    except ReferenceDataError as error:
        print(f"reference data: {error}", file=sys.stderr)
        return 2
    if args.check:
        current = SEED_PATH.read_text(encoding="utf-8") if SEED_PATH.exists() else ""
        if current != text:
            print(f"{SEED_PATH} is not what the reference files give: run python -m egov_demo.admin_unit_seed",
                  file=sys.stderr)
            return 1
        return 0
    SEED_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {len(text.splitlines()) - 1} versions to {SEED_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
