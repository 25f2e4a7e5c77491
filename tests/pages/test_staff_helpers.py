"""Pure helpers of the staff pages: bilingual messages in one language, form errors, links and paging, answers."""

from __future__ import annotations

import pytest

from survey_platform.accounts.roles import ROLE_NAMES
from survey_platform.pages import i18n
from survey_platform.pages.forms import FormErrors, convert_form, errors_from, field_of
from survey_platform.pages.messages import localise, split_message
from survey_platform.pages.staff import LABEL_GROUPS, labels, link, paging
from survey_platform.places.schemas import CityIn
from survey_platform.storage.errors import Conflict, FieldProblem, InvalidInput


@pytest.mark.parametrize(
    ("message", "zh", "en"),
    [
        ("活动不存在 / campaign 'x' not found", "活动不存在", "campaign 'x' not found"),
        ("用户名或密码错误 / wrong username or password", "用户名或密码错误", "wrong username or password"),
        # a Chinese value quoted on the English side does not stop the cut
        ("用户名已存在 / username '张三' is taken", "用户名已存在", "username '张三' is taken"),
        # a bilingual fragment inside the Chinese part: the cut is at the sentence, not the fragment
        (
            "城市 wuxi 的变量 sex / city 'wuxi', variable 'sex', 类别 x: 应为正的有限数值 / category 'x': expected "
            "a positive share or count, got -1",
            "城市 wuxi 的变量 sex / city 'wuxi', variable 'sex', 类别 x: 应为正的有限数值",
            "category 'x': expected a positive share or count, got -1",
        ),
    ],
)
def test_a_bilingual_message_is_cut_at_its_english_sentence(message: str, zh: str, en: str) -> None:
    assert localise(message, "zh-CN") == zh
    assert localise(message, "en") == en


def test_a_message_without_a_clean_cut_is_shown_whole() -> None:
    mixed = (
        f"{ROLE_NAMES['interviewer']} 不能分配到检查 / inspection活动 'qr'; only {ROLE_NAMES['inspector']}"
    )
    assert split_message(mixed) is None
    assert localise(mixed, "en") == mixed
    assert localise("only English", "zh-CN") == "only English"


def test_service_errors_land_beside_their_fields() -> None:
    assert [field_of(p) for p in ("$.comment", "$.cities[3]", "$.margins.sex.f", "form:file", "$", "x")] == [
        "comment",
        "cities",
        "margins",
        "file",
        None,
        None,
    ]
    error = InvalidInput(
        "活动设置无效 / invalid campaign",
        (
            FieldProblem("$.cities[1]", "unknown", "城市不存在 / unknown city 'atlantis'"),
            FieldProblem("$.other", "x", "其他 / something else"),
        ),
    )
    errors = errors_from(error, "en", ("cities",))
    assert errors.fields == {"cities": ["unknown city 'atlantis'"]} and errors.general == ["something else"]
    conflict = errors_from(Conflict("只有草稿可修改 / only a draft campaign can be edited"), "zh-CN", ())
    assert conflict.general == ["只有草稿可修改"] and bool(conflict) and not FormErrors()


def test_form_values_convert_with_a_message_per_field() -> None:
    city, errors = convert_form({"code": "wuxi", "name_zh": "无锡", "population": "7490000"}, CityIn, {})
    assert city is not None and city.population == 7_490_000 and not errors
    city, errors = convert_form({"code": "Wu Xi", "name_zh": "无锡"}, CityIn, {"code": "lower-case please"})
    assert city is None and errors.fields == {"code": ["lower-case please"]}


def test_links_and_paging_keep_the_filter() -> None:
    assert link("/desk/audits", {"city": "wuxi", "state": None, "category": ""}) == "/desk/audits?city=wuxi"
    assert link("/desk/audits", {}) == "/desk/audits"
    assert link("/x", {"q": "<a&b>"}) == "/x?q=%3Ca%26b%3E"
    pages = paging("/desk/audits", {"city": "wuxi"}, total=120, page=2, size=50)
    assert (pages.count, pages.first, pages.last) == (3, 51, 100)
    assert pages.previous == "/desk/audits?city=wuxi&page=1" and pages.next == "/desk/audits?city=wuxi&page=3"
    empty = paging("/x", {}, total=0, page=1)
    assert (empty.count, empty.first, empty.last, empty.previous, empty.next) == (1, 0, 0, None, None)


def test_every_label_the_staff_pages_show_exists_in_both_languages() -> None:
    for language in i18n.LANGUAGES:
        catalog = i18n.catalog(language)
        for prefix, values in LABEL_GROUPS.values():
            missing = [prefix + value for value in values if prefix + value not in catalog]
            assert missing == [], f"{language}: {missing}"
    assert labels("zh-CN")["state"]["returned"] == "已退回" and labels("en")["role"]["reviewer"] == "reviewer"
