"""Deterministic languages, component sites and publication history of the provincial web portal.

The portal's content-management system logs one record per editorial act on the main portal: an article
posted, an article translated into English or Khmer, an audio bulletin, a citizen's question, a draft put up
for comment, a legal-dissemination document, an announced procedure decision, an expired banner taken down.
Q1/2019 is pinned by construction to section 2.5 of the province's Q1/2019 report; the other quarters follow
the same editorial rhythm (working days, office hours, the weeks around Tết) with their own random draws.
Timestamps are local (+07:00) and fall between 06:00 and 22:00, so a record's date never depends on the reader's
time zone. Site launch dates before 2018, the URLs and the languages' dates are the project's own assumptions:
the report gives only the counts.
"""

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

import numpy as np

from egov_demo.simulators.api import TransportFaults
from egov_demo.simulators.onestop.units import Unit, load_units
from egov_demo.simulators.workdays import PUBLIC_HOLIDAYS, day_range, is_working_day

DEFAULT_SEED = 2019
HORIZON = (date(2018, 1, 1), date(2019, 12, 31))
LOCAL_TIME = timezone(timedelta(hours=7))

# Q1/2019 report, section 2.5 (Hoạt động của Cổng thông tin điện tử tỉnh): what the editors did in the quarter.
CALIBRATED_QUARTER = (date(2019, 1, 1), date(2019, 3, 31))
CALIBRATED_COUNTS = {
    "news": 101,
    "translation_en": 42,
    "translation_km": 64,
    "audio_bulletin": 71,
    "citizen_question": 7,
    "draft_for_comment": 13,
    "legal_dissemination": 88,
    "procedure_decision": 9,
    "banner_removed": 7,
}
EVENT_TYPES = tuple(CALIBRATED_COUNTS)
LANGUAGE_OF_EVENT = {"translation_en": "en", "translation_km": "km"}

# Relative activity on weekends and public holidays: the audio desk records a bulletin most days and citizens
# write whenever they like, while decisions and drafts wait for the office to open.
OFF_DAY_FACTOR = {
    "news": 0.15, "translation_en": 0.05, "translation_km": 0.05, "audio_bulletin": 0.35,
    "citizen_question": 0.8, "draft_for_comment": 0.01, "legal_dissemination": 0.03, "procedure_decision": 0.01,
    "banner_removed": 0.02,
}
# January's year-end reviews, the holiday weeks around Tết, and the busy run-up to the year end.
MONTH_FACTOR = np.array([1.0, 0.85, 1.05, 1.0, 1.0, 1.0, 0.95, 0.95, 1.0, 1.05, 1.05, 1.1])
# The days just before and after the Tết holidays are half-idle: staff travel home and back.
TET_SLOWDOWN_DAYS, TET_SLOWDOWN_FACTOR = 5, 0.6
ANNUAL_GROWTH = 0.06
QUARTER_NOISE_SIGMA = 0.1
# Seconds after local midnight: mornings 07:30-11:30 and afternoons 13:30-17:00, a few evenings until 21:30.
OFFICE_WINDOWS = ((27_000, 41_400, 0.55), (48_600, 61_200, 0.41), (61_200, 77_400, 0.04))
WAKING_WINDOWS = ((21_600, 79_200, 1.0),)  # citizens' questions arrive from 06:00 to 22:00
EVENT_WINDOWS = {event_type: OFFICE_WINDOWS for event_type in EVENT_TYPES} | {"citizen_question": WAKING_WINDOWS}
# Share of articles that agencies send in, the rest being the editorial board's own reporting.
AGENCY_NEWS_SHARE = 0.7
LEGAL_DISSEMINATION_BY_JUSTICE_SHARE = 0.8
JUSTICE_DEPARTMENT = "84.STP"
# Ids of records a revision adds to a past day: a block per day above the dataset's ids, the last kept for
# the garbled record a faulty export can add.
IDS_PER_REVISED_DAY = 1_000


