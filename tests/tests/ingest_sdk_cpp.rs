//! Request bodies as the AWS SDK for C++ (pyarrow) and signed streaming clients send them,
//! through the proxy's stack — SigV4 → Ingest → DeltaLayer → s3s-fs — for delta-eligible
//! and whole-stored keys: accepted bodies are stored and read back exactly (never their
//! framing), refused ones get their S3 error and store nothing.

use std::convert::Infallible;
use std::path::Path;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    self, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use deltaglider::sigv4::{SigV4Config, SigV4Layer, StaticCredentials};
use deltaglider::{DeltaConfig, DeltaLayer, IngestLayer};
use deltaglider_tests::s3::{client, fs_backend, layered};
use deltaglider_tests::scenario::noise;
use http::{Request, StatusCode};
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use tower::{Layer, ServiceExt};

const ACCESS_KEY: &str = "AKIDINGEST";
const SECRET: &str = "ingest-secret";
const HOST: &str = "localhost:9000";
static CRC64_NVME: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_NVME);

/// A body of unknown length (as over HTTP chunked transfer), in these frames.
type Frames =
    StreamBody<futures_util::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>>;

fn frames(body: &[u8], piece: usize) -> Frames {
    let frames: Vec<_> = body
        .chunks(piece.max(1))
        .map(|p| Ok(Frame::data(Bytes::copy_from_slice(p))))
        .collect();
    StreamBody::new(futures_util::stream::iter(frames))
}

fn crc64nvme(data: &[u8]) -> String {
    aws_smithy_types::base64::encode(CRC64_NVME.checksum(data).to_be_bytes())
}

fn settings() -> SigningSettings {
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings
}

fn identity() -> Identity {
    Credentials::new(ACCESS_KEY, SECRET, None, None, "test").into()
}

/// Signs `request` (its `x-amz-content-sha256` is `payload`) with `aws-sigv4` at `now`;
/// the seed signature.
fn sign<B>(request: &mut Request<B>, payload: &str, now: SystemTime) -> String {
    let identity = identity();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(now)
        .settings(settings())
        .build()
        .expect("params")
        .into();
    let url = format!("http://{HOST}{}", request.uri());
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().expect("ascii").to_owned()))
        .collect();
    let method = request.method().as_str().to_owned();
    let signable = SignableRequest::new(
        &method,
        url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Precomputed(payload.to_owned()),
    )
    .expect("signable");
    let (instructions, signature) = http_request::sign(signable, &params)
        .expect("sign")
        .into_parts();
    instructions.apply_to_request_http1x(request);
    signature
}

