import pytest

from retrack.lib.urls import (
    allowed_http_url,
    host_is_allowed,
    normalize_host,
    split_allowed_domain,
    with_query_parameters,
)

ALLOWED = ["store.example", "bücher.example", "strasse.example", "localhost:8000"]

# (case, deeplink, what allowed_http_url gives: the URL to use, or None for the landing URL)
DEEPLINKS = [
    # Accepted
    ("the domain itself", "https://store.example/", "https://store.example/"),
    ("a subdomain", "https://www.store.example/skor", "https://www.store.example/skor"),
    ("a deep subdomain", "https://a.b.c.store.example/", "https://a.b.c.store.example/"),
    ("plain http", "http://store.example/", "http://store.example/"),
    ("no path", "https://store.example", "https://store.example"),
    (
        "query and fragment kept",
        "https://store.example/p?q=1&r=2#f",
        "https://store.example/p?q=1&r=2#f",
    ),
    ("upper-case host", "https://WWW.Store.Example/", "https://WWW.Store.Example/"),
    ("upper-case scheme", "HTTPS://store.example/", "https://store.example/"),
    ("mixed-case scheme", "Https://Store.example/p?Q=1", "https://Store.example/p?Q=1"),
    (
        "mixed-case scheme, unicode host",
        "hTTp://www.bücher.example/",
        "http://www.xn--bcher-kva.example/",
    ),
    ("trailing dot", "https://store.example./", "https://store.example./"),
    ("the default https port", "https://store.example:443/", "https://store.example:443/"),
    ("the default http port", "http://store.example:80/", "http://store.example:80/"),
    ("an empty port", "https://store.example:/", "https://store.example:/"),
    ("a listed port", "http://localhost:8000/x", "http://localhost:8000/x"),
    (
        "an at sign in the path",
        "https://store.example/@evil.test",
        "https://store.example/@evil.test",
    ),
    ("percent-encoded path", "https://store.example/a%20b", "https://store.example/a%20b"),
    ("non-ASCII path", "https://store.example/skor/röda", "https://store.example/skor/röda"),
    ("unicode host", "https://www.bücher.example/", "https://www.xn--bcher-kva.example/"),
    ("punycode host", "https://xn--bcher-kva.example/", "https://xn--bcher-kva.example/"),
    ("ideographic full stop", "https://www.store。example/", "https://www.store.example/"),
    ("full-width letters", "https://ｗｗｗ.store.example/", "https://www.store.example/"),
    # Refused: other schemes and relative forms
    ("javascript", "javascript:alert(document.cookie)", None),
    ("javascript disguised", "javascript://store.example/%0aalert(1)", None),
    ("data", "data:text/html,<script>alert(1)</script>", None),
    ("ftp", "ftp://store.example/", None),
    ("file", "file:///etc/passwd", None),
    ("protocol-relative", "//store.example/", None),
    ("relative path", "/skor", None),
    ("scheme without slashes", "https:store.example", None),
    ("scheme with one slash", "https:/store.example/", None),
    ("three slashes", "https:///evil.test/", None),
    ("empty", "", None),
    # Refused: other hosts and look-alikes
    ("another host", "https://evil.test/", None),
    ("allowed name as a subdomain", "https://store.example.evil.test/", None),
    ("allowed name in the query", "https://evil.test/?store.example", None),
    ("allowed name in the path", "https://evil.test/store.example", None),
    ("allowed name in the fragment", "https://evil.test#store.example", None),
    ("suffix without a dot", "https://evilstore.example/", None),
    ("hyphenated look-alike", "https://store-example.evil.test/", None),
    ("unicode look-alike letter", "https://stоre.example/", None),
    ("ß is not ss, as in browsers", "https://straße.example/", None),
    ("invalid punycode", "https://xn--zz.store.example/", None),
    ("invalid label", "https://-x.store.example/", None),
    ("underscore label", "https://a_b.store.example/", None),
    ("empty label", "https://www..store.example/", None),
    ("IPv4 address", "http://127.0.0.1/", None),
    ("hexadecimal IPv4 address", "http://0x7f.0.0.1/", None),
    ("IPv6 address", "http://[::1]/", None),
    ("bracketed name", "https://[store.example]/", None),
    ("percent-encoded host", "https://evil%2etest/", None),
    ("percent-encoded dot into allowed", "https://evil.test%2Estore.example/", None),
    # Refused: credentials and parser confusion
    ("credentials", "https://user:pass@store.example/", None),
    ("user only", "https://user@store.example/", None),
    ("allowed name as user", "https://store.example@evil.test/", None),
    ("allowed name as user with port", "https://store.example:443@evil.test/", None),
    ("backslash before at", "https://store.example\\@evil.test/", None),
    ("backslash as slash", "https:\\\\evil.test\\store.example", None),
    ("backslash in path", "https://store.example\\..\\evil", None),
    ("tab in host", "https://store.exa\tmple/", None),
    ("newline", "https://store.example/\nLocation: https://evil.test/", None),
    ("carriage return", "https://store.example/\r", None),
    ("NUL byte", "https://store.example/\x00", None),
    ("space in host", "https://store .example/", None),
    ("leading space", " https://store.example/", None),
    ("non-breaking space", "https://store.example/\u00a0", None),
    ("zero-width space in host", "https://store\u200b.example/", None),
    ("zero-width joiner in host", "https://www\u200d.store.example/", None),
    ("right-to-left override", "https://store.example/\u202eevil", None),
    ("line separator", "https://store.example/\u2028", None),
    ("full-width solidus", "https://evil.test\uff0fstore.example/", None),
    # Refused: ports
    ("an unlisted port", "https://store.example:8443/", None),
    ("the http port over https", "https://store.example:80/", None),
    ("a port out of range", "https://store.example:65536/", None),
    ("a signed port", "https://store.example:+443/", None),
    ("a double port", "https://store.example:443:443/", None),
    ("the listed host without its port", "http://localhost/", None),
    # Refused: size
    ("over 2048 characters", "https://store.example/" + "a" * 2027, None),
    ("an overlong host", "https://" + "a" * 64 + ".store.example/", None),
]


