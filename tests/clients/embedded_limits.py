"""The embedded backend and the server's limits, against real deltaglider-proxy processes
it starts itself: long keys, multipart completion checks, ListMultipartUploads and abort,
errors answered before the body (Expect: 100-continue), metrics authentication, header and
body timeouts, the connection limit. Every refused request must leave the data directory
as it was.

Usage: embedded_limits.py PROXY_BINARY"""
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

binary = sys.argv[1]
KEY, SECRET, TOKEN = "limits-key", "limits-secret", "metrics-token-123"
failures = []


def check(name, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {name}{'' if ok else ': ' + str(detail)[:400]}")
    if not ok:
        failures.append(f"{name}: {detail}")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(data, *extra):
    port = free_port()
    log = open(os.path.join(os.path.dirname(data), f"proxy-{port}.log"), "w")
    process = subprocess.Popen(
        [binary, "--listen", f"127.0.0.1:{port}", "--data-dir", data, "--access-key", KEY,
         "--secret-key", SECRET, *extra], stdout=log, stderr=subprocess.STDOUT)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, port
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"proxy on {port} did not start")


def client(port):
    return boto3.client(
        "s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id=KEY,
        aws_secret_access_key=SECRET, region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                      connect_timeout=5, read_timeout=30))


def code(call):
    """The S3 error code of `call()`, or None when it succeeds."""
    try:
        call()
        return None
    except ClientError as e:
        return e.response["Error"]["Code"]


def disk(data):
    """Every file under the data directory with its size."""
    found = {}
    for root, _, files in os.walk(data):
        for f in files:
            path = os.path.join(root, f)
            found[os.path.relpath(path, data)] = os.path.getsize(path)
    return found


def upload_files(data):
    return sorted(f for f in disk(data) if f.startswith(".upload"))


work = tempfile.mkdtemp(prefix="dg-limits-")
data = os.path.join(work, "data")
os.makedirs(data)
proxy, port = start(data, "--header-timeout-secs", "2", "--body-idle-timeout-secs", "2",
                    "--metrics-token", TOKEN)
