"""The catalogue of administrative procedures served by the one-stop system, with each one's level history.

Calibrated to the Q1/2019 report of the province's Department of Information and Communications: on
31 March 2019 the system listed 1,931 procedures, 306 of them offered online at service level 3 and 210 at
level 4. Around that date the catalogue changes as it did in practice: procedures are published during 2018,
a few are abolished, and after Q1/2019 services move up a level (2 -> 3, 3 -> 4) through new versions.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import numpy as np

from egov_demo.simulators.onestop.units import PROVINCE_AGENCIES, SYSTEM_LAUNCH_DATE

TIERS = ("province", "district", "commune")
REFERENCE_DATE = date(2019, 3, 31)
CATALOGUE_END = date(2020, 12, 31)
# The catalogue is one published fact, the same whichever seed the dossier generator uses.
CATALOGUE_SEED = 841_931


@dataclass(frozen=True)
class TierPlan:
    """How many procedures of one tier exist, and at which level, around the reference date."""

    in_force_on_reference: int
    level3_on_reference: int
    level4_on_reference: int
    abolished_before_reference: int
    published_after_reference: int
    # Service levels 2, 3 and 4 of procedures first published after the reference date.
    new_procedure_level_shares: tuple[float, float, float]
    deadline_working_days: tuple[int, ...]


# The tier figures are ours; only their sums (1,931 / 306 / 210) come from the report.
TIER_PLANS = {
    "province": TierPlan(1530, 246, 183, 34, 72, (0.6, 0.3, 0.1), (3, 5, 7, 10, 15, 20, 30)),
    "district": TierPlan(290, 48, 27, 8, 16, (0.7, 0.25, 0.05), (1, 3, 5, 7, 10, 15, 20, 30)),
    "commune": TierPlan(111, 12, 0, 5, 6, (0.85, 0.15, 0.0), (1, 2, 3, 5, 7)),
}
LATE_PUBLICATION_SHARE = 0.12
LATER_ABOLITION_SHARE = 0.04
EARLIER_LOWER_LEVEL_SHARE = 0.25
# (level before, level after, share of the procedures at the lower level on the reference date, window).
UPGRADES_AFTER_REFERENCE = (
    (3, 4, 0.35, date(2019, 4, 1), date(2019, 12, 31)),
    (3, 4, 0.15, date(2020, 1, 1), date(2020, 12, 31)),
    (2, 3, 0.06, date(2019, 4, 1), date(2019, 12, 31)),
    (2, 3, 0.08, date(2020, 1, 1), date(2020, 12, 31)),
)

LICENCE_ACTIONS = ("Cấp", "Cấp lại", "Cấp đổi", "Điều chỉnh", "Gia hạn", "Thu hồi")
REVIEW_ACTIONS = ("Thẩm định", "Phê duyệt", "Điều chỉnh", "Công nhận", "Gia hạn")
ENTITY_ACTIONS = ("Thành lập", "Cho phép hoạt động", "Sáp nhập", "Chia, tách", "Giải thể", "Đình chỉ hoạt động")

# Procedure names are "<action> <object>" from these lists; the catalogue needs no more than the
# product of the two for one handler and field.
FIELD_WORDING: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Tổ chức - Biên chế": (
        REVIEW_ACTIONS,
        ("thành lập đơn vị sự nghiệp công lập", "tổ chức lại đơn vị sự nghiệp công lập", "điều lệ hội",
         "giải thể đơn vị sự nghiệp công lập", "thành lập hội", "quỹ xã hội, quỹ từ thiện"),
    ),
    "Thi đua - Khen thưởng": (
        ("Tặng", "Xét tặng", "Đề nghị tặng", "Thẩm định hồ sơ", "Hủy bỏ quyết định"),
        ("Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh", "danh hiệu Chiến sĩ thi đua cấp tỉnh",
         "danh hiệu Tập thể lao động xuất sắc", "Cờ thi đua của Ủy ban nhân dân tỉnh",
         "khen thưởng theo chuyên đề", "khen thưởng đột xuất"),
    ),
    "Tôn giáo": (
        ("Đăng ký", "Thông báo", "Chấp thuận", "Đề nghị", "Thông báo thay đổi"),
        ("hoạt động tôn giáo", "hội nghị thường niên của tổ chức tôn giáo", "người được phong phẩm, bổ nhiệm",
         "tổ chức tôn giáo trực thuộc", "sinh hoạt tôn giáo tập trung", "cuộc lễ ngoài cơ sở tôn giáo"),
    ),
    "Công chức, viên chức": (
        ("Tổ chức", "Thẩm định", "Phê duyệt kết quả", "Đăng ký dự", "Xét"),
        ("tuyển dụng công chức", "xét tuyển viên chức", "thăng hạng viên chức", "nâng ngạch công chức",
         "tiếp nhận vào làm công chức", "chuyển đổi chức danh nghề nghiệp"),
    ),
    "Lý lịch tư pháp": (
        ("Cấp", "Cấp lại", "Đính chính", "Yêu cầu cấp", "Ủy quyền yêu cầu cấp"),
        ("Phiếu lý lịch tư pháp cho công dân Việt Nam", "Phiếu lý lịch tư pháp cho người nước ngoài",
         "Phiếu lý lịch tư pháp cho cơ quan tiến hành tố tụng", "Phiếu lý lịch tư pháp số 1",
         "Phiếu lý lịch tư pháp số 2", "Phiếu lý lịch tư pháp qua dịch vụ bưu chính"),
    ),
    "Quốc tịch": (
        ("Giải quyết hồ sơ", "Cấp", "Xác nhận", "Thẩm tra hồ sơ", "Thông báo kết quả"),
        ("nhập quốc tịch Việt Nam", "thôi quốc tịch Việt Nam", "trở lại quốc tịch Việt Nam",
         "giấy xác nhận có quốc tịch Việt Nam", "giấy xác nhận là người gốc Việt Nam",
         "ghi chú việc thôi quốc tịch"),
    ),
    "Công chứng": (
        ("Đăng ký hoạt động", "Thành lập", "Cấp", "Cấp lại", "Thay đổi nội dung", "Chấm dứt hoạt động"),
        ("tổ chức hành nghề công chứng", "văn phòng công chứng", "công chứng viên", "thẻ công chứng viên",
         "văn phòng công chứng hợp nhất", "văn phòng công chứng nhận chuyển nhượng"),
    ),
    "Luật sư": (
        ("Đăng ký hoạt động", "Thay đổi nội dung đăng ký", "Cấp lại giấy đăng ký", "Chấm dứt hoạt động",
         "Hợp nhất", "Sáp nhập"),
        ("tổ chức hành nghề luật sư", "chi nhánh của tổ chức hành nghề luật sư", "công ty luật nước ngoài",
         "luật sư hành nghề với tư cách cá nhân", "văn phòng luật sư", "công ty luật trách nhiệm hữu hạn"),
    ),
    "Đấu giá tài sản": (
        ("Đăng ký hoạt động", "Cấp", "Cấp lại", "Thay đổi", "Thu hồi", "Phê duyệt"),
        ("tổ chức đấu giá tài sản", "doanh nghiệp đấu giá tài sản", "chi nhánh doanh nghiệp đấu giá tài sản",
         "đấu giá viên", "thẻ đấu giá viên", "Hội đồng đấu giá tài sản"),
    ),
    "Trợ giúp pháp lý": (
        ("Yêu cầu", "Đăng ký tham gia", "Lựa chọn", "Cấp", "Thu hồi", "Chấm dứt"),
        ("trợ giúp pháp lý", "người thực hiện trợ giúp pháp lý", "tổ chức tham gia trợ giúp pháp lý",
         "cộng tác viên trợ giúp pháp lý", "thẻ trợ giúp viên pháp lý", "hợp đồng thực hiện trợ giúp pháp lý"),
    ),
    "Thành lập và hoạt động doanh nghiệp": (
        ("Đăng ký thành lập", "Đăng ký thay đổi", "Thông báo tạm ngừng kinh doanh", "Giải thể", "Chuyển đổi",
         "Hiệu đính thông tin"),
        ("doanh nghiệp tư nhân", "công ty trách nhiệm hữu hạn một thành viên",
         "công ty trách nhiệm hữu hạn hai thành viên trở lên", "công ty cổ phần", "công ty hợp danh",
         "chi nhánh, văn phòng đại diện", "địa điểm kinh doanh"),
    ),
    "Đầu tư tại Việt Nam": (
        ("Quyết định", "Cấp", "Điều chỉnh", "Chấm dứt hoạt động", "Giãn tiến độ", "Chuyển nhượng"),
        ("dự án đầu tư", "Giấy chứng nhận đăng ký đầu tư", "chủ trương đầu tư",
         "góp vốn của nhà đầu tư nước ngoài", "văn phòng điều hành của nhà đầu tư nước ngoài",
         "dự án đầu tư theo hình thức hợp đồng BCC"),
    ),
    "Hợp tác xã": (
        ("Đăng ký thành lập", "Đăng ký thay đổi", "Tạm ngừng hoạt động", "Giải thể",
         "Cấp lại giấy chứng nhận đăng ký", "Chia, tách"),
        ("hợp tác xã", "liên hiệp hợp tác xã", "chi nhánh hợp tác xã", "văn phòng đại diện hợp tác xã",
         "địa điểm kinh doanh của hợp tác xã", "tổ hợp tác",
         "hợp tác xã nông nghiệp"),
    ),
    "Đấu thầu": (
        ("Thẩm định", "Phê duyệt", "Điều chỉnh", "Công bố", "Giải quyết kiến nghị về"),
        ("kế hoạch lựa chọn nhà thầu", "hồ sơ mời thầu", "kết quả lựa chọn nhà thầu",
         "kết quả lựa chọn nhà đầu tư", "dự án đầu tư theo hình thức đối tác công tư",
         "danh mục dự án có sử dụng đất", "hồ sơ yêu cầu chỉ định thầu"),
    ),
    "Quản lý giá": (
        ("Đăng ký", "Kê khai", "Thẩm định", "Hiệp thương", "Điều chỉnh"),
        ("phương án giá", "giá tài sản", "giá đất cụ thể", "mức giá hàng hóa, dịch vụ", "biểu giá",
         "giá dịch vụ"),
    ),
    "Quản lý công sản": (
        ("Mua sắm", "Thanh lý", "Điều chuyển", "Bán", "Xử lý", "Thuê"),
        ("tài sản công", "nhà, đất thuộc phương án sắp xếp", "tài sản được xác lập quyền sở hữu toàn dân",
         "tài sản kết cấu hạ tầng", "xe ô tô công", "trụ sở làm việc"),
    ),
    "Tài chính doanh nghiệp": (
        ("Thẩm tra", "Phê duyệt", "Điều chỉnh", "Xác định", "Công bố"),
        ("quyết toán vốn đầu tư dự án hoàn thành", "vốn điều lệ doanh nghiệp nhà nước",
         "phương án cổ phần hóa doanh nghiệp", "báo cáo tài chính doanh nghiệp nhà nước",
         "vốn quỹ đầu tư phát triển", "giá trị doanh nghiệp"),
    ),
    "Lưu thông hàng hóa trong nước": (
        LICENCE_ACTIONS,
        ("giấy phép bán lẻ sản phẩm thuốc lá", "giấy phép bán buôn rượu", "giấy phép sản xuất rượu thủ công",
         "giấy phép kinh doanh xăng dầu", "giấy chứng nhận cửa hàng đủ điều kiện bán lẻ xăng dầu",
         "giấy chứng nhận đủ điều kiện kinh doanh khí"),
    ),
    "Điện": (
        LICENCE_ACTIONS,
        ("giấy phép hoạt động điện lực", "giấy phép tư vấn đầu tư xây dựng điện", "giấy phép phân phối điện",
         "giấy phép bán lẻ điện", "thẻ an toàn điện", "giấy chứng nhận huấn luyện kỹ thuật an toàn điện"),
    ),
    "Hóa chất": (
        LICENCE_ACTIONS,
        ("giấy chứng nhận đủ điều kiện sản xuất hóa chất", "giấy chứng nhận đủ điều kiện kinh doanh hóa chất",
         "giấy phép sử dụng vật liệu nổ công nghiệp", "giấy chứng nhận huấn luyện an toàn hóa chất",
         "giấy phép kinh doanh tiền chất thuốc nổ", "giấy xác nhận khai báo hóa chất"),
    ),
    "An toàn thực phẩm": (
        LICENCE_ACTIONS,
        ("giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm", "giấy xác nhận nội dung quảng cáo thực phẩm",
         "giấy tiếp nhận bản công bố sản phẩm", "giấy xác nhận kiến thức an toàn thực phẩm",
         "giấy chứng nhận thực phẩm xuất khẩu", "giấy chứng nhận lưu hành tự do thực phẩm"),
    ),
    "Xúc tiến thương mại": (
        ("Đăng ký", "Thông báo", "Sửa đổi", "Cấp", "Chấm dứt"),
        ("chương trình khuyến mại", "hội chợ, triển lãm thương mại", "văn phòng đại diện của thương nhân nước ngoài",
         "giấy phép thành lập văn phòng đại diện", "hoạt động bán hàng đa cấp",
         "chương trình khuyến mại mang tính may rủi"),
    ),
    "Trồng trọt": (
        LICENCE_ACTIONS,
        ("giấy chứng nhận đủ điều kiện buôn bán phân bón",
         "giấy chứng nhận đủ điều kiện buôn bán thuốc bảo vệ thực vật",
         "giấy chứng nhận kiểm dịch thực vật nội địa", "giấy chứng nhận cây đầu dòng",
         "giấy công nhận vườn cây đầu dòng", "giấy chứng nhận đủ điều kiện sản xuất giống cây trồng"),
    ),
    "Thú y": (
        LICENCE_ACTIONS,
        ("giấy chứng nhận kiểm dịch động vật", "giấy chứng nhận cơ sở an toàn dịch bệnh",
         "chứng chỉ hành nghề thú y", "giấy chứng nhận đủ điều kiện vệ sinh thú y",
         "giấy chứng nhận đủ điều kiện buôn bán thuốc thú y", "giấy xác nhận nội dung quảng cáo thuốc thú y"),
    ),
    "Thủy sản": (
        LICENCE_ACTIONS,
        ("giấy phép khai thác thủy sản", "giấy chứng nhận đăng ký tàu cá", "giấy chứng nhận an toàn kỹ thuật tàu cá",
         "giấy chứng nhận cơ sở đủ điều kiện nuôi trồng thủy sản",
         "giấy chứng nhận đủ điều kiện sản xuất giống thủy sản", "văn bản chấp thuận đóng mới tàu cá"),
    ),
    "Lâm nghiệp": (
        ("Phê duyệt", "Cấp", "Điều chỉnh", "Xác nhận", "Thu hồi"),
        ("phương án quản lý rừng bền vững", "hồ sơ khai thác lâm sản", "mã số cơ sở nuôi động vật rừng",
         "phương án trồng rừng thay thế", "bảng kê lâm sản", "chứng chỉ rừng"),
    ),
    "Thủy lợi": (
        LICENCE_ACTIONS,
        ("giấy phép xả nước thải vào công trình thủy lợi",
         "giấy phép hoạt động trong phạm vi bảo vệ công trình thủy lợi",
         "giấy phép trồng cây lâu năm trong phạm vi bảo vệ công trình thủy lợi",
         "giấy phép cho phương tiện đi lại trên công trình thủy lợi",
         "giấy phép nuôi trồng thủy sản trong công trình thủy lợi",
         "giấy phép nổ mìn trong phạm vi bảo vệ công trình thủy lợi"),
    ),
    "Đường bộ": (
        LICENCE_ACTIONS,
        ("giấy phép lái xe", "giấy phép kinh doanh vận tải bằng xe ô tô", "phù hiệu xe ô tô kinh doanh vận tải",
         "giấy phép lưu hành xe quá tải trọng", "giấy phép thi công công trình đường bộ", "giấy phép xe tập lái",
         "giấy phép đào tạo lái xe", "giấy phép lái xe quốc tế",
         "giấy chứng nhận giáo viên dạy thực hành lái xe", "giấy phép vận tải đường bộ quốc tế"),
    ),
    "Đường thủy nội địa": (
        LICENCE_ACTIONS,
        ("giấy chứng nhận đăng ký phương tiện thủy nội địa", "giấy phép hoạt động bến thủy nội địa",
         "giấy phép hoạt động cảng thủy nội địa", "chứng chỉ chuyên môn phương tiện thủy nội địa",
         "bằng thuyền trưởng hạng ba", "giấy phép vận tải thủy qua biên giới",
         "giấy chứng nhận khả năng chuyên môn máy trưởng"),
    ),
    "Đăng kiểm": (
        LICENCE_ACTIONS,
        ("giấy chứng nhận thẩm định thiết kế xe cơ giới cải tạo",
         "giấy chứng nhận chất lượng an toàn kỹ thuật xe cải tạo",
         "giấy chứng nhận kiểm định xe máy chuyên dùng", "giấy chứng nhận đăng ký xe máy chuyên dùng",
         "biển số xe máy chuyên dùng", "giấy chứng nhận đăng ký tạm thời xe máy chuyên dùng",
         "giấy chứng nhận an toàn kỹ thuật phương tiện thủy nội địa"),
    ),
    "Hoạt động xây dựng": (
        LICENCE_ACTIONS,
        ("giấy phép xây dựng công trình", "giấy phép xây dựng có thời hạn",
         "chứng chỉ hành nghề hoạt động xây dựng", "chứng chỉ năng lực hoạt động xây dựng",
         "giấy phép di dời công trình", "giấy phép sửa chữa, cải tạo công trình"),
    ),
    "Nhà ở": (
        ("Mua", "Thuê", "Thuê mua", "Chấp thuận", "Bán", "Công nhận"),
        ("nhà ở xã hội", "nhà ở thuộc sở hữu nhà nước", "nhà ở công vụ", "nhà ở cho người có thu nhập thấp",
         "nhà ở thương mại", "nhà ở tái định cư"),
    ),
    "Quy hoạch xây dựng": (
        ("Thẩm định", "Phê duyệt", "Điều chỉnh", "Cung cấp", "Cấp"),
        ("nhiệm vụ quy hoạch chi tiết xây dựng", "đồ án quy hoạch chi tiết xây dựng", "quy hoạch phân khu xây dựng",
         "giấy phép quy hoạch", "thông tin quy hoạch xây dựng", "nhiệm vụ quy hoạch phân khu"),
    ),
    "Đất đai": (
        ("Cấp", "Cấp đổi", "Cấp lại", "Đính chính", "Thu hồi", "Đăng ký biến động"),
        ("giấy chứng nhận quyền sử dụng đất", "giấy chứng nhận quyền sở hữu nhà ở và tài sản gắn liền với đất",
         "giấy chứng nhận cho tổ chức", "giấy chứng nhận cho người Việt Nam định cư ở nước ngoài",
         "giấy chứng nhận đã cấp bị mất", "giấy chứng nhận do dồn điền đổi thửa"),
    ),
    "Môi trường": (
        ("Thẩm định", "Phê duyệt", "Cấp", "Cấp lại", "Điều chỉnh", "Xác nhận"),
        ("báo cáo đánh giá tác động môi trường", "kế hoạch bảo vệ môi trường",
         "giấy xác nhận hoàn thành công trình bảo vệ môi trường", "sổ đăng ký chủ nguồn thải chất thải nguy hại",
         "giấy phép xử lý chất thải nguy hại", "phương án cải tạo, phục hồi môi trường"),
    ),
    "Tài nguyên nước": (
        LICENCE_ACTIONS,
        ("giấy phép khai thác nước dưới đất", "giấy phép khai thác nước mặt", "giấy phép xả nước thải vào nguồn nước",
         "giấy phép thăm dò nước dưới đất", "giấy phép hành nghề khoan nước dưới đất",
         "quyết định phê duyệt tiền cấp quyền khai thác tài nguyên nước"),
    ),
    "Khoáng sản": (
        ("Cấp", "Gia hạn", "Điều chỉnh", "Trả lại", "Phê duyệt", "Thu hồi"),
        ("giấy phép thăm dò khoáng sản", "giấy phép khai thác khoáng sản", "giấy phép khai thác cát, sỏi lòng sông",
         "đề án đóng cửa mỏ khoáng sản", "tiền cấp quyền khai thác khoáng sản", "trữ lượng khoáng sản"),
    ),
    "Đo đạc và bản đồ": (
        ("Cấp", "Cấp lại", "Bổ sung", "Cung cấp", "Thẩm định", "Nghiệm thu"),
        ("giấy phép hoạt động đo đạc và bản đồ", "chứng chỉ hành nghề đo đạc và bản đồ",
         "thông tin, dữ liệu đo đạc và bản đồ", "bản đồ địa chính", "hồ sơ mốc địa giới hành chính",
         "sản phẩm đo đạc và bản đồ"),
    ),
    "Xuất bản, in và phát hành": (
        LICENCE_ACTIONS,
        ("giấy phép xuất bản tài liệu không kinh doanh", "giấy phép hoạt động in", "giấy phép nhập khẩu xuất bản phẩm",
         "giấy phép tổ chức triển lãm, hội chợ xuất bản phẩm",
         "giấy xác nhận đăng ký hoạt động phát hành xuất bản phẩm", "giấy phép nhập khẩu thiết bị in",
         "giấy xác nhận đăng ký hoạt động cơ sở in"),
    ),
    "Báo chí": (
        LICENCE_ACTIONS,
        ("giấy phép xuất bản bản tin", "giấy phép xuất bản đặc san",
         "giấy phép thiết lập trang thông tin điện tử tổng hợp", "giấy phép hoạt động báo chí",
         "giấy phép đặt văn phòng đại diện cơ quan báo chí", "giấy phép tổ chức họp báo"),
    ),
    "Viễn thông và Internet": (
        LICENCE_ACTIONS,
        ("giấy chứng nhận đủ điều kiện hoạt động điểm cung cấp dịch vụ trò chơi điện tử công cộng",
         "giấy phép cung cấp dịch vụ trò chơi điện tử G1", "giấy phép thiết lập mạng viễn thông",
         "giấy chứng nhận đăng ký cung cấp dịch vụ trò chơi điện tử G2", "giấy phép sử dụng tần số",
         "giấy phép lắp đặt cáp viễn thông"),
    ),
    "Người có công": (
        ("Giải quyết", "Điều chỉnh", "Thôi hưởng", "Xác nhận", "Di chuyển hồ sơ hưởng"),
        ("chế độ trợ cấp đối với thân nhân liệt sĩ", "chế độ ưu đãi người hoạt động kháng chiến",
         "chế độ trợ cấp thương binh", "trợ cấp mai táng phí", "chế độ điều dưỡng phục hồi sức khỏe",
         "chế độ ưu đãi trong giáo dục đào tạo"),
    ),
    "Bảo trợ xã hội": (
        ("Thực hiện", "Điều chỉnh", "Thôi hưởng", "Tiếp nhận hồ sơ", "Xác nhận", "Đăng ký"),
        ("trợ cấp xã hội hàng tháng", "hỗ trợ kinh phí chăm sóc, nuôi dưỡng", "hoạt động cơ sở trợ giúp xã hội",
         "đối tượng vào cơ sở trợ giúp xã hội", "hỗ trợ khẩn cấp", "trợ giúp xã hội đột xuất"),
    ),
    "Việc làm": (
        ("Cấp", "Cấp lại", "Gia hạn", "Giải quyết", "Đăng ký", "Thu hồi"),
        ("giấy phép lao động cho người nước ngoài", "trợ cấp thất nghiệp", "giấy phép hoạt động dịch vụ việc làm",
         "hỗ trợ học nghề", "xác nhận người lao động nước ngoài không thuộc diện cấp giấy phép lao động",
         "nội quy lao động"),
    ),
    "Giáo dục nghề nghiệp": (
        ENTITY_ACTIONS,
        ("trường trung cấp", "trung tâm giáo dục nghề nghiệp", "hoạt động giáo dục nghề nghiệp",
         "phân hiệu trường trung cấp", "liên kết đào tạo với nước ngoài", "doanh nghiệp có hoạt động đào tạo nghề"),
    ),
    "An toàn lao động": (
        ("Cấp", "Gia hạn", "Khai báo", "Điều tra", "Đăng ký"),
        ("giấy chứng nhận đủ điều kiện hoạt động kiểm định kỹ thuật an toàn lao động",
         "giấy chứng nhận huấn luyện an toàn lao động", "việc sử dụng máy, thiết bị có yêu cầu nghiêm ngặt",
         "tai nạn lao động", "chế độ bồi thường tai nạn lao động",
         "hoạt động huấn luyện an toàn, vệ sinh lao động"),
    ),
    "Văn hóa": (
        LICENCE_ACTIONS,
        ("giấy phép biểu diễn nghệ thuật", "giấy phép tổ chức lễ hội", "giấy phép kinh doanh karaoke",
         "giấy phép kinh doanh vũ trường", "giấy phép triển lãm mỹ thuật", "giấy phép thực hiện quảng cáo",
         "giấy phép tổ chức thi người đẹp"),
    ),
    "Gia đình": (
        LICENCE_ACTIONS,
        ("giấy chứng nhận đăng ký hoạt động cơ sở hỗ trợ nạn nhân bạo lực gia đình",
         "giấy chứng nhận nghiệp vụ chăm sóc nạn nhân bạo lực gia đình",
         "giấy chứng nhận cơ sở tư vấn về phòng, chống bạo lực gia đình", "thẻ nhân viên tư vấn",
         "giấy chứng nhận nghiệp vụ tư vấn", "giấy chứng nhận cơ sở hỗ trợ nạn nhân"),
    ),
    "Thể dục thể thao": (
        LICENCE_ACTIONS,
        ("giấy chứng nhận đủ điều kiện kinh doanh hoạt động thể thao",
         "giấy chứng nhận câu lạc bộ thể thao chuyên nghiệp", "giấy phép tổ chức giải thi đấu thể thao",
         "giấy phép kinh doanh hoạt động thể thao mạo hiểm", "giấy chứng nhận huấn luyện viên",
         "giấy phép kinh doanh bể bơi"),
    ),
    "Du lịch": (
        LICENCE_ACTIONS,
        ("giấy phép kinh doanh dịch vụ lữ hành nội địa", "thẻ hướng dẫn viên du lịch",
         "quyết định công nhận hạng cơ sở lưu trú du lịch",
         "giấy phép thành lập văn phòng đại diện doanh nghiệp du lịch",
         "biển hiệu phương tiện vận tải khách du lịch", "giấy chứng nhận cơ sở kinh doanh dịch vụ đạt chuẩn"),
    ),
    "Hoạt động khoa học và công nghệ": (
        ("Cấp", "Cấp lại", "Đăng ký", "Thay đổi", "Thẩm định", "Công nhận"),
        ("giấy chứng nhận đăng ký hoạt động khoa học và công nghệ",
         "giấy chứng nhận doanh nghiệp khoa học và công nghệ", "hợp đồng chuyển giao công nghệ",
         "nhiệm vụ khoa học và công nghệ", "văn phòng đại diện tổ chức khoa học và công nghệ",
         "kết quả nhiệm vụ khoa học và công nghệ"),
    ),
    "Tiêu chuẩn đo lường chất lượng": (
        ("Kiểm định", "Chứng nhận", "Đăng ký", "Kiểm tra chất lượng", "Tiếp nhận hồ sơ", "Chỉ định"),
        ("phương tiện đo", "chuẩn đo lường", "dấu định lượng", "hàng hóa nhập khẩu", "công bố hợp chuẩn",
         "tổ chức kiểm định phương tiện đo"),
    ),
    "An toàn bức xạ và hạt nhân": (
        LICENCE_ACTIONS,
        ("giấy phép tiến hành công việc bức xạ", "chứng chỉ nhân viên bức xạ", "giấy phép sử dụng thiết bị X-quang",
         "giấy đăng ký dịch vụ hỗ trợ ứng dụng năng lượng nguyên tử", "kế hoạch ứng phó sự cố bức xạ",
         "giấy phép vận chuyển chất phóng xạ"),
    ),
    "Sở hữu trí tuệ": (
        ("Hướng dẫn", "Hỗ trợ", "Quản lý", "Cấp", "Thu hồi", "Đăng ký"),
        ("đơn đăng ký nhãn hiệu tập thể", "chỉ dẫn địa lý", "dự án phát triển tài sản trí tuệ",
         "giấy chứng nhận tổ chức giám định sở hữu công nghiệp", "thẻ giám định viên sở hữu công nghiệp",
         "nhãn hiệu chứng nhận"),
    ),
    "Giáo dục và Đào tạo": (
        ENTITY_ACTIONS,
        ("trường trung học phổ thông", "trung tâm ngoại ngữ, tin học", "trường phổ thông dân tộc nội trú",
         "trung tâm hỗ trợ phát triển giáo dục hòa nhập", "trường mầm non tư thục",
         "trung tâm giáo dục thường xuyên", "trường trung học cơ sở"),
    ),
    "Văn bằng, chứng chỉ": (
        ("Cấp", "Cấp lại", "Chỉnh sửa nội dung", "Công nhận", "Xác minh", "Thu hồi"),
        ("bản sao văn bằng tốt nghiệp", "bằng tốt nghiệp trung học phổ thông", "chứng chỉ ngoại ngữ",
         "chứng chỉ tin học", "giấy chứng nhận tốt nghiệp tạm thời", "văn bằng do cơ sở nước ngoài cấp",
         "bằng tốt nghiệp trung học cơ sở"),
    ),
    "Thi, tuyển sinh": (
        ("Đăng ký dự", "Tổ chức", "Phúc khảo bài", "Xét", "Công nhận kết quả", "Miễn"),
        ("thi trung học phổ thông quốc gia", "tuyển sinh trung học phổ thông", "thi nghề phổ thông",
         "thi chọn học sinh giỏi", "tuyển thẳng vào trung học phổ thông", "thi tuyển sinh lớp 10 chuyên"),
    ),
    "Khám bệnh, chữa bệnh": (
        LICENCE_ACTIONS,
        ("giấy phép hoạt động phòng khám đa khoa", "chứng chỉ hành nghề khám bệnh, chữa bệnh",
         "giấy phép hoạt động phòng khám chuyên khoa", "giấy phép hoạt động nhà hộ sinh",
         "giấy phép hoạt động dịch vụ y tế", "giấy phép hoạt động phòng chẩn trị y học cổ truyền",
         "giấy phép hoạt động trạm y tế"),
    ),
    "Dược phẩm": (
        LICENCE_ACTIONS,
        ("chứng chỉ hành nghề dược", "giấy chứng nhận đủ điều kiện kinh doanh dược",
         "giấy xác nhận nội dung quảng cáo thuốc", "giấy chứng nhận thực hành tốt phân phối thuốc",
         "giấy phép nhập khẩu thuốc", "giấy xác nhận hội thảo giới thiệu thuốc",
         "giấy chứng nhận thực hành tốt cơ sở bán lẻ thuốc"),
    ),
    "Y tế dự phòng": (
        LICENCE_ACTIONS,
        ("giấy chứng nhận đủ điều kiện xét nghiệm", "giấy chứng nhận cơ sở đủ điều kiện tiêm chủng",
         "giấy chứng nhận phòng xét nghiệm an toàn sinh học", "giấy chứng nhận đủ điều kiện điều trị nghiện chất",
         "giấy chứng nhận đủ điều kiện quan trắc môi trường lao động", "giấy chứng nhận kiểm dịch y tế",
         "giấy chứng nhận đủ điều kiện cung cấp dịch vụ diệt côn trùng"),
    ),
    "Trang thiết bị y tế": (
        LICENCE_ACTIONS,
        ("số lưu hành trang thiết bị y tế", "giấy phép nhập khẩu trang thiết bị y tế",
         "giấy chứng nhận đủ điều kiện mua bán trang thiết bị y tế",
         "giấy chứng nhận đủ điều kiện sản xuất trang thiết bị y tế",
         "giấy chứng nhận kiểm định trang thiết bị y tế", "bản phân loại trang thiết bị y tế"),
    ),
    "Tiếp công dân": (
        ("Tiếp", "Xử lý đơn của", "Hướng dẫn", "Chuyển đơn của"),
        ("công dân đến khiếu nại", "công dân đến tố cáo", "công dân đến kiến nghị, phản ánh", "đoàn đông người",
         "công dân ở nơi tiếp công dân", "công dân có đơn không thuộc thẩm quyền"),
    ),
    "Giải quyết khiếu nại": (
        ("Giải quyết", "Thụ lý", "Rút", "Hòa giải"),
        ("khiếu nại lần đầu", "khiếu nại lần hai", "khiếu nại quyết định hành chính", "khiếu nại hành vi hành chính",
         "khiếu nại về đất đai"),
    ),
    "Giải quyết tố cáo": (
        ("Giải quyết", "Thụ lý", "Xử lý", "Tạm đình chỉ giải quyết"),
        ("tố cáo", "tố cáo tiếp", "tố cáo hành vi vi phạm pháp luật", "tố cáo đối với công chức",
         "tố cáo về quản lý nhà nước"),
    ),
    "Công tác dân tộc": (
        ("Công nhận", "Đưa ra khỏi danh sách", "Hỗ trợ", "Xét duyệt"),
        ("người có uy tín trong đồng bào dân tộc thiểu số", "học sinh dân tộc thiểu số",
         "hộ nghèo đồng bào dân tộc thiểu số", "thôn đặc biệt khó khăn vùng dân tộc thiểu số"),
    ),
    "Hộ tịch": (
        ("Đăng ký", "Đăng ký lại", "Cấp bản sao trích lục", "Cải chính, bổ sung", "Ghi vào Sổ hộ tịch việc"),
        ("khai sinh", "kết hôn", "khai tử", "giám hộ", "nhận cha, mẹ, con", "khai sinh có yếu tố nước ngoài",
         "kết hôn có yếu tố nước ngoài"),
    ),
    "Chứng thực": (
        ("Chứng thực", "Sửa lỗi sai sót trong chứng thực", "Cấp bản sao có chứng thực"),
        ("bản sao từ bản chính", "chữ ký", "hợp đồng, giao dịch", "di chúc", "văn bản từ chối nhận di sản",
         "văn bản thỏa thuận phân chia di sản", "chữ ký người dịch", "việc sửa đổi, bổ sung hợp đồng"),
    ),
    "Thành lập và hoạt động hộ kinh doanh": (
        ("Đăng ký thành lập", "Đăng ký thay đổi nội dung", "Tạm ngừng hoạt động", "Chấm dứt hoạt động",
         "Cấp lại giấy chứng nhận đăng ký"),
        ("hộ kinh doanh", "hợp tác xã", "chi nhánh hợp tác xã", "tổ hợp tác", "hộ kinh doanh buôn bán nhỏ",
         "địa điểm kinh doanh của hộ kinh doanh"),
    ),
    "Nông nghiệp": (
        ("Hỗ trợ", "Xác nhận", "Cấp", "Phê duyệt", "Thẩm định"),
        ("khắc phục thiệt hại do thiên tai trong sản xuất nông nghiệp", "kinh tế trang trại",
         "giống cây trồng sau thiên tai", "đầu tư cơ sở hạ tầng vùng nuôi trồng thủy sản",
         "hợp đồng liên kết sản xuất và tiêu thụ nông sản", "kế hoạch chuyển đổi cơ cấu cây trồng"),
    ),
}

# Relative number of procedures of each provincial agency (driving-licence, business and health agencies publish
# the most) and the fields they handle.
AGENCY_CATALOGUES: dict[str, tuple[int, tuple[str, ...]]] = {
    "84.SNV": (85, ("Tổ chức - Biên chế", "Thi đua - Khen thưởng", "Tôn giáo", "Công chức, viên chức")),
    "84.STP": (140, ("Lý lịch tư pháp", "Quốc tịch", "Công chứng", "Luật sư", "Đấu giá tài sản",
                     "Trợ giúp pháp lý", "Hộ tịch")),
    "84.SKHDT": (130, ("Thành lập và hoạt động doanh nghiệp", "Đầu tư tại Việt Nam", "Hợp tác xã", "Đấu thầu")),
    "84.STC": (35, ("Quản lý giá", "Quản lý công sản", "Tài chính doanh nghiệp")),
    "84.SCT": (125, ("Lưu thông hàng hóa trong nước", "Điện", "Hóa chất", "An toàn thực phẩm",
                     "Xúc tiến thương mại")),
    "84.SNNPTNT": (125, ("Trồng trọt", "Thú y", "Thủy sản", "Lâm nghiệp", "Thủy lợi")),
    "84.SGTVT": (115, ("Đường bộ", "Đường thủy nội địa", "Đăng kiểm")),
    "84.SXD": (60, ("Hoạt động xây dựng", "Nhà ở", "Quy hoạch xây dựng")),
    "84.STNMT": (105, ("Đất đai", "Môi trường", "Tài nguyên nước", "Khoáng sản", "Đo đạc và bản đồ")),
    "84.STTTT": (45, ("Xuất bản, in và phát hành", "Báo chí", "Viễn thông và Internet")),
    "84.SLDTBXH": (95, ("Người có công", "Bảo trợ xã hội", "Việc làm", "Giáo dục nghề nghiệp",
                        "An toàn lao động")),
    "84.SVHTTDL": (120, ("Văn hóa", "Gia đình", "Thể dục thể thao", "Du lịch")),
    "84.SKHCN": (55, ("Hoạt động khoa học và công nghệ", "Tiêu chuẩn đo lường chất lượng",
                      "An toàn bức xạ và hạt nhân", "Sở hữu trí tuệ")),
    "84.SGDDT": (90, ("Giáo dục và Đào tạo", "Văn bằng, chứng chỉ", "Thi, tuyển sinh")),
    "84.SYT": (160, ("Khám bệnh, chữa bệnh", "Dược phẩm", "Y tế dự phòng", "An toàn thực phẩm",
                     "Trang thiết bị y tế")),
    "84.TTR": (12, ("Tiếp công dân", "Giải quyết khiếu nại", "Giải quyết tố cáo")),
    "84.BDT": (6, ("Công tác dân tộc",)),
    "84.BQLKKT": (50, ("Đầu tư tại Việt Nam", "Việc làm", "Hoạt động xây dựng", "Môi trường")),
}
LOCAL_TIER_FIELDS: dict[str, tuple[str, ...]] = {
    "district": ("Hộ tịch", "Chứng thực", "Đất đai", "Hoạt động xây dựng", "Thành lập và hoạt động hộ kinh doanh",
                 "Bảo trợ xã hội", "Người có công", "Giáo dục và Đào tạo", "Văn hóa", "Môi trường",
                 "Lưu thông hàng hóa trong nước", "Nông nghiệp", "Giải quyết khiếu nại"),
    "commune": ("Hộ tịch", "Chứng thực", "Bảo trợ xã hội", "Người có công", "Đất đai", "Văn hóa",
                "Tiếp công dân", "Giải quyết khiếu nại", "Nông nghiệp"),
}
# Services the province put online first: business registration, criminal records, licences with many
# applicants. Complaint handling stays in person.
FIELD_ONLINE_PROPENSITY = {
    "Thành lập và hoạt động doanh nghiệp": 3.0,
    "Lý lịch tư pháp": 3.0,
    "Đường bộ": 2.5,
    "Xuất bản, in và phát hành": 3.0,
    "Viễn thông và Internet": 3.0,
    "Hộ tịch": 2.0,
    "Thành lập và hoạt động hộ kinh doanh": 2.5,
    "Lưu thông hàng hóa trong nước": 2.0,
    "Tiếp công dân": 0.1,
    "Giải quyết khiếu nại": 0.1,
    "Giải quyết tố cáo": 0.1,
    "Công tác dân tộc": 0.2,
}


@dataclass(frozen=True)
class ProcedureVersion:
    service_level: int
    valid_from: date
    valid_to: date | None  # exclusive; None while the version is still in force

    def in_force_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


@dataclass(frozen=True)
class Procedure:
    code: str
    name: str
    field: str
    tier: str
    agency_code: str | None  # the handling agency for province-tier procedures; every unit of the tier otherwise
    deadline_working_days: int
    versions: tuple[ProcedureVersion, ...]

    def version_on(self, day: date) -> ProcedureVersion | None:
        return next((version for version in self.versions if version.in_force_on(day)), None)

    def version_rows(self) -> list[dict]:
        return [
            {
                "code": self.code,
                "name": self.name,
                "field": self.field,
                "tier": self.tier,
                "agency_code": self.agency_code,
                "service_level": version.service_level,
                "valid_from": version.valid_from.isoformat(),
                "valid_to": version.valid_to.isoformat() if version.valid_to else None,
                "deadline_working_days": self.deadline_working_days,
            }
            for version in self.versions
        ]


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split `total` in proportion to `weights` (largest remainder), so the parts add up exactly."""
    exact = total * weights / weights.sum()
    parts = np.floor(exact).astype(int)
    shortfall = total - parts.sum()
    parts[np.argsort(parts - exact, kind="stable")[:shortfall]] += 1
    return parts


