import ipaddress

import pytest

from pipelines import fetch
from pipelines.client import Client
from pipelines.guard import public
from pipelines.objects import Folder


@pytest.fixture
def client():
    c = Client(user_agent="newsmon-test", timeout=5, max_bytes=1000, host_delay=0, attempts=1)
    yield c
    c.close()


def test_loopback_is_refused_unless_the_source_is_local(site, client):
    url = site.add("/a.html", "<p>hi</p>")
    with pytest.raises(fetch.FetchError, match="non-public address 127.0.0.1"):
        client.get(url)
    assert [p for p, _ in site.seen] == []  # refused before any connection, robots.txt included
    assert client.get(url, allow_private=True).body == b"<p>hi</p>"


def test_http_errors_size_cap_and_content_types(site, client):
    with pytest.raises(fetch.FetchError) as err:
        client.get(site.url + "/gone", allow_private=True)
    assert err.value.http_status == 404 and err.value.reason == "HTTP 404 Not Found"
    big = site.add("/big.html", "x" * 5000)
    with pytest.raises(fetch.FetchError, match="larger than 1000"):
        client.get(big, allow_private=True)
    assert fetch.kind_of("https://x/a", "application/pdf") is None
    assert fetch.kind_of("https://x/a", "text/html; charset=latin-1") == "html"
    assert fetch.kind_of("file:///tmp/a.TXT") == "txt"


def test_unreachable_host_is_a_fetch_error(client):
    # Port 9 (discard) has no listener: robots.txt cannot be read, so the host is refused for the run.
    with pytest.raises(fetch.FetchError, match=r"robots.txt could not be read \(connection failed: .*refused"):
        client.get("http://127.0.0.1:9/feed.xml", allow_private=True, page=False)
    with pytest.raises(fetch.FetchError, match="scheme"):
        client.get("ftp://example.com/x")


def test_raw_storage_is_content_addressed(tmp_path):
    raw = Folder(str(tmp_path))
    d1 = fetch.store_raw(raw, b"<html>same</html>")
    d2 = fetch.store_raw(raw, b"<html>same</html>")
    assert d1 == d2 and fetch.load_raw(raw, d1) == b"<html>same</html>"
    assert len(list(tmp_path.rglob("*.gz"))) == 1


@pytest.mark.parametrize(("address", "allowed"), [
    ("93.184.215.14", True), ("2606:4700::1", True),
    ("127.0.0.1", False), ("::1", False), ("::ffff:127.0.0.1", False),  # loopback, also IPv4-mapped
    ("10.0.0.1", False), ("192.168.1.1", False), ("fd00::1", False),  # private
    ("169.254.169.254", False), ("100.100.100.200", False),  # cloud metadata: link-local, shared 100.64/10
    ("0.0.0.0", False), ("224.0.0.1", False), ("203.0.113.5", False),  # unspecified, multicast, documentation
])
def test_only_globally_routable_addresses_count_as_public(address, allowed):
    assert public(ipaddress.ip_address(address)) is allowed
