"""The report's figures read straight from the simulated systems' own interfaces, by the tests' own code.

Nothing here uses the project's connectors, loader or models: these are the expectations the
pipeline's numbers are checked against, so they must not share its mistakes. Each reader talks to
its system the plainest way there is (``requests``, a SQL query as the read-only role, ``csv``,
``openpyxl``).
"""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import psycopg
import requests

LOCAL = timezone(timedelta(hours=7))


def api_pages(simulator, path: str, **params) -> list[dict]:
    """Every record of a page-numbered endpoint."""
    rows, page = [], 1
    while page:
        body = requests.get(f"{simulator.base_url}{path}", params={**params, "page": page, "page_size": 10000},
                            headers={"Authorization": f"Bearer {simulator.token}"}, timeout=30).json()
        rows += body["data"]
        page = body["next_page"]
    return rows


def api_cursor(simulator, path: str, **params) -> list[dict]:
    """Every record of a cursor-paged change feed."""
    rows, cursor = [], None
    while True:
        body = requests.get(f"{simulator.base_url}{path}", params={**params, **({"cursor": cursor} if cursor else {})},
                            headers={"Authorization": f"Bearer {simulator.token}"}, timeout=30).json()
        rows += body["data"]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return rows


def end_of_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), LOCAL)


def onestop_figures(simulator, start: date, last_day: date) -> dict[str, int]:
    counts = api_pages(simulator, "/api/v1/dossier-counts", from_date=str(start), to_date=str(last_day))
    versions = api_pages(simulator, "/api/v1/procedures")
    units = api_pages(simulator, "/api/v1/units")

    def level_on(code: str, day: str) -> int:
        (level,) = [v["service_level"] for v in versions if v["code"] == code and v["valid_from"] <= day
                    and (v["valid_to"] is None or day < v["valid_to"])]
        return level

    figures: Counter = Counter()
    for row in counts:
        if row["event"] == "received":
            figures["onestop_dossiers_received"] += row["count"]
            level = level_on(row["procedure_code"], row["date"])
            channel = {"in_person": "direct", "online": "online"}.get(row["channel"])
            if level in (3, 4) and channel:
                figures[f"level{level}_dossiers_{channel}"] += row["count"]
        else:
            figures["onestop_dossiers_resolved"] += row["count"]
    last = str(last_day)
    in_force = [v for v in versions if v["valid_from"] <= last and (v["valid_to"] is None or last < v["valid_to"])]
    figures["onestop_procedures"] = len(in_force)
    figures["online_services_level3"] = sum(v["service_level"] == 3 for v in in_force)
    figures["online_services_level4"] = sum(v["service_level"] == 4 for v in in_force)
    figures["online_services_level34"] = figures["online_services_level3"] + figures["online_services_level4"]
    for level in ("province", "district", "commune"):
        figures[f"onestop_units_{level}"] = sum(u["level"] == level and u["onboarded_on"] <= last for u in units)
    return dict(figures)


def portal_figures(simulator, start: date, last_day: date) -> dict[str, int]:
    events = Counter(row["event_type"] for row in api_pages(
        simulator, "/api/v1/publications", from_date=str(start), to_date=str(last_day)))
    last = str(last_day)
    sites = api_pages(simulator, "/api/v1/sites")
    languages = api_pages(simulator, "/api/v1/languages")
    return {
        "portal_news_published": events["news"],
        "portal_translations_en": events["translation_en"],
        "portal_translations_km": events["translation_km"],
        "portal_procedure_decisions_updated": events["procedure_decision"],
        "portal_audio_bulletins": events["audio_bulletin"],
        "portal_questions_received": events["citizen_question"],
        "portal_draft_documents_for_comment": events["draft_for_comment"],
        "portal_legal_documents_posted": events["legal_dissemination"],
        "portal_banners_removed": events["banner_removed"],
        "portal_component_sites": sum(not s["is_main_portal"] and s["launched_on"] <= last
                                      and (s["closed_on"] is None or s["closed_on"] > last) for s in sites),
        "portal_languages": sum(language["enabled_on"] <= last for language in languages),
    }


