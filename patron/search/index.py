"""Answering a search from the customer search index (see patron/search/sql.py).

`matching_ids(text)` is the subquery `Customer.objects.search()` filters on:
the ids of customers whose indexed text contains `text` anywhere (any case,
any accents: the index and the searched text are both folded), or whose
contacts' phone digits contain the digits of a phone-like `text`.
Restriction is not applied here; callers search inside `restrict()`.
"""

from __future__ import annotations

import json
import re
import unicodedata

from django.db import connection, transaction
from django.db.models.expressions import RawSQL

from patron.search import sql

PHONE_LIKE = re.compile(r"[\d\s()+\-./]{4,}")
# FTS5 trigram MATCH needs three characters; shorter text is scanned with instr().
TRIGRAM = 3
# Letters that do not decompose into a base letter and an accent, folded as
# PostgreSQL's unaccent folds them ("ß" becomes "ss" by casefold()).
_LETTERS = str.maketrans(
    {"ø": "o", "đ": "d", "ł": "l", "ħ": "h", "ŧ": "t", "æ": "ae", "œ": "oe", "þ": "th", "ı": "i"}
)


def fold(text):
    """Lower case without accents ("Müller" → "muller", "José" → "jose").

    What the SQLite index stores (registered there as `patron_fold()`) and how
    a searched text is written before it is matched against it.
    """
    if text is None:
        return None
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.casefold().translate(_LETTERS)


def register_sqlite_functions(sender, connection, **kwargs):
    """`connection_created` receiver: give each SQLite connection `patron_fold()`,
    which the index triggers call (see patron/search/sql.py)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("patron_fold", 1, fold, deterministic=True)


def phone_digits(text: str) -> str:
    """The digits of a phone-like fragment in the form stored in the index.

    The index keeps E.164 digits without "+", so "07911 123" (national, 0
    dropped), "+44 7911", "0044 7911" (international prefix dropped) and
    "7911123456" all become a fragment of "447911123456". Returns "" for text
    that is not phone-like.
    """
    text = (text or "").strip()
    if not PHONE_LIKE.fullmatch(text):
        return ""
    digits = re.sub(r"\D", "", text)
    if digits.startswith("00"):
        digits = digits[2:]
    elif digits.startswith("0"):
        digits = digits[1:]
    return digits if len(digits) >= 4 else ""


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def matching_ids(text: str) -> RawSQL:
    """`SELECT customer_id …` for the customers whose index matches `text`."""
    text = (text or "").strip()
    digits = phone_digits(text)
    if connection.vendor == "postgresql":
        # search_fold() of the pattern is computed once, before the trigram index is read.
        where, params = ["text LIKE search_fold(%s)"], [_like_pattern(text)]
        if digits:
            where.append("phones LIKE %s")
            params.append(_like_pattern(digits))
        return RawSQL(f"SELECT customer_id FROM {sql.TABLE} WHERE {' OR '.join(where)}", params)
    folded = fold(text)
    if len(folded) >= TRIGRAM:
        query = f"text : {_fts_phrase(folded)}"
        if digits:
            query += f" OR phones : {_fts_phrase(digits)}"
        return RawSQL(f"SELECT rowid FROM {sql.TABLE} WHERE {sql.TABLE} MATCH %s", [query])
    return RawSQL(f"SELECT rowid FROM {sql.TABLE} WHERE instr(text, %s) > 0", [folded])


def run(kind: str) -> None:
    """Run one group of statements from patron/search/sql.py on the default database."""
    with connection.cursor() as cursor:
        for statement in sql.statements(connection.vendor, kind):
            cursor.execute(statement)


def rebuild() -> int:
    """Rebuild the whole index from the customer and contact tables; the row count.

    Set-based, for after a bulk load with the triggers off (the benchmark) or
    to repair an index; normal writes keep it current through the triggers.
    """
    with transaction.atomic():
        run("rebuild")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {sql.TABLE}")
            return cursor.fetchone()[0]


def refresh(ids) -> None:
    """Recompute the index rows of the customers `ids` in one set-based statement.

    For a bulk write that ran with the triggers bypassed (the customer import
    writes a million rows that way): the caller turns the triggers off only
    inside its own transaction and calls this before it commits, so no other
    session ever sees a customer missing from the index. (Dropping and
    rebuilding the trigram indexes instead was measured slower, even for a
    million rows added to a million, and would block searches meanwhile.)
    """
    ids = [int(i) for i in ids]
    if not ids:
        return
    param = ids if connection.vendor == "postgresql" else json.dumps(ids)
    with connection.cursor() as cursor:
        for statement in sql.statements(connection.vendor, "refresh"):
            cursor.execute(statement, {"ids": param})
