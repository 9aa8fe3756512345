"""The gettext catalogues are complete and current: every English message the gateway and the
console show (extracted as a translator's round extracts them: babel.cfg) has its Chinese,
the catalogue holds nothing the sources no longer say, and what the gateway reads (the
compiled .mo) is the .po."""
from __future__ import annotations

from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from gateway import i18n, translations

CATALOGUE = translations.DIRECTORY / "zh_CN" / "LC_MESSAGES" / "messages"


def extracted(tmp_path) -> dict:
    template = tmp_path / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F",
                                str(translations.DIRECTORY / "babel.cfg"), "-k", "N_",
                                "--no-location", "-o", str(template), "."])
    with template.open("rb") as read:
        return {(message.context, message.id): message for message in read_po(read) if message.id}


def catalogue() -> dict:
    with CATALOGUE.with_suffix(".po").open("rb") as read:
        return {(message.context, message.id): message for message in read_po(read) if message.id}


def test_every_message_has_its_chinese_and_none_is_stale(tmp_path):
    english, chinese = extracted(tmp_path), catalogue()
    untranslated = [key for key in english
                    if key not in chinese or not chinese[key].string or chinese[key].fuzzy]
    assert untranslated == [], ("messages without their Chinese: run pybabel update and "
                                f"translate them in {CATALOGUE}.po: {untranslated}")
    assert sorted(set(chinese) - set(english)) == []
    with CATALOGUE.with_suffix(".po").open("rb") as read:
        assert not read_po(read).obsolete  # pybabel update --ignore-obsolete drops them
    assert any(context and context.startswith("console.") for context, _ in english)
    assert ("Bad request" in {message_id for _, message_id in english}
            and "Longer than maximum length {0}." in {message_id for _, message_id in english})


def test_the_compiled_catalogue_is_the_po():
    with CATALOGUE.with_suffix(".mo").open("rb") as read:
        compiled = {(message.context, message.id): message.string
                    for message in read_mo(read) if message.id}
    assert compiled == {key: message.string for key, message in catalogue().items()}


def test_a_message_is_translated_with_its_values_and_an_unknown_one_passes_through():
    assert i18n.translate("Longer than maximum length 200.", "zh-CN") == "长度不能超过 200。"
    # The Chinese may put the values in another order.
    assert (i18n.translate("3 of 10 rows were not imported; errors.csv holds them, ready to fix "
                           "and import again.", "zh-CN")
            == "10 行中有 3 行未导入；errors.csv 包含这些行，修正后可重新导入。")
    assert i18n.translate("Nothing we know.", "zh-CN") == "Nothing we know."
    assert i18n.problem_text("not_found", "zh-CN") == ("未找到", "该资源不存在。")
    assert i18n.problem_text("not_found", "en") == ("Not found", "The resource does not exist.")


def test_the_console_reads_the_same_catalogue():
    module = translations.console_module().decode()
    assert module.startswith("// Generated from gateway/translations")
    assert translations.console_strings("zh-CN")["nav.customers"] == "客户"


def test_every_translated_message_formats_with_its_values():
    """A translation's placeholders are the English's ({0}...; literal braces doubled): a
    stray brace would answer a Chinese reader in English."""
    for (context, english), message in catalogue().items():
        if context is None:
            values = [f"v{index}" for index in range(english.count("{") + 1)]
            message.string.format(*values)  # raises on a bad one
