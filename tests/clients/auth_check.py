"""Authentication through a running deltaglider-proxy, with real clients: SigV4 presigned
GET/HEAD/PUT/DELETE of whole and delta objects, SigV2 (boto3 signature_version='s3',
header and presigned), browser uploads (boto3's presigned POST forms, SigV4 and SigV2),
aws-cli v1's `aws s3 presign`; refused requests change nothing
(checked on the backend itself).

Usage: auth_check.py ENDPOINT RAW_ENDPOINT RAW_KEY RAW_SECRET
(credentials for ENDPOINT in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)."""
import os
import subprocess
import sys
import urllib.error
import urllib.request

import boto3
from botocore.config import Config

endpoint, raw_endpoint, raw_key, raw_secret = sys.argv[1:5]
key_id = os.environ.get("AWS_ACCESS_KEY_ID", "test")
secret = os.environ.get("AWS_SECRET_ACCESS_KEY", "test")


def client(url, ak, sk, version):
    return boto3.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id=ak,
        aws_secret_access_key=sk,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, signature_version=version),
    )


v4 = client(endpoint, key_id, secret, "s3v4")
v2 = client(endpoint, key_id, secret, "s3")
raw = client(raw_endpoint, raw_key, raw_secret, "s3v4")


def http(method, url, data=None, headers=None):
    """(status, body) of one plain HTTP request: what a browser or curl does with a URL."""
    # urllib would add a form Content-Type to a body; SigV2 signs the Content-Type, which
    # the URLs here were made without.
    headers = {"Content-Type": "", **(headers or {})}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def raw_exists(key):
    try:
        raw.head_object(Bucket=bucket, Key=key)
        return True
    except raw.exceptions.ClientError as e:
        if e.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return False
        raise


def presign(s3, method, key, expires=300, **params):
    return s3.generate_presigned_url(
        method, Params={"Bucket": bucket, "Key": key, **params}, ExpiresIn=expires
    )


bucket = "auth"
v4.create_bucket(Bucket=bucket)
base = os.urandom(1 << 20)
similar = bytearray(base)
similar[4000:4010] = b"0123456789"
similar = bytes(similar)
v4.put_object(Bucket=bucket, Key="rel/base.zip", Body=base)

for signer, name in [(v4, "SigV4"), (v2, "SigV2")]:
    # (key, body, stored as): a whole object and a delta.
    for key, body, stored in [
        ("doc/notes.txt", b"hello " + name.encode(), "doc/notes.txt"),
        ("rel/next.zip", similar, "rel/next.zip.delta"),
    ]:
        status, text = http("PUT", presign(signer, "put_object", key), data=body)
        assert status == 200, f"{name} presigned PUT {key}: {status} {text[:300]}"
        assert raw_exists(stored), f"{name} presigned PUT {key}: {stored} not stored"
        status, text = http("GET", presign(signer, "get_object", key))
        assert status == 200 and text == body, f"{name} presigned GET {key}: {status} {text[:300]}"
        status, _ = http("HEAD", presign(signer, "head_object", key))
        assert status == 200, f"{name} presigned HEAD {key}: {status}"
        # A refused DELETE (expired — SigV4 refuses a negative X-Amz-Expires as malformed —,
        # then tampered with) deletes nothing.
        status, _ = http("DELETE", presign(signer, "delete_object", key, expires=-10))
        assert status in (400, 403), f"{name} expired presigned DELETE {key}: {status}"
        tampered = presign(signer, "delete_object", key).replace(key, "doc/other")
        status, _ = http("DELETE", tampered)
        assert status == 403, f"{name} tampered presigned DELETE: {status}"
        assert raw_exists(stored), f"{name}: a refused DELETE removed {stored}"
        status, text = http("DELETE", presign(signer, "delete_object", key))
        assert status == 204, f"{name} presigned DELETE {key}: {status} {text[:300]}"
        assert not raw_exists(stored), f"{name} presigned DELETE {key}: {stored} left"
        status, _ = http("GET", presign(signer, "get_object", key))
        assert status == 404, f"{name} GET after DELETE {key}: {status}"

# A presigned PUT with a signed ACL (the header sent as signed).
url = presign(v4, "put_object", "doc/acl.txt", ACL="private")
status, text = http("PUT", url, data=b"acl", headers={"x-amz-acl": "private"})
assert status == 200, f"presigned PUT with an ACL: {status} {text[:300]}"

