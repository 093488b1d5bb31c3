"""boto3 against the Worker running locally (scripts/test-worker starts it).

Usage: clients.py EDGE_URL RAW_URL WORKDIR [PROXY_URL PROXY_RAW_URL]

EDGE_URL is the Worker (SigV4 -> DeltaLayer -> R2), RAW_URL the same bucket without the
layer. With the two proxy URLs (the native deltaglider-proxy and its --raw view of the
same data), objects are carried both ways between the native store and R2 and read
back through the other implementation.
"""

import base64
import concurrent.futures
import hashlib
import os
import sys

import boto3
import botocore
from botocore.config import Config

BUCKET = "deltaglider"
KEY, SECRET = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]


def client(url, key=KEY, secret=SECRET, **config):
    return boto3.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, **config),
    )


def similar_pair(size):
    """Two random versions differing in a few places (deltas are tiny)."""
    v1 = os.urandom(size)
    v2 = bytearray(v1)
    for pos in range(1000, size, size // 7):
        v2[pos : pos + 16] = os.urandom(16)
    return v1, bytes(v2)


def similar_tgz_pair():
    """Two .tgz releases of a text tree, one line apart (zlib level 9, as npm and tar use)."""
    import gzip
    import random
    rng = random.Random(3)
    words = [b"fn", b"let", b"struct", b"impl", b"pub", b"use", b"match", b"value", b"\n"]
    tree = b" ".join(rng.choice(words) for _ in range(300_000))
    changed = tree[:200_000] + b"a changed line\n" + tree[200_000:]
    return gzip.compress(tree, 9, mtime=1), gzip.compress(changed, 9, mtime=2)


def expect_error(call, code, status):
    try:
        call()
    except botocore.exceptions.ClientError as e:
        got = (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])
        assert got == (code, status) or got[1] == status and code is None, got
        return
    raise AssertionError(f"expected {code} {status}")


def raw_keys(raw, prefix):
    pages = raw.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return sorted(o["Key"] for p in pages for o in p.get("Contents", []))


def basics(s3, raw):
    print("boto3: PUT two versions, GET, HEAD, LIST, ranges, metadata")
    v1, v2 = similar_pair(3_000_000)
    s3.put_object(Bucket=BUCKET, Key="b3/app-1.zip", Body=v1, Metadata={"build": "1"})
    s3.put_object(Bucket=BUCKET, Key="b3/app-2.zip", Body=v2, ContentType="application/zip")
    for key, data in (("b3/app-1.zip", v1), ("b3/app-2.zip", v2)):
        got = s3.get_object(Bucket=BUCKET, Key=key)
        assert got["Body"].read() == data, key
        assert got["ETag"] == '"%s"' % hashlib.md5(data).hexdigest(), got["ETag"]
        head = s3.head_object(Bucket=BUCKET, Key=key)
        assert head["ContentLength"] == len(data), head
    assert s3.head_object(Bucket=BUCKET, Key="b3/app-1.zip")["Metadata"] == {"build": "1"}
    assert s3.head_object(Bucket=BUCKET, Key="b3/app-2.zip")["ContentType"] == "application/zip"
    stored = raw_keys(raw, "b3/")
    assert stored == ["b3/app-1.zip.delta", "b3/app-2.zip.delta", "b3/reference.bin"], stored
    delta = raw.head_object(Bucket=BUCKET, Key="b3/app-2.zip.delta")
    assert delta["ContentLength"] < 10_000, delta["ContentLength"]
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="b3/")["Contents"]
    assert [(o["Key"], o["Size"]) for o in listed] == [
        ("b3/app-1.zip", len(v1)),
        ("b3/app-2.zip", len(v2)),
    ], listed
    part = s3.get_object(Bucket=BUCKET, Key="b3/app-2.zip", Range="bytes=1000-1099")
    assert part["Body"].read() == v2[1000:1100] and part["ContentRange"].endswith(f"/{len(v2)}")
    tail = s3.get_object(Bucket=BUCKET, Key="b3/app-2.zip", Range="bytes=-10")["Body"].read()
    assert tail == v2[-10:]
    # Not delta material: stored whole, served by R2 directly (ranges too).
    text = b"hello edge\n" * 1000
    s3.put_object(Bucket=BUCKET, Key="b3/notes.txt", Body=text, Metadata={"k": "v"})
    got = s3.get_object(Bucket=BUCKET, Key="b3/notes.txt", Range="bytes=6-9")
    assert got["Body"].read() == text[6:10] and got["Metadata"] == {"k": "v"}
    assert raw.head_object(Bucket=BUCKET, Key="b3/notes.txt")["ContentLength"] == len(text)
    good = base64.b64encode(hashlib.md5(text).digest()).decode()
    s3.put_object(Bucket=BUCKET, Key="b3/md5.txt", Body=text, ContentMD5=good)
    bad = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    expect_error(lambda: s3.put_object(Bucket=BUCKET, Key="b3/md5.txt", Body=text, ContentMD5=bad),
                 "BadDigest", 400)
    s3.delete_object(Bucket=BUCKET, Key="b3/md5.txt")
    expect_error(lambda: s3.head_object(Bucket=BUCKET, Key="b3/missing.zip"), None, 404)
    expect_error(lambda: s3.get_object(Bucket=BUCKET, Key="b3/missing.txt"), "NoSuchKey", 404)
    expect_error(lambda: s3.put_object(Bucket=BUCKET, Key="b3/x.zip.delta", Body=b"x"),
                 "InvalidArgument", 400)
    expect_error(lambda: s3.list_objects_v2(Bucket="other"), "NoSuchBucket", 404)
    return v1, v2


