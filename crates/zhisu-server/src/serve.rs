//! Serving connections so that slow or idle clients cannot hold the server: each connection
//! must send its request head within `header_timeout` (also the limit for a keep-alive
//! connection left idle) and its body without a pause longer than `body_timeout`; beyond
//! `max_connections` a new connection gets `503` with `Retry-After` and is closed at once; on
//! shutdown the listener closes, requests in flight finish within `shutdown_grace`, then the
//! rest are cut. Documented in docs/deployment.md ("Connections and stopping").

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::{router, HttpState};

/// How the server treats connections (configuration: `header_timeout_s`, `body_timeout_s`,
/// `max_connections`, `shutdown_grace_s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Time to send a request head, from the connection's start or the end of the previous
    /// response (so also how long a keep-alive connection may stay idle).
    pub header_timeout: Duration,
    /// Longest pause while sending a request body.
    pub body_timeout: Duration,
    /// Connections served at once; more are refused with 503.
    pub max_connections: usize,
    /// How long requests in flight may take to finish once the server is told to stop.
    pub shutdown_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: 1024,
            shutdown_grace: Duration::from_secs(20),
        }
    }
}

/// What a connection beyond the limit is told before it is closed.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 5\r\nconnection: close\r\ncontent-length: 103\r\n\r\n{\"code\":\"server_busy\",\"message\":\"the server has too many connections open; try again in a few seconds\"}";

/// Serves `state` on `listener` under `limits` until `shutdown` completes, then lets requests
/// in flight finish for up to `limits.shutdown_grace`.
pub async fn serve_with_limits(
    listener: TcpListener,
    state: impl Into<HttpState>,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
        limits.body_timeout,
    ));
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (mut stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // out of file descriptors or a connection reset before accept: wait a
                    // moment rather than spin
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::warn!(
                max_connections = limits.max_connections,
                "too many connections: one refused with 503"
            );
            tokio::spawn(async move {
                let _ = tokio::time::timeout(Duration::from_secs(2), stream.write_all(BUSY)).await;
                let _ = stream.shutdown().await;
            });
            continue;
        };
        let app = app.clone();
        let service = TowerToHyperService::new(tower::service_fn(
            move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                app.clone().oneshot(request.map(axum::body::Body::new))
            },
        ));
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _slot = slot;
            if let Err(error) = connection.await {
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!("stopping: no new connections; finishing the requests in flight");
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_s = limits.shutdown_grace.as_secs(),
            "requests still in flight after the grace period were cut"
        );
    }
    Ok(())
}
