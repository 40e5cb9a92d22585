#!/usr/bin/env python3
"""An HTTPS server for the extension's tests: it serves a secrets document over TLS and demands a
client certificate signed by the test CA, like the secrets service's runtime endpoint.

What it answers is read from DIR/control.json on every request, so a test can change it between
calls: {"status": 200, "delay_ms": 0, "retry_after": null, "body": "document" | "malformed" |
"oversize", "mode": "tls" | "close"}. In mode "close" it accepts connections and closes them at
once (a broken service). It counts what it sees in DIR/counts.json: TCP connections accepted, TLS
handshakes completed and refused, and requests answered. It stops on SIGTERM, or by itself after
--lifetime seconds.

Usage: server.py --dir DIR --certs CERTDIR [--server-cert NAME] [--lifetime 120]
It writes the port it listens on (127.0.0.1, chosen by the system) to DIR/port.
"""
import argparse
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time

OVERSIZE = 17 * 1024 * 1024  # over the extension's 16 MiB cap


class Counts:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.values = {"connections": 0, "handshakes": 0, "refused_handshakes": 0, "requests": 0}
        self.save()

    def add(self, key):
        with self.lock:
            self.values[key] += 1
            self.save()

    def save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.values, f)
        os.replace(tmp, self.path)


def control(directory):
    try:
        with open(os.path.join(directory, "control.json")) as f:
            c = json.load(f)
    except (OSError, ValueError):
        return {}
    return c if isinstance(c, dict) else {}


def respond(conn, directory, counts):
    request = b""
    while b"\r\n\r\n" not in request:
        chunk = conn.recv(4096)
        if not chunk:
            return
        request += chunk
    counts.add("requests")
    c = control(directory)
    time.sleep(c.get("delay_ms", 0) / 1000.0)
    status = int(c.get("status", 200))
    headers = {"Content-Type": "application/json", "Connection": "close"}
    body = b""
    if status == 429 and c.get("retry_after") is not None:
        headers["Retry-After"] = str(c["retry_after"])
    if status == 200:
        kind = c.get("body", "document")
        if kind == "malformed":
            body = b'{"Secrets": {"A": '
        elif kind == "oversize":
            body = None
        else:
            with open(os.path.join(directory, "document.json"), "rb") as f:
                body = f.read()
    length = OVERSIZE if body is None else len(body)
    head = "HTTP/1.1 %d X\r\n%sContent-Length: %d\r\n\r\n" % (
        status, "".join("%s: %s\r\n" % kv for kv in headers.items()), length)
    conn.sendall(head.encode())
    if body is None:
        chunk = b" " * 65536
        sent = 0
        while sent < OVERSIZE:
            conn.sendall(chunk[: min(len(chunk), OVERSIZE - sent)])
            sent += len(chunk)
    else:
        conn.sendall(body)


def handle(raw, context, directory, counts):
    try:
        if control(directory).get("mode") == "close":
            return
        try:
            conn = context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            counts.add("refused_handshakes")
            return
        counts.add("handshakes")
        try:
            respond(conn, directory, counts)
        except (ssl.SSLError, OSError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass
    finally:
        try:
            raw.close()
        except OSError:
            pass


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--certs", required=True)
    parser.add_argument("--server-cert", default="server")
    parser.add_argument("--lifetime", type=float, default=120)
    args = parser.parse_args()

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(args.certs, args.server_cert + ".pem"), os.path.join(args.certs, args.server_cert + ".key"))
    context.load_verify_locations(os.path.join(args.certs, "ca.pem"))
    context.verify_mode = ssl.CERT_REQUIRED

    counts = Counts(os.path.join(args.dir, "counts.json"))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    with open(os.path.join(args.dir, "port.tmp"), "w") as f:
        f.write(str(listener.getsockname()[1]))
    os.replace(os.path.join(args.dir, "port.tmp"), os.path.join(args.dir, "port"))

    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    threading.Timer(args.lifetime, lambda: os._exit(0)).start()
    while True:
        raw, _ = listener.accept()
        counts.add("connections")
        threading.Thread(target=handle, args=(raw, context, args.dir, counts), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
