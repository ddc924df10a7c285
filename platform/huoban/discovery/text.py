"""Chinese and English text for the index: segmentation, queries, highlights, and keeping private data out.

PostgreSQL's parser cannot split Chinese into words, so both the documents and the queries go through jieba here
and PostgreSQL only sees space-separated words (the ``simple`` configuration: lowercase, no stemming):

- documents: ``jieba.cut_for_search`` (every dictionary word, and the shorter words inside long ones:
  雅安市 → 雅安 雅安市), English words kept, NFKC-normalised (full-width → half-width) and lowercased;
- queries: each word the user typed (``jieba.cut``) must be present, either as it is or as all of the shorter
  words it contains, so 留守儿童 finds 农村留守儿童关爱 and 社区居家养老 finds 社区居家养老服务. ``OR`` and a
  leading ``-`` work as in web search engines; English words of four letters or more also match as prefixes
  (volunteer → volunteers, volunteering).

Highlights are drawn on the original text (not the segmented one), so Chinese reads without stray spaces.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

logger = logging.getLogger(__name__)

_WORD = re.compile(r"[^\W_]+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Function words that would make an AND query fail for no good reason; dropped from documents and queries alike.
STOPWORDS = frozenset(
    {
        *("的", "了", "和", "与", "及", "或", "在", "是", "为", "对", "等", "之", "也", "而", "并", "着", "就", "都"),
        *("把", "被", "以及", "及其"),
        *("a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "of", "on", "or", "the"),
        *("to", "with"),
    }
)
PREFIX_MIN = 4  # English words at least this long also match longer words that start with them


@cache
def _jieba() -> Any:
    """jieba with its dictionary loaded (about a second the first time in a process; cached on disk)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def warm_up() -> None:
    """Load jieba's dictionary now rather than on the first search or drain of a process (call it from a
    gunicorn ``post_fork`` or Celery ``worker_process_init`` hook)."""
    _jieba()


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def _words(tokens: Iterable[str]) -> list[str]:
    out = []
    for token in tokens:
        for word in _WORD.findall(token):  # drops spaces and punctuation; "left-behind" → left, behind
            if word not in STOPWORDS:
                out.append(word)
    return out


def segment(text: str) -> str:
    """Space-separated search words of ``text`` for ``to_tsvector('simple', ...)``."""
    text = normalise(text)
    if not text.strip():
        return ""
    return " ".join(_words(_jieba().cut_for_search(text)))


def _is_cjk(word: str) -> bool:
    return bool(_CJK.search(word))


def _lexeme(word: str, *, prefix: bool = False) -> str:
    # ``word`` holds letters and digits only (see _WORD), so quoting it cannot break out of the tsquery syntax.
    return f"'{word}'" + (":*" if prefix else "")


@dataclass(frozen=True)
class ParsedQuery:
    """A user's query ready for PostgreSQL.

    ``tsquery`` is the strict query (every word); ``relaxed`` any of the words, for the last fallback; ``terms``
    the words to highlight; ``text`` the normalised query for trigram similarity. Empty ``tsquery``: no words.
    """

    tsquery: str = ""
    relaxed: str = ""
    terms: tuple[str, ...] = ()
    text: str = ""
    prefixes: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_empty(self) -> bool:
        return not self.tsquery


def _word_expr(word: str, terms: list[str], prefixes: set[str]) -> str:
    terms.append(word)
    if _is_cjk(word) and len(word) > 1:
        # The document may hold this word split differently (jieba's choice depends on context): accept the
        # smaller dictionary words it is made of, all of them, as an alternative; a word jieba guessed (not in
        # its dictionary, e.g. 灾后) may have been left as single characters in the document.
        jieba = _jieba()
        parts = [p for p in dict.fromkeys(_words(jieba.cut_for_search(word, HMM=False))) if p != word]
        if parts and all(len(p) > 1 for p in parts):
            terms.extend(parts)
        elif not jieba.dt.FREQ.get(word):
            parts = list(dict.fromkeys(word))
        if parts:
            return "(" + _lexeme(word) + " | (" + " & ".join(_lexeme(p) for p in parts) + "))"
        return _lexeme(word)
    if word.isascii() and word.isalpha() and len(word) >= PREFIX_MIN:
        prefixes.add(word)
        return _lexeme(word, prefix=True)
    return _lexeme(word)


