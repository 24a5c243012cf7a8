"""Typo correction for product search: a word the index does not know becomes the closest
word it does ("jakcet" → "jacket").

Candidates come from pg_trgm's trigram index on PostgreSQL and from a length and first-letters
filter on SQLite; on both, a candidate must be within one edit (two for words of 8+ letters),
and a word of product names and attributes wins over one only in descriptions.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from catalog.models import SearchWord
from catalog.synonyms import synonyms_of

TRIGRAM_THRESHOLD = 0.2


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein (optimal string alignment): a swap of two letters costs one.

    Gives up as soon as the distance must exceed `limit` (returns limit + 1): typo
    correction compares a word with hundreds of candidates on every misspelt search.
    """
    if abs(len(a) - len(b)) > limit or len(set(a) ^ set(b)) > 2 * limit:
        return limit + 1
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(rows[i - 1][j] + 1, row[j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[i - 2][j - 2] + 1)
        if min(row) > limit:
            return limit + 1
        rows.append(row)
    return rows[-1][-1]


def _known(session: Session, words: Sequence[str]) -> set[str]:
    found = session.scalars(select(SearchWord.word).where(SearchWord.word.in_(words)))
    return set(found)


def correct_word(session: Session, word: str) -> str | None:
    """The index word the shopper most likely meant, or None if nothing is close enough.

    Candidates come from pg_trgm's trigram index on PostgreSQL and from a length and
    first-letters filter on SQLite; on both, a candidate must be within one edit (two for
    words of 8+ letters); of the closest, a word of product names and attributes wins over
    one only in descriptions, then the most common.
    """
    allowed = 1 if len(word) <= 7 else 2
    if session.get_bind().dialect.name == "postgresql":
        # pg_trgm's default 0.3 misses swapped letters ("jakcet"); edit distance filters after.
        session.execute(text(f"SET LOCAL pg_trgm.similarity_threshold = {TRIGRAM_THRESHOLD}"))
        rows = session.execute(
            text(
                "SELECT word, title_products, products FROM search_words "
                "WHERE lower(word) % :word "
                "ORDER BY similarity(word, :word) DESC LIMIT 20"
            ),
            {"word": word},
        ).all()
    else:
        rows = session.execute(
            select(SearchWord.word, SearchWord.title_products, SearchWord.products).where(
                func.length(SearchWord.word).between(len(word) - allowed, len(word) + allowed),
                SearchWord.word.like(word[0] + "%") | SearchWord.word.like("_" + word[1] + "%"),
            )
        ).all()
    scored = [
        (_edit_distance(word, candidate, allowed), -in_titles, -count, candidate)
        for candidate, in_titles, count in rows
    ]
    best = min(scored, default=None)
    return str(best[-1]) if best and best[0] <= allowed else None


def corrected_terms(session: Session, terms: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Unknown single words replaced by their closest index word (4+ letters only)."""
    variants = {t: {t, t.rstrip("s"), t + "s", *synonyms_of(t)} for t in terms}
    known = _known(session, sorted({v for vs in variants.values() for v in vs}))
    corrected, corrections = [], []
    for term in terms:
        if variants[term] & known or " " in term or len(term) < 4 or term.isdigit():
            corrected.append(term)
            continue
        guess = correct_word(session, term)
        if guess and guess != term:
            corrections.append((term, guess))
            corrected.append(guess)
        else:
            corrected.append(term)
    return corrected, corrections
