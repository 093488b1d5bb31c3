"""PUT/GET throughput of the Worker in local workerd (scripts/test-worker --bench).

Usage: bench.py EDGE_URL [SIZE_MIB]   (default 8, the Worker's default encoding bound)

Times boto3 calls from this machine to the Worker on loopback: the figures include the
client, SigV4 verification, the layer, the simulated R2 and workerd, on the same cores.
Uploads are sent without `Expect: 100-continue` (see below).
Each figure is the median of five runs, in MiB/s of original bytes.
"""

import os
import statistics
import sys
import time

import boto3
import botocore.handlers
from botocore.config import Config

BUCKET = "deltaglider"


def main():
    url = sys.argv[1]
    mib = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    size = mib << 20
    s3 = boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    # Local workerd never answers `Expect: 100-continue`: botocore would wait its full
    # second before each upload body. Cloudflare's edge answers it.
    s3.meta.events.unregister("before-call.s3", botocore.handlers.add_expect_header)
    base = os.urandom(size)

    def version(i):
        v = bytearray(base)
        for pos in range(4096 + i * 997, size, size // 9):
            v[pos : pos + 32] = os.urandom(32)
        return bytes(v)

    def timed(call):
        start = time.perf_counter()
        call()
        return time.perf_counter() - start

    def rate(times):
        return f"{mib / statistics.median(times):7.1f} MiB/s"

    s3.put_object(Bucket=BUCKET, Key="bench/seed.zip", Body=base)
    versions = [version(i) for i in range(5)]
    put_delta = [
        timed(lambda i=i: s3.put_object(Bucket=BUCKET, Key=f"bench/v{i}.zip", Body=versions[i]))
        for i in range(5)
    ]
    get_delta = []
    for i in range(5):
        get_delta.append(timed(lambda i=i: s3.get_object(Bucket=BUCKET, Key=f"bench/v{i}.zip")["Body"].read()))
    put_whole = [
        timed(lambda i=i: s3.put_object(Bucket=BUCKET, Key=f"bench/w{i}.txt", Body=versions[i]))
        for i in range(5)
    ]
    get_whole = [
        timed(lambda i=i: s3.get_object(Bucket=BUCKET, Key=f"bench/w{i}.txt")["Body"].read())
        for i in range(5)
    ]
    back = s3.get_object(Bucket=BUCKET, Key="bench/v4.zip")["Body"].read()
    assert back == versions[4]
    print(f"{mib} MiB objects, median of 5:")
    print(f"  PUT, stored as delta (encode + verify): {rate(put_delta)}")
    print(f"  GET, reconstructed from delta:         {rate(get_delta)}")
    print(f"  PUT, stored whole (not eligible):       {rate(put_whole)}")
    print(f"  GET, stored whole:                      {rate(get_whole)}")
    keys = [{"Key": f"bench/{k}"} for k in ["seed.zip"] + [f"v{i}.zip" for i in range(5)]
            + [f"w{i}.txt" for i in range(5)]]
    s3.delete_objects(Bucket=BUCKET, Delete={"Objects": keys})


if __name__ == "__main__":
    main()
