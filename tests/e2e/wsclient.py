#!/usr/bin/env python3
"""A minimal WebSocket client for the e2e tests (stdlib only).

usage: wsclient.py ws://127.0.0.1:PORT/PATH SECONDS [--ping-every S] [MESSAGE ...]

Sends each MESSAGE as a text frame once connected, then (with --ping-every)
Bybit's {"req_id":"pN","op":"ping"} every S seconds, and prints what it
gets for SECONDS: "open", then "< TEXT" per text frame, and at the end one
of "closed CODE" (a close frame), "eof" (the connection dropped) or
"timeout" (still open); "refused LINE" when the upgrade is refused.
"""
import base64
import os
import socket
import struct
import sys
import time


def frame(opcode, payload):
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def main():
    args = sys.argv[1:]
    url, seconds = args[0], float(args[1])
    ping_every = 0.0
    msgs = args[2:]
    if msgs[:1] == ["--ping-every"]:
        ping_every, msgs = float(msgs[1]), msgs[2:]
    hostport, _, path = url[len("ws://"):].partition("/")
    host, _, port = hostport.partition(":")
    s = socket.create_connection((host, int(port)), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
               % (path, hostport, key)).encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            print("refused eof")
            return
        buf += chunk
    head, _, buf = buf.partition(b"\r\n\r\n")
    status = head.split(b"\r\n")[0].decode()
    if " 101 " not in status + " ":
        print("refused " + status)
        return
    print("open", flush=True)
    for m in msgs:
        s.sendall(frame(1, m.encode()))
    end = time.time() + seconds
    next_ping, n_ping = time.time() + ping_every, 0
    s.settimeout(0.1)
    while time.time() < end:
        if ping_every and time.time() >= next_ping:
            n_ping += 1
            s.sendall(frame(1, ('{"req_id":"p%d","op":"ping"}' % n_ping).encode()))
            next_ping += ping_every
        while len(buf) >= 2:
            n, at = buf[1] & 0x7F, 2
            if n == 126:
                if len(buf) < 4:
                    break
                n, at = struct.unpack(">H", buf[2:4])[0], 4
            elif n == 127:
                if len(buf) < 10:
                    break
                n, at = struct.unpack(">Q", buf[2:10])[0], 10
            if len(buf) < at + n:
                break
            op, payload, buf = buf[0] & 0x0F, buf[at:at + n], buf[at + n:]
            if op == 1:
                print("< " + payload.decode(), flush=True)
            elif op == 8:
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 0
                print("closed %d" % code)
                return
            elif op == 9:
                s.sendall(frame(10, payload))
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            chunk = b""
        if not chunk:
            print("eof")
            return
        buf += chunk
    print("timeout")


try:
    main()
except BrokenPipeError:   # the reader stopped early (| head): fine
    pass
