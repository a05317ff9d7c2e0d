"""Reading a segment query: the grammar, the tree of terms, and clear syntax errors.

`parse(text)` turns `tag:vip and not status:suspended` into a small tree of
`And`, `Or`, `Not` and `Term` nodes, or raises `SegmentError` with the
1-based column and what was expected there. Field names and value formats are
checked here too (they need no database); names of tags, groups and statuses
are looked up later by the compiler, for the user who runs the query.

A query may nest brackets and `not` at most PATRON_SEGMENT_MAX_DEPTH deep and
have at most PATRON_SEGMENT_MAX_TERMS terms (docs/segments.md, "Limits"): the
tree is walked without recursion, and what is built from it afterwards (the
SQL, the explanation) stays well within Python's and the database's limits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from difflib import get_close_matches

from django.conf import settings
from lark import Lark, Token, Tree, UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.exceptions import VisitError
from lark.visitors import Transformer_NonRecursive

from patron.segments.language import fields
from patron.segments.language.errors import SegmentError

GRAMMAR = r"""
start: or_expr
     |

?or_expr: and_expr
        | or_expr OR and_expr       -> or_

?and_expr: not_expr
         | and_expr AND not_expr    -> and_
         | and_expr not_expr        -> adjacent

?not_expr: atom
         | NOT not_expr             -> not_

?atom: LPAR or_expr RPAR            -> paren
     | FIELD_OP value               -> field_term
     | value                        -> bare_term

?value: WORD | STRING

// A field name glued to its operator is one token, so "tag:vip" can never be
// read as the bare word "tag"; keywords win over words only as whole words.
FIELD_OP.2: /[A-Za-z_][A-Za-z0-9_.\-]*[ \t]*(<=|>=|:|<|>|=)[ \t]*/
AND.3: /and(?![^\s()])/i
OR.3: /or(?![^\s()])/i
NOT.3: /not(?![^\s()])/i
LPAR: "("
RPAR: ")"
STRING: /"(?:[^"\\]|\\.)*"/ | /'(?:[^'\\]|\\.)*'/
WORD: /[^\s()"'][^\s()"]*/

