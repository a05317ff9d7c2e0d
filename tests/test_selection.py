"""`patron.customers.selection`: one reading of the customer list's parameters.

The list page, bulk actions, the bulk tag job and exports read the same query
string the same way; these tests pin that reading.
"""

import pytest
from django.http import QueryDict

from patron.core.errors import ValidationError
from patron.customers.selection import filter_dict, filter_pairs, selection_data

LIST = "?q=tag%3Avip&tag=3&tag=4&status=&page=2&sort=-name&cursor=abc&format=csv&ids=7"


@pytest.mark.parametrize(
    "value",
    [
        LIST,
        QueryDict(LIST.lstrip("?")),
        {"q": "tag:vip", "tag": [3, 4], "status": None, "page": 2, "sort": "-name", "ids": 7},
    ],
    ids=["query string", "QueryDict", "JSON object"],
)
def test_every_shape_reads_the_same(value):
    data = selection_data(value)
    assert {key: data.getlist(key) for key in data} == {
        "q": ["tag:vip"],
        "tag": ["3", "4"],
        "ids": ["7"],
    }


def test_the_filter_controls_alone_sorted():
    assert filter_dict("status=1&tag=3&q=x&ids=1&page=4&filter=y") == {
        "status": ["1"],
        "tag": ["3"],
    }
    assert filter_dict(None) == {} and filter_dict("") == {}


def test_pairs_keep_every_repeated_value_by_key():
    assert filter_pairs(QueryDict("tag=3&page=2&q=x&tag=4&city=")) == [
        ("tag", "3"),
        ("tag", "4"),
        ("q", "x"),
    ]


def test_another_shape_is_a_clear_error():
    with pytest.raises(ValidationError) as refused:
        selection_data(["tag", "3"])
    assert refused.value.message_dict == {
        "filter": ["Give the filter as a query string or an object."]
    }
