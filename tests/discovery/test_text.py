"""Segmentation, queries, highlights and masking, without the database."""

from __future__ import annotations

from huoban.discovery.text import highlight, parse_query, redact, segment


def test_documents_are_segmented_for_search_lowercased_and_keep_english_words():
    words = segment("雅安市农村留守儿童关爱 Left-behind Children ２０２４").split()
    assert {"雅安", "雅安市", "农村", "留守", "儿童", "关爱"} <= set(words)
    assert {"left", "behind", "children", "2024"} <= set(words)  # full-width digits normalised
    assert "-" not in words


def test_a_query_needs_every_word_in_any_of_its_segmentations():
    assert parse_query("留守儿童").tsquery == "('留守' & '儿童')"
    assert parse_query("心理健康").tsquery == "('心理健康' | ('心理' & '健康'))"
    assert parse_query("养老 -成都").tsquery == "'养老' & !'成都'"
    assert parse_query("雅安 OR 芦山").tsquery == "('雅安' | '芦山')"
    assert parse_query("Volunteers").tsquery == "'volunteers':*"
    assert parse_query("的").is_empty  # only a function word: no query at all


def test_query_words_cannot_break_out_of_the_tsquery_syntax():
    parsed = parse_query("a'|b & !c:* (d) <-> 留守'儿童")
    for word in parsed.terms:
        assert word.isalnum()
    assert "\\" not in parsed.tsquery


def test_chinese_highlights_sit_on_the_original_text_without_stray_spaces():
    parsed = parse_query("留守儿童 volunteer")
    html = highlight("为农村留守儿童招募Volunteers<志愿者>", parsed.terms, prefixes=parsed.prefixes)
    assert html == "为农村<mark>留守儿童</mark>招募<mark>Volunteer</mark>s&lt;志愿者&gt;"


def test_a_snippet_is_a_window_around_the_first_match():
    parsed = parse_query("养老")
    text = "甲" * 300 + "社区居家养老服务" + "乙" * 300
    html = highlight(text, parsed.terms, limit=60)
    assert html.startswith("…") and html.endswith("…")
    assert "<mark>养老</mark>" in html
    assert len(html.replace("<mark>", "").replace("</mark>", "")) == 62


def test_short_english_words_match_whole_words_only():
    parsed = parse_query("art")
    assert str(highlight("Art and party", parsed.terms, prefixes=parsed.prefixes)) == "<mark>Art</mark> and party"


def test_personal_contact_data_is_masked():
    text, count = redact("联系 +86 138 0013 8000 或 zhang.san@example.org；单位电话 028-86661234")
    assert count == 2
    assert text == "联系 *** 或 ***；单位电话 028-86661234"  # an office landline is public information
