import pytest

from retrack.lib.visitors import client_ip, coarse_user_agent, header_text, is_bot_agent, mask_ip


@pytest.mark.parametrize(
    ("trusted", "forwarded_for", "remote", "expected"),
    [
        (0, "", "203.0.113.1", "203.0.113.1"),
        (0, "198.51.100.9", "203.0.113.1", "203.0.113.1"),
        (1, "198.51.100.9", "10.0.0.1", "198.51.100.9"),
        (1, "6.6.6.6, 198.51.100.9", "10.0.0.1", "198.51.100.9"),
        (2, "6.6.6.6, 198.51.100.9, 10.0.0.2", "10.0.0.1", "198.51.100.9"),
        (2, "198.51.100.9", "10.0.0.1", "10.0.0.1"),
        (1, "", "10.0.0.1", "10.0.0.1"),
        (1, " , ,198.51.100.9 ", "10.0.0.1", "198.51.100.9"),
        (1, "198.51.100.9:51234", "10.0.0.1", "198.51.100.9"),
        (1, "[2001:db8::7]:443", "10.0.0.1", "2001:db8::7"),
        (1, "2001:db8::7", "10.0.0.1", "2001:db8::7"),
        (1, "unknown", "10.0.0.1", None),
        (1, "198.51.100.9\x00", "10.0.0.1", None),
        (0, "", "::ffff:203.0.113.1", "203.0.113.1"),
        (0, "", "fe80::1%eth0", "fe80::1"),
        (0, "", "", None),
        (0, "", "not-an-address", None),
    ],
)
def test_it_finds_the_visitors_address(trusted, forwarded_for, remote, expected):
    meta = {"REMOTE_ADDR": remote}
    if forwarded_for:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded_for

    assert client_ip(meta, trusted) == expected


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("203.0.113.77", "203.0.113.0"),
        ("2001:db8:1234:5678:9abc:def0:1234:5678", "2001:db8:1234::"),
        (None, None),
        ("", ""),
        ("garbage", None),
    ],
)
def test_it_masks_an_address(address, expected):
    assert mask_ip(address) == expected


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36"
            " Chrome/131.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X)"
            " AppleWebKit/605.1.15 Version/17.5 Mobile/15E148 Safari/604.1",
            "Safari on iOS",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Firefox on Windows",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36"
            " Chrome/131.0 Safari/537.36 Edg/131.0",
            "Edge on macOS",
        ),
        ("Twitterbot/1.0", "bot"),
        ("SomethingElse/1.0", ""),
        ("", ""),
    ],
)
def test_it_reduces_a_user_agent_to_its_family(user_agent, expected):
    assert coarse_user_agent(user_agent) == expected


@pytest.mark.parametrize(
    "user_agent",
    [
        "Slack-ImgProxy (+https://api.slack.com/robots)",
        "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
        "Mozilla/5.0 (compatible; SomeNewBot/0.1)",
        "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 HeadlessChrome/120.0 Safari/537.36",
        "curl/8.5.0",
        "python-requests/2.32",
        "Go-http-client/1.1",
        "   ",
    ],
)
def test_it_recognises_bots_and_tools(user_agent):
    assert is_bot_agent(user_agent) is True


@pytest.mark.parametrize(
    "user_agent",
    [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X)"
        " AppleWebKit/605.1.15 Mobile/15E148 Instagram 330.0",
        "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36"
        " Chrome/120.0 Mobile Safari/537.36 [FBAN/EMA;FBAV/400.0]",
        "Mozilla/5.0 (Linux; Android 9; CUBOT X19) AppleWebKit/537.36"
        " Chrome/120.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    ],
)
def test_it_does_not_take_people_for_bots(user_agent):
    assert is_bot_agent(user_agent) is False


def test_it_reads_a_header_as_utf8_text_without_control_characters():
    meta = {"HTTP_REFERER": "https://ex.example/åä\x00\r\n".encode().decode("latin-1")}

    assert header_text(meta, "HTTP_REFERER", 100) == "https://ex.example/åä"


def test_it_cuts_a_header():
    assert header_text({"HTTP_USER_AGENT": "abcdef"}, "HTTP_USER_AGENT", 3) == "abc"
