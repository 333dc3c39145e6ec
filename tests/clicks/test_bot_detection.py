"""Bot detection against the crawler-user-agents corpus and real browsers' user agents."""

import re

import pytest
from crawleruseragents import CRAWLER_USER_AGENTS_DATA

from retrack.lib.crawlers import CRAWLER_LIST, is_robot_agent
from retrack.lib.visitors import is_bot_agent

# Every example user agent the list's maintainers collected for its patterns.
CORPUS = [agent for entry in CRAWLER_USER_AGENTS_DATA for agent in entry.get("instances", [])]

# Real people's browsers, in-app browsers included: each carries shoppers who must count.
BROWSERS = {
    "Chrome on Windows": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/131.0.0.0 Safari/537.36"
    ),
    "Safari on macOS": (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML,"
        " like Gecko) Version/18.1 Safari/605.1.15"
    ),
    "Firefox on Windows": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
    ),
    "Firefox on Linux": ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"),
    "Edge on macOS": (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like"
        " Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
    ),
    "Chrome on Android": (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/131.0.0.0 Mobile Safari/537.36"
    ),
    "Safari on iPhone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15"
        " (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
    ),
    "Chrome on iPhone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15"
        " (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1"
    ),
    "Firefox on iPhone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15"
        " (KHTML, like Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15"
    ),
    "Firefox on Android": ("Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0"),
    "Samsung Internet": (
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML,"
        " like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36"
    ),
    "Safari on iPad": (
        "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
        " Gecko) Version/17.6 Mobile/15E148 Safari/604.1"
    ),
    "Pinterest app on Android": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240805.005; wv)"
        " AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/128.0.6613.127 Mobile"
        " Safari/537.36 [Pinterest/Android]"
    ),
    "Pinterest app on iPhone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15"
        " (KHTML, like Gecko) Mobile/15E148 [Pinterest/iOS]"
    ),
    "Facebook app on iPhone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15"
        " (KHTML, like Gecko) Mobile/15E148"
        " [FBAN/FBIOS;FBAV/475.0.0.36.107;FBBV/631104044;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;"
        "FBSV/17.5.1;FBSS/3;FBID/phone;FBLC/sv_SE;FBOP/5;FBRV/633466470]"
    ),
    "Facebook app on Android": (
        "Mozilla/5.0 (Linux; Android 14; SM-S911B Build/UP1A.231005.007; wv)"
        " AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/128.0.6613.146 Mobile"
        " Safari/537.36 [FB_IAB/FB4A;FBAV/480.0.0.46.111;]"
    ),
    "Instagram app on iPhone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) AppleWebKit/605.1.15"
        " (KHTML, like Gecko) Mobile/15E148 Instagram 346.0.6.17.112 (iPhone15,2; iOS"
        " 17_6_1; sv_SE; sv; scale=3.00; 1179x2556; 633224064)"
    ),
    "Instagram app on Android": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 7 Build/AP2A.240905.003; wv)"
        " AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/129.0.6668.70 Mobile"
        " Safari/537.36 Instagram 349.0.0.39.105 Android (34/14; 420dpi; 1080x2400;"
        " Google/google; Pixel 7; panther; panther; en_US; 637128327)"
    ),
    "Messenger app on Android": (
        "Mozilla/5.0 (Linux; Android 13; SM-A536B Build/TP1A.220624.014; wv)"
        " AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/128.0.6613.127 Mobile"
        " Safari/537.36 [FB_IAB/Orca-Android;FBAV/475.0.0.46.109;]"
    ),
    "TikTok app on iPhone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15"
        " (KHTML, like Gecko) Mobile/15E148 musical_ly_36.5.0 JsSdk/2.0 NetType/WIFI"
        " Channel/App Store ByteLocale/sv Region/SE ByteFullLocale/sv-SE isDarkMode/0"
        " WKWebView/1 RevealType/Dialog BytedanceWebview/d8a21c6"
    ),
    "Opera on Android": (
        "Mozilla/5.0 (Linux; Android 12; moto g(60)) AppleWebKit/537.36 (KHTML, like"
        " Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 OPR/85.0.0.0"
    ),
    "Chrome on a Cubot phone": (
        "Mozilla/5.0 (Linux; Android 9; CUBOT X19) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/120.0.0.0 Mobile Safari/537.36"
    ),
    "Snapchat app on iPhone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15"
        " (KHTML, like Gecko) Mobile/15E148 Snapchat/13.0.0.40 (like"
        " Safari/8617.2.4.10.8, panda)"
    ),
    "LinkedIn app on Android": (
        "Mozilla/5.0 (Linux; Android 14; SM-G991B Build/UP1A.231005.007; wv)"
        " AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.58 Mobile"
        " Safari/537.36 LinkedInApp"
    ),
    "X (Twitter) app on iPhone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15"
        " (KHTML, like Gecko) Mobile/15E148 Twitter for iPhone/10.65"
    ),
    "Google app on Android": (
        "Mozilla/5.0 (Linux; Android 13; 2201117TY Build/TKQ1.221114.001; wv)"
        " AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile"
        " Safari/537.36 GSA/15.3.36.28.arm64"
    ),
    "Google app on iPhone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15"
        " (KHTML, like Gecko) GSA/336.0.671435422 Mobile/15E148 Safari/604.1"
    ),
    "Opera on Windows": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0"
    ),
    "Chrome on ChromeOS": (
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/131.0.0.0 Safari/537.36"
    ),
    "MIUI browser on Xiaomi": (
        "Mozilla/5.0 (Linux; U; Android 13; sv-se; Redmi Note 12 Build/TKQ1.221114.001)"
        " AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/112.0.5615.136 Mobile"
        " Safari/537.36 XiaoMi/MiuiBrowser/14.10.1.4-gn"
    ),
}