@dataclass(frozen=True)
class Language:
    code: str
    name_vi: str
    name_en: str
    native_name: str
    enabled_on: date

    def as_row(self) -> dict:
        return {
            "code": self.code,
            "name_vi": self.name_vi,
            "name_en": self.name_en,
            "native_name": self.native_name,
            "enabled_on": self.enabled_on.isoformat(),
        }


LANGUAGES = (
    Language("vi", "Tiếng Việt", "Vietnamese", "Tiếng Việt", date(2010, 1, 1)),
    Language("en", "Tiếng Anh", "English", "English", date(2012, 9, 1)),
    Language("km", "Tiếng Khmer", "Khmer", "ភាសាខ្មែរ", date(2014, 4, 14)),
)


@dataclass(frozen=True)
class Site:
    site_code: str
    name: str
    url: str
    agency_code: str | None
    launched_on: date
    closed_on: date | None
    is_main_portal: bool = False

    def as_row(self) -> dict:
        return {
            "site_code": self.site_code,
            "name": self.name,
            "url": self.url,
            "agency_code": self.agency_code,
            "launched_on": self.launched_on.isoformat(),
            "closed_on": self.closed_on.isoformat() if self.closed_on else None,
            "is_main_portal": self.is_main_portal,
        }


# The component sites moved onto the portal's shared platform together with the main portal.
PLATFORM_LAUNCH = date(2016, 7, 1)
MAIN_PORTAL = Site(
    # Run by the Department of Information and Communications, whose quarterly report counts its activity.
    "portal", "Cổng thông tin điện tử tỉnh Trà Vinh", "https://www.travinh.gov.vn", "84.STTTT", PLATFORM_LAUNCH, None,
    is_main_portal=True,
)
UNIT_SUBDOMAINS = {
    "84.SNV": "sonoivu", "84.STP": "sotuphap", "84.SKHDT": "sokhdt", "84.STC": "sotaichinh", "84.SCT": "socongthuong",
    "84.SNNPTNT": "sonnptnt", "84.SGTVT": "sogtvt", "84.SXD": "soxaydung", "84.STNMT": "sotnmt", "84.STTTT": "sotttt",
    "84.SLDTBXH": "soldtbxh", "84.SVHTTDL": "sovhttdl", "84.SKHCN": "sokhcn", "84.SGDDT": "sogddt", "84.SYT": "soyte",
    "84.TTR": "thanhtra", "84.BDT": "bandantoc", "84.BQLKKT": "bqlkkt",
    "842": "tptravinh", "844": "canglong", "845": "cauke", "846": "tieucan", "847": "chauthanh", "848": "caungang",
    "849": "tracu", "850": "duyenhai", "851": "txduyenhai",
}
# (subdomain, owner, agency code when the owner belongs to a unit of the one-stop system, launched, closed)
OTHER_SITES = (
    ("vpubnd", "Văn phòng Ủy ban nhân dân tỉnh", None, PLATFORM_LAUNCH, None),
    ("hdnd", "Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân tỉnh", None, PLATFORM_LAUNCH, None),
    ("congbao", "Công báo tỉnh Trà Vinh", None, PLATFORM_LAUNCH, None),
    ("caicachhanhchinh", "Cải cách hành chính tỉnh Trà Vinh", "84.SNV", PLATFORM_LAUNCH, None),
    ("dulich", "Du lịch Trà Vinh", "84.SVHTTDL", PLATFORM_LAUNCH, None),
    ("thongtindoingoai", "Thông tin đối ngoại tỉnh Trà Vinh", "84.STTTT", PLATFORM_LAUNCH, None),
    ("ict", "Trung tâm Công nghệ thông tin và Truyền thông", "84.STTTT", PLATFORM_LAUNCH, None),
    ("khuyennong", "Trung tâm Khuyến nông", "84.SNNPTNT", PLATFORM_LAUNCH, None),
    ("vieclam", "Trung tâm Dịch vụ việc làm", "84.SLDTBXH", PLATFORM_LAUNCH, None),
    ("bqldadandung", "Ban Quản lý dự án đầu tư xây dựng các công trình dân dụng và công nghiệp", None,
     PLATFORM_LAUNCH, None),
    # Project boards merged in 2019; the trade-promotion centre merged into the joint promotion centre in 2018.
    ("bqldanongnghiep", "Ban Quản lý dự án đầu tư xây dựng các công trình nông nghiệp và phát triển nông thôn", None,
     PLATFORM_LAUNCH, date(2019, 10, 1)),
    ("xuctienthuongmai", "Trung tâm Xúc tiến Thương mại", "84.SCT", PLATFORM_LAUNCH, date(2018, 8, 1)),
    ("xuctien", "Trung tâm Xúc tiến Đầu tư, Thương mại và Du lịch", "84.SKHDT", date(2018, 8, 1), None),
    ("nongthonmoi", "Chương trình mục tiêu quốc gia xây dựng nông thôn mới", "84.SNNPTNT", date(2018, 6, 1), None),
    ("pbgdpl", "Phổ biến, giáo dục pháp luật", "84.STP", date(2018, 3, 15), None),
    ("cdc", "Trung tâm Kiểm soát bệnh tật", "84.SYT", date(2019, 6, 3), None),
    ("hanhchinhcong", "Trung tâm Phục vụ hành chính công", None, date(2019, 10, 1), None),
)


