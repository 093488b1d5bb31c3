//! Pins the exact requests the layer sends to the inner service, over a real `s3s-fs`
//! backend wrapped in a recorder, and proves that every S3 operation the layer does not
//! handle is forwarded untouched.

use std::sync::{Arc, Mutex};

use aws_sdk_s3::primitives::ByteStream;
use deltaglider::{DeltaConfig, DeltaLayer, Either, RequestBody};
use deltaglider_tests::s3::{client, fs_backend};
use deltaglider_tests::scratch_dir;
use http_body_util::BodyExt;
use tower::{Layer, ServiceExt};

type Log = Arc<Mutex<Vec<String>>>;

/// The backend, recording `METHOD path?query [if-none-match] [range]` of each request it
/// gets.
fn recorded(
    root: std::path::PathBuf,
    log: Log,
) -> impl tower::Service<
    http::Request<RequestBody<aws_smithy_types::body::SdkBody>>,
    Response = http::Response<s3s::Body>,
    Error = s3s::HttpError,
    Future = impl Send,
> + Clone
+ Send
+ Sync
+ 'static {
    let backend = fs_backend(&root);
    tower::service_fn(
        move |request: http::Request<RequestBody<aws_smithy_types::body::SdkBody>>| {
            let mut line = format!("{} {}", request.method(), request.uri().path());
            if let Some(q) = request.uri().query().filter(|q| !q.starts_with("x-id=")) {
                line.push('?');
                line.push_str(q);
            }
            if request.headers().contains_key("if-none-match") {
                line.push_str(" [if-none-match]");
            }
            if let Some(range) = request.headers().get("range") {
                line.push_str(&format!(" [{}]", range.to_str().unwrap_or("?")));
            }
            log.lock().expect("log").push(line);
            backend.clone().oneshot(request)
        },
    )
}

fn take(log: &Log) -> Vec<String> {
    std::mem::take(&mut *log.lock().expect("log"))
}

#[tokio::test]
async fn put_and_get_make_exactly_these_backend_calls() {
    let root = scratch_dir("inner-calls");
    let log: Log = Arc::default();
    let service =
        DeltaLayer::new(DeltaConfig::default()).layer(recorded(root.clone(), log.clone()));
    let s3 = client(service);
    s3.create_bucket()
        .bucket("bkt")
        .send()
        .await
        .expect("bucket");
    take(&log);

    let v1: Vec<u8> = (0..200_000u32).map(|i| (i * 31 % 253) as u8).collect();
    let mut v2 = v1.clone();
    v2[1000] ^= 1;
    for (key, body) in [("r/v1.zip", &v1), ("r/v2.zip", &v2)] {
        s3.put_object()
            .bucket("bkt")
            .key(key)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .expect("PUT");
    }
    let mut calls = take(&log);
    // For the savings ledger, each PUT looks up what is stored under its key now (both
    // forms), while the original is encoded — so those two HEADs interleave with the
    // encode's calls, in no fixed order, but always before the write.
    for key in ["r/v1.zip", "r/v2.zip"] {
        let write = format!("PUT /bkt/{key}.delta");
        let written = calls.iter().position(|c| *c == write).expect("written");
        for lookup in [format!("HEAD /bkt/{key}.delta"), format!("HEAD /bkt/{key}")] {
            let at = calls.iter().position(|c| *c == lookup).expect("looked up");
            assert!(at < written, "{lookup} before {write}: {calls:?}");
            calls.remove(at);
        }
    }
    // And each records what it changed in the ledger's journal, last.
    let journal: Vec<usize> = (0..calls.len())
        .filter(|&i| calls[i].starts_with("PUT /bkt/.deltaglider/stats/journal/"))
        .collect();
    assert_eq!(journal.len(), 2, "{calls:?}");
    for i in journal.into_iter().rev() {
        assert!(calls[i].ends_with(".json [if-none-match]"), "{}", calls[i]);
        calls[i] = "PUT journal".into();
    }
    assert_eq!(
        calls,
        [
            // First PUT: the deltaspace's references are listed; there are none yet, so
            // the upload seeds one with a conditional create.
            "GET /bkt/?list-type=2&delimiter=%2F&prefix=r%2Freference%2E",
            "GET /bkt/r/reference.bin",
            "PUT /bkt/r/reference.bin [if-none-match]",
            // The delta it replaces, if any: the reference that one named may become unused.
            "HEAD /bkt/r/v1.zip.delta",
            "PUT /bkt/r/v1.zip.delta",
            // The reference is still there (a concurrent removal would be undone here).
            "HEAD /bkt/r/reference.bin",
            // No older whole object to remove.
            "HEAD /bkt/r/v1.zip",
            "PUT journal",
            // Second PUT: listed again (another writer may have added one); the reference
            // itself comes from the cache.
            "GET /bkt/?list-type=2&delimiter=%2F&prefix=r%2Freference%2E",
            "HEAD /bkt/r/v2.zip.delta",
            "PUT /bkt/r/v2.zip.delta",
            "HEAD /bkt/r/reference.bin",
            "HEAD /bkt/r/v2.zip",
            "PUT journal",
        ]
    );

    let got = s3
        .get_object()
        .bucket("bkt")
        .key("r/v2.zip")
        .send()
        .await
        .expect("GET");
    assert_eq!(got.body.collect().await.expect("body").to_vec(), v2);
    assert_eq!(
        take(&log),
        // Beside the delta, whether the key is also stored whole (and newer).
        ["GET /bkt/r/v2.zip.delta", "HEAD /bkt/r/v2.zip"],
        "reference served from the cache"
    );

    // A fresh layer (another instance, empty cache) checks the reference's identity by its
    // metadata, then reads the bytes the delta's windows copy by ranged GETs (one here:
    // the read-ahead covers this small reference whole) while the object streams out.
    let fresh = DeltaLayer::new(DeltaConfig::default()).layer(recorded(root.clone(), log.clone()));
    let s3 = client(fresh);
    let got = s3
        .get_object()
        .bucket("bkt")
        .key("r/v1.zip")
        .send()
        .await
        .expect("GET");
    assert_eq!(got.body.collect().await.expect("body").to_vec(), v1);
    assert_eq!(
        take(&log),
        [
            "GET /bkt/r/v1.zip.delta",
            "HEAD /bkt/r/v1.zip",
            "HEAD /bkt/r/reference.bin",
            "GET /bkt/r/reference.bin [bytes=0-199999]",
        ]
    );
}

