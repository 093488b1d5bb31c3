//! HTTP/1.1 serving with bounded resources and graceful shutdown: on SIGINT or SIGTERM the
//! listener closes and in-flight requests finish.
//!
//! Every connection is bounded ([`Limits`]): at most `max_connections` are served at once
//! (more wait in the listen backlog, unaccepted), request headers must arrive within the
//! header timeout and fit in `max_header_bytes` (hyper answers 431 otherwise), a connection
//! idle between requests is closed after the same timeout, and a body that stops arriving
//! for the body idle timeout fails (so the upload it carried is not stored).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::idle::IdleTimeout;

/// A request body as the core service gets it, whichever way the client was checked.
pub(crate) type ClientBody =
    http_body_util::combinators::UnsyncBoxBody<Bytes, deltaglider::BoxError>;

/// The request body services get: the client's, failing when it goes quiet.
pub(crate) type RequestBody = IdleTimeout<Incoming>;

/// Bounds on what one client can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Connections served at once.
    pub(crate) max_connections: usize,
    /// Time to send a request's headers, and the longest idle time between requests.
    pub(crate) header_timeout: Duration,
    /// Largest request head (request line and headers), in bytes; at least 8192.
    pub(crate) max_header_bytes: usize,
    /// Longest pause within a request body.
    pub(crate) body_idle_timeout: Duration,
}

/// Serves `service` on `listener` until `shutdown` resolves, then waits for open
/// connections to finish their requests.
pub(crate) async fn serve<S, B>(
    listener: TcpListener,
    limits: Limits,
    service: S,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    S: tower::Service<http::Request<RequestBody>, Response = http::Response<B>>
        + Clone
        + Send
        + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192));
    loop {
        // A slot first: over the limit, connections wait in the backlog, not in memory.
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        // Out of file descriptors, say: do not spin.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                if let Err(e) = stream.set_nodelay(true) {
                    tracing::debug!(%peer, error = %e, "cannot set TCP_NODELAY");
                }
                let idle = limits.body_idle_timeout;
                let service = tower::ServiceExt::map_request(
                    service.clone(),
                    move |request: http::Request<Incoming>| {
                        request.map(|body| IdleTimeout::new(body, idle))
                    },
                );
                let connection = http
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                    drop(slot);
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!("shutting down: finishing in-flight requests");
    graceful.shutdown().await;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot watch SIGTERM");
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// Where the proxy listens, for log lines.
pub(crate) fn describe(addr: SocketAddr) -> String {
    format!("http://{addr}")
}
