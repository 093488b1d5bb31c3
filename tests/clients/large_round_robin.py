"""Large multipart uploads through two proxy instances, as behind a round-robin balancer:
each upload is created on one instance, its parts sent to both alternately and in parallel,
and it is completed on the other. The instances run with a small --max-object-size-mb, so
these objects take the large-object path (read back by ranges, encoded chunk by chunk): the
first seeds its deltaspace's reference by a server-side copy, the next is stored as a small
delta. Every object reads back exactly through either instance (whole and by ranges); the
backend holds no whole copy of a delta-stored object and no leftover upload; an upload
aborted through the other instance leaves nothing; boto3's copy_object of such an object
makes an exact copy, stored as a delta too.

Usage: large_round_robin.py PROXY_A PROXY_B BACKEND BACKEND_KEY BACKEND_SECRET"""
import hashlib
import os
import random
import sys
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

proxy_a, proxy_b, backend, backend_key, backend_secret = sys.argv[1:6]
PART = 5 << 20


def client(endpoint, key, secret):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 8, "mode": "standard"},
                      read_timeout=300),
    )


key, secret = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
proxies = [client(proxy_a, key, secret), client(proxy_b, key, secret)]
raw = client(backend, backend_key, backend_secret)
bucket = "large-rr"
proxies[0].create_bucket(Bucket=bucket)

rng = random.Random(11)
# Text-like records, as dumps hold.
words = [b"alpha", b"beta", b"gamma", b"delta", b"tensor", b"row", b"42", b"x"]
v1 = bytearray()
while len(v1) < 23 << 20:
    v1 += b" ".join(rng.choice(words) for _ in range(12)) + b"%d\n" % rng.randrange(10**9)
v1 = bytes(v1)
v2 = bytearray(v1)
for n, at in enumerate(range(1 << 20, len(v2) - (1 << 20), 3 << 20)):
    kind = n % 3  # inserts, deletes, overwrites
    if kind == 0:
        v2[at:at] = os.urandom(700)
    elif kind == 1:
        del v2[at:at + 500]
    else:
        v2[at:at + 300] = os.urandom(300)
v2 = bytes(v2)


def upload(key, body, create_on, complete_on):
    """Creates on one instance, sends parts to both in parallel, completes on the other."""
    upload_id = proxies[create_on].create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    chunks = [body[i:i + PART] for i in range(0, len(body), PART)]

    def part(job):
        n, chunk = job
        answer = proxies[n % 2].upload_part(Bucket=bucket, Key=key, UploadId=upload_id,
                                            PartNumber=n + 1, Body=chunk)
        return {"PartNumber": n + 1, "ETag": answer["ETag"]}

    with ThreadPoolExecutor(max_workers=4) as pool:
        parts = list(pool.map(part, enumerate(chunks)))
    done = proxies[complete_on].complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})
    return done["ETag"]


def raw_size(key):
    try:
        return raw.head_object(Bucket=bucket, Key=key)["ContentLength"]
    except raw.exceptions.ClientError:
        return None


etags = {}
etags["v1"] = upload("images/v1.img", v1, 0, 1)
etags["v2"] = upload("images/v2.img", v2, 1, 0)
assert raw_size("images/reference.bin") == len(v1), raw_size("images/reference.bin")
delta = raw_size("images/v2.img.delta")
assert delta is not None and delta < len(v2) // 50, delta
assert raw_size("images/v2.img") is None, "the whole object must go once the delta is written"
assert raw_size("images/v1.img") is None

for name, body in (("v1", v1), ("v2", v2)):
    for proxy in proxies:
        answer = proxy.get_object(Bucket=bucket, Key=f"images/{name}.img")
        got = answer["Body"].read()
        assert hashlib.sha256(got).digest() == hashlib.sha256(body).digest(), name
        assert answer["ETag"] == etags[name], (answer["ETag"], etags[name])
        assert answer["ETag"].endswith('-5"'), answer["ETag"]
    start = 7_000_001
    ranged = proxies[1].get_object(Bucket=bucket, Key=f"images/{name}.img",
                                   Range=f"bytes={start}-{start + 99_999}")["Body"].read()
    assert ranged == body[start:start + 100_000], name

# boto3's low-level copy_object (one CopyObject, as rclone's server-side copies and moves
# send below 4.6 GiB) of a large delta-stored object: the copy is streamed, checked, written
# whole, then stored as a delta; its ETag is the MD5, as S3 gives a copy.
copied = proxies[1].copy_object(Bucket=bucket, Key="copies/v2.img",
                                CopySource={"Bucket": bucket, "Key": "images/v2.img"})
md5 = '"%s"' % hashlib.md5(v2).hexdigest()
assert copied["CopyObjectResult"]["ETag"] == md5, copied["CopyObjectResult"]
got = proxies[0].get_object(Bucket=bucket, Key="copies/v2.img")
assert got["ETag"] == md5, got["ETag"]
assert hashlib.sha256(got["Body"].read()).digest() == hashlib.sha256(v2).digest()
assert raw_size("copies/v2.img") is None and raw_size("copies/v2.img.delta") is not None

# An upload aborted through the other instance leaves nothing behind.
upload_id = proxies[0].create_multipart_upload(Bucket=bucket, Key="images/v3.img")["UploadId"]
proxies[1].upload_part(Bucket=bucket, Key="images/v3.img", UploadId=upload_id, PartNumber=1,
                       Body=v2[:PART])
proxies[1].abort_multipart_upload(Bucket=bucket, Key="images/v3.img", UploadId=upload_id)
assert raw_size("images/v3.img") is None
try:
    left = raw.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
except raw.exceptions.ClientError as e:  # s3s-fs does not list uploads
    assert e.response["Error"]["Code"] == "NotImplemented", e
    left = []
assert not left, f"uploads left in the backend: {left}"
print(f"ok   large uploads round-robin over two instances: v2 stored as a {delta}-byte delta of "
      f"{len(v2)} bytes, both read back exactly, nothing left over")
