"""Which addresses the HTTP client may connect to: public ones, unless the source is marked local.

The check is made on the addresses the connection itself resolves and then connects to, in one step, so a
name that answers a public address to a first lookup and a private one to a second (DNS rebinding) gains
nothing: there is no second lookup. `Guarded` is the urllib3 connection mixin that does it."""

from __future__ import annotations

import ipaddress
import socket

from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from pipelines.fetch import FetchError


class NotConnected(FetchError):
    """No connection was made: the name did not resolve, or the guard refused its address. Said as it is
    for the page that asked, not as a robots.txt failure, and not remembered for the host."""


class Network:
    """Name resolution and TCP connects: this machine's. A test may put a stand-in for the internet here
    (names with public addresses, routed to loopback servers); the guard still decides on the addresses
    it is given and connects to no other."""

    def resolve(self, host: str, port: int) -> list[tuple[int, tuple]]:
        return [(family, addr) for family, _, _, _, addr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]

    def connect(self, family: int, address: tuple, timeout: float | None) -> socket.socket:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(address)
        except BaseException:
            sock.close()
            raise
        return sock


NETWORK = Network()


def public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Globally routable: not private, loopback, link-local (cloud metadata), shared (100.64/10, where some
    clouds put theirs), reserved or multicast."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback, whatever the IPv6 tables say
    return ip.is_global and not ip.is_multicast


class Guarded:
    """urllib3 connection mixin: resolve once, refuse the host if any address is not public (unless the
    pool allows private ones), connect only to an address that was checked."""

    allow_private = False

    def _new_conn(self) -> socket.socket:
        host = self._dns_host
        try:
            found = NETWORK.resolve(host, self.port)
        except socket.gaierror as exc:
            raise NotConnected(f"cannot resolve host {self.host}: {exc.strerror}") from exc
        if not self.allow_private:
            for _, address in found:
                ip = ipaddress.ip_address(address[0].split("%")[0])
                if not public(ip):
                    raise NotConnected(f"refused: {self.host} resolves to non-public address {ip} "
                                       "(mark the source local to allow it)")
        timeout = self.timeout if isinstance(self.timeout, int | float) else None
        error: OSError | None = None
        for family, address in found:
            try:
                sock = NETWORK.connect(family, address, timeout)
            except TimeoutError as exc:
                raise ConnectTimeoutError(self, f"connect timed out after {timeout} s") from exc
            except OSError as exc:
                error = exc
                continue
            for option in self.socket_options or ():
                sock.setsockopt(*option)
            return sock
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}")
