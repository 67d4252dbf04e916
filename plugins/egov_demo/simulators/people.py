"""People's names as the province's registers show them: Kinh and Khmer family names, Vietnamese given names."""

import numpy as np

FAMILY_NAMES = (
    ("Nguyễn", 30), ("Trần", 10), ("Lê", 9), ("Phạm", 6), ("Huỳnh", 6), ("Võ", 5), ("Phan", 4), ("Thạch", 4),
    ("Trương", 3), ("Đặng", 2), ("Bùi", 2), ("Đỗ", 2), ("Hồ", 2), ("Ngô", 2), ("Dương", 2), ("Lâm", 2),
    ("Kim", 2), ("Sơn", 2), ("Lý", 1.5), ("Danh", 1.5), ("Châu", 1), ("Đoàn", 1), ("Tăng", 1),
)
MIDDLE_NAMES = {
    "male": ("Văn", "Minh", "Hoàng", "Quốc", "Thanh", "Hữu", "Công", "Đức", "Ngọc", "Tấn"),
    "female": ("Thị", "Ngọc", "Thanh", "Thị Thu", "Thị Kim", "Thị Bích", "Thu", "Mỹ", "Kim", "Thị Ngọc"),
}
GIVEN_NAMES = {
    "male": ("An", "Bình", "Cường", "Dũng", "Duy", "Hải", "Hiếu", "Hùng", "Huy", "Khoa", "Khánh", "Lâm", "Long",
             "Luân", "Nam", "Nghĩa", "Nhân", "Phong", "Phúc", "Quang", "Sang", "Tài", "Tâm", "Thắng", "Thành",
             "Thịnh", "Toàn", "Trí", "Trung", "Tuấn", "Vinh", "Vũ"),
    "female": ("Anh", "Châu", "Diễm", "Dung", "Duyên", "Giang", "Hạnh", "Hằng", "Hoa", "Hương", "Lan", "Liên",
               "Linh", "Loan", "Mai", "Ngân", "Nga", "Nhung", "Oanh", "Phương", "Quyên", "Thảo", "Thủy", "Trang",
               "Trinh", "Tuyết", "Vân", "Yến"),
}
FEMALE_SHARE = 0.52


def draw(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    """`size` indices drawn with replacement in proportion to `weights`."""
    cumulative = np.cumsum(weights)
    return np.searchsorted(cumulative, rng.random(size) * cumulative[-1], side="right")


def person_names(rng: np.random.Generator, size: int) -> list[tuple[str, str, str]]:
    """(family, middle, given) names drawn from the province's common names, Kinh and Khmer."""
    family_weights = np.array([weight for _, weight in FAMILY_NAMES])
    families = draw(rng, family_weights, size)
    female = rng.random(size) < FEMALE_SHARE
    names = []
    for family, is_female in zip(families.tolist(), female.tolist(), strict=True):
        gender = "female" if is_female else "male"
        middle = MIDDLE_NAMES[gender][rng.integers(len(MIDDLE_NAMES[gender]))]
        given = GIVEN_NAMES[gender][rng.integers(len(GIVEN_NAMES[gender]))]
        names.append((FAMILY_NAMES[family][0], middle, given))
    return names
