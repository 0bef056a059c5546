"""Vietnamese text order: an officer reads district lists in the order of the alphabet."""

from __future__ import annotations

from trace_service.text import sort_key


def test_d_with_stroke_comes_right_after_d_and_before_k():
    # Unicode's order put "Đắk Mil" after "Tuy Đức" (a new user's review of the office board).
    names = ["Huyện Tuy Đức", "Huyện Krông Nô", "Huyện Đắk Mil", "Huyện Cư Jút", "Huyện Dăm"]
    assert sorted(names, key=sort_key) == [
        "Huyện Cư Jút",
        "Huyện Dăm",
        "Huyện Đắk Mil",
        "Huyện Krông Nô",
        "Huyện Tuy Đức",
    ]


def test_case_does_not_count_and_plain_letters_come_first():
    assert sorted(["Tuy Đức", "gia Nghĩa", "Cư Jút"], key=sort_key) == [
        "Cư Jút",
        "gia Nghĩa",
        "Tuy Đức",
    ]
    assert sorted(["Đá", "Đa"], key=sort_key) == ["Đa", "Đá"]
