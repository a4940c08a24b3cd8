"""Small HTTP rules the services share: conditional GETs, and download names in any script."""

from __future__ import annotations

import pytest

from wsis_shared.web import attachment_disposition, etag_matches

ETAG = '"3f2a"'


@pytest.mark.parametrize(
    "if_none_match",
    [ETAG, f"W/{ETAG}", f'"x", {ETAG}', f'"x",W/{ETAG}', "*"],
)
def test_a_conditional_get_matches_as_rfc_9110_says(if_none_match: str) -> None:
    assert etag_matches(if_none_match, ETAG)


@pytest.mark.parametrize("if_none_match", [None, "", '"3f2b"', '"x", "y"', "3f2a"])
def test_another_tag_does_not_match(if_none_match: str | None) -> None:
    assert not etag_matches(if_none_match, ETAG)


def test_a_download_name_in_any_script_is_latin_1_safe_and_exact() -> None:
    disposition = attachment_disposition('Отчёт "final".pdf')

    disposition.encode("latin-1")
    assert 'filename="_____ _final_.pdf"' in disposition
    assert "filename*=UTF-8''%D0%9E%D1%82%D1%87%D1%91%D1%82%20%22final%22.pdf" in disposition
