//! The dashboard's own answers: its page and assets (embedded: no build step, no network),
//! the sign-in and sign-out forms, and the live figures of this process.
//!
//! Savings figures come from the savings ledger through the DeltaLayer
//! (`/_deltaglider/api/savings`); nothing here names an object key or shows contents.

use bytes::Bytes;
use deltaglider::{Histogram, MetricsSnapshot};
use http::{HeaderValue, Response, StatusCode, header};
use serde_json::{Value, json};

use super::session;
use crate::metrics::Durations;

const HTML: &str = include_str!("../../assets/dashboard.html");
const CSS: &str = include_str!("../../assets/dashboard.css");
const JS: &str = include_str!("../../assets/dashboard.js");

/// Nothing but the proxy's own files, no framing by other sites.
const CSP: &str = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// A response with `body`, its type, and the headers every dashboard answer carries.
pub(crate) fn answer(
    status: StatusCode,
    content_type: &'static str,
    body: Bytes,
) -> Response<Bytes> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("content-security-policy", HeaderValue::from_static(CSP));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}

/// The page or one of its assets, by the path after `/_deltaglider/`.
pub(crate) fn asset(endpoint: &str) -> Option<Response<Bytes>> {
    let (content_type, body) = match endpoint {
        "" => ("text/html; charset=utf-8", HTML),
        "assets/dashboard.css" => ("text/css; charset=utf-8", CSS),
        "assets/dashboard.js" => ("text/javascript; charset=utf-8", JS),
        _ => return None,
    };
    Some(answer(
        StatusCode::OK,
        content_type,
        Bytes::from_static(body.as_bytes()),
    ))
}

/// A redirect to `location` (303: the browser GETs it), setting `cookie` if given.
pub(crate) fn redirect(location: &'static str, cookie: Option<String>) -> Response<Bytes> {
    let mut response = answer(StatusCode::SEE_OTHER, "text/plain", Bytes::new());
    response
        .headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(location));
    if let Some(cookie) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// The sign-in form's answer: a session cookie and the dashboard, or back to the form.
pub(crate) fn sign_in(keys: &session::Keys, form: &[u8]) -> Response<Bytes> {
    let field = |name: &str| {
        form.split(|b| *b == b'&').find_map(|pair| {
            let pair = pair.split(|b| *b == b'=').collect::<Vec<_>>();
            let [n, v] = pair.as_slice() else { return None };
            (*n == name.as_bytes()).then(|| decode_form(v))
        })
    };
    let (Some(access), Some(secret)) = (field("access_key"), field("secret_key")) else {
        return redirect("/_deltaglider/?failed=1", None);
    };
    if !session::sign_in(keys, &access, &secret) {
        tracing::warn!(
            access_key = access,
            reason = "bad_credentials",
            "dashboard sign-in refused"
        );
        return redirect("/_deltaglider/?failed=1", None);
    }
    tracing::info!(access_key = access, "dashboard sign-in");
    let cookie = session::issue(keys, &access).map(|c| session::set_cookie(Some(&c)));
    redirect("/_deltaglider/", cookie)
}

/// One `application/x-www-form-urlencoded` value.
fn decode_form(value: &[u8]) -> String {
    let spaced: Vec<u8> = value
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    percent_encoding::percent_decode(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// This process's live figures (`/_deltaglider/api/live`).
pub(crate) fn live(m: &MetricsSnapshot, durations: &Durations, uptime: f64) -> Value {
    let quantiles = |h: &Histogram| {
        json!({
            "count": h.count,
            "seconds": h.sum,
            "p50": h.quantile(0.5),
            "p90": h.quantile(0.9),
            "p99": h.quantile(0.99),
        })
    };
    let mut encode = quantiles(&m.encode);
    encode["bytes"] = json!(m.encoded_bytes);
    let mut decode = quantiles(&m.decode);
    decode["bytes"] = json!(m.decoded_bytes);
    let mut stored = vec![json!({"storage": "delta", "reason": "delta", "count": m.delta_puts})];
    stored.extend(
        m.whole_puts
            .iter()
            .map(|(reason, n)| json!({"storage": "whole", "reason": reason.name(), "count": n})),
    );
    let requests: Vec<Value> = durations
        .requests()
        .iter()
        .map(|(op, status, n)| json!({"operation": op, "status": status, "count": n}))
        .collect();
    let durations: Vec<Value> = durations
        .snapshot()
        .into_iter()
        .map(|(op, h)| {
            let mut one = quantiles(&h);
            one["operation"] = json!(op);
            one
        })
        .collect();
    json!({
        "uptime_seconds": uptime,
        "version": env!("CARGO_PKG_VERSION"),
        "requests": requests,
        "cache": {"hits": m.cache.hits, "misses": m.cache.misses, "bytes": m.cache.bytes},
        "stored": stored,
        "encode": encode,
        "decode": decode,
        "durations": durations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_sets_a_session_only_for_the_right_keys() {
        let keys: session::Keys = vec![("AK".into(), "s e+cret&".into())];
        let ok = sign_in(&keys, b"access_key=AK&secret_key=s+e%2Bcret%26");
        assert_eq!(ok.status(), StatusCode::SEE_OTHER);
        assert_eq!(ok.headers()[header::LOCATION], "/_deltaglider/");
        let cookie = ok.headers()[header::SET_COOKIE].to_str().expect("ASCII");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        let value = cookie.split(";").next().expect("a value");
        assert_eq!(session::verify(&keys, value).as_deref(), Some("AK"));
        let bad = sign_in(&keys, b"access_key=AK&secret_key=nope");
        assert_eq!(bad.headers()[header::LOCATION], "/_deltaglider/?failed=1");
        assert!(!bad.headers().contains_key(header::SET_COOKIE));
        assert!(asset("").is_some() && asset("assets/dashboard.js").is_some());
        assert!(asset("assets/../main.rs").is_none());
    }
}
