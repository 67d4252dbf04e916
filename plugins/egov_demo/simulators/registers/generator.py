"""Deterministic entries of the Department of Information and Communications' registers, 2018-2019.

Five registers: publishing licences for non-commercial publications, certificates of public e-game service
points, inspections, complaints and petitions received, and the agencies connected to the dedicated data network.
Q1/2019 is pinned by construction to the department's Q1/2019 report (sections 2.1-2.3): 49 licences and 10
certificates issued, one inspection of 16 organisations and individuals of which 10 with shortcomings, one
complaint, and 27 agencies connected at the end of the quarter.

The department numbers its licences, certificates and decisions from 1 every January, as the simulated registers
do: a number identifies an entry only within the year of its date. Complaint codes carry their year, so their count
restarts too and the code alone identifies a complaint.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from egov_demo.simulators.onestop.units import Unit, load_units
from egov_demo.simulators.people import person_names
from egov_demo.simulators.workdays import working_days

DEFAULT_SEED = 2019
HORIZON = (date(2018, 1, 1), date(2019, 12, 31))
CALIBRATED_QUARTER = (date(2019, 1, 1), date(2019, 3, 31))

CALIBRATED_LICENCES = 49
CALIBRATED_CERTIFICATES = 10
CALIBRATED_INSPECTIONS = 1
CALIBRATED_COMPLAINTS = 1
CALIBRATED_CONNECTED = 27

# Expected entries per working day, from the calibrated quarter's 58 working days.
LICENCES_PER_WORKING_DAY = 0.8
CERTIFICATES_PER_WORKING_DAY = 0.16
INSPECTIONS_PER_WORKING_DAY = 0.018  # about one a quarter
COMPLAINTS_PER_WORKING_DAY = 0.013
# Calendars, year-books and year-end reports are printed in the last months of the year; Tết empties February.
LICENCE_MONTH_FACTOR = np.array([1.1, 0.7, 1.0, 1.0, 1.0, 0.9, 0.9, 0.9, 1.0, 1.1, 1.2, 1.4])
NO_SEASON = np.ones(12)

# --- publishing licences ---------------------------------------------------------------------------------
LICENCE_SYMBOL = "GP-STTTT"
MASS_ORGANISATIONS = (
    "Tỉnh đoàn Trà Vinh", "Hội Liên hiệp Phụ nữ tỉnh Trà Vinh", "Hội Nông dân tỉnh Trà Vinh",
    "Liên đoàn Lao động tỉnh Trà Vinh", "Hội Cựu chiến binh tỉnh Trà Vinh", "Ban Tuyên giáo Tỉnh ủy Trà Vinh",
    "Trường Đại học Trà Vinh", "Bệnh viện Đa khoa tỉnh Trà Vinh", "Trung tâm Kiểm soát bệnh tật tỉnh Trà Vinh",
    "Bảo hiểm xã hội tỉnh Trà Vinh", "Công an tỉnh Trà Vinh", "Bộ Chỉ huy Quân sự tỉnh Trà Vinh",
    "Hội Chữ thập đỏ tỉnh Trà Vinh", "Liên minh Hợp tác xã tỉnh Trà Vinh", "Thư viện tỉnh Trà Vinh",
    "Hội Văn học Nghệ thuật tỉnh Trà Vinh",
)
ORGANISATION_SIGMA = 0.8  # a few organisations print far more often than the rest
TOPICS = (
    "phòng, chống ma túy", "bảo đảm trật tự an toàn giao thông", "phòng, chống tác hại của thuốc lá",
    "bảo vệ môi trường", "cải cách hành chính", "xây dựng nông thôn mới", "phòng, chống bạo lực gia đình",
    "Tổng điều tra dân số và nhà ở năm 2019", "phòng, chống sốt xuất huyết", "bảo hiểm y tế hộ gia đình",
    "pháp luật về đất đai", "phòng, chống thiên tai", "an toàn thực phẩm", "bình đẳng giới",
)
EVENTS = ("Hội nghị tổng kết công tác", "Hội thảo khoa học", "Hội nghị sơ kết 6 tháng", "Đại hội thi đua yêu nước")
TITLE_TEMPLATES = (
    "Tài liệu tuyên truyền {topic}", "Tờ gấp tuyên truyền {topic}", "Sổ tay hỏi đáp {topic}",
    "Bản tin {organisation} tháng {month:02d}/{year}", "Kỷ yếu {event} năm {year}",
    "Tài liệu {event} năm {year}",
)
PRINT_RUNS = np.array([100, 200, 300, 500, 1000, 1500, 2000, 3000, 5000])
PRINT_RUN_SHARE = np.array([0.06, 0.12, 0.12, 0.25, 0.22, 0.08, 0.08, 0.05, 0.02])

# --- e-game service points -------------------------------------------------------------------------------
CERTIFICATE_SYMBOL = "GCN-STTTT"
POINT_KINDS = ("Tiệm Internet", "Phòng máy", "Điểm truy cập Internet", "Điểm trò chơi điện tử")
POINT_BRANDS = (
    "Minh Khang", "Thành Đạt", "Phúc An", "Hoàng Long", "Tuấn Kiệt", "Gia Huy", "Ngọc Hân", "Kim Ngân",
    "Thiên Phú", "Hải Đăng", "Phát Tài", "Bảo Trâm", "Quốc Việt", "Sơn Lâm", "Tấn Phát", "Hồng Nhung",
)
# Game points follow the young population: the city and the large rural districts have most.
DISTRICT_WEIGHT = {
    "842": 2.0, "844": 1.2, "845": 0.8, "846": 0.9, "847": 1.0, "848": 1.0, "849": 1.2, "850": 0.6, "851": 0.7,
}

# --- inspections -----------------------------------------------------------------------------------------
DECISION_SYMBOL = "QĐ-STTTT"
DECISIONS_PER_WORKING_DAY = 1.3  # the department's other decisions take the numbers in between
PRINTING_INSPECTION = ("Kiểm tra việc chấp hành các quy định của pháp luật về hoạt động in, phát hành xuất bản "
                       "phẩm, photocopy trên địa bàn tỉnh")
INSPECTION_SUBJECTS = (
    PRINTING_INSPECTION,
    "Kiểm tra việc chấp hành các quy định của pháp luật về Internet và trò chơi điện tử công cộng",
    "Kiểm tra việc chấp hành các quy định của pháp luật về bưu chính",
    "Kiểm tra việc chấp hành các quy định về đăng ký thông tin thuê bao di động trả trước",
    "Thanh tra việc chấp hành các quy định của pháp luật về trang thông tin điện tử tổng hợp",
    "Kiểm tra việc chấp hành các quy định về quảng cáo trên bảng quảng cáo, băng-rôn",
)
INSPECTED_RANGE = (6, 26)
VIOLATION_SHARE = 0.4
FINED_SHARE = 0.3
REMINDED = "Nhắc nhở, chấn chỉnh"
NO_VIOLATION = "Không phát hiện vi phạm"
CALIBRATED_INSPECTION = {"subject": PRINTING_INSPECTION, "entities_inspected": 16, "entities_with_violations": 10,
                         "outcome": REMINDED}

# --- complaints ------------------------------------------------------------------------------------------
COMPLAINT_CONTENTS = (
    "Phản ánh trang thông tin điện tử đăng tin sai sự thật",
    "Phản ánh tình trạng tin nhắn, cuộc gọi rác quảng cáo",
    "Kiến nghị về chất lượng sóng điện thoại di động tại địa phương",
    "Phản ánh điểm trò chơi điện tử công cộng hoạt động quá giờ quy định",
    "Phản ánh việc treo băng-rôn quảng cáo không đúng quy định",
    "Kiến nghị về việc chậm phát bưu phẩm",
)
COMPLAINT_OUTCOMES = (
    "Đã kiểm tra, xác minh và trả lời công dân",
    "Đã chuyển doanh nghiệp viễn thông xử lý, trả lời công dân",
    "Chuyển Phòng Văn hóa và Thông tin cấp huyện xử lý theo thẩm quyền",
    "Không thụ lý do đơn không đủ điều kiện",
)
CALIBRATED_COMPLAINT = {  # the report's only complaint of the quarter
    "content": "Phản ánh việc đăng thông tin không đúng sự thật trên mạng xã hội Facebook",
    "outcome": "Không thụ lý do đơn gửi nhiều nơi; Công an huyện Trà Cú đang thụ lý giải quyết",
    "district_code": "849",
}

# --- dedicated data network ------------------------------------------------------------------------------
# Party and state bodies that are not units of the one-stop system; codes in the style of units.PROVINCE_AGENCIES.
NETWORK_BODIES = (
    ("84.TU", "Văn phòng Tỉnh ủy"),
    ("84.VPUBND", "Văn phòng Ủy ban nhân dân tỉnh"),
    ("84.VPHDND", "Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân tỉnh"),
    ("84.MTTQ", "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh"),
    ("84.BTGTU", "Ban Tuyên giáo Tỉnh ủy"),
    ("84.BTCTU", "Ban Tổ chức Tỉnh ủy"),
    ("84.UBKTTU", "Ủy ban Kiểm tra Tỉnh ủy"),
    ("84.BDVTU", "Ban Dân vận Tỉnh ủy"),
)
NETWORK_PRIORITY = 3  # the three offices around the provincial leadership were connected first
NETWORK_LAUNCH = date(2016, 7, 1)
CONNECTED_BEFORE_HORIZON = (12, 17)
# A few province-level bodies leave the network (merged, or moved onto another body's line); none rejoins.
DISCONNECTED_BY_QUARTER_END = (1, 3)
MIN_DAYS_CONNECTED = 180
CONNECTED_AFTER_QUARTER = (2, 6)


@dataclass(frozen=True)
class RegistersDataset:
    """The five registers; dates are `datetime.date`, a missing disconnection date is None."""

    seed: int
    licences: pd.DataFrame  # licence_number, issued_on, organisation, title, print_run
    certificates: pd.DataFrame  # certificate_number, issued_on, point_name, owner_name, district
    # decision_number, inspected_on, subject, entities_inspected, entities_with_violations, outcome
    inspections: pd.DataFrame
    complaints: pd.DataFrame  # complaint_code, received_on, sender, content, outcome
    network: pd.DataFrame  # agency_code, agency_name, connected_on, disconnected_on


def _as_dates(days: np.ndarray) -> list[date]:
    return days.astype(date).tolist()


def _restarted_each_january(days: np.ndarray, running: np.ndarray) -> np.ndarray:
    """The numbers of entries on sorted ``days`` as the department gives them: ``running`` (increasing numbers
    counted on across the years) less the last number reached the year before."""
    years = days.astype("datetime64[Y]")
    opens_a_year = np.r_[True, years[1:] != years[:-1]]
    reached_before = np.maximum.accumulate(np.where(opens_a_year, np.r_[0, running[:-1]], 0))
    return running - reached_before


def _numbered(days: np.ndarray) -> list[int]:
    """The numbers of a register that takes every number in turn: 1, 2, ... and 1 again each January."""
    return _restarted_each_january(days, np.arange(1, len(days) + 1)).tolist()


def _entry_days(rng: np.random.Generator, per_working_day: float, calibrated: int,
                month_factor: np.ndarray = NO_SEASON) -> np.ndarray:
    """Sorted working days of a register's entries, exactly `calibrated` of them in the calibrated quarter."""
    days = working_days(*HORIZON)
    rate = per_working_day * month_factor[days.astype("datetime64[M]").astype(np.int64) % 12]
    quarter = (days >= np.datetime64(CALIBRATED_QUARTER[0])) & (days <= np.datetime64(CALIBRATED_QUARTER[1]))
    counts = rng.poisson(rate)
    counts[quarter] = rng.multinomial(calibrated, rate[quarter] / rate[quarter].sum())
    return np.repeat(days, counts)


