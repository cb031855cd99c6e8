"""Minor units per ISO 4217: how many decimals each currency has, and amounts parsed
and shown in them (JPY 0, USD 2, BHD 3, CLF 4)."""
from __future__ import annotations

import decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flexigift.currencies import ISO_4217, decimals_of
from flexigift.money import InvalidAmount, MAX_CENTS, format_minor, parse_minor


@pytest.mark.parametrize("code, places", [("JPY", 0), ("KRW", 0), ("USD", 2), ("EUR", 2), ("BHD", 3),
                                          ("KWD", 3), ("JOD", 3), ("OMR", 3), ("TND", 3), ("LYD", 3),
                                          ("IQD", 3), ("CLF", 4), (None, 2)])
def test_each_currency_has_its_decimals(code, places):
    assert decimals_of(code) == places


def test_every_code_with_other_decimals_is_a_current_code():
    from flexigift.currencies import _DECIMALS
    assert set(_DECIMALS) <= ISO_4217


@pytest.mark.parametrize("value, code, minor", [(1000, "JPY", 1000), ("1000", "JPY", 1000),
                                                ("1.250", "BHD", 1250), (decimal.Decimal("12.5"), "USD", 1250),
                                                ("0.0001", "CLF", 1), ("-3", "BHD", -3000)])
def test_amounts_parse_into_the_currencys_minor_units(value, code, minor):
    assert parse_minor(value, code) == minor


@pytest.mark.parametrize("value, code", [("1.5", "JPY"), ("1.2505", "BHD"), ("0.001", "USD"),
                                         ("0.00001", "CLF")])
def test_more_decimals_than_the_currency_has_is_refused_naming_it(value, code):
    with pytest.raises(InvalidAmount, match=code):
        parse_minor(value, code)


@pytest.mark.parametrize("value", [True, 1.5, "1e3", "", "abc", "NaN", str(MAX_CENTS + 1)])
def test_what_is_no_amount_is_refused(value):
    with pytest.raises(InvalidAmount):
        parse_minor(value, "JPY")


@pytest.mark.parametrize("minor, code, text", [(1000, "JPY", "1000"), (1250, "BHD", "1.250"),
                                               (1250, "USD", "12.50"), (1, "CLF", "0.0001")])
def test_amounts_show_with_the_currencys_decimals(minor, code, text):
    assert format_minor(minor, code) == text


@given(minor=st.integers(-MAX_CENTS, MAX_CENTS), code=st.sampled_from(sorted(ISO_4217)))
def test_showing_then_parsing_gives_back_the_same_minor_units(minor, code):
    assert parse_minor(format_minor(minor, code), code) == minor