def parse_query(query: str) -> ParsedQuery:
    """Turn what someone typed into tsquery text: words AND-ed, ``OR`` between words, ``-word`` excluded."""
    text = normalise(query).strip()
    if not text:
        return ParsedQuery()
    jieba = _jieba()
    terms: list[str] = []
    prefixes: set[str] = set()
    positives: list[str] = []
    # Each chunk the user separated with spaces becomes a group; "or" joins a group to the previous one.
    clauses: list[list[str]] = []
    join_next_with_or = False
    for chunk in text.split():
        if chunk in ("or", "|", "或"):
            join_next_with_or = bool(clauses)
            continue
        negate = chunk.startswith("-") and len(chunk) > 1
        words = _words(jieba.cut(chunk[1:] if negate else chunk))
        if not words:
            continue
        local_terms: list[str] = []
        expr = " & ".join(_word_expr(w, local_terms, prefixes) for w in words)
        expr = f"({expr})" if len(words) > 1 else expr
        if negate:
            expr = f"!{expr}"
        else:
            terms.extend(local_terms)
            positives.extend(words)
        if join_next_with_or and clauses:
            clauses[-1].append(expr)
        else:
            clauses.append([expr])
        join_next_with_or = False
    if not clauses:
        return ParsedQuery(text=text)
    tsquery = " & ".join(c[0] if len(c) == 1 else "(" + " | ".join(c) + ")" for c in clauses)
    relaxed_words = list(dict.fromkeys(terms))
    relaxed = " | ".join(_lexeme(w, prefix=w in prefixes) for w in relaxed_words)
    return ParsedQuery(
        tsquery=tsquery,
        relaxed=relaxed,
        terms=tuple(dict.fromkeys(terms)),
        text=" ".join(positives) if positives else text,
        prefixes=frozenset(prefixes),
    )


# --- highlighting -------------------------------------------------------------------------------------------


# What each character becomes once normalised like the index sees it (NFKC, lowercase), by code point: filled as
# characters are met. Almost all become exactly one character (，→, Ａ→a 漢→漢); a few become several (ﬁ→fi).
_CHAR_NORMAL: dict[int, str] = {}


def _normalised_with_offsets(text: str) -> tuple[str, Sequence[int]]:
    """``text`` normalised like the index sees it, and for each normalised character its offset in ``text``."""
    table = _CHAR_NORMAL
    one_to_one = True
    for ch in set(text):
        norm = table.get(ord(ch))
        if norm is None:
            norm = table[ord(ch)] = unicodedata.normalize("NFKC", ch).lower()
        if len(norm) != 1:
            one_to_one = False
    if one_to_one:  # the usual case: the offsets are the positions themselves
        return text.translate(table), range(len(text))
    chars: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        norm = table[ord(ch)]
        chars.append(norm)
        offsets.extend([i] * len(norm))
    return "".join(chars), offsets


def _pattern(terms: Sequence[str], prefixes: frozenset[str]) -> re.Pattern[str] | None:
    return _pattern_cached(tuple(terms), prefixes)


@lru_cache(maxsize=256)
def _pattern_cached(terms: tuple[str, ...], prefixes: frozenset[str]) -> re.Pattern[str] | None:
    parts = []
    for term in sorted(set(terms), key=len, reverse=True):
        if _is_cjk(term):
            parts.append(re.escape(term))
        elif term in prefixes:  # English: from a word start (a Chinese character next to it counts as a border)
            parts.append(r"(?<![a-z0-9])" + re.escape(term))
        else:
            parts.append(r"(?<![a-z0-9])" + re.escape(term) + r"(?![a-z0-9])")
    return re.compile("|".join(parts)) if parts else None


def _spans(text: str, terms: Sequence[str], prefixes: frozenset[str]) -> list[tuple[int, int]]:
    pattern = _pattern(terms, prefixes)
    if pattern is None or not text:
        return []
    norm, offsets = _normalised_with_offsets(text)
    spans: list[tuple[int, int]] = []
    for match in pattern.finditer(norm):
        if match.end() == match.start():
            continue
        start, end = offsets[match.start()], offsets[match.end() - 1] + 1
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
    return spans


def highlight(text: str, terms: Sequence[str], *, prefixes: frozenset[str] = frozenset(), limit: int = 0) -> SafeString:
    """``text`` escaped, with the query's words wrapped in ``<mark>``. With ``limit``, a window of about that many
    characters around the first match, with an ellipsis where it was cut."""
    text = text or ""
    spans = _spans(text, terms, prefixes)
    start, end = 0, len(text)
    if limit and len(text) > limit:
        first = spans[0][0] if spans else 0
        start = max(0, min(first - limit // 5, len(text) - limit))
        end = start + limit
    out: list[str] = ["…" if start > 0 else ""]
    cursor = start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(escape(text[cursor:s]))
        out.append("<mark>" + escape(text[s:e]) + "</mark>")
        cursor = e
    out.append(escape(text[cursor:end]))
    if end < len(text):
        out.append("…")
    return mark_safe("".join(out))  # noqa: S308 - every piece of text above is escaped


# --- private data ---------------------------------------------------------------------------------------------

_PRIVATE = [
    # mainland mobile numbers, also written 138-0013-8000 or 138 0013 8000
    re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)"),
    # resident identity card numbers
    re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])"),
    # email addresses
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
]
REDACTED = "***"


def redact(text: str) -> tuple[str, int]:
    """``text`` with personal contact data (mobile numbers, identity card numbers, email addresses) replaced.

    A hub's public description sometimes carries a staff member's mobile number; the index is public and
    cross-hub, so such data never reaches it. Returns the text and how many replacements were made.
    """
    count = 0
    for pattern in _PRIVATE:
        text, n = pattern.subn(REDACTED, text)
        count += n
    return text, count