def _site_url(subdomain: str) -> str:
    return f"https://{subdomain}.travinh.gov.vn"


def _in_sentence(unit: Unit) -> str:
    """A district's name as it reads inside a sentence ("huyện Càng Long"); agencies keep their capital."""
    return unit.name[0].lower() + unit.name[1:] if unit.level == "district" else unit.name


def _build_sites(units: tuple[Unit, ...]) -> tuple[Site, ...]:
    unit_sites = [
        Site(UNIT_SUBDOMAINS[unit.code], f"Trang thông tin điện tử {_in_sentence(unit)}",
             _site_url(UNIT_SUBDOMAINS[unit.code]), unit.code, PLATFORM_LAUNCH, None)
        for unit in units
        if unit.code in UNIT_SUBDOMAINS
    ]
    other_sites = [
        Site(subdomain, f"Trang thông tin điện tử {owner}", _site_url(subdomain), agency_code, launched_on, closed_on)
        for subdomain, owner, agency_code, launched_on, closed_on in OTHER_SITES
    ]
    return (MAIN_PORTAL, *unit_sites, *other_sites)


# --- titles ------------------------------------------------------------------------------------------------

MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")
MONTHS_KM = ("មករា", "កុម្ភៈ", "មីនា", "មេសា", "ឧសភា", "មិថុនា", "កក្កដា", "សីហា", "កញ្ញា", "តុលា", "វិច្ឆិកា",
             "ធ្នូ")
KHMER_DIGITS = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")
ALL_MONTHS = frozenset(range(1, 13))