/// The AWS SDK for C++'s PutObject / UploadPart: aws-chunked over chunked transfer, an
/// unsigned payload with a crc64nvme trailer (`trailer`: the trailer lines sent).
fn sdk_cpp(path: &str, payload: &[u8], trailer: &[String]) -> Request<Frames> {
    let mut body = Vec::new();
    for chunk in payload.chunks(65_536).chain([&b""[..]]) {
        body.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        if !chunk.is_empty() {
            body.extend_from_slice(chunk);
            body.extend_from_slice(b"\r\n");
        }
    }
    for line in trailer {
        body.extend_from_slice(line.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"\r\n");
    let mut request = Request::put(path)
        .header("host", HOST)
        .header("content-encoding", "aws-chunked")
        .header("transfer-encoding", "chunked")
        .header("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
        .header("x-amz-trailer", "x-amz-checksum-crc64nvme")
        .header("x-amz-decoded-content-length", payload.len())
        .body(())
        .expect("request");
    sign(
        &mut request,
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        SystemTime::now(),
    );
    request.map(|()| frames(&body, 7_000))
}

/// A signed streaming PutObject (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`), every chunk signed
/// by `aws-sigv4`; chunk `bad` (1-based) carries a wrong signature.
fn signed_streaming(path: &str, payload: &[u8], bad: Option<usize>) -> Request<Frames> {
    const MODE: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
    let now = SystemTime::now();
    let mut request = Request::put(path)
        .header("host", HOST)
        .header("content-encoding", "aws-chunked")
        .header("x-amz-decoded-content-length", payload.len())
        .body(())
        .expect("request");
    let mut previous = sign(&mut request, MODE, now);
    let identity = identity();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(now)
        .settings(settings())
        .build()
        .expect("params");
    let mut body = Vec::new();
    for (n, chunk) in payload.chunks(65_536).chain([&b""[..]]).enumerate() {
        let mut signature = v4::sign_chunk(&Bytes::copy_from_slice(chunk), &previous, &params)
            .expect("chunk signature")
            .signature()
            .to_owned();
        previous = signature.clone();
        if bad == Some(n + 1) {
            signature = "0".repeat(64);
        }
        body.extend_from_slice(
            format!("{:x};chunk-signature={signature}\r\n", chunk.len()).as_bytes(),
        );
        if !chunk.is_empty() {
            body.extend_from_slice(chunk);
            body.extend_from_slice(b"\r\n");
        }
    }
    body.extend_from_slice(b"\r\n");
    request
        .headers_mut()
        .insert("content-length", body.len().into());
    request.map(|()| frames(&body, 10_000))
}

/// Sends `request` through SigV4 → Ingest → DeltaLayer → s3s-fs over `root`; the status
/// and the error code.
async fn send(root: &Path, request: Request<Frames>) -> (StatusCode, Option<String>) {
    let config = SigV4Config::new(StaticCredentials::new().with(ACCESS_KEY, SECRET));
    let stack = SigV4Layer::new(config).layer(
        IngestLayer::new()
            .buffer_limit(100_000)
            .layer(DeltaLayer::new(DeltaConfig::default()).layer(fs_backend(root))),
    );
    let response = stack.oneshot(request).await.expect("s3s answers");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let text = String::from_utf8_lossy(&body);
    let code = text
        .split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map(|(code, _)| code.to_owned());
    (status, code)
}

/// What the backend holds for `key`: the whole object, and whether a delta exists.
fn stored(root: &Path, key: &str) -> (Option<Vec<u8>>, bool) {
    let dir = root.join("releases");
    (
        std::fs::read(dir.join(key)).ok(),
        dir.join(format!("{key}.delta")).exists(),
    )
}

#[tokio::test]
async fn aws_sdk_for_cpp_and_signed_streaming_bodies_are_stored_exactly() {
    let root = deltaglider_tests::scratch_dir("ingest-sdk-cpp");
    let (service, _) = layered(&root, DeltaConfig::default());
    let s3 = client(service);
    s3.create_bucket()
        .bucket("releases")
        .send()
        .await
        .expect("bucket");
    let v1 = noise(21, 300_000);
    let mut v2 = v1.clone();
    v2[150_000..150_008].copy_from_slice(b"changed!");

    // Small (read whole) and large (streamed, over the 100 KB limit) bodies alike.
    for (key, payload) in [
        ("docs/hello.txt", b"hello".to_vec()),
        ("docs/big.txt", v1.clone()),
        ("rel/v1.zip", v1.clone()),
        ("rel/v2.zip", v2.clone()),
    ] {
        let trailer = [format!("x-amz-checksum-crc64nvme:{}", crc64nvme(&payload))];
        let (status, code) = send(
            &root,
            sdk_cpp(&format!("/releases/{key}"), &payload, &trailer),
        )
        .await;
        assert_eq!((status, code), (StatusCode::OK, None), "{key}");
        let got = deltaglider_tests::scenario::get(&s3, key).await;
        assert!(got == payload, "{key}: read back {} bytes", got.len());
    }
    // Whole-stored keys hold the payload itself.
    assert_eq!(
        stored(&root, "docs/hello.txt").0.as_deref(),
        Some(&b"hello"[..])
    );
    assert_eq!(stored(&root, "docs/big.txt").0, Some(v1.clone()));
    assert!(stored(&root, "rel/v2.zip").1, "v2 is a delta");

    for key in ["docs/signed.txt", "rel/signed.zip"] {
        let (status, code) = send(
            &root,
            signed_streaming(&format!("/releases/{key}"), &v2, None),
        )
        .await;
        assert_eq!((status, code), (StatusCode::OK, None), "{key}");
        assert!(
            deltaglider_tests::scenario::get(&s3, key).await == v2,
            "{key}"
        );
    }
    assert_eq!(stored(&root, "docs/signed.txt").0, Some(v2.clone()));

    // UploadPart as the AWS SDK for C++ sends it: the part is the payload.
    let upload = s3
        .create_multipart_upload()
        .bucket("releases")
        .key("docs/multi.txt")
        .send()
        .await
        .expect("create upload");
    let id = upload.upload_id().expect("id");
    let trailer = [format!("x-amz-checksum-crc64nvme:{}", crc64nvme(&v1))];
    let path = format!("/releases/docs/multi.txt?partNumber=1&uploadId={id}");
    assert_eq!(
        send(&root, sdk_cpp(&path, &v1, &trailer)).await,
        (StatusCode::OK, None)
    );
    let etag = format!("\"{:x}\"", md5_of(&v1));
    s3.complete_multipart_upload()
        .bucket("releases")
        .key("docs/multi.txt")
        .upload_id(id)
        .multipart_upload(
            aws_sdk_s3::types::CompletedMultipartUpload::builder()
                .parts(
                    aws_sdk_s3::types::CompletedPart::builder()
                        .part_number(1)
                        .e_tag(etag)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("complete");
    assert_eq!(stored(&root, "docs/multi.txt").0, Some(v1.clone()));
}

#[tokio::test]
async fn wrong_or_missing_trailers_and_bad_chunk_signatures_store_nothing() {
    let root = deltaglider_tests::scratch_dir("ingest-sdk-cpp-refused");
    let (service, _) = layered(&root, DeltaConfig::default());
    let s3 = client(service);
    s3.create_bucket()
        .bucket("releases")
        .send()
        .await
        .expect("bucket");
    let payload = noise(22, 250_000);
    for small in [true, false] {
        let payload = if small {
            &payload[..5000]
        } else {
            &payload[..]
        };
        for key in ["docs/bad.txt", "rel/bad.zip"] {
            let path = format!("/releases/{key}");
            let wrong = ["x-amz-checksum-crc64nvme:AAAAAAAAAAA=".to_owned()];
            assert_eq!(
                send(&root, sdk_cpp(&path, payload, &wrong)).await,
                (StatusCode::BAD_REQUEST, Some("BadDigest".to_owned())),
                "{key}"
            );
            assert_eq!(
                send(&root, sdk_cpp(&path, payload, &[])).await,
                (StatusCode::BAD_REQUEST, Some("IncompleteBody".to_owned())),
                "{key}"
            );
            assert_eq!(
                send(&root, signed_streaming(&path, payload, Some(2))).await,
                (
                    StatusCode::FORBIDDEN,
                    Some("SignatureDoesNotMatch".to_owned())
                ),
                "{key}"
            );
            assert_eq!(
                stored(&root, key),
                (None, false),
                "{key}: something was stored"
            );
        }
    }
}

fn md5_of(data: &[u8]) -> u128 {
    let digest = deltaglider_codec::Md5::digest(data);
    u128::from_be_bytes(*digest.as_bytes())
}

#[tokio::test]
async fn a_delta_layer_without_the_ingest_layer_never_stores_framing() {
    let root = deltaglider_tests::scratch_dir("ingest-sdk-cpp-alone");
    let (service, _) = layered(&root, DeltaConfig::default());
    let s3 = client(service.clone());
    s3.create_bucket()
        .bucket("releases")
        .send()
        .await
        .expect("bucket");
    let payload = noise(23, 200_000);
    for key in ["docs/alone.txt", "rel/alone.zip"] {
        for (trailer, expected) in [
            (crc64nvme(&payload), StatusCode::OK),
            ("AAAAAAAAAAA=".to_owned(), StatusCode::BAD_REQUEST),
        ] {
            let lines = [format!("x-amz-checksum-crc64nvme:{trailer}")];
            let mut request = sdk_cpp(&format!("/releases/{key}"), &payload, &lines);
            // No SigV4 layer in front: nothing checks (or removes) the signature.
            request.headers_mut().remove("authorization");
            let response = service.clone().oneshot(request).await.expect("s3s answers");
            assert_eq!(response.status(), expected, "{key}");
        }
        assert!(
            deltaglider_tests::scenario::get(&s3, key).await == payload,
            "{key}"
        );
    }
    assert_eq!(stored(&root, "docs/alone.txt").0, Some(payload));
}
