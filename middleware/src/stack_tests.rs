//! Tests of the composed stack — `SigV4Layer` → `IngestLayer` (→ `DeltaLayer`): requests
//! signed by the real `aws-sigv4` crate (the AWS SDK's signer), verified, then tampered
//! with.

mod chunked;
mod header;
mod post;
mod presign;
mod support;
mod v2;

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use tower::ServiceExt;

use support::*;

/// In front of the `DeltaLayer`, as in the proxy: the stack is a `Send` tower service.
#[tokio::test]
async fn composes_in_front_of_the_delta_layer() {
    use crate::DeltaConfig;
    use crate::DeltaLayer;
    use crate::RequestBody;
    let backend = tower::service_fn(
        |r: Request<RequestBody<IngestBody<RequestBody<Full<Bytes>>>>>| async move {
            assert!(!r.headers().contains_key("authorization"));
            Ok::<_, Infallible>(Response::new(String::from("<ListAllMyBucketsResult/>")))
        },
    );
    let stack = tower::ServiceBuilder::new()
        .layer(SigV4Layer::new(config_at(t0())))
        .layer(IngestLayer::new())
        .layer(DeltaLayer::new(DeltaConfig::default()))
        .service(backend);
    let mut r = request("GET", "/", b"");
    sign(
        &mut r,
        SignableBody::Bytes(b""),
        s3_settings(),
        t0(),
        SECRET,
    );
    let future = stack.clone().oneshot(r);
    fn assert_send<T: Send>(_: &T) {}
    assert_send(&future);
    assert_eq!(future.await.expect("infallible").status(), StatusCode::OK);
    let refused = stack.oneshot(request("GET", "/", b"")).await;
    assert_eq!(refused.expect("infallible").status(), StatusCode::FORBIDDEN);
}
