"""The DNS stub the loopback tests point nginx's resolver at, over real UDP."""

from __future__ import annotations

import socket
import struct
import time

import pytest

from tests.support.dns_stub import DOCKER_TTL, RCODE_NXDOMAIN, RCODE_OK, TYPE_A, DnsStub

TYPE_AAAA = 28


def query(name: str, qtype: int = TYPE_A, ident: int = 0x1234) -> bytes:
    labels = b"".join(bytes([len(part)]) + part.encode() for part in name.rstrip(".").split("."))
    return struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + labels + b"\x00" + struct.pack("!HH", qtype, 1)


def ask(stub: DnsStub, name: str, qtype: int = TYPE_A, ident: int = 0x1234) -> tuple[int, int, list[tuple[str, int]]]:
    """(id, rcode, [(address, ttl)]) of the stub's answer, parsed independently of the stub."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(query(name, qtype, ident), (stub.host, stub.port))
        reply, _ = sock.recvfrom(4096)
    return parse(reply)


def parse(reply: bytes) -> tuple[int, int, list[tuple[str, int]]]:
    got_id, flags, qdcount, ancount = struct.unpack("!HHHH", reply[:8])
    assert flags & 0x8000, "not a response"
    offset = 12
    for _ in range(qdcount):
        while reply[offset] != 0:
            offset += 1 + reply[offset]
        offset += 5
    answers = []
    for _ in range(ancount):
        pointer, rtype, rclass, ttl, length = struct.unpack("!HHHIH", reply[offset : offset + 12])
        assert pointer == 0xC00C and rtype == TYPE_A and rclass == 1 and length == 4
        answers.append((socket.inet_ntoa(reply[offset + 12 : offset + 16]), ttl))
        offset += 12 + length
    return got_id, flags & 0xF, answers


@pytest.fixture
def stub():
    with DnsStub({"tasks.webapp-real": ["127.0.0.2", "127.0.0.3"]}) as started:
        yield started


def test_known_name_gets_every_a_record_with_dockers_ttl(stub):
    ident, rcode, answers = ask(stub, "tasks.webapp-real", ident=0xBEEF)
    assert (ident, rcode) == (0xBEEF, RCODE_OK)
    assert answers == [("127.0.0.2", DOCKER_TTL), ("127.0.0.3", DOCKER_TTL)]


def test_unknown_name_is_nxdomain(stub):
    assert ask(stub, "tasks.webapp-backup")[1:] == (RCODE_NXDOMAIN, [])


def test_names_match_case_insensitively_with_or_without_the_root_dot(stub):
    assert [a for a, _ in ask(stub, "TASKS.WebApp-Real.")[2]] == ["127.0.0.2", "127.0.0.3"]


def test_aaaa_for_a_known_name_is_an_empty_answer(stub):
    assert ask(stub, "tasks.webapp-real", TYPE_AAAA)[1:] == (RCODE_OK, [])


def test_changes_apply_to_the_next_query_and_queries_are_recorded(stub):
    stub.set("tasks.webapp-real", ["127.0.0.6"])
    assert [a for a, _ in ask(stub, "tasks.webapp-real")[2]] == ["127.0.0.6"]
    stub.set("tasks.webapp-real", [])
    assert ask(stub, "tasks.webapp-real")[1:] == (RCODE_OK, [])
    stub.remove("tasks.webapp-real")
    assert ask(stub, "tasks.webapp-real")[1] == RCODE_NXDOMAIN
    seen = stub.queries_for("tasks.webapp-real")
    assert [q.answers for q in seen] == [("127.0.0.6",), (), ()]
    assert [q.rcode for q in seen] == [RCODE_OK, RCODE_OK, RCODE_NXDOMAIN]


def test_held_queries_wait_and_are_answered_on_release_as_the_records_are_then(stub):
    stub.hold("tasks.webapp-real")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(query("tasks.webapp-real", ident=0xBEEF), (stub.host, stub.port))
        deadline = time.monotonic() + 2
        while stub.held("tasks.webapp-real") < 1:
            assert time.monotonic() < deadline, "the stub never got the query"
            time.sleep(0.01)
        # Other names are answered meanwhile, and the held query was not.
        assert ask(stub, "tasks.webapp-backup")[1] == RCODE_NXDOMAIN
        sock.setblocking(False)
        with pytest.raises(BlockingIOError):
            sock.recv(4096)
        stub.set("tasks.webapp-real", ["127.0.0.6"])
        stub.release("tasks.webapp-real")
        sock.settimeout(2)
        reply, _ = sock.recvfrom(4096)
    assert parse(reply) == (0xBEEF, RCODE_OK, [("127.0.0.6", DOCKER_TTL)])
    assert stub.held("tasks.webapp-real") == 0
    assert [a for a, _ in ask(stub, "tasks.webapp-real")[2]] == ["127.0.0.6"]


def test_garbage_gets_no_crash_and_the_stub_keeps_answering(stub):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"\x00\x01garbage", (stub.host, stub.port))
        sock.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x3f", (stub.host, stub.port))
    assert ask(stub, "tasks.webapp-real")[1] == RCODE_OK


def test_serves_only_on_loopback():
    with pytest.raises(ValueError, match="loopback"):
        DnsStub(host="0.0.0.0")