def _pick(rng: np.random.Generator, options: tuple[str, ...], size: int) -> list[str]:
    return [options[i] for i in rng.integers(0, len(options), size)]


def _full_names(rng: np.random.Generator, size: int) -> list[str]:
    return [" ".join(parts) for parts in person_names(rng, size)]


def _district_name(unit: Unit) -> str:
    """"Huyện Càng Long" as it reads after another word: "huyện Càng Long"."""
    return unit.name[0].lower() + unit.name[1:]


def _licences(rng: np.random.Generator, units: tuple[Unit, ...]) -> pd.DataFrame:
    issued = _entry_days(rng, LICENCES_PER_WORKING_DAY, CALIBRATED_LICENCES, LICENCE_MONTH_FACTOR)
    organisations = (
        *(unit.name for unit in units if unit.level == "province"),
        *(f"Ủy ban nhân dân {_district_name(unit)}" for unit in units if unit.level == "district"),
        *MASS_ORGANISATIONS,
    )
    weights = rng.lognormal(0, ORGANISATION_SIGMA, len(organisations))
    requester = rng.choice(len(organisations), len(issued), p=weights / weights.sum())
    titles = [
        TITLE_TEMPLATES[rng.integers(len(TITLE_TEMPLATES))].format(
            topic=TOPICS[rng.integers(len(TOPICS))], event=EVENTS[rng.integers(len(EVENTS))],
            organisation=organisations[who], month=day.month, year=day.year,
        )
        for who, day in zip(requester.tolist(), _as_dates(issued), strict=True)
    ]
    return pd.DataFrame({
        "licence_number": [f"{n}/{LICENCE_SYMBOL}" for n in _numbered(issued)],
        "issued_on": _as_dates(issued),
        "organisation": [organisations[who] for who in requester.tolist()],
        "title": titles,
        "print_run": rng.choice(PRINT_RUNS, len(issued), p=PRINT_RUN_SHARE).tolist(),
    })


