"""Which control characters a one-line and a multi-line text may hold."""

from __future__ import annotations

import pytest

from surveys.plain_text import is_multi_line, is_single_line, single_line

BREAKS = ["\n", "\r", "\r\n", "\u2028", "\u2029"]
OTHERS = ["\x00", "\x07", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\x9f"]


@pytest.mark.parametrize("char", [*BREAKS, "\t", *OTHERS])
def test_a_single_line_holds_no_control_character(char):
    assert not is_single_line(f"Ann{char}Lee")
    assert single_line(f"Ann{char}{char}Lee") == "Ann Lee"


@pytest.mark.parametrize("char", [*BREAKS, "\t"])
def test_a_multi_line_text_holds_tabs_and_line_breaks(char):
    assert is_multi_line(f"Ann{char}Lee")


@pytest.mark.parametrize("char", OTHERS)
def test_a_multi_line_text_holds_no_other_control_character(char):
    assert not is_multi_line(f"Ann{char}Lee")


@pytest.mark.parametrize("text", ["Ann Lee", "Иван Петров", "王小明", "Zoë 🙂", "a\u00a0b", ""])
def test_ordinary_text_passes_both(text):
    assert is_single_line(text) and is_multi_line(text) and single_line(text) == text