def _random_days(rng: np.random.Generator, first: date, last: date, size: int) -> np.ndarray:
    """Uniform ordinals of days in [first, last]."""
    return rng.integers(first.toordinal(), last.toordinal() + 1, size=size)


def _handler_blocks(tier: str, total: int) -> list[tuple[str | None, int]]:
    """(agency code or None, number of procedures) for each handler of the tier."""
    if tier != "province":
        return [(None, total)]
    agencies = [code for code, _ in PROVINCE_AGENCIES]
    sizes = _allocate(total, np.array([AGENCY_CATALOGUES[code][0] for code in agencies], dtype=float))
    return list(zip(agencies, sizes.tolist(), strict=True))


def _named_fields(rng: np.random.Generator, fields: tuple[str, ...], size: int) -> list[tuple[str, str]]:
    """(field, name) for `size` procedures of one handler, with names unique within the handler."""
    capacities = np.array([len(FIELD_WORDING[f][0]) * len(FIELD_WORDING[f][1]) for f in fields], dtype=float)
    named: list[tuple[str, str]] = []
    for field, count in zip(fields, _allocate(size, capacities).tolist(), strict=True):
        actions, objects = FIELD_WORDING[field]
        if count > len(actions) * len(objects):
            raise ValueError(f"field {field!r} has too few name combinations for {count} procedures")
        names = [f"{action} {obj}" for action in actions for obj in objects]
        named.extend((field, names[i]) for i in rng.permutation(len(names))[:count])
    return [named[i] for i in rng.permutation(len(named))]


