"""Crash test: deltaglider-proxy is killed with SIGKILL in the middle of writes, restarted,
and every key must read back as exactly its old or its new version (the new one if the
write was acknowledged), the same through GET, HEAD and LIST; earlier objects stay intact,
and every stored delta names a reference that exists with the SHA-256 the delta recorded.

The writes: a delta PUT of a new key, an overwrite from a delta to a whole object and from a
whole object to a delta, and the completion of a multipart upload over a delta (the backend
assembles the object whole, then the proxy re-reads and re-stores it). Each is killed after
a random delay (seeded), repeated, so kills land at different points of the operation.

Usage: crash.py ROUNDS PROXY_BINARY RAW_ENDPOINT RAW_KEY RAW_SECRET -- PROXY_ARGS...
(the proxy is started with PROXY_ARGS plus --listen; RAW_ENDPOINT serves the stored layout.)"""
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

rounds = int(sys.argv[1])
binary, raw_endpoint, raw_key, raw_secret = sys.argv[2:6]
proxy_args = sys.argv[sys.argv.index("--") + 1 :]
rng = random.Random(11)


def client(endpoint, key, secret, attempts=1):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": attempts, "mode": "standard"},
            connect_timeout=5,
            read_timeout=120,
        ),
    )


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proxy:
    def __init__(self):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = open(os.environ.get("CRASH_LOG", os.devnull), "ab")
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [binary, "--listen", f"127.0.0.1:{self.port}", *proxy_args],
            stdout=self.log,
            stderr=self.log,
        )
        for _ in range(200):
            try:
                urllib.request.urlopen(self.endpoint + "/_deltaglider/health", timeout=1)
                return
            except Exception:
                time.sleep(0.05)
        raise SystemExit("the proxy did not come up")

    def kill(self):
        self.process.kill()  # SIGKILL: no shutdown, no clean-up
        self.process.wait()


key, secret = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
proxy = Proxy()
proxy.start()
# A failed check must not leave the proxy running.
atexit.register(lambda: proxy.process.poll() is None and proxy.kill())
s3 = client(proxy.endpoint, key, secret, attempts=4)
raw = client(raw_endpoint, raw_key, raw_secret, attempts=4)
bucket = f"crash-{os.getpid()}"
s3.create_bucket(Bucket=bucket)

base = bytearray(rng.randbytes(7 << 20))


def similar(seed):
    """A version of `base` with a few edits and a tail of its own length: stored as a
    delta; versions differ in size, so a listing that disagrees with GET shows."""
    r = random.Random(seed)
    out = bytearray(base)
    for _ in range(8):
        at = r.randrange(len(out) - 256)
        out[at : at + 256] = r.randbytes(256)
    return bytes(out) + r.randbytes(1 + seed % 4096)


def unrelated(seed, size=40_000):
    """Small and resembling nothing: stored whole."""
    return random.Random(seed).randbytes(size)


def sha(b):
    return hashlib.sha256(b).hexdigest()


# Objects that must survive every crash untouched, and the deltaspaces' seed.
intact = {}
for name, body in [("s/seed.bin", bytes(base)), ("s/keep-1.bin", similar(1)), ("s/keep-2.bin", unrelated(2))]:
    s3.put_object(Bucket=bucket, Key=name, Body=body)
    intact[name] = body


def put(body_key, body):
    s3w = client(proxy.endpoint, key, secret)
    s3w.put_object(Bucket=bucket, Key=body_key, Body=body)


def multipart(body_key, body):
    s3w = client(proxy.endpoint, key, secret)
    upload = s3w.create_multipart_upload(Bucket=bucket, Key=body_key)["UploadId"]
    parts = []
    step = 5 << 20
    for n, at in enumerate(range(0, len(body), step), start=1):
        etag = s3w.upload_part(Bucket=bucket, Key=body_key, UploadId=upload, PartNumber=n, Body=body[at : at + step])["ETag"]
        parts.append({"PartNumber": n, "ETag": etag})
    # The kill is aimed at the completion: the backend assembles, the proxy re-stores.
    multipart.ready.set()
    s3w.complete_multipart_upload(Bucket=bucket, Key=body_key, UploadId=upload, MultipartUpload={"Parts": parts})


multipart.ready = threading.Event()