def copy_and_multipart(s3, raw, v2):
    print("boto3: CopyObject, multipart upload (R2 multipart API), DeleteObjects")
    s3.copy_object(Bucket=BUCKET, Key="b3/copy.zip", CopySource=f"{BUCKET}/b3/app-2.zip")
    assert s3.get_object(Bucket=BUCKET, Key="b3/copy.zip")["Body"].read() == v2
    s3.copy_object(Bucket=BUCKET, Key="b3/notes-copy.txt", CopySource=f"{BUCKET}/b3/notes.txt")
    assert s3.head_object(Bucket=BUCKET, Key="b3/notes-copy.txt")["Metadata"] == {"k": "v"}
    # R2 wants equal parts except the last.
    big1, big2 = similar_pair(7 * 1024 * 1024 + 12345)
    for key, data in (("mp/big-1.zip", big1), ("mp/big-2.zip", big2)):
        upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key, Metadata={"m": "1"})
        uid, size, parts = upload["UploadId"], 5 * 1024 * 1024, []
        for n, start in enumerate(range(0, len(data), size), 1):
            r = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=n,
                               Body=data[start : start + size])
            parts.append({"PartNumber": n, "ETag": r["ETag"]})
        done = s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid,
                                            MultipartUpload={"Parts": parts})
        assert done["ETag"].endswith('-2"'), done["ETag"]
        got = s3.get_object(Bucket=BUCKET, Key=key)
        assert got["Body"].read() == data and got["ETag"] == done["ETag"], key
        assert got["Metadata"] == {"m": "1"}, got["Metadata"]
    assert raw_keys(raw, "mp/") == ["mp/big-1.zip.delta", "mp/big-2.zip.delta", "mp/reference.bin"]
    assert raw.head_object(Bucket=BUCKET, Key="mp/big-2.zip.delta")["ContentLength"] < 100_000
    # Above DELTAGLIDER_MAX_OBJECT_SIZE (8 MiB by default) eligible objects are stored whole.
    large = os.urandom(9 * 1024 * 1024)
    s3.put_object(Bucket=BUCKET, Key="mp/large.zip", Body=large)
    assert s3.get_object(Bucket=BUCKET, Key="mp/large.zip")["Body"].read() == large
    assert raw.head_object(Bucket=BUCKET, Key="mp/large.zip")["ContentLength"] == len(large)
    s3.delete_object(Bucket=BUCKET, Key="mp/large.zip")
    aborted = s3.create_multipart_upload(Bucket=BUCKET, Key="mp/aborted.zip")["UploadId"]
    s3.abort_multipart_upload(Bucket=BUCKET, Key="mp/aborted.zip", UploadId=aborted)
    expect_error(lambda: s3.upload_part(Bucket=BUCKET, Key="mp/aborted.zip", UploadId=aborted,
                                        PartNumber=1, Body=b"x"), "NoSuchUpload", 404)
    gone = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [
        {"Key": "mp/big-1.zip"}, {"Key": "mp/big-2.zip"}, {"Key": "b3/copy.zip"},
        {"Key": "b3/notes-copy.txt"}]})
    assert len(gone.get("Deleted", [])) == 4, gone
    assert raw_keys(raw, "mp/") == [], raw_keys(raw, "mp/")


def concurrent_seeding(s3, raw):
    print("boto3: six concurrent first uploads into one deltaspace (R2 conditional create)")
    base, _ = similar_pair(1_000_000)
    versions = []
    for i in range(6):
        v = bytearray(base)
        v[i * 1000 : i * 1000 + 8] = os.urandom(8)
        versions.append(bytes(v))
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda i: s3.put_object(Bucket=BUCKET, Key=f"race/r{i}.zip",
                                              Body=versions[i]), range(6)))
    for i, data in enumerate(versions):
        assert s3.get_object(Bucket=BUCKET, Key=f"race/r{i}.zip")["Body"].read() == data, i
    stored = raw_keys(raw, "race/")
    assert stored.count("race/reference.bin") == 1 and len(stored) == 7, stored
    s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": f"race/r{i}.zip"}
                                                         for i in range(6)]})
    assert raw_keys(raw, "race/") == [], raw_keys(raw, "race/")