# SigV2 in the Authorization header: the usual calls.
v2.put_object(Bucket=bucket, Key="doc/v2 key+x.txt", Body=b"v2", Metadata={"a": "b  c"})
assert v2.get_object(Bucket=bucket, Key="doc/v2 key+x.txt")["Body"].read() == b"v2"
assert v2.head_object(Bucket=bucket, Key="doc/v2 key+x.txt")["Metadata"] == {"a": "b  c"}
listed = [o["Key"] for o in v2.list_objects(Bucket=bucket, Prefix="doc/")["Contents"]]
assert "doc/v2 key+x.txt" in listed, listed
v2.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "doc/v2 key+x.txt"}]})
assert not raw_exists("doc/v2 key+x.txt")
bad = client(endpoint, key_id, "wrong", "s3")
try:
    bad.put_object(Bucket=bucket, Key="doc/bad.txt", Body=b"x")
    raise AssertionError("SigV2 with a wrong secret was accepted")
except bad.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "SignatureDoesNotMatch", e.response
assert not raw_exists("doc/bad.txt")

# Browser uploads (POST Object), with boto3's presigned POST forms (SigV4 and SigV2): a
# whole object and a delta, read back; a form breaking its policy stores nothing.
def post_form(url, fields, filename, data):
    boundary = "----authcheck" + os.urandom(8).hex()
    body = b""
    for name, value in fields.items():
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    body += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
             "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return http("POST", url, data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})


for signer, name in [(v4, "SigV4"), (v2, "SigV2")]:
    for key, body, stored in [
        ("form/notes.txt", b"posted " + name.encode(), "form/notes.txt"),
        ("rel/posted.zip", similar, "rel/posted.zip.delta"),
    ]:
        form = signer.generate_presigned_post(
            bucket, key.replace("notes.txt", "${filename}"),
            Fields={"success_action_status": "201"},
            Conditions=[{"success_action_status": "201"}, ["content-length-range", 1, 2 << 20]],
        )
        status, text = post_form(form["url"], form["fields"], key.rsplit("/", 1)[1], body)
        assert status == 201 and b"<Key>" + key.encode() + b"</Key>" in text, f"{name} POST {key}: {status} {text[:300]}"
        assert raw_exists(stored), f"{name} POST {key}: {stored} not stored"
        assert v4.get_object(Bucket=bucket, Key=key)["Body"].read() == body, f"{name} POST {key}: read back"
        v4.delete_object(Bucket=bucket, Key=key)
    form = signer.generate_presigned_post(bucket, "form/small.txt", Conditions=[["content-length-range", 1, 4]])
    status, text = post_form(form["url"], form["fields"], "small.txt", b"too long")
    assert status == 400 and b"EntityTooLarge" in text, f"{name} POST over the policy's size: {status} {text[:300]}"
    fields = dict(form["fields"], **{"x-amz-meta-extra": "1"})
    status, text = post_form(form["url"], fields, "small.txt", b"ok")
    assert status == 403, f"{name} POST with a field outside the policy: {status} {text[:300]}"
    assert not raw_exists("form/small.txt"), f"{name}: a refused POST stored form/small.txt"

# aws-cli v1: `aws s3 presign` makes SigV2 URLs.
v4.put_object(Bucket=bucket, Key="rel/cli.zip", Body=similar)
env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
url = subprocess.run(
    ["aws", "--endpoint-url", endpoint, "s3", "presign", f"s3://{bucket}/rel/cli.zip"],
    capture_output=True, check=True, text=True, env=env,
).stdout.strip()
status, text = http("GET", url)
assert status == 200 and text == similar, f"aws s3 presign URL: {status} {text[:300]}"

# s3cmd with SigV2 (its dates carry a numeric zone: `+0000`).
host = endpoint.split("://", 1)[1]
s3cmd = ["s3cmd", "--no-ssl", f"--host={host}", f"--host-bucket={host}", f"--access_key={key_id}",
         f"--secret_key={secret}", "--signature-v2", "--region=us-east-1", "--config=/dev/null"]
with open("/tmp/auth_check_s3cmd.bin", "wb") as f:
    f.write(similar)
subprocess.run(s3cmd + ["put", "/tmp/auth_check_s3cmd.bin", f"s3://{bucket}/rel/s3cmd.zip"],
               check=True, capture_output=True, env=env)
assert v4.get_object(Bucket=bucket, Key="rel/s3cmd.zip")["Body"].read() == similar, "s3cmd SigV2 put"
got = subprocess.run(s3cmd + ["get", "--force", f"s3://{bucket}/rel/s3cmd.zip", "-"],
                     check=True, capture_output=True, env=env).stdout
assert got == similar, "s3cmd SigV2 get"
subprocess.run(s3cmd + ["del", f"s3://{bucket}/rel/s3cmd.zip"], check=True, capture_output=True, env=env)
os.remove("/tmp/auth_check_s3cmd.bin")

print("auth_check: presigned (SigV4, SigV2) GET/HEAD/PUT/DELETE of whole and delta objects, "
      "SigV2 requests (boto3, s3cmd), POST Object (SigV4, SigV2), aws s3 presign: ok")
