"""What the export scripts of models/export/ share (stdlib only at import): the file checksum every
manifest entry records, the guard that makes an offline export provably offline, and the ONNX
Runtime session their measurements use. The scripts run as
`python models/export/<script>.py`, so this folder is on their import path."""

import hashlib
import socket


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class NetworkGuard:
    """Refuses (and counts) every INET connection / DNS lookup; `who` names the refusal."""

    def __init__(self, who):
        self.who = who
        self.attempts = []

    def install(self):
        guard = self
        orig_connect, orig_connect_ex = socket.socket.connect, socket.socket.connect_ex

        def _blocked(sock, address):
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                guard.attempts.append(repr(address))
                raise OSError(f"network access refused by {guard.who}: connect {address!r}")

        def connect(sock, address):
            _blocked(sock, address)
            return orig_connect(sock, address)

        def connect_ex(sock, address):
            _blocked(sock, address)
            return orig_connect_ex(sock, address)

        def getaddrinfo(host, *a, **k):
            guard.attempts.append(f"getaddrinfo {host!r}")
            raise socket.gaierror(f"network access refused by {guard.who}: resolve {host!r}")

        socket.socket.connect = connect
        socket.socket.connect_ex = connect_ex
        socket.getaddrinfo = getaddrinfo
        socket.create_connection = lambda address, *a, **k: _blocked(socket.socket(), address)


def ort_session(path, threads=2):
    """A CPU session as the measurements run it: `threads` intra-op threads, sequential."""
    import onnxruntime as ort

    o = ort.SessionOptions()
    o.intra_op_num_threads = threads
    o.inter_op_num_threads = 1
    o.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    o.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    o.log_severity_level = 3
    return ort.InferenceSession(path, o, providers=["CPUExecutionProvider"])