%ignore /\s+/
"""

_parser = Lark(GRAMMAR, parser="lalr", lexer="basic", maybe_placeholders=False)

PHONE_LIKE = re.compile(r"[\d\s()+\-.]+")
TERM_START = {"WORD", "STRING", "FIELD_OP", "LPAR", "NOT"}
_FIELD_OP_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_.\-]*)[ \t]*(<=|>=|:|<|>|=)")


@dataclass(frozen=True)
class Term:
    """One condition: `field op value`, or search text when `field` is None.

    Offsets are 0-based into the query text; `column` is what people see.
    """

    field: str | None
    op: str
    value: str
    start: int
    end: int
    value_start: int
    source: str
    quoted: bool = False
    mergeable: bool = False

    @property
    def column(self) -> int:
        return self.start + 1

    @property
    def value_column(self) -> int:
        return self.value_start + 1


@dataclass(frozen=True)
class And:
    items: tuple


@dataclass(frozen=True)
class Or:
    items: tuple


@dataclass(frozen=True)
class Not:
    item: object


_BARE_VALUE = re.compile(r"[A-Za-z0-9_.@+/\-]+")


def quote_value(value: str) -> str:
    """`value` written so the parser reads it back as exactly one value.

    Simple words stay bare (`vip`); anything with spaces, quotes, brackets or
    a keyword is put in double quotes (`"London Region"`).
    """
    value = str(value)
    if _BARE_VALUE.fullmatch(value) and value.lower() not in {"and", "or", "not"}:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unquote(raw: str) -> str:
    return re.sub(r"\\(.)", r"\1", raw[1:-1])


def _value(token: Token) -> tuple[str, bool]:
    if token.type == "STRING":
        return unquote(str(token)), True
    return str(token), False


class _ToTree(Transformer_NonRecursive):
    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def start(self, items):
        return items[0] if items else None

    def or_(self, items):
        left, _, right = items
        return Or((*_flat(left, Or), *_flat(right, Or)))

    def and_(self, items):
        left, _, right = items
        return And((*_flat(left, And), *_flat(right, And)))

    def adjacent(self, items):
        left, right = items
        # Words typed one after another are one search ("Acme Ltd", "0113 496 0000").
        last = left.items[-1] if isinstance(left, And) else left
        if (
            isinstance(last, Term)
            and isinstance(right, Term)
            and last.mergeable
            and right.mergeable
        ):
            merged = replace(
                last,
                value=self.text[last.start : right.end],
                end=right.end,
                source=self.text[last.start : right.end],
            )
            if isinstance(left, And):
                return And((*left.items[:-1], merged))
            return merged
        return And((*_flat(left, And), *_flat(right, And)))

    def not_(self, items):
        return Not(items[1])

    def paren(self, items):
        inner = items[1]
        return replace(inner, mergeable=False) if isinstance(inner, Term) else inner

    def field_term(self, items):
        op_token, value_token = items
        match = _FIELD_OP_RE.match(str(op_token))
        name, op = match.group(1), match.group(2)
        value, quoted = _value(value_token)
        start = op_token.start_pos
        return _checked(
            self.text,
            Term(
                field=name,
                op=op,
                value=value,
                start=start,
                end=value_token.end_pos,
                value_start=value_token.start_pos,
                source=self.text[start : value_token.end_pos],
                quoted=quoted,
            ),
        )

    def bare_term(self, items):
        (token,) = items
        value, quoted = _value(token)
        term = Term(
            field=None,
            op=":",
            value=value,
            start=token.start_pos,
            end=token.end_pos,
            value_start=token.start_pos,
            source=str(token),
            quoted=quoted,
            mergeable=not quoted,
        )
        flag = value.lower()
        if not quoted and flag in fields.BARE_FLAGS:
            return replace(term, field=flag, value="true", mergeable=False)
        if quoted and not value.strip():
            raise SegmentError(f"empty search text at column {term.column}", term.column)
        return term


def _flat(node, kind):
    return node.items if isinstance(node, kind) else (node,)


def _checked(text: str, term: Term) -> Term:
    """Refuse an unknown field, an operator it does not take, or a malformed value."""
    name = term.field.lower()
    spec = fields.spec_for(name)
    if spec is None:
        known = fields.FIELD_NAMES
        guess = get_close_matches(name, known, n=1)
        suggestion = guess[0] if guess else None
        message = f"unknown field '{term.field}' at column {term.column}"
        if suggestion:
            message += f"; did you mean '{suggestion}'?"
        raise SegmentError(message, term.column, suggestion)
    op = "=" if term.op == ":" and spec.kind == "date" else term.op
    if op not in spec.ops:
        allowed = " or ".join(f"'{o}'" for o in sorted(spec.ops, key=fields.OP_ORDER.index))
        raise SegmentError(
            f"'{spec.name}' cannot be compared with '{term.op}' at column {term.column}; "
            f"use {allowed}",
            term.column,
        )
    term = replace(term, field=name if not name.startswith("custom.") else term.field, op=op)
    fields.check_value(spec, term)
    return term


def _describe_token(token: Token) -> str:
    if token.type == "$END":
        return "end of query"
    if token.type in {"AND", "OR", "NOT"}:
        return f"'{str(token).lower()}'"
    if token.type in {"LPAR", "RPAR"}:
        return f"'{token}'"
    if token.type == "FIELD_OP":
        return f"'{str(token).strip()}'"
    return f"'{token}'"


def _expected(expected: set[str]) -> str:
    expected = set(expected)
    if expected and expected <= {"WORD", "STRING"}:
        return "a value"
    parts = []
    if expected & TERM_START:
        parts.append("a term")
    if "RPAR" in expected:
        parts.append("')'")
    return " or ".join(parts) or "end of query"


def _syntax_error(text: str, exc: UnexpectedInput) -> SegmentError:
    if isinstance(exc, UnexpectedCharacters):
        column = exc.pos_in_stream + 1
        char = text[exc.pos_in_stream]
        if char in "\"'":
            return SegmentError(
                f"unclosed quote at column {column}; expected a closing {char}", column, None
            )
        return SegmentError(
            f"unexpected '{char}' at column {column}; expected {_expected(exc.allowed)}", column
        )
    assert isinstance(exc, UnexpectedToken)
    token = exc.token
    at_end = token.type == "$END"
    position = len(text) if at_end else token.start_pos
    column = position + 1
    expected = set(exc.expected)
    if at_end and "RPAR" in expected:
        return SegmentError(f"unexpected end of query at column {column}; expected ')'", column)
    if token.type == "RPAR" and "RPAR" not in expected and expected & {"AND", "$END"}:
        return SegmentError(f"unmatched ')' at column {column}; there is no '(' to close", column)
    return SegmentError(
        f"unexpected {_describe_token(token)} at column {column}; expected {_expected(expected)}",
        column,
    )


def max_depth() -> int:
    return getattr(settings, "PATRON_SEGMENT_MAX_DEPTH", 50)


def max_terms() -> int:
    return getattr(settings, "PATRON_SEGMENT_MAX_TERMS", 500)


def _check_limits(tree: Tree) -> None:
    """Refuse a query nested too deeply or with too many terms, at the first excess.

    Walks the parse tree in the order of the text, with a stack instead of
    recursion: a query nested thousands deep is refused, not a RecursionError.
    """
    depth_limit, terms_limit = max_depth(), max_terms()
    terms = 0
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, Tree):
            continue
        if node.data in ("paren", "not_"):
            depth += 1
            if depth > depth_limit:
                column = node.children[0].start_pos + 1  # its '(' or 'not'
                raise SegmentError(
                    f"the query nests brackets or 'not' more than {depth_limit} deep "
                    f"at column {column}; simplify it",
                    column,
                )
        elif node.data in ("field_term", "bare_term"):
            terms += 1
            if terms > terms_limit:
                column = node.children[0].start_pos + 1
                raise SegmentError(
                    f"the query has more than {terms_limit} terms "
                    f"(the {_ordinal(terms)} is at column {column}); split it up",
                    column,
                )
        stack.extend((child, depth) for child in reversed(node.children))


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _is_plain_text(text: str) -> bool:
    """True for words with no field, keyword or quote: one search, exactly as typed."""
    try:
        tokens = list(_parser.lex(text))
    except UnexpectedInput:
        return False
    if not tokens or any(t.type not in {"WORD", "LPAR", "RPAR"} for t in tokens):
        return False
    # Parentheses group terms, except in a phone number such as "(0113) 496 0000".
    has_parens = any(t.type != "WORD" for t in tokens)
    return not has_parens or bool(PHONE_LIKE.fullmatch(text.strip()))


def parse(text: str):
    """The query as a tree of `And`/`Or`/`Not`/`Term`, or None for an empty query.

    Text with no field, keyword or quote (a name, a phone number like
    "(0113) 496 0000") is one search term, exactly as the search box reads it.
    """
    text = text or ""
    if "\x00" in text:
        # PostgreSQL cannot take it in a string; nobody types it on purpose.
        column = text.index("\x00") + 1
        raise SegmentError(
            f"the query contains a NUL character at column {column}; remove it", column
        )
    stripped = text.strip()
    if not stripped:
        return None
    if _is_plain_text(text) and fields.BARE_FLAGS.isdisjoint(w.lower() for w in stripped.split()):
        start = len(text) - len(text.lstrip())
        return Term(
            field=None,
            op=":",
            value=stripped,
            start=start,
            end=start + len(stripped),
            value_start=start,
            source=stripped,
        )
    try:
        tree = _parser.parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    _check_limits(tree)
    try:
        return _ToTree(text).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, SegmentError):
            raise exc.orig_exc from None
        raise


def leaves(node, negated: bool = False):
    """Each term of the tree with whether an odd number of `not`s applies to it."""
    if node is None:
        return
    if isinstance(node, Term):
        yield node, negated
    elif isinstance(node, Not):
        yield from leaves(node.item, not negated)
    else:
        for item in node.items:
            yield from leaves(item, negated)
