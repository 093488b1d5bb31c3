"""Fault test: a TCP proxy between deltaglider-proxy (--upstream) and the backend drops
connections, delays them, cuts requests and responses short and answers 503, at random
(seeded, bounded rates). A boto3 client with retries runs hundreds of operations through it
(PUTs of similar versions, so deltas and references are made, GETs, range GETs, DELETEs,
copies, multipart uploads). Afterwards, through a second deltaglider-proxy talking to the
backend without faults: every write the client was told succeeded reads back identically
(a failed one leaves the old or the new version, nothing else), and every delta names a
reference that exists, whose body matches its SHA-256 and the one the delta recorded.

Usage: faults.py OPERATIONS PROXY_BINARY BACKEND_ENDPOINT BACKEND_KEY BACKEND_SECRET"""
import atexit
import hashlib
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import boto3
from botocore.config import Config

operations = int(sys.argv[1])
binary, backend, backend_key, backend_secret = sys.argv[2:6]
backend_host, backend_port = backend.rsplit("/", 1)[-1].split(":")
seed = int(os.environ.get("FAULT_SEED", "5"))
rng = random.Random(seed)

# Per connection: what happens to it, with these weights (the rest pass untouched).
FAULTS = [("drop", 3), ("delay", 6), ("cut-request", 3), ("cut-response", 3), ("503", 4), ("ok", 81)]


class FaultProxy(threading.Thread):
    daemon = True

    def __init__(self):
        super().__init__()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self.rng = random.Random(seed + 1)
        self.lock = threading.Lock()
        self.counts = {}
        self.enabled = True

    def choose(self):
        with self.lock:
            fault = self.rng.choices([f for f, _ in FAULTS], [w for _, w in FAULTS])[0] if self.enabled else "ok"
            self.counts[fault] = self.counts.get(fault, 0) + 1
            return fault, self.rng.randrange(1, 96 << 10), self.rng.uniform(0.05, 0.4)

    def run(self):
        while True:
            client, _ = self.listener.accept()
            threading.Thread(target=self.serve, args=(client, *self.choose()), daemon=True).start()

    def serve(self, client, fault, cut, delay):
        try:
            if fault == "drop":
                client.recv(1024)
                return
            if fault == "503":
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = client.recv(65536)
                    if not chunk:
                        return
                    head += chunk
                body = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>injected</Message></Error>"
                client.sendall(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\nConnection: close\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                return
            if fault == "delay":
                time.sleep(delay)
            upstream = socket.create_connection((backend_host, int(backend_port)))
            limits = {"cut-request": (cut, None), "cut-response": (None, cut)}.get(fault, (None, None))
            done = threading.Event()

            def pump(src, dst, limit, first_line=False):
                sent = 0
                head = b""
                try:
                    while True:
                        data = src.recv(65536)
                        if not data:
                            break
                        if first_line:
                            # One request per connection (the backend closes after it), so
                            # each request meets its own fault, whatever the client pools.
                            head += data
                            if b"\r\n" not in head:
                                continue
                            line, rest = head.split(b"\r\n", 1)
                            data, first_line = line + b"\r\nConnection: close\r\n" + rest, False
                        if limit is not None and sent + len(data) >= limit:
                            dst.sendall(data[: limit - sent])
                            break
                        dst.sendall(data)
                        sent += len(data)
                except OSError:
                    pass
                done.set()

            threading.Thread(target=pump, args=(client, upstream, limits[0], True), daemon=True).start()
            threading.Thread(target=pump, args=(upstream, client, limits[1]), daemon=True).start()
            done.wait()
            upstream.close()
        except OSError:
            pass
        finally:
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            client.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_proxy(upstream):
    port = free_port()
    process = subprocess.Popen(
        [binary, "--listen", f"127.0.0.1:{port}", "--upstream", upstream, "--upstream-access-key", backend_key,
         "--upstream-secret-key", backend_secret, "--access-key", key, "--secret-key", secret],
        stdout=log, stderr=log,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(endpoint + "/_deltaglider/health", timeout=1)
            return process, endpoint
        except Exception:
            time.sleep(0.05)
    raise SystemExit("the proxy did not come up")


def client(endpoint, k, s, attempts):
    return boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=k, aws_secret_access_key=s, region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": attempts, "mode": "standard"},
                      connect_timeout=5, read_timeout=30),
    )


key, secret = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
log = open(os.environ.get("FAULT_LOG", os.devnull), "ab")
faults = FaultProxy()
faults.start()
faulty, faulty_endpoint = start_proxy(f"http://127.0.0.1:{faults.port}")
clean, clean_endpoint = start_proxy(backend)
atexit.register(lambda: [p.kill() for p in (faulty, clean) if p.poll() is None])
s3 = client(faulty_endpoint, key, secret, attempts=10)
verify = client(clean_endpoint, key, secret, attempts=3)
raw = client(backend, backend_key, backend_secret, attempts=3)
bucket = f"faults-{seed}-{os.getpid()}"
verify.create_bucket(Bucket=bucket)

base = rng.randbytes(512 << 10)


def version(n):
    """Version n of the artifact: `base` with edits of its own, so deltas are made."""
    r = random.Random(n)
    out = bytearray(base)
    for _ in range(6):
        at = r.randrange(len(out) - 128)
        out[at : at + 128] = r.randbytes(128)
    return bytes(out) + r.randbytes(n % 300)