s3 = client(port)
try:
    bucket = "limits"
    s3.create_bucket(Bucket=bucket)

    # --- Keys: 1024 bytes is S3's limit everywhere; the filesystem's names are tighter.
    check("a 1025-byte key is KeyTooLongError",
          code(lambda: s3.put_object(Bucket=bucket, Key="k" * 1025, Body=b"x")) == "KeyTooLongError")
    check("GET of a 1025-byte key is KeyTooLongError",
          code(lambda: s3.get_object(Bucket=bucket, Key="k" * 1025)) == "KeyTooLongError")
    for suffix in [".txt", ".zip"]:
        longest = None
        for length in range(100, 260):
            key = "p/" + "k" * (length - 2 - len(suffix)) + suffix
            before = disk(data)
            body = os.urandom(1000)
            got = code(lambda: s3.put_object(Bucket=bucket, Key=key, Body=body))
            if got is None:
                longest = key
                continue
            check(f"{suffix} key of {length} bytes: KeyTooLongError, nothing stored",
                  got == "KeyTooLongError" and disk(data) == before, (got, set(disk(data)) ^ set(before)))
            for what, call in [
                ("CopyObject to it", lambda: s3.copy_object(Bucket=bucket, Key=key,
                                                            CopySource={"Bucket": bucket, "Key": longest})),
                ("CreateMultipartUpload", lambda: s3.create_multipart_upload(Bucket=bucket, Key=key)),
                ("GET", lambda: s3.get_object(Bucket=bucket, Key=key)),
            ]:
                got = code(call)
                expected = "NoSuchKey" if what == "GET" else "KeyTooLongError"
                check(f"{suffix} key of {length} bytes, {what}: {expected}, nothing stored",
                      got == expected and disk(data) == before, got)
            break
        check(f"some {suffix} keys are too long for the filesystem, shorter ones are stored",
              longest is not None and length < 260, length)
        body = os.urandom(3000)
        s3.put_object(Bucket=bucket, Key=longest, Body=body)
        check(f"longest {suffix} key ({len(longest)} bytes) reads back",
              s3.get_object(Bucket=bucket, Key=longest)["Body"].read() == body)
        check(f"longest {suffix} key HEAD", s3.head_object(Bucket=bucket, Key=longest)["ContentLength"] == 3000)
        copy = longest[:-len(suffix) - 1] + "c" + suffix
        s3.copy_object(Bucket=bucket, Key=copy, CopySource={"Bucket": bucket, "Key": longest})
        check(f"longest {suffix} key copies", s3.get_object(Bucket=bucket, Key=copy)["Body"].read() == body)
        # Multipart names are longer (the upload id is in them): find the longest that opens.
        wrong = []
        for length in range(len(longest), 50, -1):
            key = "m/" + "k" * (length - 2 - len(suffix)) + suffix
            before = disk(data)
            got = code(lambda: s3.create_multipart_upload(Bucket=bucket, Key=key))
            if got is None:
                break
            if got != "KeyTooLongError" or disk(data) != before:
                wrong.append((length, got))
        check(f"multipart {suffix} keys from {length + 1} to {len(longest)} bytes refused, nothing stored",
              not wrong, wrong)
        upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=1, Body=body)["ETag"]
        s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
        check(f"longest multipart {suffix} key ({len(key)} bytes) completes and reads back",
              s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body)
    s3.list_objects_v2(Bucket=bucket)

    # --- CompleteMultipartUpload is checked against the parts uploaded.
    five = 5 << 20
    parts = [os.urandom(five), os.urandom(five), os.urandom(1000)]
    key = "mp/object.bin"
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=n, Body=p)["ETag"]
             for n, p in zip([1, 3, 7], parts)]
    listed = lambda pairs: {"Parts": [{"PartNumber": n, "ETag": e} for n, e in pairs]}
    before = disk(data)
    for name, pairs, expected in [
        ("a bogus ETag", [(1, etags[0]), (3, '"' + "0" * 32 + '"'), (7, etags[2])], "InvalidPart"),
        ("a part never uploaded", [(1, etags[0]), (2, etags[1])], "InvalidPart"),
        ("descending parts", [(3, etags[1]), (1, etags[0])], "InvalidPartOrder"),
    ]:
        got = code(lambda: s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload,
                                                        MultipartUpload=listed(pairs)))
        check(f"CompleteMultipartUpload with {name}: {expected}, upload intact",
              got == expected and disk(data) == before, got)
    small_first = s3.create_multipart_upload(Bucket=bucket, Key="mp/small.bin")["UploadId"]
    small = [s3.upload_part(Bucket=bucket, Key="mp/small.bin", UploadId=small_first, PartNumber=n,
                            Body=b"x" * 100)["ETag"] for n in (1, 2)]
    got = code(lambda: s3.complete_multipart_upload(
        Bucket=bucket, Key="mp/small.bin", UploadId=small_first, MultipartUpload=listed(zip((1, 2), small))))
    check("a part under 5 MiB before the last: EntityTooSmall", got == "EntityTooSmall", got)
    check("ListParts still works after refused completions",
          len(s3.list_parts(Bucket=bucket, Key=key, UploadId=upload)["Parts"]) == 3)
    # Parts 1, 3, 7 (gaps, as S3 allows) complete, in that order.
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload,
                                 MultipartUpload=listed(zip([1, 3, 7], etags)))
    got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    check("a completion with gaps between part numbers reads back", got == b"".join(parts))
    # Only the first two parts listed: the third is dropped with the upload.
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp/two.bin")["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key="mp/two.bin", UploadId=upload, PartNumber=n, Body=p)["ETag"]
             for n, p in zip([1, 2, 3], parts)]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp/two.bin", UploadId=upload,
                                 MultipartUpload=listed(zip([1, 2], etags)))
    check("parts not listed in a completion are removed",
          not [f for f in upload_files(data) if upload in f], upload_files(data))
    check("UploadPart to an unknown upload: NoSuchUpload",
          code(lambda: s3.upload_part(Bucket=bucket, Key=key, UploadId="0b5e8c2a-3f41-4d7e-9a10-2c3d4e5f6a7b",
                                      PartNumber=1, Body=b"x")) == "NoSuchUpload")
    other = s3.create_multipart_upload(Bucket=bucket, Key="mp/a.txt")["UploadId"]
    check("UploadPart with another key's upload id: NoSuchUpload",
          code(lambda: s3.upload_part(Bucket=bucket, Key="mp/b.txt", UploadId=other,
                                      PartNumber=1, Body=b"x")) == "NoSuchUpload")

    # --- ListMultipartUploads and AbortMultipartUpload.
    opened = {k: s3.create_multipart_upload(Bucket=bucket, Key=k)["UploadId"]
              for k in ["up/a.zip", "up/b.txt", "up/dir/c.txt", "other.txt"]}
    for k, u in opened.items():
        s3.upload_part(Bucket=bucket, Key=k, UploadId=u, PartNumber=1, Body=b"part")
    listing = s3.list_multipart_uploads(Bucket=bucket, Prefix="up/")
    check("ListMultipartUploads lists the open uploads under a prefix",
          sorted((u["Key"], u["UploadId"]) for u in listing.get("Uploads", []))
          == sorted((k, u) for k, u in opened.items() if k.startswith("up/")), listing.get("Uploads"))
    rolled = s3.list_multipart_uploads(Bucket=bucket, Prefix="up/", Delimiter="/")
    check("ListMultipartUploads rolls up common prefixes",
          [p["Prefix"] for p in rolled.get("CommonPrefixes", [])] == ["up/dir/"]
          and len(rolled.get("Uploads", [])) == 2, rolled)
    pages = list(s3.get_paginator("list_multipart_uploads").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 2}))
    every = [u["UploadId"] for page in pages for u in page.get("Uploads", [])]
    check("ListMultipartUploads pages with max-uploads, markers",
          len(pages) > 1 and sorted(every) == sorted(set(every)) and set(opened.values()) <= set(every), pages)
    for k, u in opened.items():
        s3.abort_multipart_upload(Bucket=bucket, Key=k, UploadId=u)
    left = [f for f in upload_files(data) if any(u in f for u in opened.values())]
    check("AbortMultipartUpload removes every file of the upload", not left, left)
    check("aborted uploads are no longer listed",
          not s3.list_multipart_uploads(Bucket=bucket, Prefix="up/").get("Uploads"))
    check("ListMultipartUploads of a missing bucket: NoSuchBucket",
          code(lambda: s3.list_multipart_uploads(Bucket="nobucket")) == "NoSuchBucket")

    # --- Errors carry a message and come before the body.
    try:
        s3.list_objects_v2(Bucket="no-such-bucket")
        check("ListObjectsV2 of a missing bucket fails", False)
    except ClientError as e:
        error = e.response["Error"]
        check("ListObjectsV2 of a missing bucket: NoSuchBucket with a message",
              error.get("Code") == "NoSuchBucket" and error.get("Message"), error)

    def expect_continue(path, length):
        """Sends the headers of a signed PUT with Expect: 100-continue, no body: the answer."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        request = AWSRequest(method="PUT", url=f"http://127.0.0.1:{port}{path}",
                             headers={"Expect": "100-continue", "Content-Length": str(length),
                                      "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
        SigV4Auth(Credentials(KEY, SECRET), "s3", "us-east-1").add_auth(request)
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        head = f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in request.headers.items()) + "\r\n"
        sock.sendall(head.encode())
        try:
            answer = sock.recv(65536).decode("utf-8", "replace")
        except socket.timeout:
            answer = "(no answer within 5 s)"
        sock.close()
        return answer

    for what, path, expected in [
        ("a missing bucket, delta-eligible key", "/no-such-bucket/a.zip", "NoSuchBucket"),
        ("a missing bucket, other key", "/no-such-bucket/a.txt", "NoSuchBucket"),
        ("a key too long to store", f"/{bucket}/" + "k" * 300 + ".zip", "KeyTooLongError"),
    ]:
        answer = expect_continue(path, 50 << 20)
        check(f"Expect: 100-continue PUT to {what}: {expected} before the body",
              answer.startswith("HTTP/1.1 4") and f"<Code>{expected}</Code>" in answer
              and "<Message>" in answer, answer[:300])

    # --- Metrics: a signature or the token; health names nothing.
    def get(path, headers=()):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall((f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                      + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer.decode("utf-8", "replace")

    check("anonymous metrics: 403", get("/_deltaglider/metrics").startswith("HTTP/1.1 403"))
    check("metrics with a wrong token: 403",
          get("/_deltaglider/metrics", [("Authorization", "Bearer nope")]).startswith("HTTP/1.1 403"))
    with_token = get("/_deltaglider/metrics", [("Authorization", f"Bearer {TOKEN}")])
    check("metrics with the token", with_token.startswith("HTTP/1.1 200") and "deltaglider_requests_total" in with_token)
    if shutil.which("curl"):
        signed = subprocess.run(
            # curl before 8.1 does not add the payload hash S3 signatures need.
            ["curl", "-s", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user", f"{KEY}:{SECRET}",
             "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", f"http://127.0.0.1:{port}/_deltaglider/metrics"], capture_output=True, text=True)
        check("metrics signed with SigV4 (curl --aws-sigv4)", "deltaglider_requests_total" in signed.stdout,
              signed.stdout[:300])
        badly = subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--aws-sigv4", "aws:amz:us-east-1:s3",
             "--user", f"{KEY}:wrong", "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", f"http://127.0.0.1:{port}/_deltaglider/metrics"],
            capture_output=True, text=True)
        check("metrics signed with a wrong secret: 403", badly.stdout == "403", badly.stdout)
    health = get("/_deltaglider/health")
    check("health is open and names nothing", health.startswith("HTTP/1.1 200") and bucket not in health)

    # --- Server limits.
    sockets = []
    for _ in range(2000):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        sockets.append(sock)
    started = time.monotonic()
    open_after = 0
    for sock in sockets:
        sock.settimeout(max(0.1, 12 - (time.monotonic() - started)))
        try:
            while sock.recv(65536):
                pass
        except (socket.timeout, ConnectionResetError):
            open_after += 1 if isinstance(sys.exc_info()[1], socket.timeout) else 0
        sock.close()
    check(f"2000 half-sent request heads are closed by the header timeout ({time.monotonic() - started:.1f} s)",
          open_after == 0, f"{open_after} still open after 12 s")
    # An idle keep-alive connection is closed too.
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"GET /_deltaglider/health HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.3)
    sock.recv(65536)
    started = time.monotonic()
    try:
        closed = sock.recv(65536) == b""
    except socket.timeout:
        closed = False
    check(f"an idle keep-alive connection is closed ({time.monotonic() - started:.1f} s)", closed)
    sock.close()
    # A body that stops half-way: the request fails after the idle timeout, nothing stored.
    for stalled_key in ["slow/body.txt", "slow/body.zip"]:
        before = disk(data)
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        path = f"/{bucket}/{stalled_key}"
        request = AWSRequest(method="PUT", url=f"http://127.0.0.1:{port}{path}",
                             headers={"Content-Length": "100000", "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
        SigV4Auth(Credentials(KEY, SECRET), "s3", "us-east-1").add_auth(request)
        sock = socket.create_connection(("127.0.0.1", port), timeout=15)
        sock.sendall((f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in request.headers.items()) + "\r\n").encode() + b"x" * 1000)
        started = time.monotonic()
        try:
            answer = sock.recv(65536)
        except socket.timeout:
            answer = None
        took = time.monotonic() - started
        sock.close()
        check(f"a stalled body ({stalled_key}) is cut after the idle timeout ({took:.1f} s), nothing stored",
              answer is not None and took < 10 and code(lambda: s3.head_object(Bucket=bucket, Key=stalled_key)) == "404"
              and disk(data) == before, (answer, took))
    # Oversized request heads.
    answer = get("/_deltaglider/health", [("X-Big", "a" * 20000)])
    check("a 20 KB request head is refused (431)", answer.startswith("HTTP/1.1 431"), answer[:100])
finally:
    proxy.terminate()
    proxy.wait()

# --- The connection limit: a second proxy allowing 8 connections.
limited, port = start(os.path.join(work, "data"), "--max-connections", "8", "--header-timeout-secs", "3")
try:
    def socket_count(pid):
        return sum(1 for fd in os.listdir(f"/proc/{pid}/fd")
                   if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"))

    baseline = socket_count(limited.pid)
    held = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(200)]
    for sock in held:
        sock.sendall(b"GET / HTTP/1.1\r\n")
    time.sleep(1)
    during = socket_count(limited.pid)
    check(f"200 connections to a proxy limited to 8 hold at most 8 sockets ({during - baseline})",
          during - baseline <= 8, during - baseline)
    # Held connections time out in waves of 8; each new one is served in turn.
    started = time.monotonic()
    late = socket.create_connection(("127.0.0.1", port), timeout=120)
    late.sendall(b"GET /_deltaglider/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    answer = late.recv(65536)
    check("a connection over the limit waits, then is served", answer.startswith(b"HTTP/1.1 200"),
          (answer, time.monotonic() - started))
    for sock in held:
        sock.close()
finally:
    limited.terminate()
    limited.wait()
shutil.rmtree(work, ignore_errors=True)

if failures:
    print(f"{len(failures)} failures:\n" + "\n".join(failures))
    sys.exit(1)
print("embedded_limits: all checks passed")