def ca_figures(simulator, last_day: date) -> dict[str, int]:
    """Active certificates at the end of ``last_day``, from the latest version of each serial."""
    latest: dict[str, dict] = {}
    for version in api_cursor(simulator, "/api/v1/certificates", limit=1000):
        known = latest.get(version["serial"])
        if known is None or version["updated_at"] >= known["updated_at"]:
            latest[version["serial"]] = version
    moment = end_of_day(last_day)
    active = Counter(
        c["holder_type"] for c in latest.values()
        if datetime.fromisoformat(c["issued_at"]) <= moment < datetime.fromisoformat(c["expires_at"])
        and (c["revoked_at"] is None or datetime.fromisoformat(c["revoked_at"]) > moment))
    return {"digital_signature_certificates_active": active.total(),
            "digital_signature_certificates_active_org": active["organisation"],
            "digital_signature_certificates_active_person": active["person"]}


def docmgmt_figures(docmgmt, start: date, last_day: date) -> dict[str, object]:
    with psycopg.connect(docmgmt.reader_target().url()) as conn:
        (users,) = conn.execute(
            "select count(*) from qlvb.nguoi_dung where ngay_tao < %(end)s "
            "and (ngay_khoa is null or ngay_khoa >= %(end)s)", {"end": end_of_day(last_day)}).fetchone()
        electronic, total = conn.execute(
            "select count(*) filter (where hinh_thuc = 'dien_tu'), count(*) from qlvb.van_ban_lien_thong "
            "where thoi_diem_gui >= %s and thoi_diem_gui < %s",
            (datetime.combine(start, datetime.min.time(), LOCAL), end_of_day(last_day))).fetchone()
    return {"docmgmt_users": users, "docmgmt_documents_exchanged": electronic,
            "docmgmt_electronic_share": electronic / total}


def mail_figures(folder: Path, start: date, last_day: date) -> dict[str, int]:
    created, total = 0, None
    day = start
    while day <= last_day:
        with (folder / f"hopthu_{day:%Y%m%d}.csv").open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        units = [row for row in rows if row["Mã đơn vị"]]
        created += sum(int(row["Số tài khoản tạo mới"]) for row in units)
        total = sum(int(row["Tổng số tài khoản"]) for row in units)
        day += timedelta(days=1)
    return {"mail_accounts_created": created, "mail_accounts_total": total}


def sheet_rows(path: Path, sheet: str) -> list[dict]:
    """A register sheet's rows under its header row (the row that starts with STT)."""
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = list(workbook[sheet].iter_rows(values_only=True))
    finally:
        workbook.close()
    header_at = next(i for i, row in enumerate(rows) if row and row[0] == "STT")
    header = rows[header_at]
    return [dict(zip(header, row, strict=False)) for row in rows[header_at + 1:]
            if any(cell not in (None, "") for cell in row)]


def registers_figures(folder: Path, start: date, last_day: date) -> dict[str, int]:
    months = []
    month = start.replace(day=1)
    while month <= last_day:
        months.append(folder / f"SoTTTT_BaoCao_{month:%Y_%m}.xlsx")
        month = (month + timedelta(days=32)).replace(day=1)

    def rows(sheet: str) -> list[dict]:
        return [row for path in months for row in sheet_rows(path, sheet)]

    inspections = rows("Thanh tra kiểm tra")
    network = sheet_rows(months[-1], "Mạng truyền số liệu")
    moment = datetime.combine(last_day, datetime.min.time())
    return {
        "publishing_licenses_issued": len(rows("Giấy phép xuất bản")),
        "game_point_certificates_issued": len(rows("GCN điểm trò chơi")),
        "inspections_conducted": len(inspections),
        "inspected_entities": sum(row["Số tổ chức, cá nhân được kiểm tra"] for row in inspections),
        "inspected_entities_with_violations": sum(row["Số tổ chức, cá nhân có thiếu sót, vi phạm"]
                                                  for row in inspections),
        "complaints_received": len(rows("Đơn thư phản ánh")),
        "data_network_agencies": sum(row["Ngày kết nối"] <= moment and (row["Ngày ngừng kết nối"] is None
                                                                       or row["Ngày ngừng kết nối"] > moment)
                                     for row in network),
    }


def all_figures(sources: dict, start: date, last_day: date) -> dict[str, object]:
    """Every figure of the seed report, each from its own system."""
    return {
        **onestop_figures(sources["onestop"], start, last_day),
        **docmgmt_figures(sources["docmgmt"], start, last_day),
        **mail_figures(sources["landing"]["mail"], start, last_day),
        **ca_figures(sources["ca"], last_day),
        **portal_figures(sources["portal"], start, last_day),
        **registers_figures(sources["landing"]["registers"], start, last_day),
    }
