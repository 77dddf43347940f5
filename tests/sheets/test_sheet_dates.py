"""The dates of issue 14: 12-hour times, weekday prefixes, two-digit years beside a month's name; never a guess."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tui_desk.sheets.dates import DateOrder, UnreadableDate, read_date
from tui_desk.sheets.logcells import split_log_cell


def at(y, m, d, hh=0, mi=0):
    return datetime(y, m, d, hh, mi, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10/26/2023 2:30 PM", at(2023, 10, 26, 14, 30)),
        ("10/26/2023 2:30pm", at(2023, 10, 26, 14, 30)),
        ("26/10/2023 2:30 p.m.", at(2023, 10, 26, 14, 30)),
        ("2023-10-26 12:05 AM", at(2023, 10, 26, 0, 5)),
        ("2023-10-26 12:05 PM", at(2023, 10, 26, 12, 5)),
        ("2023-10-26 9:15:30 am", datetime(2023, 10, 26, 9, 15, 30, tzinfo=UTC)),
        ("Thursday, October 26, 2023", at(2023, 10, 26)),
        ("Thu, 26 Oct 2023 14:30", at(2023, 10, 26, 14, 30)),
        ("thursday 2023-10-26", at(2023, 10, 26)),
        ("October 26, 2023 at 2:30 PM", at(2023, 10, 26, 14, 30)),
        ("Oct 26, 2023, 2:30 PM UTC", at(2023, 10, 26, 14, 30)),
        ("26-Oct-23", at(2023, 10, 26)),
        ("26-oct-99", at(2099, 10, 26)),  # two-digit years are 20xx, always
        ("26 Oct 23 14:30", at(2023, 10, 26, 14, 30)),
        ("2023-11-15 14:30 GMT", at(2023, 11, 15, 14, 30)),
        ("2023-11-15 16:30 UTC+02:00", at(2023, 11, 15, 14, 30)),
    ],
)
def test_the_new_shapes_are_read(text, expected):
    assert read_date(text) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Friday, October 26, 2023", "26 October 2023 was a Thursday"),
        ("2023-10-26 14:30 PM", "no such time of day"),
        ("2023-10-26 0:30 AM", "no such time of day"),
        ("26/10/23", "cannot read the date"),  # which part is the year? not guessed
        ("10/26/23 2:30 PM", "cannot read the date"),
        ("Funday, October 26, 2023", "cannot read the date"),
    ],
)
def test_what_cannot_be_read_without_a_guess_is_refused(text, why):
    with pytest.raises(UnreadableDate, match=why):
        read_date(text)


def test_an_ambiguous_date_names_both_readings_and_an_order_settles_it():
    with pytest.raises(UnreadableDate, match=r"could be 3 April 2023 \(day/month\) or 4 March 2023 \(month/day\)"):
        read_date("03/04/2023 2:30 PM")
    assert read_date("03/04/2023 2:30 PM", order=DateOrder.MONTH_FIRST) == at(2023, 3, 4, 14, 30)
    assert read_date("03/04/2023 2:30 PM", order=DateOrder.DAY_FIRST) == at(2023, 4, 3, 14, 30)


def test_log_cells_split_at_the_new_shapes_too():
    cell = "10/26/2023 2:30 PM: Called the buyer. Thursday, October 26, 2023: Label sent.\n27-Oct-23 - Parcel back"
    lead, lines = split_log_cell(cell)
    assert lead == ""
    assert [(line.at, line.text) for line in lines] == [
        (at(2023, 10, 26, 14, 30), "Called the buyer."),
        (at(2023, 10, 26), "Label sent."),
        (at(2023, 10, 27), "Parcel back"),
    ]
