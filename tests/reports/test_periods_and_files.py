"""The calendar of report periods, the forecast's line, and the one file renderer."""
import datetime as dt
import io
from fractions import Fraction
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from common import tabular
from services.reports import forecast, periods, reports

SHANGHAI, LONDON = ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/London")
UTC = dt.timezone.utc


def test_periods_are_local_calendar_ranges_cut_to_the_range():
    spans = periods.periods(dt.date(2026, 1, 15), dt.date(2026, 4, 2), "quarter", SHANGHAI)
    assert [(s.label, s.first_day, s.last_day) for s in spans] == [
        ("2026-Q1", dt.date(2026, 1, 15), dt.date(2026, 3, 31)),
        ("2026-Q2", dt.date(2026, 4, 1), dt.date(2026, 4, 2))]
    assert spans[0].start == dt.datetime(2026, 1, 14, 16, tzinfo=UTC)  # midnight in Shanghai
    weeks = periods.periods(dt.date(2026, 12, 28), dt.date(2027, 1, 4), "week", SHANGHAI)
    assert [s.label for s in weeks] == ["2026-W53", "2027-W01"]


def test_a_month_follows_daylight_saving_time():
    march = periods.periods(dt.date(2026, 3, 1), dt.date(2026, 3, 31), "month", LONDON)[0]
    assert march.start == dt.datetime(2026, 3, 1, 0, tzinfo=UTC)
    assert march.end == dt.datetime(2026, 3, 31, 23, tzinfo=UTC)  # 1 April, BST


def test_linear_trend_and_its_error():
    trend = forecast.linear_trend([Fraction(100), Fraction(200), Fraction(300)], ahead=2)
    assert (trend.intercept, trend.slope) == (100, 100)
    assert trend.forecast == [400, 500]
    assert trend.mean_absolute_error == 0
    falling = forecast.linear_trend([Fraction(300), Fraction(100)], ahead=3)
    assert falling.forecast == [0] * 3  # a negative forecast counts as 0
    assert forecast.linear_trend([], ahead=1).forecast == [0]


def test_figures_round_half_up_exactly_and_never_to_minus_zero():
    assert reports.money(sum([Fraction(11, 600)] * 3, Fraction(0))) == "0.06"  # exactly 0.055
    assert reports.money(-Fraction(1, 600)) == "0.00"
    assert reports.days(30.65) == "30.7"  # a float from the database, by its shortest form
    assert reports.ratio(2, 3) == "0.6667" and reports.ratio(1, 0) is None


COLUMNS = [{"key": "name", "label": "客户", "type": "string"},
           {"key": "amount", "label": "Amount", "type": "money"}]
ROWS = [{"name": "=HYPERLINK(\"http://x\")", "amount": "-12.50"},
        {"name": "杭州 Acme", "amount": "3.00"}, {"name": None, "amount": None}]


def test_csv_has_a_bom_context_lines_and_no_formulas():
    body = tabular.to_csv(COLUMNS, ROWS, {"report": "revenue", "region": "@evil"})
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[:4] == ["report,revenue", "region,'@evil", "", "客户,Amount"]
    assert lines[4] == "\"'=HYPERLINK(\"\"http://x\"\")\",-12.50"
    assert lines[5:] == ["杭州 Acme,3.00", ","]


def test_xlsx_keeps_numbers_and_puts_the_filters_on_a_second_sheet():
    book = load_workbook(io.BytesIO(tabular.to_xlsx(COLUMNS, ROWS, {"to": "2026-01-31"},
                                                    "revenue")))
    rows = list(book["revenue"].values)
    assert rows[0] == ("客户", "Amount")
    assert rows[1] == ("'=HYPERLINK(\"http://x\")", -12.5)
    assert list(book["filters"].values) == [("to", "2026-01-31")]
