"""Bad input against a running deltaglider-proxy: each request gets the S3 error a real S3
would send (status and XML code), and the stored layout, read straight from the backend, is
exactly what it was before.

Usage: bad_input.py PROXY BACKEND BACKEND_KEY BACKEND_SECRET
(client credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)"""
import base64
import hashlib
import http.client
import os
import re
import socket
import sys
import time
from urllib.parse import urlsplit

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

proxy, backend, backend_key, backend_secret = sys.argv[1:5]
key, secret = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
host = urlsplit(proxy).netloc


def client(endpoint, k, s):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=k,
        aws_secret_access_key=s,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                      retries={"max_attempts": 1}),
    )


s3 = client(proxy, key, secret)
raw = client(backend, backend_key, backend_secret)


def snapshot():
    """Every stored object of every bucket: key, size, ETag — read from the backend."""
    state = {}
    for b in raw.list_buckets()["Buckets"]:
        for page in raw.get_paginator("list_objects_v2").paginate(Bucket=b["Name"]):
            for o in page.get("Contents", []):
                state[(b["Name"], o["Key"])] = (o["Size"], o.get("ETag"))
    return state


def signed_headers(method, path, body=b"", headers=None, secret_key=None, payload=None):
    request = AWSRequest(method=method, url=proxy + path, data=body, headers=dict(headers or {}))
    request.headers["x-amz-content-sha256"] = payload or hashlib.sha256(body).hexdigest()
    SigV4Auth(Credentials(key, secret_key or secret), "s3", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def send(method, path, body=b"", headers=None, **sign):
    connection = http.client.HTTPConnection(host, timeout=30)
    connection.request(method, path, body=body, headers=signed_headers(method, path, body, headers, **sign))
    response = connection.getresponse()
    return response.status, response.read().decode("utf-8", "replace")


def code_of(text):
    found = re.search(r"<Code>([^<]*)</Code>", text)
    return found.group(1) if found else None


failures = []


def expect(name, status, code, got_status, body):
    got_code = code_of(body)
    ok = got_status == status and (code is None or got_code == code)
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {got_status} {got_code}")
    if not ok:
        failures.append(f"{name}: expected {status} {code}, got {got_status} {got_code}: {body[:300]}")


bucket = f"badinput-{os.getpid()}"
s3.create_bucket(Bucket=bucket)
v1 = os.urandom(1 << 20)
v2 = bytearray(v1)
v2[1000:1010] = b"0123456789"
v2 = bytes(v2)
s3.put_object(Bucket=bucket, Key="rel/v1.zip", Body=v1)
s3.put_object(Bucket=bucket, Key="rel/v2.zip", Body=v2)
s3.put_object(Bucket=bucket, Key="rel/notes.txt", Body=b"notes")
before = snapshot()
assert (bucket, "rel/reference.bin") in before and (bucket, "rel/v2.zip.delta") in before, before

# Unknown bucket (s3s-fs as an upstream creates buckets on PUT: SKIP_UNKNOWN_BUCKET=1), missing key.
if not os.environ.get("SKIP_UNKNOWN_BUCKET"):
    expect("GET, unknown bucket", 404, "NoSuchBucket", *send("GET", "/no-such-bucket-here/rel/v1.zip"))
    expect("PUT, unknown bucket", 404, "NoSuchBucket",
           *send("PUT", "/no-such-bucket-here/rel/v3.zip", b"x" * 100))
expect("GET, missing key", 404, "NoSuchKey", *send("GET", f"/{bucket}/rel/v9.zip"))
expect("HEAD, missing key", 404, None, *send("HEAD", f"/{bucket}/rel/v9.zip"))
expect("DELETE, missing key is a success", 204, None, *send("DELETE", f"/{bucket}/rel/v9.zip"))

# Malformed XML bodies.
garbage = b"<Delete><Object><Key>rel/v1.zip</Key></Object"
md5 = base64.b64encode(hashlib.md5(garbage).digest()).decode()
expect("DeleteObjects, malformed XML", 400, "MalformedXML",
       *send("POST", f"/{bucket}?delete", garbage, {"Content-MD5": md5}))
upload = s3.create_multipart_upload(Bucket=bucket, Key="rel/v3.zip")["UploadId"]
expect("CompleteMultipartUpload, malformed XML", 400, "MalformedXML",
       *send("POST", f"/{bucket}/rel/v3.zip?uploadId={upload}", b"<CompleteMultipartUpload><Part>"))
s3.abort_multipart_upload(Bucket=bucket, Key="rel/v3.zip", UploadId=upload)

# Keys the storage layout reserves: user objects cannot replace or expose them.
for reserved in ["rel/reference.bin", "rel/v1.zip.delta", "rel/reference.0123456789abcdef.bin"]:
    expect(f"PUT reserved key {reserved}", 400, "InvalidArgument",
           *send("PUT", f"/{bucket}/{reserved}", b"overwrite"))
    expect(f"GET reserved key {reserved}", 400, "InvalidArgument", *send("GET", f"/{bucket}/{reserved}"))
    expect(f"DELETE reserved key {reserved}", 400, "InvalidArgument",
           *send("DELETE", f"/{bucket}/{reserved}"))
expect("CopyObject onto a reserved key", 400, "InvalidArgument",
       *send("PUT", f"/{bucket}/rel/reference.bin", b"", {"x-amz-copy-source": f"/{bucket}/rel/v1.zip"}))

# Metadata over S3's 2 KB limit.
expect("PUT, oversize metadata", 400, "MetadataTooLarge",
       *send("PUT", f"/{bucket}/rel/v1.zip", v2, {"x-amz-meta-big": "m" * 2100}))

# Integrity: a Content-MD5 that does not match, one that is not an MD5 at all.
wrong = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
expect("PUT, wrong Content-MD5", 400, "BadDigest",
       *send("PUT", f"/{bucket}/rel/v1.zip", v2, {"Content-MD5": wrong}))
expect("PUT, malformed Content-MD5", 400, "InvalidDigest",
       *send("PUT", f"/{bucket}/rel/v1.zip", v2, {"Content-MD5": "not-an-md5"}))
expect("PUT, wrong x-amz-checksum-crc32", 400, "BadDigest",
       *send("PUT", f"/{bucket}/rel/v1.zip", v2, {"x-amz-checksum-crc32": "AAAAAA=="}))

# Signatures: wrong secret, unsigned, tampered payload, expired presigned URL.
expect("PUT, wrong secret", 403, "SignatureDoesNotMatch",
       *send("PUT", f"/{bucket}/rel/v1.zip", b"wrong", secret_key="wrong-secret"))
# (Small bodies: a server may answer a refused request before reading a large body, and
# close the connection under the client.)
connection = http.client.HTTPConnection(host, timeout=30)
connection.request("PUT", f"/{bucket}/rel/v1.zip", body=b"unsigned")  # refused before it is read
response = connection.getresponse()
expect("PUT, unsigned", 403, "AccessDenied", response.status, response.read().decode())
headers = signed_headers("PUT", f"/{bucket}/rel/v1.zip", b"what was signed")
connection = http.client.HTTPConnection(host, timeout=30)
connection.request("PUT", f"/{bucket}/rel/v1.zip", body=b"what was sent!!", headers=headers)
response = connection.getresponse()
expect("PUT, body differs from the signed hash", 400, "XAmzContentSHA256Mismatch",
       response.status, response.read().decode())
url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "rel/v1.zip"}, ExpiresIn=1)
time.sleep(2)
parts = urlsplit(url)
connection = http.client.HTTPConnection(host, timeout=30)
connection.request("PUT", f"{parts.path}?{parts.query}", body=b"expired")
response = connection.getresponse()
expect("PUT, expired presigned URL", 403, "AccessDenied", response.status, response.read().decode())