def _districts(rng: np.random.Generator, units: tuple[Unit, ...], size: int) -> list[str]:
    districts = [unit for unit in units if unit.level == "district"]
    weights = np.array([DISTRICT_WEIGHT[unit.code] for unit in districts])
    return [districts[i].name for i in rng.choice(len(districts), size, p=weights / weights.sum())]


def _certificates(rng: np.random.Generator, units: tuple[Unit, ...]) -> pd.DataFrame:
    issued = _entry_days(rng, CERTIFICATES_PER_WORKING_DAY, CALIBRATED_CERTIFICATES)
    size = len(issued)
    return pd.DataFrame({
        "certificate_number": [f"{n}/{CERTIFICATE_SYMBOL}" for n in _numbered(issued)],
        "issued_on": _as_dates(issued),
        "point_name": [f"{kind} {brand}" for kind, brand in
                       zip(_pick(rng, POINT_KINDS, size), _pick(rng, POINT_BRANDS, size), strict=True)],
        "owner_name": _full_names(rng, size),
        "district": _districts(rng, units, size),
    })


def _in_quarter(days: list[date]) -> np.ndarray:
    return np.array([CALIBRATED_QUARTER[0] <= day <= CALIBRATED_QUARTER[1] for day in days], dtype=bool)


def _inspections(rng: np.random.Generator) -> pd.DataFrame:
    inspected = _entry_days(rng, INSPECTIONS_PER_WORKING_DAY, CALIBRATED_INSPECTIONS)
    size = len(inspected)
    # Decision numbers advance with the department's other decisions, about five working days a week.
    elapsed_working_days = np.diff(inspected, prepend=np.datetime64(HORIZON[0])).astype(np.int64) * 5 // 7
    decision = np.cumsum(1 + rng.poisson(DECISIONS_PER_WORKING_DAY * elapsed_working_days))
    entities = rng.integers(*INSPECTED_RANGE, size)
    violations = rng.binomial(entities, VIOLATION_SHARE)
    fined = rng.binomial(violations, FINED_SHARE)
    frame = pd.DataFrame({
        "decision_number": [f"{n}/{DECISION_SYMBOL}" for n in _restarted_each_january(inspected, decision).tolist()],
        "inspected_on": _as_dates(inspected),
        "subject": _pick(rng, INSPECTION_SUBJECTS, size),
        "entities_inspected": entities,
        "entities_with_violations": violations,
        "outcome": [
            NO_VIOLATION if not v else f"{REMINDED}; xử phạt vi phạm hành chính {f} trường hợp" if f else REMINDED
            for v, f in zip(violations.tolist(), fined.tolist(), strict=True)
        ],
    })
    frame.loc[_in_quarter(frame["inspected_on"].tolist()), list(CALIBRATED_INSPECTION)] = tuple(
        CALIBRATED_INSPECTION.values())
    return frame.astype({"entities_inspected": np.int64, "entities_with_violations": np.int64})