# What each key may hold: exactly one version once a write was acknowledged, else any of
# the versions written since the last acknowledged one (None: absent).
possible = {}
tally = {"ok": 0, "failed": 0}


def known(k):
    return possible.get(k, {None})


def wrote(k, body, ok):
    possible[k] = {body} if ok else known(k) | {body}


def sha(b):
    return None if b is None else hashlib.sha256(b).hexdigest()[:12]


def attempt(what, f):
    try:
        f()
        tally["ok"] += 1
        return True
    except Exception as e:
        tally["failed"] += 1
        print(f"  {what}: failed after retries: {type(e).__name__}: {str(e)[:120]}", file=sys.stderr)
        return False


keys = [f"app{s}/v{i}.bin" for s in range(3) for i in range(8)]
for n in range(operations):
    k = rng.choice(keys)
    op = rng.choices(["put", "get", "range", "delete", "copy", "multipart"], [45, 25, 10, 8, 9, 3])[0]
    if op == "put":
        body = version(rng.randrange(10_000))
        wrote(k, body, attempt(f"PUT {k}", lambda: s3.put_object(Bucket=bucket, Key=k, Body=body)))
    elif op in ("get", "range"):
        def read():
            if op == "get":
                got = s3.get_object(Bucket=bucket, Key=k)["Body"].read()
                assert any(v is not None and v == got for v in known(k)), f"GET {k}: {len(got)} bytes, no version written"
            else:
                got = s3.get_object(Bucket=bucket, Key=k, Range="bytes=1000-66535")["Body"].read()
                assert any(v is not None and v[1000:66536] == got for v in known(k)), f"range GET {k}: wrong bytes"

        try:
            read()
        except AssertionError:
            raise
        except s3.exceptions.NoSuchKey:
            assert None in known(k), f"GET {k}: NoSuchKey for an acknowledged write"
        except Exception as e:
            if getattr(e, "response", {}).get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                assert None in known(k), f"GET {k}: 404 for an acknowledged write"
            else:
                tally["failed"] += 1
    elif op == "delete":
        ok = attempt(f"DELETE {k}", lambda: s3.delete_object(Bucket=bucket, Key=k))
        possible[k] = {None} if ok else known(k) | {None}
    elif op == "copy":
        src = rng.choice(keys)
        if src == k or None in known(src) or len(known(src)) != 1:
            continue
        (body,) = known(src)
        wrote(k, body, attempt(f"COPY {src} {k}", lambda: s3.copy_object(Bucket=bucket, Key=k, CopySource=f"{bucket}/{src}")))
    else:
        body = version(rng.randrange(10_000)) * 11  # two parts: 5 MiB and the rest

        def upload():
            upload_id = s3.create_multipart_upload(Bucket=bucket, Key=k)["UploadId"]
            parts = []
            for i, at in enumerate(range(0, len(body), 5 << 20), start=1):
                etag = s3.upload_part(Bucket=bucket, Key=k, UploadId=upload_id, PartNumber=i, Body=body[at : at + (5 << 20)])["ETag"]
                parts.append({"PartNumber": i, "ETag": etag})
            s3.complete_multipart_upload(Bucket=bucket, Key=k, UploadId=upload_id, MultipartUpload={"Parts": parts})

        wrote(k, body, attempt(f"multipart {k}", upload))

faults.enabled = False
# Through the fault-free proxy: every key holds what the client was told, or (after a failed
# write) one of the versions written.
exact = 0
for k in keys:
    try:
        got = verify.get_object(Bucket=bucket, Key=k)["Body"].read()
    except verify.exceptions.NoSuchKey:
        got = None
    assert got in known(k), f"{k}: holds {sha(got)}, expected one of {[sha(v) for v in known(k)]}"
    exact += len(known(k)) == 1
# No reference missing or changed.
deltas = references = 0
for o in raw.list_objects_v2(Bucket=bucket).get("Contents", []):
    name = o["Key"]
    if name.endswith(".delta"):
        deltas += 1
        meta = raw.head_object(Bucket=bucket, Key=name)["Metadata"]
        ref = raw.head_object(Bucket=bucket, Key=meta["dg-ref-key"])["Metadata"]
        assert ref["dg-file-sha256"] == meta["dg-ref-sha256"], name
    elif name.rsplit("/", 1)[1].startswith("reference."):
        references += 1
        ref = raw.get_object(Bucket=bucket, Key=name)
        meta = ref["Metadata"]
        if "dg-ref-key" in meta:
            # A link of a chain (a delta of an older reference): its base is there, as recorded.
            base = raw.head_object(Bucket=bucket, Key=meta["dg-ref-key"])["Metadata"]
            assert base["dg-file-sha256"] == meta["dg-ref-sha256"], name
        else:
            assert hashlib.sha256(ref["Body"].read()).hexdigest() == meta["dg-file-sha256"], name
faulty.kill()
clean.kill()
print(f"faults: ok; {operations} operations ({tally['ok']} succeeded, {tally['failed']} failed after retries), "
      f"connections {dict(sorted(faults.counts.items()))}; {exact} of {len(keys)} keys exactly known, "
      f"{deltas} deltas, {references} references verified")
