"""Request bodies through a running deltaglider-proxy, written as the clients that send them
(the AWS SDK for C++'s aws-chunked bodies with trailers, signed streaming uploads) and as an
attacker would: every accepted write reads back exactly, from the proxy and straight from the
backend (no framing stored), and every refused one gets its S3 error and changes nothing.

Usage: ingest_check.py PROXY BACKEND BACKEND_KEY BACKEND_SECRET
(client credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)"""
import base64
import hashlib
import hmac
import os
import re
import socket
import struct
import sys
from urllib.parse import urlsplit

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

proxy, backend, backend_key, backend_secret = sys.argv[1:5]
key, secret = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
host = urlsplit(proxy).netloc
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def client(endpoint, k, s):
    return boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=k, aws_secret_access_key=s,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                      retries={"max_attempts": 1}),
    )


s3 = client(proxy, key, secret)
raw = client(backend, backend_key, backend_secret)


def _crc64_table():
    table = []
    for n in range(256):
        crc = n
        for _ in range(8):
            crc = (crc >> 1) ^ (0x9A6C9329AC4BC9B5 if crc & 1 else 0)
        table.append(crc)
    return table


CRC64_TABLE = _crc64_table()


def crc64nvme(data):
    """CRC-64/NVME, base64 as S3 sends it."""
    crc, table = 0xFFFFFFFFFFFFFFFF, CRC64_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return base64.b64encode(struct.pack(">Q", crc ^ 0xFFFFFFFFFFFFFFFF)).decode()


def sign(method, path, headers):
    """SigV4 headers for a request whose x-amz-content-sha256 is already in `headers`."""
    request = AWSRequest(method=method, url=proxy + path, data=b"", headers=dict(headers))
    SigV4Auth(Credentials(key, secret), "s3", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def send(method, path, headers, body):
    """Sends exactly these headers and body bytes; (status, response body)."""
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items() if k.lower() != "host") + "\r\n"
    with socket.create_connection((urlsplit(proxy).hostname, urlsplit(proxy).port)) as sock:
        sock.settimeout(60)
        try:
            sock.sendall(head.encode() + body)
        except OSError:
            pass  # refused before the whole body was read
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except OSError:
            pass
    if not answer.startswith(b"HTTP/"):
        return None, ""
    return int(answer.split(b" ", 2)[1]), answer.split(b"\r\n\r\n", 1)[-1].decode("utf-8", "replace")


def frame(data, pieces, trailer=None, signing=None):
    """aws-chunked: `data` in `pieces` chunks, a final chunk, trailer lines."""
    out, step = b"", max(1, -(-len(data) // pieces))
    chunks = [data[i:i + step] for i in range(0, len(data), step)] + [b""]
    for chunk in chunks:
        extension = f";chunk-signature={signing(chunk)}" if signing else ""
        out += f"{len(chunk):x}{extension}\r\n".encode() + chunk + (b"\r\n" if chunk else b"")
    for line in trailer or []:
        out += line.encode() + b"\r\n"
    return out + b"\r\n"


def unsigned_trailer_put(path, data, trailer_lines, te=True, extra=None):
    """What the AWS SDK for C++ sends: aws-chunked over chunked transfer, a crc64nvme trailer."""
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-trailer": "x-amz-checksum-crc64nvme",
        "x-amz-decoded-content-length": str(len(data)),
        **(extra or {}),
    }
    headers = sign("PUT", path, headers)
    body = frame(data, 3, trailer_lines)
    if te:
        headers["Transfer-Encoding"] = "chunked"
        body = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    else:
        headers["Content-Length"] = str(len(body))
    return send("PUT", path, headers, body)


def signed_streaming_put(path, data, corrupt_chunk=None):
    """STREAMING-AWS4-HMAC-SHA256-PAYLOAD: every chunk signed, chained on the seed."""
    headers = sign("PUT", path, {
        "Content-Encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "x-amz-decoded-content-length": str(len(data)),
    })
    amz_date = headers["X-Amz-Date"]
    scope = f"{amz_date[:8]}/us-east-1/s3/aws4_request"
    k = f"AWS4{secret}".encode()
    for part in [amz_date[:8], "us-east-1", "s3", "aws4_request"]:
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    previous = [re.search(r"Signature=([0-9a-f]+)", headers["Authorization"]).group(1)]
    count = [0]

    def signing(chunk):
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous[0], EMPTY_SHA256,
                         hashlib.sha256(chunk).hexdigest()])
        previous[0] = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        count[0] += 1
        return "0" * 64 if count[0] == corrupt_chunk else previous[0]

    body = frame(data, 4, signing=signing)
    headers["Content-Length"] = str(len(body))
    return send("PUT", path, headers, body)