def _complaints(rng: np.random.Generator, units: tuple[Unit, ...]) -> pd.DataFrame:
    received = _as_dates(_entry_days(rng, COMPLAINTS_PER_WORKING_DAY, CALIBRATED_COMPLAINTS))
    size = len(received)
    district = _districts(rng, units, size)
    in_quarter = _in_quarter(received)
    calibrated_district = next(unit.name for unit in units if unit.code == CALIBRATED_COMPLAINT["district_code"])
    district = [calibrated_district if pinned else name for pinned, name in zip(in_quarter, district, strict=True)]
    numbers = pd.Series([day.year for day in received]).groupby([day.year for day in received]).cumcount() + 1
    return pd.DataFrame({
        "complaint_code": [f"ĐT-{day.year}-{n:03d}" for day, n in zip(received, numbers, strict=True)],
        "received_on": received,
        "sender": [f"{name}, {where}" for name, where in zip(_full_names(rng, size), district, strict=True)],
        "content": np.where(in_quarter, CALIBRATED_COMPLAINT["content"],
                            _pick(rng, COMPLAINT_CONTENTS, size)).tolist(),
        "outcome": np.where(in_quarter, CALIBRATED_COMPLAINT["outcome"],
                            _pick(rng, COMPLAINT_OUTCOMES, size)).tolist(),
    })


