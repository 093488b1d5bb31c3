"""Two deltaglider-proxy instances over one upstream, racing: 20 versions of an artifact are
PUT concurrently into one deltaspace, split across both instances (three rounds, fresh
deltaspaces). Every version must read back exactly through either instance, and each
deltaspace must end with exactly one whole reference, reference.bin. Then both race 40 unrelated objects into
one deltaspace (each would become a reference of its own): at most 16 references remain,
and one key overwritten 20 times with unrelated content across both keeps one reference.

Usage: two_proxies.py PROXY_A PROXY_B BACKEND BACKEND_KEY BACKEND_SECRET"""
import hashlib
import os
import random
import sys
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

proxy_a, proxy_b, backend, backend_key, backend_secret = sys.argv[1:6]


def client(endpoint, key, secret):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 8, "mode": "standard"}),
    )


key, secret = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
proxies = [client(proxy_a, key, secret), client(proxy_b, key, secret)]
raw = client(backend, backend_key, backend_secret)
bucket = "race"
proxies[0].create_bucket(Bucket=bucket)

rng = random.Random(7)
base = bytearray(os.urandom(3 << 20))
versions = []
for i in range(20):
    for _ in range(3):  # each version edits a little more of the artifact
        at = rng.randrange(len(base) - 64)
        base[at : at + 64] = os.urandom(64)
    versions.append(bytes(base))


def put(job):
    space, i = job
    proxy = proxies[i % 2]
    proxy.put_object(Bucket=bucket, Key=f"{space}/app-{i:02}.zip", Body=versions[i])


for round_ in range(3):
    space = f"round{round_}"
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(put, [(space, i) for i in range(20)]))
    for i, body in enumerate(versions):
        got = proxies[(i + 1) % 2].get_object(Bucket=bucket, Key=f"{space}/app-{i:02}.zip")["Body"].read()
        assert hashlib.sha256(got).digest() == hashlib.sha256(body).digest(), (space, i)
    stored = raw.list_objects_v2(Bucket=bucket, Prefix=f"{space}/")["Contents"]
    names = sorted(o["Key"][len(space) + 1 :] for o in stored)
    references = [n for n in names if n.startswith("reference")]
    # One whole reference; any other is a link of a chain (a delta of an older reference).
    whole = [n for n in references
             if "dg-ref-key" not in raw.head_object(Bucket=bucket, Key=f"{space}/{n}")["Metadata"]]
    assert whole == ["reference.bin"], names
    deltas = [n for n in names if n.endswith(".delta")]
    stored_bytes = sum(o["Size"] for o in stored)
    print(f"{space}: {len(deltas)} of 20 versions stored as deltas, "
          f"{stored_bytes / sum(map(len, versions)):.2%} of the original bytes")
    listed = proxies[round_ % 2].list_objects_v2(Bucket=bucket, Prefix=f"{space}/")["Contents"]
    assert [(o["Key"], o["Size"]) for o in listed] == [
        (f"{space}/app-{i:02}.zip", len(v)) for i, v in enumerate(versions)
    ], listed


def references_of(space):
    stored = raw.list_objects_v2(Bucket=bucket, Prefix=f"{space}/").get("Contents", [])
    return [o["Key"] for o in stored if o["Key"].rsplit("/", 1)[1].startswith("reference.")]


unrelated = [os.urandom(100_000) for _ in range(40)]


def put_unrelated(i):
    proxies[i % 2].put_object(Bucket=bucket, Key=f"mixed/o{i:02}.bin", Body=unrelated[i])


# Seeded first: racing seeds of reference.bin are the first round's subject.
put_unrelated(0)
with ThreadPoolExecutor(max_workers=8) as pool:
    list(pool.map(put_unrelated, range(1, 40)))
references = references_of("mixed")
assert 1 <= len(references) <= 16, (len(references), references)
for i, body in enumerate(unrelated):
    got = proxies[(i + 1) % 2].get_object(Bucket=bucket, Key=f"mixed/o{i:02}.bin")["Body"].read()
    assert got == body, i
print(f"mixed: 40 unrelated objects raced through two proxies, {len(references)} references")

for i in range(20):
    body = os.urandom(300_000)
    proxies[i % 2].put_object(Bucket=bucket, Key="over/build.bin", Body=body)
    assert proxies[(i + 1) % 2].get_object(Bucket=bucket, Key="over/build.bin")["Body"].read() == body
references = references_of("over")
assert len(references) == 1, references
print("two proxies: ok")
