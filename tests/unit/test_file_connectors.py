"""File-drop and cursor connectors on deliveries that go wrong in the ways real ones do."""

from __future__ import annotations

from datetime import date

import pytest
from scripted_http import ScriptedSession

from egov.core.sources import CA, MAIL
from egov.ingest.connectors.files import CsvDropConnector
from egov.ingest.connectors.http import CursorApiConnector
from egov.ingest.errors import SourceDataError, SourceUnavailable
from egov.ingest.records import rejection_reason

ACCOUNTS = MAIL.entities[0]
DAY = (date(2019, 3, 6), date(2019, 3, 7))
HEADER = "Ngày,Mã đơn vị,Tên đơn vị,Số tài khoản tạo mới,Số tài khoản đóng,Tổng số tài khoản"


def drop(tmp_path, *lines: str, encoding: str = "utf-8-sig") -> CsvDropConnector:
    (tmp_path / "hopthu_20190306.csv").write_bytes("\r\n".join([HEADER, *lines]).encode(encoding))
    return CsvDropConnector(tmp_path)


def records(connector) -> list[dict]:
    return [record for page in connector.pages(ACCOUNTS, DAY) for record in page.records]


def test_a_file_without_its_control_row_may_still_be_arriving(tmp_path):
    connector = drop(tmp_path, "06/03/2019,842,Thành phố Trà Vinh,1,0,50")
    with pytest.raises(SourceUnavailable, match="no 'Tổng cộng' control row"):
        records(connector)


def test_a_control_total_that_does_not_add_up_is_refused(tmp_path):
    connector = drop(tmp_path, "06/03/2019,842,Thành phố Trà Vinh,1,0,50", "06/03/2019,,Tổng cộng,2,0,50")
    with pytest.raises(SourceDataError, match="sums to 1 but the control total row says 2"):
        records(connector)


def test_a_row_with_more_cells_than_the_header_is_quarantined_not_fatal(tmp_path):
    connector = drop(tmp_path, "06/03/2019,842,Sở Tài nguyên và Môi trường, tỉnh Trà Vinh,1,0,50",
                     "06/03/2019,844,Huyện Càng Long,0,0,40", "06/03/2019,,Tổng cộng,0,0,90")
    shifted, fine = records(connector)
    assert "1 more cells than the header" in rejection_reason(ACCOUNTS, shifted, DAY)
    assert rejection_reason(ACCOUNTS, fine, DAY) is None


def test_an_export_in_another_encoding_is_a_named_error(tmp_path):
    connector = drop(tmp_path, "06/03/2019,842,Thành phố Trà Vinh,1,0,50", "06/03/2019,,Tổng cộng,1,0,50",
                     encoding="utf-16")
    with pytest.raises(SourceDataError, match="not UTF-8"):
        records(connector)


def test_a_cursor_feed_that_stops_without_a_cursor_is_not_taken_as_complete():
    says_more = {"data": [{"serial": "A1", "updated_at": "2019-03-06T09:00:00+07:00"}], "has_more": True,
                 "next_cursor": None}
    feed = CursorApiConnector("http://ca", "t", session=ScriptedSession([says_more]))
    with pytest.raises(SourceUnavailable, match="sent no cursor"):
        list(feed.pages(CA.entities[1], DAY))