def _sorted_working_days(rng: np.random.Generator, first: date, last: date, size: int) -> list[date]:
    return _as_dates(np.sort(rng.choice(working_days(first, last), size, replace=False)))


def _network(rng: np.random.Generator, units: tuple[Unit, ...]) -> pd.DataFrame:
    """Connections in order of priority; those open at the end of Q1/2019 number exactly the report's 27."""
    candidates = [
        *NETWORK_BODIES,
        *((unit.code, unit.name) for unit in units if unit.level == "province"),
        *((unit.code, f"Ủy ban nhân dân {_district_name(unit)}") for unit in units if unit.level == "district"),
    ]
    order = [*range(NETWORK_PRIORITY),
             *(NETWORK_PRIORITY + rng.permutation(len(candidates) - NETWORK_PRIORITY)).tolist()]
    quarter_end = CALIBRATED_QUARTER[1]
    before_horizon = int(rng.integers(*CONNECTED_BEFORE_HORIZON))
    disconnected = int(rng.integers(*DISCONNECTED_BY_QUARTER_END))
    by_quarter_end = CALIBRATED_CONNECTED + disconnected
    after_quarter = min(int(rng.integers(*CONNECTED_AFTER_QUARTER)), len(candidates) - by_quarter_end)
    connected_on = [
        *_sorted_working_days(rng, NETWORK_LAUNCH, HORIZON[0] - timedelta(days=1), before_horizon),
        *_sorted_working_days(rng, HORIZON[0], quarter_end, by_quarter_end - before_horizon),
        *_sorted_working_days(rng, quarter_end + timedelta(days=1), HORIZON[1], after_quarter),
    ]
    codes = [candidates[i][0] for i in order[:len(connected_on)]]
    latest_start = quarter_end - timedelta(days=MIN_DAYS_CONNECTED)
    may_leave = [
        index for index, (code, day) in enumerate(zip(codes, connected_on, strict=True))
        if index >= NETWORK_PRIORITY and code.startswith("84.") and day <= latest_start
    ]
    disconnected_on: list[date | None] = [None] * len(connected_on)
    for index in rng.choice(may_leave, disconnected, replace=False).tolist():
        start = max(connected_on[index] + timedelta(days=MIN_DAYS_CONNECTED), HORIZON[0])
        disconnected_on[index] = _sorted_working_days(rng, start, quarter_end, 1)[0]
    return pd.DataFrame({
        "agency_code": codes,
        "agency_name": [candidates[i][1] for i in order[:len(connected_on)]],
        "connected_on": connected_on,
        "disconnected_on": pd.Series(disconnected_on, dtype=object),
    })


def build_dataset(seed: int = DEFAULT_SEED) -> RegistersDataset:
    """The registers' entries over 2018-2019 (network connections from the network's 2016 launch on)."""
    units = load_units()
    streams = (np.random.Generator(np.random.PCG64(s)) for s in np.random.SeedSequence(seed).spawn(5))
    licence_rng, certificate_rng, inspection_rng, complaint_rng, network_rng = streams
    return RegistersDataset(
        seed,
        _licences(licence_rng, units),
        _certificates(certificate_rng, units),
        _inspections(inspection_rng),
        _complaints(complaint_rng, units),
        _network(network_rng, units),
    )
