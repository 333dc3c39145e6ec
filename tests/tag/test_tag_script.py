import gzip

from conversions.tag.views import TAG_PATH, served_tag

URL = "/track/v2/retrack.js"
# Issue 13: the tag stays at or under 1.5 KB gzipped.
GZIPPED_SIZE_LIMIT = 1536
SERVED = served_tag(TAG_PATH.read_text())


def test_it_serves_the_tag_as_cacheable_javascript(client):
    # when
    response = client.get(URL)

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=3600"
    assert response["ETag"].startswith('"')
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response.content == SERVED


def test_it_serves_the_tag_gzipped_within_one_and_a_half_kilobytes(client):
    # when the browser accepts gzip
    response = client.get(URL, HTTP_ACCEPT_ENCODING="gzip")

    # then
    print(f"retrack.js: {len(response.content)} bytes gzipped, {len(SERVED)} plain")
    assert response["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.content) == SERVED
    assert len(response.content) <= GZIPPED_SIZE_LIMIT


def test_it_answers_not_modified_for_the_current_etag(client):
    # given a browser that has the tag
    etag = client.get(URL)["ETag"]

    # when it revalidates
    response = client.get(URL, HTTP_IF_NONE_MATCH=etag)

    # then
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert response["Cache-Control"] == "public, max-age=3600"


def test_it_answers_not_modified_for_the_gzipped_copys_weak_etag(client):
    # given a browser that has the gzipped tag
    etag = client.get(URL, HTTP_ACCEPT_ENCODING="gzip")["ETag"]

    # when it revalidates
    response = client.get(URL, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=etag)

    # then
    assert etag.startswith('W/"')
    assert response.status_code == 304


def test_it_sends_the_tag_again_for_an_old_etag(client):
    # when
    response = client.get(URL, HTTP_IF_NONE_MATCH='"an-older-version"')

    # then
    assert response.status_code == 200
    assert response.content == SERVED


def test_it_answers_head_without_a_body(client):
    # when
    response = client.head(URL)

    # then
    assert response.status_code == 200
    assert response.content == b""
    assert response["ETag"].startswith('"')


def test_the_served_tag_is_the_source_without_indentation_and_comment_lines():
    source = '/* head */\n(function () {\n  // why\n  var a = "//";\n\n  return a;\n})();\n'

    assert served_tag(source) == b'(function () {\nvar a = "//";\nreturn a;\n})();\n'
