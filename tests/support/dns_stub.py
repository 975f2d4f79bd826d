"""A tiny UDP DNS server for loopback tests: A records from a dict the test can change.

nginx's ``resolver`` is pointed at it so that names Docker's DNS would answer
(``tasks.webapp-real``) resolve to loopback addresses the test controls:

    with DnsStub({"tasks.webapp-real": ["127.0.0.2", "127.0.0.3"]}) as dns:
        dns.address                       # "127.0.0.1:40123", for `resolver`
        dns.set("tasks.webapp-real", ["127.0.0.6"])   # takes effect at once
        dns.remove("tasks.webapp-real")   # NXDOMAIN from now on
        dns.queries_for("tasks.webapp-real")          # monotonic times of the A queries
        dns.hold("tasks.webapp-real")     # its queries wait unanswered...
        dns.release("tasks.webapp-real")  # ...until this answers them, as the records are then

Answers: a known name gets its A records (an empty list is NOERROR with no
answer, as for a service without tasks); AAAA and other types for a known name
get NOERROR with no answer; any other name NXDOMAIN. The TTL defaults to Docker's
600 s, so a test sees that nginx's ``valid=`` (not the TTL) bounds how long it
caches. Only loopback: the stub binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import contextlib
import ipaddress
import select
import socket
import struct
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Self

TYPE_A = 1
CLASS_IN = 1
RCODE_OK = 0
RCODE_FORMERR = 1
RCODE_NXDOMAIN = 3
RCODE_NOTIMP = 4
DOCKER_TTL = 600  # what Docker's embedded DNS answers with (libnetwork resolver.go respTTL)


@dataclass(frozen=True)
class Query:
    at: float  # time.monotonic() when it arrived
    name: str
    qtype: int
    rcode: int
    answers: tuple[str, ...]


class DnsStub:
    def __init__(
        self,
        records: Mapping[str, Iterable[str]] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        ttl: int = DOCKER_TTL,
    ) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"the DNS stub only serves on loopback, not {host}")
        self.ttl = ttl
        self._lock = threading.Lock()
        self._records: dict[str, tuple[str, ...]] = {}
        self._queries: list[Query] = []
        self._held: dict[str, list[tuple[bytes, tuple[str, int]]]] = {}
        for name, addresses in (records or {}).items():
            self.set(name, addresses)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, port))
        self.host, self.port = self._sock.getsockname()[:2]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- records -----------------------------------------------------------------

    @staticmethod
    def _key(name: str) -> str:
        return name.rstrip(".").lower()

    def set(self, name: str, addresses: Iterable[str]) -> None:
        packed = tuple(str(ipaddress.IPv4Address(a)) for a in addresses)
        with self._lock:
            self._records[self._key(name)] = packed

    def remove(self, name: str) -> None:
        with self._lock:
            self._records.pop(self._key(name), None)

    def records(self) -> dict[str, tuple[str, ...]]:
        with self._lock:
            return dict(self._records)

    def hold(self, name: str) -> None:
        """Keep every query for ``name`` unanswered from now on, as a DNS server slow to answer."""
        with self._lock:
            self._held.setdefault(self._key(name), [])

    def release(self, name: str) -> None:
        """Answer the queries held for ``name``, and any to come at once."""
        with self._lock:
            waiting = self._held.pop(self._key(name), [])
        for packet, peer in waiting:
            self._reply(packet, peer)

    # --- what was asked ----------------------------------------------------------

    @property
    def address(self) -> str:
        """host:port, as nginx's `resolver` directive takes it."""
        return f"{self.host}:{self.port}"

    def queries(self) -> list[Query]:
        with self._lock:
            return list(self._queries)

    def queries_for(self, name: str, qtype: int = TYPE_A, since: float = 0.0) -> list[Query]:
        key = self._key(name)
        return [q for q in self.queries() if q.name == key and q.qtype == qtype and q.at >= since]

    def held(self, name: str) -> int:
        """How many queries for ``name`` wait unanswered."""
        with self._lock:
            return len(self._held.get(self._key(name), []))

    # --- serving -----------------------------------------------------------------

    def start(self) -> DnsStub:
        if self._thread is not None:
            raise RuntimeError("DNS stub already started")
        self._thread = threading.Thread(target=self._serve, name=f"dns-stub-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._sock.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._sock], [], [], 0.1)
            if not ready:
                continue
            try:
                packet, peer = self._sock.recvfrom(4096)
            except OSError:
                return
            if not self._withheld(packet, peer):
                self._reply(packet, peer)

    def _withheld(self, packet: bytes, peer: tuple[str, int]) -> bool:
        parsed = _parse_question(packet) if len(packet) >= 12 else None
        with self._lock:
            held = self._held.get(parsed[0]) if parsed is not None else None
            if held is not None:
                held.append((packet, peer))
        return held is not None

    def _reply(self, packet: bytes, peer: tuple[str, int]) -> None:
        reply = self.answer(packet)
        if reply is not None:
            with contextlib.suppress(OSError):
                self._sock.sendto(reply, peer)

    def answer(self, packet: bytes) -> bytes | None:
        """The reply to one query packet; None when it is not worth answering."""
        if len(packet) < 12:
            return None
        ident, flags, qdcount = struct.unpack("!HHH", packet[:6])
        if flags & 0x8000:  # a response, not a query
            return None
        opcode = (flags >> 11) & 0xF
        recursion_desired = flags & 0x0100
        parsed = _parse_question(packet) if qdcount == 1 and opcode == 0 else None
        if parsed is None:
            rcode = RCODE_FORMERR if opcode == 0 else RCODE_NOTIMP
            return _header(ident, opcode, recursion_desired, rcode, qdcount=0, ancount=0)
        name, qtype, qclass, question = parsed
        answers: tuple[str, ...]
        with self._lock:
            known = name in self._records
            addresses = self._records.get(name, ())
        if not known:
            rcode, answers = RCODE_NXDOMAIN, ()
        elif qtype == TYPE_A and qclass == CLASS_IN:
            rcode, answers = RCODE_OK, addresses
        else:
            rcode, answers = RCODE_OK, ()
        with self._lock:
            self._queries.append(Query(time.monotonic(), name, qtype, rcode, answers))
        body = b"".join(
            # Name as a pointer to the question's (offset 12), type A, class IN, TTL, 4 bytes.
            struct.pack("!HHHIH", 0xC00C, TYPE_A, CLASS_IN, self.ttl, 4) + socket.inet_aton(address)
            for address in answers
        )
        return _header(ident, opcode, recursion_desired, rcode, qdcount=1, ancount=len(answers)) + question + body


def _header(ident: int, opcode: int, recursion_desired: int, rcode: int, qdcount: int, ancount: int) -> bytes:
    # QR=1, authoritative, recursion available (the resolver nginx talks to is "the" DNS).
    flags = 0x8000 | (opcode << 11) | 0x0400 | recursion_desired | 0x0080 | rcode
    return struct.pack("!HHHHHH", ident, flags, qdcount, ancount, 0, 0)


def _parse_question(packet: bytes) -> tuple[str, int, int, bytes] | None:
    """(lowercased name, qtype, qclass, raw question bytes) of the first question."""
    offset, labels = 12, []
    while True:
        if offset >= len(packet):
            return None
        length = packet[offset]
        offset += 1
        if length == 0:
            break
        if length & 0xC0 or offset + length > len(packet):  # no compression in a question
            return None
        labels.append(packet[offset : offset + length].decode("ascii", "replace"))
        offset += length
    if offset + 4 > len(packet):
        return None
    qtype, qclass = struct.unpack("!HH", packet[offset : offset + 4])
    return ".".join(labels).lower(), qtype, qclass, packet[12 : offset + 4]
