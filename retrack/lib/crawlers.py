"""Which user agents are robots: crawlers, link previews, monitors and HTTP libraries.

The list is the `crawler-user-agents` project's (the PyPI package ships its JSON): about
1500 case-sensitive patterns, each with example user agents, maintained in the open and
updated by a version bump in constraints.txt. A few rules of our own cover what it leaves
out on purpose or by age (see `_OWN_RULES`).

Matching 1500 alternatives with one regular expression costs about 1 ms per user agent
in Python, because `re` tries every alternative at every position. Almost all of the
patterns are plain text, so those are looked up through their first two characters
instead, and only the few real regular expressions are run: about a tenth of the cost
(bench/RESULTS.md). Callers cache the verdict per user agent on top.
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


class CrawlerList:
    """The list's patterns, split into plain texts (indexed by their first two characters)
    and real regular expressions (compiled into one)."""

    def __init__(self, patterns: list[str]) -> None:
        self.texts_by_start: dict[str, list[str]] = defaultdict(list)
        expressions = []
        for pattern in patterns:
            text = _plain_text(pattern)
            if text is not None and len(text) >= 2:
                self.texts_by_start[text[:2]].append(text)
            else:
                expressions.append(pattern)
        self.texts_by_start = dict(self.texts_by_start)
        self.expressions = re.compile("|".join(f"(?:{pattern})" for pattern in expressions))

    def matches(self, user_agent: str) -> bool:
        """True if any of the list's patterns is found in `user_agent` (case-sensitively)."""
        texts_by_start = self.texts_by_start
        for position in range(len(user_agent) - 1):
            candidates = texts_by_start.get(user_agent[position : position + 2])
            if candidates and any(user_agent.startswith(text, position) for text in candidates):
                return True
        return self.expressions.search(user_agent) is not None


CRAWLER_LIST = CrawlerList([entry["pattern"] for entry in CRAWLER_USER_AGENTS_DATA])


def is_robot_agent(user_agent: str) -> bool:
    """True if the user agent is on the crawler list or matches one of our own rules."""
    return CRAWLER_LIST.matches(user_agent) or _OWN_RULES.search(user_agent) is not None
