"""Which user agents are robots: crawlers, link previews, monitors and HTTP libraries.

The list is the `crawler-user-agents` project's (the PyPI package ships its JSON): about
1500 case-sensitive patterns, each with example user agents, maintained in the open and
updated by a version bump in constraints.txt. A few rules of our own cover what it leaves
out on purpose or by age (see `_OWN_RULES`).

Matching 1500 alternatives with one regular expression costs about 0.5-1 ms per user agent
in Python, because `re` tries every alternative at every position. Almost all of the
patterns are plain text, so those are looked up through their first three characters
instead, and only the few real regular expressions are run (those anchored at the start
only there): about what the old hand-written pattern cost (bench/RESULTS.md). Callers
cache the verdict per user agent on top.
"""

import re
from collections import defaultdict

from crawleruseragents import CRAWLER_USER_AGENTS_DATA

# A pattern whose only backslashes escape one of these characters is plain text.
_ESCAPED_CHARACTER = re.compile(r"\\([^A-Za-z0-9])")
_REGEX_SYNTAX = frozenset(".^$*+?{}[]()|\\")

# Ours, case-insensitive, on top of the list. Deliberately no bare "bot": phone makers
# such as Cubot put it in real browsers' user agents, and in-app browsers carry app names.
_OWN_RULES = re.compile(
    # A robot that follows the "compatible; NameBot/1.0" convention but is not listed yet.
    r"compatible;[^;)]*bot\b"
    # The "+https://…" address of a page about the robot, and what robots call themselves.
    r"|\+https?://|crawler|spider"
    # Browsers driven by programs (headless Chrome, PhantomJS, Lighthouse audits).
    r"|headlesschrome|phantomjs|lighthouse"
    # HTTP libraries, by the name they put first.
    r"|^(?:curl|wget|python-requests|python-urllib|python-httpx|aiohttp|go-http-client"
    r"|java|okhttp|apache-httpclient|libwww-perl|scrapy|axios|node-fetch|undici)\b",
    re.IGNORECASE,
)


def _plain_text(pattern: str) -> str | None:
    """The text a pattern matches literally, or None if it uses regular-expression syntax."""
    if any(character in _REGEX_SYNTAX for character in _ESCAPED_CHARACTER.sub("", pattern)):
        return None
    return _ESCAPED_CHARACTER.sub(r"\1", pattern)


# Plain texts are indexed by their first characters: three leave about 30 candidates to
# look for in a browser's user agent, two over a hundred.
_PREFIX_LENGTH = 3


class CrawlerList:
    """The list's patterns in three parts: plain texts, indexed by their first characters;
    expressions anchored at the start, tried there only; and the other expressions."""

    def __init__(self, patterns: list[str]) -> None:
        texts_by_start: dict[str, list[str]] = defaultdict(list)
        anchored, unanchored = [], []
        for pattern in patterns:
            text = _plain_text(pattern)
            if text is not None and len(text) >= _PREFIX_LENGTH:
                texts_by_start[text[:_PREFIX_LENGTH]].append(text)
            elif pattern.startswith("^") and "|" not in pattern:
                anchored.append(pattern[1:])
            else:
                unanchored.append(pattern)
        self.texts_by_start = dict(texts_by_start)
        self.starts = frozenset(texts_by_start)
        self.anchored = _one_expression(anchored)
        self.unanchored = _one_expression(unanchored)

    def matches(self, user_agent: str) -> bool:
        """True if any of the list's patterns is found in `user_agent` (case-sensitively)."""
        length = _PREFIX_LENGTH
        starts = {user_agent[at : at + length] for at in range(len(user_agent) - length + 1)}
        for start in starts & self.starts:
            for text in self.texts_by_start[start]:
                if text in user_agent:
                    return True
        return (
            self.anchored.match(user_agent) is not None
            or self.unanchored.search(user_agent) is not None
        )


def _one_expression(patterns: list[str]) -> re.Pattern:
    # An empty alternation would match everything; "(?!)" matches nothing.
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns) or "(?!)")


CRAWLER_LIST = CrawlerList([entry["pattern"] for entry in CRAWLER_USER_AGENTS_DATA])


def is_robot_agent(user_agent: str) -> bool:
    """True if the user agent is on the crawler list or matches one of our own rules."""
    return CRAWLER_LIST.matches(user_agent) or _OWN_RULES.search(user_agent) is not None