def refusals(url):
    print("boto3: unsigned and badly signed requests are refused")
    anonymous = client(url, signature_version=botocore.UNSIGNED)
    expect_error(lambda: anonymous.list_objects_v2(Bucket=BUCKET), "AccessDenied", 403)
    expect_error(lambda: anonymous.put_object(Bucket=BUCKET, Key="x.zip", Body=b"x"),
                 "AccessDenied", 403)
    wrong = client(url, secret="not-the-secret")
    expect_error(lambda: wrong.get_object(Bucket=BUCKET, Key="b3/app-1.zip"),
                 "SignatureDoesNotMatch", 403)
    stranger = client(url, key="AKIDUNKNOWN")
    expect_error(lambda: stranger.list_objects_v2(Bucket=BUCKET), "InvalidAccessKeyId", 403)


def carry(source_raw, dest_raw, keys):
    """Copies stored objects as they are (body, metadata, type) between two stores."""
    for key in keys:
        got = source_raw.get_object(Bucket=BUCKET, Key=key)
        extra = {"ContentType": got["ContentType"]} if "ContentType" in got else {}
        dest_raw.put_object(Bucket=BUCKET, Key=key, Body=got["Body"].read(),
                            Metadata=got["Metadata"], **extra)


def interop(edge, raw, proxy, proxy_raw):
    print("interop: native deltas read at the edge, edge deltas read natively")
    n1, n2 = similar_pair(2_000_000)
    proxy.put_object(Bucket=BUCKET, Key="native/n-1.zip", Body=n1)
    proxy.put_object(Bucket=BUCKET, Key="native/n-2.zip", Body=n2)
    stored = raw_keys(proxy_raw, "native/")
    assert stored == ["native/n-1.zip.delta", "native/n-2.zip.delta", "native/reference.bin"], stored
    assert proxy_raw.head_object(Bucket=BUCKET, Key="native/n-2.zip.delta")["Metadata"][
        "dg-tool"].startswith("deltaglider-rs/")
    carry(proxy_raw, raw, stored)
    for key, data in (("native/n-1.zip", n1), ("native/n-2.zip", n2)):
        assert edge.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data, key
        assert edge.head_object(Bucket=BUCKET, Key=key)["ContentLength"] == len(data)
    # A payload delta (format 2: a .tgz stored as recipe + delta of its tar) written by the
    # native proxy reads at the edge too.
    t1, t2 = similar_tgz_pair()
    proxy.put_object(Bucket=BUCKET, Key="nativegz/t-1.tgz", Body=t1)
    proxy.put_object(Bucket=BUCKET, Key="nativegz/t-2.tgz", Body=t2)
    stored = raw_keys(proxy_raw, "nativegz/")
    meta = proxy_raw.head_object(Bucket=BUCKET, Key="nativegz/t-2.tgz.delta")["Metadata"]
    assert meta["dg-format"] == "2" and meta["dg-payload"] == "gzip", meta
    carry(proxy_raw, raw, stored)
    for key, data in (("nativegz/t-1.tgz", t1), ("nativegz/t-2.tgz", t2)):
        assert edge.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data, key
    e1, e2 = similar_pair(2_000_000)
    edge.put_object(Bucket=BUCKET, Key="fromedge/e-1.zip", Body=e1)
    edge.put_object(Bucket=BUCKET, Key="fromedge/e-2.zip", Body=e2)
    stored = raw_keys(raw, "fromedge/")
    carry(raw, proxy_raw, stored)
    for key, data in (("fromedge/e-1.zip", e1), ("fromedge/e-2.zip", e2)):
        assert proxy.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data, key
    return e2


def main():
    edge_url, raw_url, work = sys.argv[1:4]
    edge, raw = client(edge_url), client(raw_url)
    _, v2 = basics(edge, raw)
    copy_and_multipart(edge, raw, v2)
    concurrent_seeding(edge, raw)
    refusals(edge_url)
    if len(sys.argv) > 5:
        proxy, proxy_raw = client(sys.argv[4]), client(sys.argv[5])
        try:
            proxy.create_bucket(Bucket=BUCKET)
        except botocore.exceptions.ClientError:
            pass
        e2 = interop(edge, raw, proxy, proxy_raw)
        # For the xdelta3 command: the edge's delta and its reference, as stored.
        for key in ("fromedge/e-2.zip.delta", "fromedge/reference.bin"):
            with open(os.path.join(work, os.path.basename(key)), "wb") as f:
                f.write(raw.get_object(Bucket=BUCKET, Key=key)["Body"].read())
        with open(os.path.join(work, "e-2.zip"), "wb") as f:
            f.write(e2)
    print("boto3: all passed")


if __name__ == "__main__":
    main()
