from ai_session.core.compress import clean_lines, strip_ansi


def test_colours_osc8_links_and_charset_escapes_are_removed():
    raw = "\x1b[1m\x1b[31merror\x1b[0m: \x1b]8;;file:///x.py\x1b\\x.py\x1b]8;;\x1b\\ ok\x1b(B\x1b[m\n"
    assert clean_lines(raw) == ["error: x.py ok"]
    assert strip_ansi("\x1b[32mPASS\x1b[0m") == "PASS"


def test_carriage_return_redraws_keep_the_last_frame_and_crlf_is_one_line_end():
    raw = "Building [=>  ] 1/9\rBuilding [==> ] 2/9\r\x1b[Kwarning: x\r\nnext\r\n"
    assert clean_lines(raw) == ["warning: x", "next"]


def test_spinner_frames_drawn_with_cursor_column_moves_vanish():
    raw = "\u2819\x1b[1G\x1b[0K\u2839\x1b[1G\x1b[0Knpm error code ERESOLVE\r\n\u2819\x1b[1G\x1b[0K"
    assert clean_lines(raw) == ["npm error code ERESOLVE", ""]


def test_form_feed_inside_a_line_is_content_and_line_numbers_are_preserved():
    raw = "a\n\x0c#b\n\nc"
    assert clean_lines(raw) == ["a", "\x0c#b", "", "c"]
