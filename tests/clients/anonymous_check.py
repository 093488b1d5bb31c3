"""Anonymous requests through a deltaglider-proxy started with --allow-anonymous in front
of an upstream that enforces ACLs (SeaweedFS): they reach the upstream anonymously, never
with the proxy's own credentials, so public-read objects are readable and private ones
are not, and an anonymous write is the upstream's to refuse.

Usage: anonymous_check.py ENDPOINT RAW_ENDPOINT RAW_KEY RAW_SECRET
(credentials for ENDPOINT in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)."""
import os
import sys
import urllib.error
import urllib.request

import boto3
from botocore import UNSIGNED
from botocore.config import Config

endpoint, raw_endpoint, raw_key, raw_secret = sys.argv[1:5]


def client(url, ak, sk, signature=None):
    return boto3.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id=ak,
        aws_secret_access_key=sk,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, signature_version=signature),
    )


signed = client(endpoint, os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
raw = client(raw_endpoint, raw_key, raw_secret)


def anonymous(method, path, data=None):
    request = urllib.request.Request(endpoint + path, data=data, method=method)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


# SeaweedFS grants anonymous reads per bucket (a bucket ACL; object ACLs are not
# consulted): one public-read bucket, one private.
public, private = "anon-public", "anon-private"
signed.create_bucket(Bucket=public, ACL="public-read")
signed.create_bucket(Bucket=private)
base = os.urandom(300_000)
similar = base[:1000] + b"x" + base[1001:]
for bucket in (public, private):
    signed.put_object(Bucket=bucket, Key="doc.txt", Body=b"text")
    # A delta object: the layer's own reads for the anonymous client (the `.delta`, its
    # reference) must be anonymous too.
    signed.put_object(Bucket=bucket, Key="rel/a.zip", Body=base)
    signed.put_object(Bucket=bucket, Key="rel/b.zip", Body=similar)
raw.head_object(Bucket=public, Key="rel/b.zip.delta")

# The backend's own rules, anonymously: what the proxy must answer too.
for bucket, expected in [(public, 200), (private, 403)]:
    try:
        status = urllib.request.urlopen(f"{raw_endpoint}/{bucket}/doc.txt").status
    except urllib.error.HTTPError as e:
        status = e.code
    assert status == expected, f"the backend itself answers {status} for anonymous {bucket}"

for key, body in [("doc.txt", b"text"), ("rel/b.zip", similar)]:
    status, got = anonymous("GET", f"/{public}/{key}")
    assert (status, got) == (200, body), f"anonymous GET of public {key}: {status} {got[:300]}"
    status, _ = anonymous("HEAD", f"/{public}/{key}")
    assert status == 200, f"anonymous HEAD of public {key}: {status}"
    status, got = anonymous("GET", f"/{private}/{key}")
    assert status == 403 and b"AccessDenied" in got, f"anonymous GET of private {key}: {status} {got[:300]}"
status, got = anonymous("GET", f"/{private}?list-type=2")
assert status == 403, f"anonymous listing of a private bucket: {status} {got[:300]}"
for bucket in (public, private):
    status, got = anonymous("PUT", f"/{bucket}/anon.txt", data=b"x")
    assert status == 403, f"anonymous PUT into {bucket}: {status} {got[:300]}"
    status, _ = anonymous("DELETE", f"/{bucket}/doc.txt")
    assert status == 403, f"anonymous DELETE in {bucket}: {status}"
    # Nothing the anonymous client did changed anything.
    assert raw.get_object(Bucket=bucket, Key="doc.txt")["Body"].read() == b"text"
    try:
        raw.head_object(Bucket=bucket, Key="anon.txt")
        raise AssertionError(f"an anonymous PUT stored {bucket}/anon.txt")
    except raw.exceptions.ClientError as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404, e.response
print("anonymous_check: public-read readable (whole and delta), private refused by the backend, "
      "anonymous writes refused, nothing changed: ok")