# Articles the editors also translate: (months when the story runs, Vietnamese, English, Khmer).
TRANSLATED_STORIES = (
    (ALL_MONTHS,
     "UBND tỉnh họp phiên thường kỳ tháng {month}/{year}",
     "Provincial People's Committee holds its regular meeting for {month_en} {year}",
     "គណៈកម្មាធិការប្រជាជនខេត្តបើកកិច្ចប្រជុំសាមញ្ញប្រចាំខែ{month_km} ឆ្នាំ{year_km}"),
    (ALL_MONTHS,
     "Trà Vinh đẩy mạnh xây dựng nông thôn mới",
     "Tra Vinh steps up new rural development",
     "ខេត្តត្រាវិញជំរុញការកសាងជនបទថ្មី"),
    (ALL_MONTHS,
     "Trà Vinh thu hút đầu tư vào Khu kinh tế Định An",
     "Tra Vinh attracts investment into Dinh An Economic Zone",
     "ខេត្តត្រាវិញទាក់ទាញការវិនិយោគចូលតំបន់សេដ្ឋកិច្ចឌិញអាន"),
    (ALL_MONTHS,
     "Trà Vinh triển khai dịch vụ công trực tuyến mức độ 3, 4",
     "Tra Vinh rolls out level 3 and 4 online public services",
     "ខេត្តត្រាវិញដាក់ឱ្យប្រើប្រាស់សេវាសាធារណៈតាមអនឡាញកម្រិត ៣ និង ៤"),
    (ALL_MONTHS,
     "Phát triển du lịch cộng đồng gắn với văn hóa Khmer",
     "Developing community tourism linked to Khmer culture",
     "អភិវឌ្ឍទេសចរណ៍សហគមន៍ភ្ជាប់នឹងវប្បធម៌ខ្មែរ"),
    (ALL_MONTHS,
     "Nông dân chuyển đổi cơ cấu cây trồng thích ứng với biến đổi khí hậu",
     "Farmers change crops to adapt to climate change",
     "កសិករផ្លាស់ប្តូររចនាសម្ព័ន្ធដំណាំដើម្បីបន្សាំនឹងការប្រែប្រួលអាកាសធាតុ"),
    (frozenset({1, 2}),
     "Họp mặt mừng Xuân, đón Tết Nguyên đán {year}",
     "Spring gathering to welcome the {year} Lunar New Year",
     "ជួបជុំអបអរសាទរនិទាឃរដូវ ស្វាគមន៍បុណ្យចូលឆ្នាំថ្មីតាមច័ន្ទគតិ ឆ្នាំ{year_km}"),
    (frozenset({3, 4}),
     "Tặng quà hộ nghèo nhân dịp Tết cổ truyền Chôl Chnăm Thmây",
     "Gifts for poor households for the Chol Chnam Thmay traditional New Year",
     "ផ្តល់អំណោយដល់គ្រួសារក្រីក្រ ក្នុងឱកាសបុណ្យចូលឆ្នាំថ្មីប្រពៃណីជាតិខ្មែរ"),
    (frozenset({4, 5, 6, 7, 8, 9, 10}),
     "Tăng cường phòng, chống bệnh sốt xuất huyết",
     "Stepping up the prevention of dengue fever",
     "ពង្រឹងការបង្ការ និងទប់ស្កាត់ជំងឺគ្រុនឈាម"),
    (frozenset({9, 10}),
     "Lãnh đạo tỉnh thăm, chúc mừng các chùa Khmer nhân lễ Sene Dolta",
     "Provincial leaders visit Khmer pagodas for the Sene Dolta festival",
     "ថ្នាក់ដឹកនាំខេត្តសួរសុខទុក្ខវត្តខ្មែរ ក្នុងឱកាសបុណ្យសែនដូនតា"),
    (frozenset({10, 11}),
     "Lễ hội Ok Om Bok - Đua ghe Ngo tỉnh Trà Vinh năm {year}",
     "Ok Om Bok festival and Ngo boat race in Tra Vinh, {year}",
     "ពិធីបុណ្យអកអំបុក និងការប្រណាំងទូកង ខេត្តត្រាវិញ ឆ្នាំ{year_km}"),
)
# Articles only in Vietnamese; {unit} is the agency or district that sent the article in.
LOCAL_STORIES = (
    (ALL_MONTHS, "{unit} tiếp và làm việc với đoàn công tác Trung ương"),
    (ALL_MONTHS, "{unit} trao nhà đại đoàn kết cho hộ nghèo"),
    (ALL_MONTHS, "Kiểm tra công tác cải cách hành chính tại {unit}"),
    (ALL_MONTHS, "{unit} tổ chức hội nghị chuyên đề về chuyển đổi số"),
    (frozenset({1, 2, 3}), "{unit} triển khai nhiệm vụ năm {year}"),
    (frozenset({6, 7}), "{unit} sơ kết công tác 6 tháng đầu năm {year}"),
    (frozenset({11, 12}), "{unit} tổng kết công tác năm {year}"),
)
QUESTION_TOPICS = (
    "thủ tục cấp giấy chứng nhận quyền sử dụng đất", "chế độ trợ cấp đối với người có công với cách mạng",
    "thủ tục đăng ký hộ kinh doanh", "thủ tục đổi giấy phép lái xe", "chế độ nghỉ hưu trước tuổi",
    "thủ tục đăng ký khai sinh cho con", "miễn, giảm học phí cho học sinh dân tộc Khmer",
    "cấp giấy phép xây dựng nhà ở riêng lẻ", "thời hạn giải quyết hồ sơ chuyển mục đích sử dụng đất",
)
# (draft, the department that drafted it)
DRAFTS = (
    ("Nghị quyết quy định mức thu học phí năm học {year}-{next_year}", "84.SGDDT"),
    ("Quyết định ban hành Quy chế quản lý, vận hành Cổng thông tin điện tử tỉnh", "84.STTTT"),
    ("Quyết định ban hành Bảng giá đất điều chỉnh năm {year}", "84.STNMT"),
    ("Kế hoạch phát triển du lịch tỉnh Trà Vinh đến năm 2025", "84.SVHTTDL"),
    ("Quy định về quản lý chất thải rắn sinh hoạt trên địa bàn tỉnh", "84.STNMT"),
    ("Quyết định quy định giá dịch vụ xe ra, vào bến xe ô tô", "84.SGTVT"),
    ("Quy chế phối hợp quản lý cụm công nghiệp trên địa bàn tỉnh", "84.SCT"),
    ("Nghị quyết về chính sách hỗ trợ khởi nghiệp, đổi mới sáng tạo", "84.SKHCN"),
)
LEGAL_PREFIXES = ("Phổ biến", "Tìm hiểu", "Hỏi - đáp về")
LAWS = (
    "Luật Tiếp cận thông tin năm 2016", "Luật Trẻ em năm 2016", "Luật Quy hoạch năm 2017", "Luật Thủy sản năm 2017",
    "Luật Lâm nghiệp năm 2017", "Luật Trợ giúp pháp lý năm 2017", "Luật Hôn nhân và gia đình năm 2014",
    "Luật Giao thông đường bộ năm 2008", "Bộ luật Hình sự năm 2015", "Luật Bình đẳng giới năm 2006",
    "Luật Phòng, chống bạo lực gia đình năm 2007", "Luật Đất đai năm 2013",
)
DECISION_TITLE = (
    "Quyết định số {number}/QĐ-UBND ngày {signed} của Chủ tịch UBND tỉnh về việc công bố danh mục thủ tục hành "
    "chính mới ban hành, sửa đổi, bổ sung thuộc thẩm quyền giải quyết của {agency}"
)
# The provincial People's Committee signs about this many decisions a year; the numbers restart each January.
DECISIONS_PER_DAY = 8
# Banners come down when their campaign ends; the anniversaries count from the founding years.
BANNERS = (
    (frozenset({1}), "Kỷ niệm {years_army} năm ngày thành lập Quân đội nhân dân Việt Nam (22/12)"),
    (frozenset({2, 3}), "Mừng Đảng, mừng Xuân {year}"),
    (frozenset({2, 3}), "Kỷ niệm {years_party} năm ngày thành lập Đảng Cộng sản Việt Nam (03/02)"),
    (frozenset({4}), "Kỷ niệm {years_youth} năm ngày thành lập Đoàn TNCS Hồ Chí Minh (26/3)"),
    (frozenset({4, 5}), "Mừng Tết cổ truyền Chôl Chnăm Thmây năm {year}"),
    (frozenset({5}), "Kỷ niệm ngày Giải phóng miền Nam, thống nhất đất nước (30/4)"),
    (frozenset({6}), "Kỷ niệm ngày sinh Chủ tịch Hồ Chí Minh (19/5)"),
    (frozenset({8}), "Kỷ niệm ngày Thương binh - Liệt sĩ (27/7)"),
    (frozenset({9}), "Mừng Quốc khánh nước Cộng hòa xã hội chủ nghĩa Việt Nam (02/9)"),
    (frozenset({11, 12}), "Lễ hội Ok Om Bok - Đua ghe Ngo tỉnh Trà Vinh năm {year}"),
    (ALL_MONTHS, "Bảo đảm an toàn vệ sinh thực phẩm trong sản xuất, kinh doanh"),
    (ALL_MONTHS, "Hội nghị xúc tiến đầu tư vào tỉnh Trà Vinh"),
    (ALL_MONTHS, "Hội sách thành phố Cần Thơ"),
)