/// A request: method, path and query, extra headers.
type Probe = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// Requests the layer must forward byte for byte.
const FORWARDED: &[Probe] = &[
    ("GET", "/", &[]),
    ("PUT", "/newbucket", &[]),
    ("HEAD", "/bkt", &[]),
    // DELETE /bucket is the layer's (refused while objects remain, its own objects removed
    // first): tests/layer_savings.rs.
    ("GET", "/bkt?location", &[]),
    ("GET", "/bkt?versioning", &[]),
    ("PUT", "/bkt?versioning", &[]),
    ("GET", "/bkt?acl", &[]),
    ("PUT", "/bkt?acl", &[]),
    ("GET", "/bkt?policy", &[]),
    ("PUT", "/bkt?policy", &[]),
    ("DELETE", "/bkt?policy", &[]),
    ("GET", "/bkt?cors", &[]),
    ("PUT", "/bkt?cors", &[]),
    ("DELETE", "/bkt?cors", &[]),
    ("GET", "/bkt?lifecycle", &[]),
    ("PUT", "/bkt?lifecycle", &[]),
    ("GET", "/bkt?tagging", &[]),
    ("PUT", "/bkt?tagging", &[]),
    ("DELETE", "/bkt?tagging", &[]),
    ("GET", "/bkt?encryption", &[]),
    ("GET", "/bkt?uploads", &[]),
    // GET /bkt?versions is re-issued (ListObjectVersions without the layer's ledger).
    ("GET", "/bkt?notification", &[]),
    ("GET", "/bkt?object-lock", &[]),
    ("GET", "/bkt?website", &[]),
    ("GET", "/bkt?replication", &[]),
    ("GET", "/bkt?policyStatus", &[]),
    ("GET", "/bkt?ownershipControls", &[]),
    ("GET", "/bkt/r/v1.zip?tagging", &[]),
    ("PUT", "/bkt/r/v1.zip?tagging", &[]),
    ("DELETE", "/bkt/r/v1.zip?tagging", &[]),
    ("GET", "/bkt/r/v1.zip?acl", &[]),
    ("PUT", "/bkt/r/v1.zip?acl", &[]),
    (
        "GET",
        "/bkt/r/v1.zip?attributes",
        &[("x-amz-object-attributes", "ObjectSize")],
    ),
    ("GET", "/bkt/r/v1.zip?retention", &[]),
    ("PUT", "/bkt/r/v1.zip?legal-hold", &[]),
    ("POST", "/bkt/r/v1.zip?restore", &[]),
    ("POST", "/bkt/r/v1.zip?select&select-type=2", &[]),
];

