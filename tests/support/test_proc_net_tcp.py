"""tcp_sockets against a real loopback connection."""

from __future__ import annotations

import socket
import time

from .proc_net_tcp import TcpSocket, peer_ports, tcp_sockets


def listed(local_port: int, remote_port: int) -> list[TcpSocket]:
    return [s for s in tcp_sockets() if (s.local_port, s.remote_port) == (local_port, remote_port)]


def test_a_connection_is_listed_established_with_the_bytes_its_owner_has_not_read() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            accepted, (_, client_port) = server.accept()
            with accepted:
                client.sendall(b"hello")
                deadline = time.monotonic() + 5
                while [s.receive_queue for s in listed(port, client_port)] != [5]:
                    assert time.monotonic() < deadline, listed(port, client_port)
                    time.sleep(0.01)
                (server_side,) = listed(port, client_port)
                assert server_side.established
                accepted.recv(5)
                assert [s.receive_queue for s in listed(port, client_port)] == [0]
                (client_side,) = listed(client_port, port)
                assert client_side.established and client_side.receive_queue == 0


def test_peer_ports_lists_a_connection_once_it_is_closed_too() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        before = peer_ports(port)
        client = socket.create_connection(("127.0.0.1", port), timeout=5)
        client_port = client.getsockname()[1]
        accepted, _ = server.accept()
        assert peer_ports(port) - before == {client_port}
        client.close()
        accepted.close()
        assert peer_ports(port) - before == {client_port}