# A body cut short: Content-Length promises more than arrives, then the connection closes.
def raw_put(path, body, sent):
    """PUT with a signed Content-Length of len(body) but only `sent` bytes of it."""
    headers = signed_headers("PUT", path, headers={"Content-Length": str(len(body))},
                             payload="UNSIGNED-PAYLOAD")
    headers["Connection"] = "close"
    headers.setdefault("Host", host)
    head = f"PUT {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    with socket.create_connection((urlsplit(proxy).hostname, urlsplit(proxy).port)) as sock:
        sock.sendall(head.encode() + body[:sent])
        if sent < len(body):
            sock.shutdown(socket.SHUT_WR)
        sock.settimeout(30)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except OSError:
            pass
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else None


# The probe is an accepted write and delete, which the layer's savings ledger records
# (`.deltaglider/stats/`): everything refused so far is checked now, and the probe's own
# changes become the new baseline.
time.sleep(0.5)
if snapshot() != before:
    failures.append("the stored layout changed before the truncated bodies")
scratch = f"/{bucket}/scratch/probe.txt"
status = raw_put(scratch, b"complete", 8)
assert status == 200, f"the raw PUT itself is refused ({status})"
s3.delete_object(Bucket=bucket, Key="scratch/probe.txt")
before = snapshot()
for name, path, body in [("delta-eligible", "rel/v1.zip", v2), ("passthrough", "rel/notes.txt", b"n" * 200_000)]:
    status = raw_put(f"/{bucket}/{path}", body, len(body) // 2)
    ok = status is None or status >= 400
    print(f"{'ok  ' if ok else 'FAIL'} truncated {name} body: {status or 'connection closed'}")
    if not ok:
        failures.append(f"truncated {name} body answered {status}")

time.sleep(0.5)
after = snapshot()
if after != before:
    changed = {k: (before.get(k), after.get(k)) for k in set(before) | set(after) if before.get(k) != after.get(k)}
    failures.append(f"the stored layout changed: {changed}")
for k, body in [("rel/v1.zip", v1), ("rel/v2.zip", v2), ("rel/notes.txt", b"notes")]:
    got = s3.get_object(Bucket=bucket, Key=k)["Body"].read()
    if got != body:
        failures.append(f"{k} reads back differently")

if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
print(f"bad input: ok ({len(before)} stored objects unchanged)")