def _versions(
    valid_from: int, valid_to: int | None, first_level: int, changes: list[tuple[int, int]]
) -> tuple[ProcedureVersion, ...]:
    """Cut the life [valid_from, valid_to) of a procedure at each (day ordinal, new level) change."""
    ordered = sorted(changes)
    starts = [valid_from, *(day for day, _ in ordered)]
    levels = [first_level, *(level for _, level in ordered)]
    ends = [*starts[1:], valid_to]
    return tuple(
        ProcedureVersion(level, date.fromordinal(start), date.fromordinal(end) if end else None)
        for level, start, end in zip(levels, starts, ends, strict=True)
    )


def _tier_procedures(rng: np.random.Generator, tier: str, codes: list[str]) -> list[Procedure]:
    plan = TIER_PLANS[tier]
    handlers: list[str | None] = []
    named: list[tuple[str, str]] = []
    anchors: list[int] = []
    for agency_code, size in _handler_blocks(tier, len(codes)):
        fields = AGENCY_CATALOGUES[agency_code][1] if agency_code else LOCAL_TIER_FIELDS[tier]
        # Each handler keeps one level-2 procedure in force throughout, so every unit always has work.
        anchors.append(len(handlers))
        handlers.extend([agency_code] * size)
        named.extend(_named_fields(rng, fields, size))
    count = len(codes)
    propensity = np.array([FIELD_ONLINE_PROPENSITY.get(field, 1.0) for field, _ in named])

    movable = np.setdiff1d(np.arange(count), anchors)
    shuffled = rng.permutation(movable)
    abolished_early = shuffled[: plan.abolished_before_reference]
    published_late = shuffled[
        plan.abolished_before_reference : plan.abolished_before_reference + plan.published_after_reference
    ]
    in_force = np.setdiff1d(np.arange(count), np.concatenate([abolished_early, published_late]))

    def pick(candidates: np.ndarray, size: int) -> np.ndarray:
        weights = propensity[candidates]
        return rng.choice(candidates, size=size, replace=False, p=weights / weights.sum())

    level = np.full(count, 2)
    online_candidates = np.setdiff1d(in_force, anchors)
    level4 = pick(online_candidates, plan.level4_on_reference)
    level[level4] = 4
    level3 = pick(np.setdiff1d(online_candidates, level4), plan.level3_on_reference)
    level[level3] = 3
    first_level = level.copy()

    launch, reference = SYSTEM_LAUNCH_DATE.toordinal(), REFERENCE_DATE.toordinal()
    valid_from = np.full(count, launch)
    valid_to = np.zeros(count, dtype=int)  # 0: never abolished
    first_level[published_late] = rng.choice([2, 3, 4], size=len(published_late), p=plan.new_procedure_level_shares)
    valid_from[published_late] = _random_days(
        rng, REFERENCE_DATE + timedelta(days=1), CATALOGUE_END - timedelta(days=30), len(published_late)
    )
    valid_to[abolished_early] = _random_days(rng, date(2018, 3, 1), REFERENCE_DATE, len(abolished_early))

    movable_in_force = np.setdiff1d(in_force, anchors)
    late = rng.choice(movable_in_force, size=round(LATE_PUBLICATION_SHARE * len(in_force)), replace=False)
    valid_from[late] = _random_days(rng, SYSTEM_LAUNCH_DATE + timedelta(days=1), REFERENCE_DATE, len(late))
    ending = rng.choice(movable_in_force, size=round(LATER_ABOLITION_SHARE * len(in_force)), replace=False)
    valid_to[ending] = _random_days(rng, REFERENCE_DATE + timedelta(days=1), CATALOGUE_END, len(ending))

    changes: list[list[tuple[int, int]]] = [[] for _ in range(count)]
    # Some services reached their reference-date level during 2018 or Q1/2019, one level lower before.
    for upgraded_level in (3, 4):
        at_level = np.intersect1d(in_force, np.flatnonzero(level == upgraded_level))
        earlier = rng.choice(at_level, size=round(EARLIER_LOWER_LEVEL_SHARE * len(at_level)), replace=False)
        for index in earlier[valid_from[earlier] < reference].tolist():
            changes[index].append((int(rng.integers(valid_from[index] + 1, reference + 1)), upgraded_level))
            first_level[index] = upgraded_level - 1
    for lower, upper, share, window_start, window_end in UPGRADES_AFTER_REFERENCE:
        at_lower = np.intersect1d(movable_in_force, np.flatnonzero(level == lower)).tolist()
        # A service moves up once after the reference date: skip those an earlier window already upgraded.
        candidates = np.array([i for i in at_lower if all(lvl < upper for _, lvl in changes[i])], dtype=int)
        chosen = rng.choice(candidates, size=round(share * len(candidates)), replace=False)
        days = _random_days(rng, window_start, window_end, len(chosen))
        for index, day in zip(chosen.tolist(), days.tolist(), strict=True):
            if valid_to[index] == 0 or day < valid_to[index]:
                changes[index].append((day, upper))

    return [
        Procedure(
            code=codes[i],
            name=named[i][1],
            field=named[i][0],
            tier=tier,
            agency_code=handlers[i],
            deadline_working_days=int(rng.choice(plan.deadline_working_days)),
            versions=_versions(int(valid_from[i]), int(valid_to[i]) or None, int(first_level[i]), changes[i]),
        )
        for i in range(count)
    ]


@cache
def load_catalogue() -> tuple[Procedure, ...]:
    """Every procedure the system ever listed (2018-2020), sorted by code."""
    rng = np.random.default_rng(CATALOGUE_SEED)
    sizes = [
        plan.in_force_on_reference + plan.abolished_before_reference + plan.published_after_reference
        for plan in (TIER_PLANS[tier] for tier in TIERS)
    ]
    numbers = rng.choice(np.arange(100, 3100), size=sum(sizes), replace=False).tolist()
    codes = [f"1.{number:06d}" for number in numbers]
    procedures: list[Procedure] = []
    for tier, offset, size in zip(TIERS, np.cumsum([0, *sizes[:-1]]).tolist(), sizes, strict=True):
        procedures.extend(_tier_procedures(rng, tier, codes[offset : offset + size]))
    return tuple(sorted(procedures, key=lambda procedure: procedure.code))


def procedure_versions(as_of: date | None = None) -> list[dict]:
    """One row per procedure version; with `as_of`, only the versions in force that day (from <= day < to)."""
    return [
        row
        for procedure in load_catalogue()
        for version, row in zip(procedure.versions, procedure.version_rows(), strict=True)
        if as_of is None or version.in_force_on(as_of)
    ]