#[tokio::test]
async fn every_other_operation_is_forwarded_untouched() {
    type Seen = Arc<Mutex<Vec<(String, String, Vec<(String, String)>, Vec<u8>)>>>;
    let seen: Seen = Arc::default();
    let recorder = {
        let seen = seen.clone();
        tower::service_fn(move |request: http::Request<RequestBody<String>>| {
            let seen = seen.clone();
            async move {
                let (parts, body) = request.into_parts();
                let body = body
                    .collect()
                    .await
                    .map_err(|e| e.to_string())?
                    .to_bytes()
                    .to_vec();
                let headers = parts
                    .headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
                    .collect();
                seen.lock().expect("seen").push((
                    parts.method.to_string(),
                    parts.uri.to_string(),
                    headers,
                    body,
                ));
                Ok::<_, String>(http::Response::new(Either::<String>::full("ok")))
            }
        })
    };
    let layered = DeltaLayer::new(DeltaConfig::default()).layer(recorder);
    for (method, uri, headers) in FORWARDED {
        let mut request = http::Request::builder().method(*method).uri(*uri);
        for (name, value) in *headers {
            request = request.header(*name, *value);
        }
        let body = format!("body of {method} {uri}");
        let request = request
            .header("x-amz-meta-probe", "1")
            .body(body.clone())
            .expect("request");
        let response = layered.clone().oneshot(request).await.expect("forwarded");
        assert_eq!(
            response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes(),
            "ok"
        );
        let (m, u, h, b) = seen.lock().expect("seen").pop().expect("the inner saw it");
        assert_eq!((m.as_str(), u.as_str()), (*method, *uri));
        assert_eq!(b, body.as_bytes(), "{method} {uri}: body changed");
        assert!(
            h.contains(&("x-amz-meta-probe".to_owned(), "1".to_owned())),
            "{method} {uri}"
        );
        for (name, value) in *headers {
            assert!(
                h.contains(&((*name).to_owned(), (*value).to_owned())),
                "{method} {uri}"
            );
        }
        assert!(
            seen.lock().expect("seen").is_empty(),
            "{method} {uri}: extra inner calls"
        );
    }
}

/// Who a client request came from, as an outer layer (the SigV4 layer's `Principal`) marks
/// it.
#[derive(Debug, Clone, PartialEq)]
struct Caller(&'static str);

/// Each inner request (`METHOD path`) and the caller it carried.
type CallerLog = Vec<(String, Option<Caller>)>;

/// Every request the layer sends on a client's behalf (reference reads and writes, the
/// `.delta`, listings, clean-up) carries the client request's extensions, so a backend
/// signer that signs only verified principals keeps an anonymous client anonymous.
#[tokio::test]
async fn inner_requests_act_for_the_client() {
    let root = scratch_dir("inner-calls-caller");
    let seen: Arc<Mutex<CallerLog>> = Arc::default();
    let record = Arc::clone(&seen);
    let backend = fs_backend(&root);
    let recorder = tower::service_fn(
        move |request: http::Request<RequestBody<aws_smithy_types::body::SdkBody>>| {
            let line = format!("{} {}", request.method(), request.uri().path());
            let caller = request.extensions().get::<Caller>().cloned();
            record.lock().expect("log").push((line, caller));
            backend.clone().oneshot(request)
        },
    );
    let caller = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    const CALLERS: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];
    let callers = CALLERS;
    let service = tower::ServiceBuilder::new()
        .map_request(
            move |mut r: http::Request<aws_smithy_types::body::SdkBody>| {
                let i = caller.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                r.extensions_mut()
                    .insert(Caller(callers[i % callers.len()]));
                r
            },
        )
        .layer(DeltaLayer::new(DeltaConfig::default()))
        .service(recorder);
    let s3 = client(service);
    s3.create_bucket()
        .bucket("bkt")
        .send()
        .await
        .expect("bucket");
    let v1: Vec<u8> = (0..200_000u32).map(|i| (i * 31 % 253) as u8).collect();
    let mut v2 = v1.clone();
    v2[1000] ^= 1;
    for (key, body) in [("r/v1.zip", &v1), ("r/v2.zip", &v2)] {
        s3.put_object()
            .bucket("bkt")
            .key(key)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .expect("PUT");
    }
    let got = s3.get_object().bucket("bkt").key("r/v2.zip").send().await;
    assert_eq!(
        got.expect("GET")
            .body
            .collect()
            .await
            .expect("body")
            .to_vec(),
        v2
    );
    s3.delete_object()
        .bucket("bkt")
        .key("r/v1.zip")
        .send()
        .await
        .expect("DELETE");

    // Client requests run one after another, so the callers of the inner requests come in
    // the same order, each request's own first: alice (CreateBucket), bob and carol (the
    // PUTs), dave (the GET), erin (the DELETE).
    let seen = seen.lock().expect("log");
    let order: Vec<usize> = seen
        .iter()
        .map(|(line, caller)| {
            let caller = caller
                .as_ref()
                .unwrap_or_else(|| panic!("{line}: no caller"));
            callers.iter().position(|c| *c == caller.0).expect("known")
        })
        .collect();
    assert!(order.is_sorted(), "{seen:?}");
    let mut distinct = order.clone();
    distinct.dedup();
    assert_eq!(distinct, [0, 1, 2, 3, 4], "{seen:?}");
    assert!(seen.len() > 10, "{seen:?}");
}
