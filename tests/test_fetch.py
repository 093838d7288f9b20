import pytest

from pipelines import fetch

KW = {"user_agent": "newsmon-test", "timeout": 5, "max_bytes": 1000}


def test_loopback_is_refused_unless_the_source_is_local(site):
    url = site.add("/a.html", "<p>hi</p>")
    with pytest.raises(fetch.FetchError, match="non-public address 127.0.0.1"):
        fetch.get(url, **KW)
    assert fetch.get(url, allow_private=True, **KW).body == b"<p>hi</p>"


def test_http_errors_size_cap_and_content_types(site):
    with pytest.raises(fetch.FetchError) as err:
        fetch.get(site.url + "/gone", allow_private=True, **KW)
    assert err.value.http_status == 404
    big = site.add("/big.html", "x" * 5000)
    with pytest.raises(fetch.FetchError, match="larger than 1000"):
        fetch.get(big, allow_private=True, **KW)
    assert fetch.kind_of("https://x/a", "application/pdf") is None
    assert fetch.kind_of("https://x/a", "text/html; charset=latin-1") == "html"
    assert fetch.kind_of("file:///tmp/a.TXT") == "txt"


def test_unreachable_host_is_a_fetch_error():
    with pytest.raises(fetch.FetchError, match="connection failed"):
        fetch.get("http://127.0.0.1:9/feed.xml", allow_private=True, **KW)
    with pytest.raises(fetch.FetchError, match="scheme"):
        fetch.get("ftp://example.com/x", **KW)


def test_raw_storage_is_content_addressed(tmp_path):
    d1 = fetch.store_raw(tmp_path, b"<html>same</html>")
    d2 = fetch.store_raw(tmp_path, b"<html>same</html>")
    assert d1 == d2 and fetch.load_raw(tmp_path, d1) == b"<html>same</html>"
    assert len(list(tmp_path.rglob("*.gz"))) == 1
