"""A D-Bus client of the smallest kind (the wire protocol over the session bus's socket, no library):
one connection kept open, so a call is one message on it, as a tray host makes its calls. The bench
times the tray's click with it; starting a `gdbus` process for the click would add that program's
start-up and its own connection to every figure.
"""

import os
import socket
import struct

METHOD_CALL, METHOD_RETURN, ERROR = 1, 2, 3


def _pad(buf, n):
    buf.extend(b"\0" * (-len(buf) % n))


def _string(buf, s):
    _pad(buf, 4)
    b = s.encode()
    buf.extend(struct.pack("<I", len(b)) + b + b"\0")


def _signature(buf, s):
    b = s.encode()
    buf.extend(bytes([len(b)]) + b + b"\0")


def _value(buf, sig, v):
    """One value of a basic type or a variant (given as (signature, value))."""
    if sig in ("s", "o"):
        _string(buf, v)
    elif sig in ("i", "u"):
        _pad(buf, 4)
        buf.extend(struct.pack("<i" if sig == "i" else "<I", v))
    elif sig == "g":
        _signature(buf, v)
    elif sig == "v":
        inner_sig, inner = v
        _signature(buf, inner_sig)
        _value(buf, inner_sig, inner)
    else:
        raise ValueError(f"type {sig!r} is not supported here")


class SessionBus:
    def __init__(self):
        addr = os.environ["DBUS_SESSION_BUS_ADDRESS"]
        entry = dict(kv.split("=", 1) for kv in addr.split(";")[0].split(":", 1)[1].split(","))
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if "path" in entry:
            self.sock.connect(entry["path"])
        else:
            self.sock.connect("\0" + entry["abstract"])
        uid = str(os.getuid()).encode().hex()
        self.sock.sendall(b"\0AUTH EXTERNAL " + uid.encode() + b"\r\n")
        reply = self._line()
        if not reply.startswith(b"OK "):
            raise RuntimeError(f"D-Bus authentication refused: {reply!r}")
        self.sock.sendall(b"BEGIN\r\n")
        self.serial = 0
        self.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello")

    def _line(self):
        out = b""
        while not out.endswith(b"\r\n"):
            chunk = self.sock.recv(1)
            if not chunk:
                raise RuntimeError("the bus closed the connection")
            out += chunk
        return out

    def _exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise RuntimeError("the bus closed the connection")
            out += chunk
        return out

    def send(self, dest, path, iface, member, sig="", args=()):
        """Sends a method call; returns its serial."""
        body = bytearray()
        for s, v in zip(sig, args):
            _value(body, s, v)
        fields = [(1, "o", path), (2, "s", iface), (3, "s", member), (6, "s", dest)]
        if sig:
            fields.append((8, "g", sig))
        arr = bytearray()
        for code, s, v in fields:
            _pad(arr, 8)
            arr.append(code)
            _value(arr, "v", (s, v))
        self.serial += 1
        head = bytearray(b"l" + bytes([METHOD_CALL, 0, 1]))
        head.extend(struct.pack("<II", len(body), self.serial))
        head.extend(struct.pack("<I", len(arr)))
        _pad(head, 8)  # the array's first struct starts 8-aligned (the header is 16 bytes long)
        head.extend(arr)
        _pad(head, 8)
        self.sock.sendall(bytes(head + body))
        return self.serial

    def wait_reply(self, serial):
        """Reads messages until the reply to `serial`; raises on an error reply."""
        while True:
            fixed = self._exact(16)
            if fixed[0:1] != b"l":
                raise RuntimeError("big-endian D-Bus messages are not supported here")
            kind = fixed[1]
            body_len, _, fields_len = struct.unpack("<III", fixed[4:16])
            rest = self._exact(fields_len + (-(16 + fields_len) % 8) + body_len)
            fields = rest[:fields_len]
            reply_to = None
            i = 0
            while i < len(fields):
                i += -i % 8
                code = fields[i]
                sig_len = fields[i + 1]
                sig = fields[i + 2:i + 2 + sig_len].decode()
                j = i + 3 + sig_len
                if sig == "u":
                    j += -(16 + j) % 4
                    if code == 5:
                        reply_to = struct.unpack("<I", fields[j:j + 4])[0]
                    j += 4
                elif sig in "so":
                    j += -(16 + j) % 4
                    (n,) = struct.unpack("<I", fields[j:j + 4])
                    j += 4 + n + 1
                elif sig == "g":
                    j += 1 + fields[j] + 1
                else:
                    raise RuntimeError(f"unexpected header field type {sig!r}")
                i = j
            if kind in (METHOD_RETURN, ERROR) and reply_to == serial:
                if kind == ERROR:
                    raise RuntimeError(f"D-Bus error reply: {rest[fields_len:]!r}")
                return

    def call(self, dest, path, iface, member, sig="", args=()):
        self.wait_reply(self.send(dest, path, iface, member, sig, args))