def code_of(text):
    found = re.search(r"<Code>([^<]*)</Code>", text)
    return found.group(1) if found else None


failures = []


def expect(name, status, code, got):
    got_status, body = got
    ok = got_status == status and (code is None or code_of(body) == code)
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {got_status} {code_of(body)}")
    if not ok:
        failures.append(f"{name}: expected {status} {code}, got {got_status}: {body[:300]}")


def stored(k):
    """The object's bytes straight from the backend, or None."""
    try:
        return raw.get_object(Bucket=bucket, Key=k)["Body"].read()
    except raw.exceptions.NoSuchKey:
        return None
    except Exception as e:  # HEAD-less 404s from some backends
        if "404" in str(e) or "NoSuchKey" in str(e):
            return None
        raise


def check_roundtrip(name, k, data, direct=True):
    got = s3.get_object(Bucket=bucket, Key=k)["Body"].read()
    ok = got == data and (not direct or stored(k) == data)
    print(f"{'ok  ' if ok else 'FAIL'} {name}: read back {'exactly' if ok else repr(got[:60])}")
    if not ok:
        failures.append(f"{name}: stored {stored(k)[:80]!r}, read {got[:80]!r}")


def check_absent(name, k):
    ok = all(stored(x) is None for x in [k, k + ".delta"])
    print(f"{'ok  ' if ok else 'FAIL'} {name}: nothing stored")
    if not ok:
        failures.append(f"{name}: something was stored under {k}")


bucket = f"ingest-{os.getpid()}"
s3.create_bucket(Bucket=bucket)
data = os.urandom(300_000)

# Accepted: the payload, never the framing, is what is stored and read.
for k, direct in [("plain/hello.txt", True), ("rel/v1.zip", False)]:
    expect(f"aws-chunked + trailer over chunked transfer, {k}", 200, None,
           unsigned_trailer_put(f"/{bucket}/{k}", data, [f"x-amz-checksum-crc64nvme:{crc64nvme(data)}"]))
    check_roundtrip(f"aws-chunked + trailer, {k}", k, data, direct)
expect("aws-chunked + trailer with Content-Length", 200, None,
       unsigned_trailer_put(f"/{bucket}/plain/cl.txt", b"hello", [f"x-amz-checksum-crc64nvme:{crc64nvme(b'hello')}"], te=False))
check_roundtrip("aws-chunked with Content-Length", "plain/cl.txt", b"hello")
expect("signed streaming, plain/signed.txt", 200, None, signed_streaming_put(f"/{bucket}/plain/signed.txt", data))
check_roundtrip("signed streaming", "plain/signed.txt", data)

# UploadPart as the AWS SDK for C++ sends it; the completed object is the payload.
upload = s3.create_multipart_upload(Bucket=bucket, Key="plain/multi.txt")["UploadId"]
part = os.urandom(5 << 20)
expect("UploadPart, aws-chunked + trailer", 200, None,
       unsigned_trailer_put(f"/{bucket}/plain/multi.txt?partNumber=1&uploadId={upload}", part,
                            [f"x-amz-checksum-crc64nvme:{crc64nvme(part)}"]))
etag = '"%s"' % hashlib.md5(part).hexdigest()
wrong_md5 = base64.b64encode(hashlib.md5(b"not the part").digest()).decode()
headers = sign("PUT", f"/{bucket}/plain/multi.txt?partNumber=2&uploadId={upload}",
               {"x-amz-content-sha256": hashlib.sha256(b"part two").hexdigest(), "Content-MD5": wrong_md5,
                "Content-Length": "8"})
expect("UploadPart, wrong Content-MD5", 400, "BadDigest",
       send("PUT", f"/{bucket}/plain/multi.txt?partNumber=2&uploadId={upload}", headers, b"part two"))
