"""pyarrow's S3FileSystem (the AWS SDK for C++: aws-chunked UploadPart bodies with a
crc64nvme trailer, over plain HTTP too) against a running deltaglider-proxy: objects below
and above its multipart threshold, delta-eligible and not, read back and compared byte for
byte; every stored object, read straight from the backend, is checked for aws-chunked
framing.

Usage: pyarrow_check.py PROXY BACKEND BACKEND_KEY BACKEND_SECRET
(client credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)"""
import os
import re
import sys
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from pyarrow import fs

proxy, backend, backend_key, backend_secret = sys.argv[1:5]
key, secret = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]


def endpoint(url):
    return urlsplit(url).netloc


s3fs = fs.S3FileSystem(
    access_key=key,
    secret_key=secret,
    endpoint_override=endpoint(proxy),
    scheme="http",
    region="us-east-1",
    allow_bucket_creation=True,
    # Completing a 20 MB upload encodes its delta; a debug build takes longer than the
    # SDK's default timeout, and a retried completion finds its upload gone.
    request_timeout=300,
    connect_timeout=30,
)
raw = boto3.client(
    "s3",
    endpoint_url=backend,
    aws_access_key_id=backend_key,
    aws_secret_access_key=backend_secret,
    region_name="us-east-1",
    config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
)

bucket = f"pyarrow-{os.getpid()}"
s3fs.create_dir(bucket)
base = os.urandom(20 << 20)
objects = {}
for size, name in [(1000, "small"), (5 << 20, "medium"), (20 << 20, "large")]:
    version = bytearray(base[:size])
    version[size // 2 : size // 2 + 8] = b"pyarrow!"
    objects[f"rel/{name}.zip"] = bytes(base[:size])
    objects[f"rel/{name}-v2.zip"] = bytes(version)
    objects[f"data/{name}.parquet-like.bin"] = os.urandom(size)
objects["data/hello.txt"] = b"hello"
objects["data/empty.txt"] = b""

for path, data in objects.items():
    with s3fs.open_output_stream(f"{bucket}/{path}") as out:
        out.write(data)

failures = []
for path, data in objects.items():
    with s3fs.open_input_stream(f"{bucket}/{path}") as stream:
        got = stream.read()
    info = s3fs.get_file_info(f"{bucket}/{path}")
    ok = got == data and info.size == len(data)
    print(f"{'ok  ' if ok else 'FAIL'} {path}: {len(data)} bytes written, {len(got)} read back")
    if not ok:
        failures.append(f"{path}: read back {got[:80]!r}… ({len(got)} bytes, listed {info.size})")

# Nothing the backend stores may carry the framing (`<hex>\r\n…0\r\nx-amz-checksum-…`).
framing = re.compile(rb"(^|\r\n)0\r\n(x-amz-[a-z0-9-]+:[^\r]*\r\n)*\r\n$")
listed = raw.list_objects_v2(Bucket=bucket).get("Contents", [])
assert listed, "nothing stored in the backend"
for o in listed:
    body = raw.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
    if framing.search(body[-4096:]) or b"x-amz-checksum-crc64nvme:" in body[-4096:]:
        failures.append(f"stored {o['Key']} ends with aws-chunked framing")
print(f"checked {len(listed)} stored objects for framing")

if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
print("pyarrow: every object read back exactly")