def _in_season(entries: tuple, month: int) -> list:
    return [entry for entry in entries if month in entry[0]]


class _TitleWriter:
    """Titles and authors of publication records, drawn from the editorial desk's usual kinds of items."""

    def __init__(self, rng: np.random.Generator, units: tuple[Unit, ...]):
        self.rng = rng
        self.senders = [unit for unit in units if unit.level in ("province", "district")]
        self.departments = [unit for unit in units if unit.level == "province"]

    def _pick(self, options: list | tuple):
        return options[int(self.rng.integers(len(options)))]

    def write(self, event_type: str, moment: datetime) -> tuple[str, str | None]:
        """(title, author agency code or None when the portal's own staff or a citizen wrote it)."""
        day = moment.date()
        year, month = day.year, day.month
        fields = {
            "year": year, "next_year": year + 1, "month": month, "month_en": MONTHS_EN[month - 1],
            "month_km": MONTHS_KM[month - 1], "year_km": str(year).translate(KHMER_DIGITS),
        }
        if event_type == "news":
            if self.rng.random() < AGENCY_NEWS_SHARE:
                sender = self._pick(self.senders)
                _, story = self._pick(_in_season(LOCAL_STORIES, month))
                title = story.format(unit=_in_sentence(sender), **fields)
                return title[0].upper() + title[1:], sender.code
            return self._pick(_in_season(TRANSLATED_STORIES, month))[1].format(**fields), None
        if event_type in LANGUAGE_OF_EVENT:
            story = self._pick(_in_season(TRANSLATED_STORIES, month))
            return story[2 if event_type == "translation_en" else 3].format(**fields), None
        if event_type == "audio_bulletin":
            edition = "sáng" if moment.hour < 12 else "chiều"
            return f"Bản tin audio thời sự Trà Vinh {edition} ngày {day:%d/%m/%Y}", None
        if event_type == "citizen_question":
            return f"Hỏi về {self._pick(QUESTION_TOPICS)}", None
        if event_type == "draft_for_comment":
            draft, drafter = self._pick(DRAFTS)
            return f"Lấy ý kiến nhân dân đối với dự thảo {draft.format(**fields)}", drafter
        if event_type == "legal_dissemination":
            author = JUSTICE_DEPARTMENT
            if self.rng.random() >= LEGAL_DISSEMINATION_BY_JUSTICE_SHARE:
                author = self._pick(self.departments).code
            return f"{self._pick(LEGAL_PREFIXES)} {self._pick(LAWS)}", author
        if event_type == "procedure_decision":
            department = self._pick(self.departments)
            signed = day - timedelta(days=int(self.rng.integers(2, 11)))
            number = max(1, (signed.timetuple().tm_yday - 1) * DECISIONS_PER_DAY + int(self.rng.integers(1, 9)))
            title = DECISION_TITLE.format(number=number, signed=f"{signed:%d/%m/%Y}", agency=department.name)
            return title, department.code
        if event_type == "banner_removed":
            _, banner = self._pick(_in_season(BANNERS, month))
            years_since = {"years_army": year - 1 - 1944, "years_party": year - 1930, "years_youth": year - 1931}
            return f"Gỡ bỏ banner hết hạn tuyên truyền: {banner.format(**fields, **years_since)}", None
        raise ValueError(f"unknown event type {event_type!r}")


