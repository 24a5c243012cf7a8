"""The words of a shopper's message that say what they want: stopwords and chat filler out,
two-word synonyms ("tank top") kept together. Search, refinements and the replies' wording
("Here is what I found for “black hoodie”") all read a message through `query_terms`.
"""

from __future__ import annotations

import re

from catalog.synonyms import synonyms_of

TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_STOPWORDS_TEXT = """a an and any are anything can could do does for from have got has i im i'm
in is it looking me my need of on or please show some something the there to want we with you
your find buy get would like id i'd hi hello search searching sell selling stock available also
more one ones that this these those what which good nice new pair maybe perhaps really very
size sizes sized colour color colours colors price priced cost dollars bucks around about
ok okay so hey yeah yep yes yo u ya ur pls plz thx thanks carry carrying wanna gonna kinda just
got gotta idk tho asap lookin item items stuff thing things dollar usd what's whats that's
it's its there's theres where's wheres how's hows don't dont doesn't r n da wat wot ya'll"""
_STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


def query_terms(text: str) -> list[str]:
    """The words that say what the shopper wants, multi-word synonyms kept together."""
    tokens = [t for t in TOKEN.findall(text.lower()) if t not in _STOPWORDS]
    terms: list[str] = []
    skip = False
    for first, second in zip(tokens, [*tokens[1:], ""], strict=False):
        if skip:
            skip = False
            continue
        pair = f"{first} {second}"
        if second and len(synonyms_of(pair)) > 1:
            terms.append(pair)
            skip = True
        else:
            terms.append(first)
    return list(dict.fromkeys(terms))


def describe_query(text: str, max_words: int = 8) -> str:
    """The words searching uses, as typed, each once: 'do you have a red bag?' → 'red bag'."""
    return " ".join(query_terms(text)[:max_words])