s3.complete_multipart_upload(Bucket=bucket, Key="plain/multi.txt", UploadId=upload,
                             MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
check_roundtrip("UploadPart, aws-chunked", "plain/multi.txt", part)

# Refused, and nothing stored.
for k in ["plain/bad.txt", "rel/bad.zip"]:
    expect(f"wrong trailer checksum, {k}", 400, "BadDigest",
           unsigned_trailer_put(f"/{bucket}/{k}", data, ["x-amz-checksum-crc64nvme:AAAAAAAAAAA="]))
    expect(f"announced trailer missing, {k}", 400, "IncompleteBody",
           unsigned_trailer_put(f"/{bucket}/{k}", data, []))
    expect(f"bad chunk signature, {k}", 403, "SignatureDoesNotMatch",
           signed_streaming_put(f"/{bucket}/{k}", data, corrupt_chunk=2))
    check_absent(f"refused bodies, {k}", k)
# (hyper drops Content-Length when Transfer-Encoding is present and closes the connection
# after the request; the PUT then has no length: 411. An in-process stack sees both: 400.)
status, text = send("PUT", f"/{bucket}/plain/clte.txt",
                    {**sign("PUT", f"/{bucket}/plain/clte.txt", {"x-amz-content-sha256": "UNSIGNED-PAYLOAD"}),
                     "Content-Length": "5", "Transfer-Encoding": "chunked"}, b"5\r\nhello\r\n0\r\n\r\n")
expect("Content-Length and Transfer-Encoding", status if status in (400, 411) else 400, None, (status, text))
check_absent("Content-Length and Transfer-Encoding", "plain/clte.txt")
body = b"two checksums"
expect("two checksum headers", 400, "InvalidRequest",
       send("PUT", f"/{bucket}/plain/two.txt", {**sign("PUT", f"/{bucket}/plain/two.txt", {
           "x-amz-content-sha256": hashlib.sha256(body).hexdigest(),
           "x-amz-checksum-crc32": base64.b64encode(struct.pack(">I", __import__("zlib").crc32(body))).decode(),
           "x-amz-checksum-sha256": base64.b64encode(hashlib.sha256(body).digest()).decode()}),
           "Content-Length": str(len(body))}, body))
check_absent("two checksum headers", "plain/two.txt")
expect("3 KB of metadata", 400, "MetadataTooLarge",
       send("PUT", f"/{bucket}/plain/meta.txt", {**sign("PUT", f"/{bucket}/plain/meta.txt", {
           "x-amz-content-sha256": hashlib.sha256(body).hexdigest(), "x-amz-meta-big": "m" * 3000}),
           "Content-Length": str(len(body))}, body))
check_absent("3 KB of metadata", "plain/meta.txt")

# A body over the buffering limit that differs from its signed hash streams to the backend:
# its end is held back, so the backend never completes it.
big = os.urandom(12 << 20)
for k in ["plain/big.txt", "rel/big.zip"]:
    headers = sign("PUT", f"/{bucket}/{k}", {"x-amz-content-sha256": hashlib.sha256(big).hexdigest(),
                                             "Content-Length": str(len(big))})
    tampered = big[:-1] + bytes([big[-1] ^ 1])
    expect(f">8 MiB body differs from its signed hash, {k}", 400, "XAmzContentSHA256Mismatch",
           send("PUT", f"/{bucket}/{k}", headers, tampered))
    check_absent(f">8 MiB tampered body, {k}", k)

# DeleteObjects with a Content-MD5 of something else deletes nothing.
xml = b"<Delete><Object><Key>plain/hello.txt</Key></Object><Object><Key>rel/v1.zip</Key></Object></Delete>"
expect("DeleteObjects, wrong Content-MD5", 400, "BadDigest",
       send("POST", f"/{bucket}?delete", {**sign("POST", f"/{bucket}?delete", {
           "x-amz-content-sha256": hashlib.sha256(xml).hexdigest(), "Content-MD5": wrong_md5}),
           "Content-Length": str(len(xml))}, xml))
check_roundtrip("DeleteObjects refused, keys kept", "plain/hello.txt", data)
check_roundtrip("DeleteObjects refused, keys kept", "rel/v1.zip", data, direct=False)

if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
print("ingest: every accepted body stored exactly, every refused one stored nothing")