def check(name, old, new, acknowledged):
    got = s3.get_object(Bucket=bucket, Key=name)["Body"].read()
    versions = {sha(v): label for v, label in [(old, "old"), (new, "new")] if v is not None}
    label = versions.get(sha(got))
    assert label is not None, f"{name}: {len(got)} bytes, neither the old nor the new version"
    if acknowledged:
        assert label == "new", f"{name}: the acknowledged write reads back as the old version"
    head = s3.head_object(Bucket=bucket, Key=name)
    assert head["ContentLength"] == len(got), (name, head["ContentLength"], len(got))
    listed = [o for o in s3.list_objects_v2(Bucket=bucket, Prefix=name)["Contents"] if o["Key"] == name]
    assert len(listed) == 1 and listed[0]["Size"] == len(got), (name, listed, len(got))
    # (s3s-fs listings carry no ETags for objects stored whole.)
    assert listed[0].get("ETag", head["ETag"]) == head["ETag"], (name, listed[0], head["ETag"])
    return label


def references_intact():
    """Every stored delta names a reference that exists and has the recorded SHA-256, and so
    does every link of that reference's chain."""
    token = None
    while True:
        page = raw.list_objects_v2(Bucket=bucket, **({"ContinuationToken": token} if token else {}))
        for o in page.get("Contents", []):
            if not o["Key"].endswith(".delta"):
                continue
            meta = raw.head_object(Bucket=bucket, Key=o["Key"])["Metadata"]
            # Down the chain: a reference stored as a delta names its base the same way.
            for _ in range(64):
                ref = raw.head_object(Bucket=bucket, Key=meta["dg-ref-key"])["Metadata"]
                assert ref["dg-file-sha256"] == meta["dg-ref-sha256"], o["Key"]
                if "dg-ref-key" not in ref:
                    break
                meta = ref
        if not page.get("IsTruncated"):
            return
        token = page["NextContinuationToken"]


scenarios = [
    # name, old version (None: the key is new), new version, how it is written
    ("delta-put", lambda i: None, lambda i: similar(100 + i), put),
    ("delta-to-whole", lambda i: similar(200 + i), lambda i: unrelated(300 + i), put),
    ("whole-to-delta", lambda i: unrelated(400 + i), lambda i: similar(500 + i), put),
    ("multipart-over-delta", lambda i: similar(600 + i), lambda i: similar(700 + i), multipart),
]
outcomes = {}
for r in range(rounds):
    for name, old_of, new_of, write in scenarios:
        k = f"s/{name}-{r}.bin"
        old, new = old_of(r), new_of(r)
        if old is not None:
            s3.put_object(Bucket=bucket, Key=k, Body=old)
        acknowledged = threading.Event()
        failed = []

        def run():
            try:
                write(k, new)
                acknowledged.set()
            except Exception as e:  # the kill cuts the connection
                failed.append(e)

        multipart.ready.clear()
        thread = threading.Thread(target=run)
        thread.start()
        if write is multipart:
            multipart.ready.wait(60)
        time.sleep(rng.uniform(0.0, 0.6))
        proxy.kill()
        thread.join()
        proxy.start()
        if old is None and not acknowledged.is_set():
            try:
                s3.head_object(Bucket=bucket, Key=k)
            except s3.exceptions.ClientError as e:
                assert e.response["Error"]["Code"] in ("404", "NoSuchKey"), e
                listed = s3.list_objects_v2(Bucket=bucket, Prefix=k).get("Contents", [])
                assert listed == [], (k, listed)
                outcomes.setdefault(name, []).append("absent")
                continue
        label = check(k, old, new, acknowledged.is_set())
        outcomes.setdefault(name, []).append(label + ("" if acknowledged.is_set() else "*"))
    for name, body in intact.items():
        assert s3.get_object(Bucket=bucket, Key=name)["Body"].read() == body, name
    references_intact()

# After the crashes, a write of each key leaves exactly one stored form.
for r in range(rounds):
    for name, *_ in scenarios:
        k = f"s/{name}-{r}.bin"
        body = similar(900 + r)
        s3.put_object(Bucket=bucket, Key=k, Body=body)
        assert s3.get_object(Bucket=bucket, Key=k)["Body"].read() == body, k
        forms = [o["Key"] for o in raw.list_objects_v2(Bucket=bucket, Prefix=k).get("Contents", []) if o["Key"] in (k, k + ".delta")]
        assert len(forms) == 1, forms
references_intact()
proxy.kill()
print("crash: ok;", ", ".join(f"{n}: {' '.join(v)}" for n, v in outcomes.items()), "(* = killed before the answer)")
