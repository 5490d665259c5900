"""The reference client's HTTP transport keeps its connection and recovers when the server
has closed it while idle."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from sync.transport import HttpTransport


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    peers: ClassVar[list[int]] = []
    close_next = False

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        type(self).peers.append(self.client_address[1])
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        if type(self).close_next:
            self.send_header("connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Handler.peers, _Handler.close_next = [], False
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_requests_share_one_connection(server):
    t = HttpTransport(f"http://127.0.0.1:{server.server_port}")
    for _ in range(3):
        assert t.request("POST", "/api/sync", {}, b"{}").status == 200
    assert len(set(_Handler.peers)) == 1
    t.close()


def test_a_connection_the_server_closed_is_replaced(server):
    t = HttpTransport(f"http://127.0.0.1:{server.server_port}")
    assert t.request("POST", "/x", {}, b"{}").status == 200
    t._idle[0].sock.shutdown(2)  # the idle connection dies under the client
    assert t.request("POST", "/x", {}, b"{}").status == 200
    _Handler.close_next = True
    assert t.request("POST", "/x", {}, b"{}").status == 200
    assert t._idle == [], "a response that says close must not be reused"
    assert len(set(_Handler.peers)) == 2


def test_parallel_requests_each_get_a_connection_then_share_them(server):
    t = HttpTransport(f"http://127.0.0.1:{server.server_port}")
    barrier = threading.Barrier(3)

    def call():
        barrier.wait()
        return t.request("POST", "/x", {}, b"{}").status

    threads = [threading.Thread(target=call) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(_Handler.peers) == 3 and 1 <= len(t._idle) <= 3
    for _ in range(4):
        assert t.request("POST", "/x", {}, b"{}").status == 200
    assert len(set(_Handler.peers[3:])) == 1, "later requests reuse an idle connection"
    t.close()
    assert t._idle == []
