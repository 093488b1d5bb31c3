//! The Worker's entry point: converts the request, runs the stack, converts the response.

use std::cell::OnceCell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use deltaglider::sigv4::{SigV4Config, SigV4Layer, StaticCredentials};
use deltaglider::{Contents, DeltaLayer, Either, IngestLayer, S3Error};
use futures_util::TryStreamExt;
use http::Response;
use http_body_util::BodyExt;
use tower::{ServiceBuilder, ServiceExt};
use worker::{Context, Env, Headers, HttpRequest, ResponseBuilder, event};

use crate::body::{Outgoing, R2Body};
use crate::r2::R2Service;
use crate::settings::Settings;

/// The binding of the R2 bucket in `wrangler.toml`.
const BINDING: &str = "BUCKET";

/// What is built once per isolate: the layers keep their caches and counters between
/// requests.
#[derive(Clone)]
struct Stack {
    settings: Settings,
    sigv4: SigV4Layer,
    delta: DeltaLayer,
}

thread_local! {
    static STACK: OnceCell<Result<Stack, String>> = const { OnceCell::new() };
}

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(worker::Date::now().as_millis())
}

fn build(env: &Env) -> Result<Stack, String> {
    let lookup = |name: &str| {
        env.secret(name)
            .map(|s| s.to_string())
            .or_else(|_| env.var(name).map(|v| v.to_string()))
            .ok()
    };
    let settings = Settings::from_lookup(lookup).map_err(|e| e.to_string())?;
    let mut credentials = StaticCredentials::new();
    if let Some((access, secret)) = &settings.credentials {
        credentials = credentials.with(access.clone(), secret.clone());
    }
    let mut config = SigV4Config::new(credentials)
        .clock(now)
        .allow_anonymous(settings.allow_anonymous);
    if let Some(region) = &settings.region {
        config = config.region(region.clone());
    }
    Ok(Stack {
        sigv4: SigV4Layer::new(config),
        // Without a clock, what the layer dates (`dg-created-at`, CopyObject's and
        // UploadPartCopy's LastModified) would read 1970: wasm32 has none of its own.
        delta: DeltaLayer::new(settings.delta_config().clock(now)),
        settings,
    })
}

#[event(fetch)]
async fn fetch(request: HttpRequest, env: Env, _ctx: Context) -> worker::Result<worker::Response> {
    let stack = STACK.with(|cell| cell.get_or_init(|| build(&env)).clone());
    let stack = match stack {
        Ok(stack) => stack,
        Err(message) => {
            worker::console_error!("deltaglider: {message}");
            let error = S3Error::internal(format!("the Worker is misconfigured: {message}"));
            return into_worker(error.to_response().map(Either::<R2Body>::full));
        }
    };
    let bucket = env.bucket(BINDING)?;
    let r2 = R2Service::new(bucket, stack.settings.bucket.clone(), stack.settings.region);
    if stack.settings.raw {
        let service = ServiceBuilder::new()
            .layer(stack.sigv4)
            .layer(IngestLayer::new())
            .map_request(|request: http::Request<_>| request.map(Either::passthrough))
            .service(r2);
        let response = match service.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        return into_worker(response.map(Either::flatten));
    }
    // Authentication (the head), then the body decoded and verified, then the layer.
    let service = ServiceBuilder::new()
        .layer(stack.sigv4)
        .layer(IngestLayer::new())
        .layer(stack.delta)
        .service(r2);
    let response = match service.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    into_worker(response.map(|body| body.flatten().flatten()))
}

/// The runtime's response: built bytes are copied out once; an R2 object's stream is
/// handed over without passing through WebAssembly; an object the layer reconstructs
/// streams window by window, and a failure mid-way errors the JavaScript stream, which
/// aborts the response.
fn into_worker(response: Response<Either<R2Body>>) -> worker::Result<worker::Response> {
    let (parts, body) = response.into_parts();
    let builder = ResponseBuilder::new()
        .with_status(parts.status.as_u16())
        .with_headers(Headers::from(&parts.headers));
    let outgoing = match body.into_contents() {
        Contents::Full(bytes) => Outgoing::Bytes(bytes),
        Contents::Passthrough(r2) => r2.into_outgoing(),
        Contents::Streamed(streamed) => {
            let stream = streamed
                .into_data_stream()
                .map_ok(Vec::from)
                .map_err(|e| worker::Error::RustError(e.to_string()));
            return builder.from_stream(stream);
        }
    };
    Ok(match outgoing {
        Outgoing::Bytes(bytes) if bytes.is_empty() => builder.empty(),
        Outgoing::Bytes(bytes) => builder.fixed(Bytes::into(bytes)),
        Outgoing::Stream(stream) => builder.stream(stream),
    })
}