@pytest.mark.parametrize(("case", "deeplink", "expected"), DEEPLINKS, ids=[c[0] for c in DEEPLINKS])
def test_it_accepts_only_plain_urls_on_the_programs_hosts(case, deeplink, expected):
    assert allowed_http_url(deeplink, ALLOWED) == expected


def test_it_accepts_a_url_of_exactly_2048_characters():
    url = "https://store.example/" + "a" * 2026

    assert allowed_http_url(url, ALLOWED) == url


def test_it_refuses_everything_when_the_program_lists_no_domain():
    assert allowed_http_url("https://store.example/", []) is None


def test_it_ignores_an_invalid_allowed_domain_entry():
    assert allowed_http_url("https://evil.test/", ["evil.test:http", "store.example"]) is None


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("Store.Example.", "store.example"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("straße.example", "xn--strae-oqa.example"),
        ("xn--zz.example", None),
        ("a..example", None),
        ("", None),
        ("a" * 64 + ".example", None),
    ],
)
def test_it_normalizes_hosts_as_browsers_do(host, expected):
    assert normalize_host(host) == expected


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("store.example", ("store.example", None)),
        ("Store.Example:8000", ("store.example", 8000)),
        ("store.example:0", None),
        ("store.example:٨٠", None),
        ("store.example:x", None),
        ("https://store.example", None),
    ],
)
def test_it_reads_allowed_domain_entries(entry, expected):
    assert split_allowed_domain(entry) == expected


def test_a_numeric_host_has_no_subdomains():
    assert host_is_allowed("1.127.0.0.1", ["127.0.0.1"]) is False
    assert host_is_allowed("127.0.0.1", ["127.0.0.1"]) is True


@pytest.mark.parametrize(
    ("url", "parameters", "drop", "expected"),
    [
        ("https://s.example/", {"click": "c1"}, set(), "https://s.example/?click=c1"),
        ("https://s.example", {"click": "c1"}, set(), "https://s.example?click=c1"),
        ("https://s.example/?a=1", {"click": "c1"}, set(), "https://s.example/?a=1&click=c1"),
        ("https://s.example/?", {"click": "c1"}, set(), "https://s.example/?click=c1"),
        ("https://s.example/#f", {"click": "c1"}, set(), "https://s.example/?click=c1#f"),
        (
            "https://s.example/?a=1#f?g",
            {"click": "c1"},
            set(),
            "https://s.example/?a=1&click=c1#f?g",
        ),
        (
            "https://s.example/?click=old&a=1",
            {"click": "c1"},
            set(),
            "https://s.example/?a=1&click=c1",
        ),
        ("https://s.example/?cl%69ck=old", {"click": "c1"}, set(), "https://s.example/?click=c1"),
        ("https://s.example/?click=old", {}, {"click"}, "https://s.example/"),
        ("https://s.example/?a=1&click=x#f", {}, {"click"}, "https://s.example/?a=1#f"),
        ("https://s.example/?a=1", {}, {"click"}, "https://s.example/?a=1"),
        ("https://s.example/?a=%ZZ", {}, {"click"}, "https://s.example/?a=%ZZ"),
        (
            "https://s.example/r",
            {"click": "c1", "deeplink": "https://s.example/p?q=1&r=2#f"},
            set(),
            "https://s.example/r?click=c1&deeplink=https%3A%2F%2Fs.example%2Fp%3Fq%3D1%26r%3D2%23f",
        ),
    ],
)
def test_it_adds_query_parameters_keeping_the_rest(url, parameters, drop, expected):
    assert with_query_parameters(url, parameters, drop=frozenset(drop)) == expected