# --- publications ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Publication:
    event_id: int
    published_at: datetime
    event_type: str
    language: str
    title: str
    author_agency_code: str | None

    def as_row(self) -> dict:
        return {
            "event_id": self.event_id,
            "published_at": self.published_at.isoformat(),
            "date": self.published_at.date().isoformat(),
            "event_type": self.event_type,
            "language": self.language,
            "title": self.title,
            "author_agency_code": self.author_agency_code,
        }


@dataclass
class Faults(TransportFaults):
    """Source misbehaviour the API can be told to show, for tests of the pipeline's defences.

    withheld_on: these dates' publications are not served yet (delivered late); removing a date delivers them.
    restated_on: the source revised these dates: this many extra publications appear on each, with event ids
        above the dataset's, the same ones every time.
    malformed_on: on these dates one extra garbled record is served: no event type, published_at "31/02/<year>".
    Revisions and garbled records only touch dates inside the simulated horizon.
    Plus the transport faults of :class:`TransportFaults`.
    """

    withheld_on: set[date] = field(default_factory=set)
    restated_on: dict[date, int] = field(default_factory=dict)
    malformed_on: set[date] = field(default_factory=set)


def _draw(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    """`size` indices drawn with replacement in proportion to `weights`."""
    cumulative = np.cumsum(weights)
    return np.searchsorted(cumulative, rng.random(size) * cumulative[-1], side="right")


def _seconds_of_day(rng: np.random.Generator, windows: tuple[tuple[int, int, float], ...], size: int) -> np.ndarray:
    window = _draw(rng, np.array([share for _, _, share in windows]), size)
    starts = np.array([start for start, _, _ in windows])[window]
    ends = np.array([end for _, end, _ in windows])[window]
    return starts + np.floor(rng.random(size) * (ends - starts)).astype(np.int64)


def _tet_slowdown(days: np.ndarray) -> np.ndarray:
    """Factor for the days around Tết, the only public holiday that lasts several days."""
    factor = np.ones(len(days))
    for first, last in PUBLIC_HOLIDAYS:
        if (last - first).days >= 3:
            near = day_range(first - timedelta(days=TET_SLOWDOWN_DAYS), last + timedelta(days=TET_SLOWDOWN_DAYS))
            factor[np.isin(days, near)] = TET_SLOWDOWN_FACTOR
    return factor


def _intensity(days: np.ndarray, event_type: str) -> np.ndarray:
    """Relative number of publications of one type per day."""
    daily = np.where(is_working_day(days), 1.0, OFF_DAY_FACTOR[event_type])
    month = days.astype("datetime64[M]").astype(np.int64) % 12
    years = (days - np.datetime64(HORIZON[0], "D")).astype(np.int64) / 365.25
    return daily * MONTH_FACTOR[month] * _tet_slowdown(days) * np.exp(ANNUAL_GROWTH * years)


def _daily_counts(rng: np.random.Generator, days: np.ndarray, event_type: str) -> np.ndarray:
    """Publications of one type per day: the report's count in the calibrated quarter, a noisy rhythm elsewhere."""
    intensity = _intensity(days, event_type)
    quarter_of_day = days.astype("datetime64[M]").astype(np.int64) // 3
    calibrated = (days >= np.datetime64(CALIBRATED_QUARTER[0])) & (days <= np.datetime64(CALIBRATED_QUARTER[1]))
    per_unit_intensity = CALIBRATED_COUNTS[event_type] / intensity[calibrated].sum()
    counts = np.zeros(len(days), dtype=np.int64)
    for quarter_key in np.unique(quarter_of_day).tolist():
        quarter = quarter_of_day == quarter_key
        if calibrated[quarter].all():
            total = CALIBRATED_COUNTS[event_type]
        else:
            expected = per_unit_intensity * intensity[quarter].sum()
            total = int(rng.poisson(expected * rng.lognormal(0.0, QUARTER_NOISE_SIGMA)))
        counts[quarter] = rng.multinomial(total, intensity[quarter] / intensity[quarter].sum())
    return counts


def _moments(rng: np.random.Generator, days: list[date], event_types: list[str]) -> list[datetime]:
    seconds = np.empty(len(days), dtype=np.int64)
    for event_type in sorted(set(event_types)):
        chosen = np.array([kind == event_type for kind in event_types])
        seconds[chosen] = _seconds_of_day(rng, EVENT_WINDOWS[event_type], int(chosen.sum()))
    return [datetime.combine(day, time(), LOCAL_TIME) + timedelta(seconds=int(second))
            for day, second in zip(days, seconds.tolist(), strict=True)]


def _publications(
    writer: _TitleWriter, moments: list[datetime], event_types: list[str], first_id: int
) -> list[Publication]:
    """Records in the order given, numbered from `first_id`."""
    publications = []
    for offset, (moment, event_type) in enumerate(zip(moments, event_types, strict=True)):
        title, author = writer.write(event_type, moment)
        language = LANGUAGE_OF_EVENT.get(event_type, "vi")
        publications.append(Publication(first_id + offset, moment, event_type, language, title, author))
    return publications


@dataclass(frozen=True)
class PortalDataset:
    """The portal's languages and sites, and every publication on the main portal in the horizon by (date, id)."""

    seed: int
    units: tuple[Unit, ...]
    languages: tuple[Language, ...]
    sites: tuple[Site, ...]
    publications: tuple[Publication, ...]
    _dates: tuple[date, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_dates", tuple(p.published_at.date() for p in self.publications))

    def language_rows(self) -> list[dict]:
        return [language.as_row() for language in self.languages]

    def site_rows(self) -> list[dict]:
        return [site.as_row() for site in self.sites]

    def publication_rows(self, date_from: date, date_to: date) -> list[dict]:
        """Publications whose local date lies in the range, inclusive, by (date, event_id)."""
        low, high = bisect_left(self._dates, date_from), bisect_right(self._dates, date_to)
        return [publication.as_row() for publication in self.publications[low:high]]

    def revision_ids(self, day: date) -> range:
        """Event ids the source gives records it adds when it revises `day`: above every id in the dataset."""
        if not HORIZON[0] <= day <= HORIZON[1]:
            raise ValueError(f"{day} is outside the simulated horizon {HORIZON[0]}..{HORIZON[1]}")
        first = len(self.publications) + 1 + (day - HORIZON[0]).days * IDS_PER_REVISED_DAY
        return range(first, first + IDS_PER_REVISED_DAY)

    def revision_rows(self, day: date, count: int) -> list[dict]:
        """The `count` publications a revision of `day` adds, the same for the same seed, day and count."""
        ids = self.revision_ids(day)
        if not 0 <= count < len(ids):
            raise ValueError(f"a revision adds between 0 and {len(ids) - 1} publications, not {count}")
        rng = np.random.default_rng([self.seed, day.toordinal(), count])
        weights = np.array(list(CALIBRATED_COUNTS.values()), dtype=float)
        event_types = [EVENT_TYPES[index] for index in _draw(rng, weights, count).tolist()]
        moments = _moments(rng, [day] * count, event_types)
        order = sorted(range(count), key=lambda index: moments[index])
        writer = _TitleWriter(rng, self.units)
        added = _publications(writer, [moments[i] for i in order], [event_types[i] for i in order], ids[0])
        return [publication.as_row() for publication in added]


def build_dataset(seed: int = DEFAULT_SEED) -> PortalDataset:
    """Simulate the portal over the horizon; the same seed gives the same data."""
    rng = np.random.default_rng(seed)
    units = load_units()
    days = day_range(*HORIZON)
    published_on: list[date] = []
    event_types: list[str] = []
    for event_type in EVENT_TYPES:
        per_day = _daily_counts(rng, days, event_type)
        published_on += np.repeat(days, per_day).astype(date).tolist()
        event_types += [event_type] * int(per_day.sum())
    moments = _moments(rng, published_on, event_types)
    order = sorted(range(len(moments)), key=lambda index: (moments[index], EVENT_TYPES.index(event_types[index])))
    writer = _TitleWriter(rng, units)
    publications = _publications(writer, [moments[i] for i in order], [event_types[i] for i in order], 1)
    return PortalDataset(seed, units, LANGUAGES, _build_sites(units), tuple(publications))
