"""boto3 against a running deltaglider-proxy: put/get/head/list/copy/delete_objects and a
presigned GET fetched with curl. Usage: boto3_check.py ENDPOINT"""
import hashlib
import os
import subprocess
import sys

import boto3
from botocore.config import Config

endpoint = sys.argv[1]
s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
    aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
    region_name="us-east-1",
    config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
)


def sha(b):
    return hashlib.sha256(b).hexdigest()


bucket = "boto"
s3.create_bucket(Bucket=bucket)
v1 = os.urandom(2 << 20)
v2 = bytearray(v1)
v2[5000:5010] = b"0123456789"
v2 = bytes(v2)
other = os.urandom(300_000)

r = s3.put_object(Bucket=bucket, Key="rel/v1.zip", Body=v1, Metadata={"build": "1"}, ContentType="application/zip")
assert r["ETag"] == '"%s"' % hashlib.md5(v1).hexdigest(), r["ETag"]
s3.put_object(Bucket=bucket, Key="rel/v2.zip", Body=v2)
s3.put_object(Bucket=bucket, Key="rel/other.bin", Body=other)
s3.put_object(Bucket=bucket, Key="rel/notes.txt", Body=b"hello")

for key, body in [("rel/v1.zip", v1), ("rel/v2.zip", v2), ("rel/other.bin", other), ("rel/notes.txt", b"hello")]:
    got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert sha(got) == sha(body), key

head = s3.head_object(Bucket=bucket, Key="rel/v1.zip")
assert head["ContentLength"] == len(v1), head
assert head["Metadata"] == {"build": "1"}, head["Metadata"]
assert head["ContentType"] == "application/zip", head

listed = s3.list_objects_v2(Bucket=bucket, Prefix="rel/")
keys = [(o["Key"], o["Size"]) for o in listed["Contents"]]
assert keys == [("rel/notes.txt", 5), ("rel/other.bin", len(other)), ("rel/v1.zip", len(v1)), ("rel/v2.zip", len(v2))], keys

s3.copy_object(Bucket=bucket, Key="rel/v3.zip", CopySource={"Bucket": bucket, "Key": "rel/v2.zip"})
assert s3.get_object(Bucket=bucket, Key="rel/v3.zip")["Body"].read() == v2

url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "rel/v2.zip"}, ExpiresIn=300)
fetched = subprocess.run(["curl", "-sf", url], capture_output=True, check=True).stdout
assert sha(fetched) == sha(v2), "presigned GET"

gone = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in ["rel/v1.zip", "rel/v3.zip", "rel/notes.txt"]]})
assert len(gone["Deleted"]) == 3 and not gone.get("Errors"), gone
left = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
assert left == ["rel/other.bin", "rel/v2.zip"], left
assert s3.get_object(Bucket=bucket, Key="rel/v2.zip")["Body"].read() == v2

wrong = boto3.client(
    "s3",
    endpoint_url=endpoint,
    aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
    aws_secret_access_key="not-the-secret",
    region_name="us-east-1",
    config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
)
try:
    wrong.put_object(Bucket=bucket, Key="rel/evil.zip", Body=b"x")
    raise AssertionError("a wrong secret was accepted")
except wrong.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "SignatureDoesNotMatch", e.response
assert "rel/evil.zip" not in [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]

try:
    s3.put_object(Bucket=bucket, Key="rel/v2.zip.delta", Body=b"x")
    raise AssertionError("a reserved key was accepted")
except s3.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "InvalidArgument", e.response
print("boto3: all checks passed")