def test_it_recognises_nearly_all_of_the_crawler_corpus():
    recognised = [agent for agent in CORPUS if is_bot_agent(agent)]

    assert len(CORPUS) > 2000
    assert len(recognised) / len(CORPUS) >= 0.98


@pytest.mark.parametrize(
    "user_agent",
    [
        "Mozilla/5.0 (X11; Linux x86_64; Storebot-Google/1.0) AppleWebKit/537.36"
        " (KHTML, like Gecko) Chrome/79.0.3945.88 Safari/537.36",
        "GoogleOther",
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36"
        " (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 (compatible; GoogleOther)",
        "CCBot/2.0 (https://commoncrawl.org/faq/)",
        "Mozilla/4.5 (compatible; HTTrack 3.0x; Windows 98)",
        "2Bone_LinkChecker/1.0 libwww-perl/6.03",
        "libwww-perl/6.77",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Mozilla/5.0 (compatible; Pinterestbot/1.0; +http://www.pinterest.com/bot.html)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "WhatsApp/2.23.20.0 A",
        "Mozilla/5.0 (compatible; SomeNewBot/0.1)",
        "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 HeadlessChrome/120.0 Safari/537.36",
        "python-requests/2.32.3",
        "   ",
    ],
)
def test_it_recognises_crawlers_previews_and_tools_the_old_pattern_missed(user_agent):
    assert is_bot_agent(user_agent) is True


@pytest.mark.parametrize("user_agent", BROWSERS.values(), ids=BROWSERS.keys())
def test_it_takes_no_real_browser_for_a_bot(user_agent):
    assert is_bot_agent(user_agent) is False


def test_its_quick_lookup_finds_exactly_what_the_lists_patterns_find():
    # The list's own way: all its patterns as one regular expression, case-sensitive.
    every_pattern = re.compile("|".join(entry["pattern"] for entry in CRAWLER_USER_AGENTS_DATA))
    agents = [*CORPUS, *BROWSERS.values(), "", "G", "Go", "CCB", "CCBot"]

    differing = [
        agent
        for agent in agents
        if CRAWLER_LIST.matches(agent) != (every_pattern.search(agent) is not None)
    ]

    assert differing == []
    assert len(CRAWLER_LIST.anchored.pattern) + len(CRAWLER_LIST.unanchored.pattern) < 2000


def test_it_uses_our_own_rules_beside_the_list():
    assert CRAWLER_LIST.matches("Mozilla/5.0 (compatible; SomeNewBot/0.1)") is False

    assert is_robot_agent("Mozilla/5.0 (compatible; SomeNewBot/0.1)") is True
