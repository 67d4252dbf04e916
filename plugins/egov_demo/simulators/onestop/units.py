"""The 133 units that use the one-stop system: 18 provincial agencies, 9 districts and 106 communes."""

import csv
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

PROVINCE_CODE = "84"
ADMIN_UNITS_RESOURCE = "tra_vinh_admin_units_2019-09.csv"
SYSTEM_LAUNCH_DATE = date(2018, 1, 1)
LEVELS = ("province", "district", "commune")

# These agency codes are the project's own (province code + abbreviation of the agency's name), not official
# identifiers: the system's internal agency ids are not published, and the codes only need to be stable.
PROVINCE_AGENCIES: tuple[tuple[str, str], ...] = (
    ("84.SNV", "Sở Nội vụ"),
    ("84.STP", "Sở Tư pháp"),
    ("84.SKHDT", "Sở Kế hoạch và Đầu tư"),
    ("84.STC", "Sở Tài chính"),
    ("84.SCT", "Sở Công Thương"),
    ("84.SNNPTNT", "Sở Nông nghiệp và Phát triển nông thôn"),
    ("84.SGTVT", "Sở Giao thông vận tải"),
    ("84.SXD", "Sở Xây dựng"),
    ("84.STNMT", "Sở Tài nguyên và Môi trường"),
    ("84.STTTT", "Sở Thông tin và Truyền thông"),
    ("84.SLDTBXH", "Sở Lao động - Thương binh và Xã hội"),
    ("84.SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch"),
    ("84.SKHCN", "Sở Khoa học và Công nghệ"),
    ("84.SGDDT", "Sở Giáo dục và Đào tạo"),
    ("84.SYT", "Sở Y tế"),
    ("84.TTR", "Thanh tra tỉnh"),
    ("84.BDT", "Ban Dân tộc"),
    ("84.BQLKKT", "Ban Quản lý Khu kinh tế"),
)


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    level: str
    parent_code: str
    admin_unit_code: str
    onboarded_on: date

    def as_row(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "level": self.level,
            "parent_code": self.parent_code,
            "admin_unit_code": self.admin_unit_code,
            "onboarded_on": self.onboarded_on.isoformat(),
        }


def _admin_units_rows() -> list[dict[str, str]]:
    resource = resources.files("egov_demo").joinpath("data", ADMIN_UNITS_RESOURCE)
    with resource.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@cache
def load_units() -> tuple[Unit, ...]:
    """All units using the system, sorted by code (the order every simulator output uses)."""
    agencies = [
        Unit(code, name, "province", PROVINCE_CODE, PROVINCE_CODE, SYSTEM_LAUNCH_DATE)
        for code, name in PROVINCE_AGENCIES
    ]
    # The province itself is the territory the agencies serve, not a unit receiving dossiers.
    local_units = [
        Unit(row["code"], row["name"], row["level"], row["parent_code"], row["code"], SYSTEM_LAUNCH_DATE)
        for row in _admin_units_rows()
        if row["level"] in ("district", "commune")
    ]
    return tuple(sorted(agencies + local_units, key=lambda unit: unit.code))
