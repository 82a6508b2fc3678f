//! The HTTP server under the API, with every resource an outsider could exhaust bounded:
//!
//! - **connections**: at most [`ApiLimits::max_connections`] at once, and
//!   [`ApiLimits::max_connections_per_client`] from one address; a connection over either cap is
//!   answered `503 TooManyConnections` (with `Retry-After`) and closed at once, so a flood from
//!   one address never takes the file descriptors another client (a health check) needs;
//! - **slow or silent clients**: the request headers must arrive within
//!   [`ApiLimits::header_read_timeout`] (a half-open connection is closed after it), and a whole
//!   request, body and answer included, takes at most [`ApiLimits::request_timeout`]
//!   (`503 RequestTimeout`);
//! - **state-creating requests** (`POST`): a token bucket per client address,
//!   [`ApiLimits::client_write_rate`] per second with bursts of [`ApiLimits::client_write_burst`];
//!   past it, `429 RateLimited` with `Retry-After`.
//!
//! HTTP/1.1 only (what the API speaks). The pure parts — [`ConnectionCounts`] and
//! [`TokenBucket`] — have unit tests; the server has the adversarial tests.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the server lets clients use.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiLimits {
    /// A client has this long to send a request's headers (also the idle limit between the
    /// requests of a kept-alive connection).
    pub header_read_timeout: Duration,
    /// A request is answered within this, or with `503 RequestTimeout`.
    pub request_timeout: Duration,
    /// Connections open at once, all clients together.
    pub max_connections: usize,
    /// Connections open at once from one client address.
    pub max_connections_per_client: usize,
    /// `POST` requests per second one client address may sustain.
    pub client_write_rate: f64,
    /// `POST` requests one client address may send at once above the rate.
    pub client_write_burst: f64,
}

impl Default for ApiLimits {
    fn default() -> Self {
        ApiLimits {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_connections: 512,
            max_connections_per_client: 64,
            // An institution's backend may be one address submitting for all its users: the
            // default leaves room for a relayer's full capacity.
            client_write_rate: 50.0,
            client_write_burst: 200.0,
        }
    }
}

/// Open connections, in all and per client address.
#[derive(Debug)]
pub struct ConnectionCounts {
    max_total: usize,
    max_per_client: usize,
    state: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// A connection's place in [`ConnectionCounts`], given back when dropped.
#[derive(Debug)]
pub struct ConnectionSlot {
    counts: Arc<ConnectionCounts>,
    client: IpAddr,
}

impl ConnectionCounts {
    /// Counts with these caps.
    pub fn new(max_total: usize, max_per_client: usize) -> Arc<ConnectionCounts> {
        Arc::new(ConnectionCounts {
            max_total,
            max_per_client,
            state: Mutex::new((0, HashMap::new())),
        })
    }

    /// A slot for a new connection from `client`, or `None` when a cap is reached.
    pub fn try_acquire(self: &Arc<Self>, client: IpAddr) -> Option<ConnectionSlot> {
        let mut state = lock(&self.state);
        let (total, per_client) = &mut *state;
        let mine = per_client.get(&client).copied().unwrap_or(0);
        if *total >= self.max_total || mine >= self.max_per_client {
            return None;
        }
        *total += 1;
        per_client.insert(client, mine + 1);
        Some(ConnectionSlot { counts: self.clone(), client })
    }

    /// Open connections (all, from `client`).
    pub fn open(&self, client: IpAddr) -> (usize, usize) {
        let state = lock(&self.state);
        (state.0, state.1.get(&client).copied().unwrap_or(0))
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut state = lock(&self.counts.state);
        let (total, per_client) = &mut *state;
        *total = total.saturating_sub(1);
        if let Some(n) = per_client.get_mut(&self.client) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                per_client.remove(&self.client);
            }
        }
    }
}

/// A token bucket: `burst` tokens, refilled at `rate` per second; each request takes one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenBucket {
    tokens: f64,
    at: Instant,
}

impl TokenBucket {
    /// A full bucket at `now`.
    pub fn full(burst: f64, now: Instant) -> TokenBucket {
        TokenBucket { tokens: burst, at: now }
    }

    /// Takes a token at `now`, or says how long until one is there.
    pub fn take(&mut self, now: Instant, rate: f64, burst: f64) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        if rate <= 0.0 {
            return Err(Duration::from_secs(3600));
        }
        Err(Duration::from_secs_f64((1.0 - self.tokens) / rate))
    }

    /// Whether the bucket is full at `now` (its client may be forgotten).
    pub fn is_full(&self, now: Instant, rate: f64, burst: f64) -> bool {
        self.tokens + now.saturating_duration_since(self.at).as_secs_f64() * rate >= burst
    }
}

/// The client address of a request (set for every request the server accepts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

/// Buckets of the clients seen lately; full ones are forgotten when the map grows.
#[derive(Debug)]
struct Guard {
    limits: ApiLimits,
    buckets: Mutex<HashMap<IpAddr, TokenBucket>>,
}

/// Forget full buckets beyond this many clients.
const BUCKETS_KEPT: usize = 4096;

impl Guard {
    fn take(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let (rate, burst) = (self.limits.client_write_rate, self.limits.client_write_burst);
        let mut buckets = lock(&self.buckets);
        if buckets.len() > BUCKETS_KEPT {
            buckets.retain(|_, b| !b.is_full(now, rate, burst));
        }
        buckets
            .entry(client)
            .or_insert_with(|| TokenBucket::full(burst, now))
            .take(now, rate, burst)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `{"error": {"code", "message"}}` with `Retry-After` (seconds, at least 1).
pub(crate) fn refusal(
    status: StatusCode,
    code: &str,
    message: String,
    retry_after: Duration,
) -> Response {
    let body = serde_json::json!({ "error": { "code": code, "message": message } });
    let mut response = (status, axum::Json(body)).into_response();
    let secs = retry_after.as_secs_f64().ceil().max(1.0);
    if let Ok(v) = HeaderValue::from_str(&format!("{secs:.0}")) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

/// Rate limit on `POST`, then the request under its timeout.
async fn guard(State(g): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    if request.method() == Method::POST
        && let Some(ClientAddr(client)) = request.extensions().get::<ClientAddr>().copied()
        && let Err(wait) = g.take(client.ip(), Instant::now())
    {
        let message = format!(
            "{} sent more than {} requests at once or {}/s: try again later",
            client.ip(),
            g.limits.client_write_burst,
            g.limits.client_write_rate
        );
        return refusal(StatusCode::TOO_MANY_REQUESTS, "RateLimited", message, wait);
    }
    let limit = g.limits.request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            "RequestTimeout",
            format!(
                "not answered within {}s; work it started goes on: ask for its status",
                limit.as_secs()
            ),
            Duration::from_secs(5),
        ),
    }
}

/// The answer to a connection over a cap, written without waiting (the kernel buffer takes it)
/// before the connection is closed.
const TOO_MANY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
retry-after: 1\r\nconnection: close\r\ncontent-length: 90\r\n\r\n\
{\"error\":{\"code\":\"TooManyConnections\",\"message\":\"too many connections: try again later\"}}\n";

/// A running API server.
#[derive(Debug)]
pub struct ApiServer {
    /// The bound address.
    pub local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl ApiServer {
    /// Binds `listen` and serves `router` in a task, with the default [`ApiLimits`].
    pub async fn start(listen: SocketAddr, router: Router) -> std::io::Result<ApiServer> {
        ApiServer::start_with(listen, router, ApiLimits::default()).await
    }

    /// Binds `listen` and serves `router` in a task within `limits`.
    pub async fn start_with(
        listen: SocketAddr,
        router: Router,
        limits: ApiLimits,
    ) -> std::io::Result<ApiServer> {
        let listener = TcpListener::bind(listen).await?;
        let local_addr = listener.local_addr()?;
        let (shutdown, rx) = watch::channel(false);
        let task = tokio::spawn(serve(listener, router, limits, rx));
        Ok(ApiServer { local_addr, shutdown, task })
    }

    /// Stops accepting connections, lets in-flight requests finish, and waits for the server.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(true);
        self.task.await.map_err(std::io::Error::other)?
    }
}

async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ApiLimits,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let counts = ConnectionCounts::new(limits.max_connections, limits.max_connections_per_client);
    let guard_state =
        Arc::new(Guard { limits: limits.clone(), buckets: Mutex::new(HashMap::new()) });
    let router = router.layer(axum::middleware::from_fn_with_state(guard_state, guard));
    let (drain, draining) = watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            () = async { let _ = shutdown.wait_for(|stop| *stop).await; } => break,
            accepted = listener.accept() => accepted,
            // Reap finished connection tasks as they end.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(err) => {
                // Out of descriptors or the like: give open connections a moment to close
                // rather than spin on the error.
                tracing::warn!(%err, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = counts.try_acquire(peer.ip()) else {
            refuse(stream, peer);
            continue;
        };
        let service =
            TowerToHyperService::new(router.clone().layer(axum::Extension(ClientAddr(peer))));
        let header_read_timeout = limits.header_read_timeout;
        let mut draining = draining.clone();
        connections.spawn(async move {
            let _slot = slot;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(header_read_timeout);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(err) = result {
                        tracing::debug!(%peer, %err, "connection ended");
                    }
                }
                () = async { let _ = draining.wait_for(|d| *d).await; } => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    let _ = drain.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

fn refuse(stream: TcpStream, peer: SocketAddr) {
    tracing::debug!(%peer, "connection refused: over the connection cap");
    let _ = stream.try_write(TOO_MANY);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_capped_in_all_and_per_client() {
        let counts = ConnectionCounts::new(3, 2);
        let (a, b): (IpAddr, IpAddr) = ([10, 0, 0, 1].into(), [10, 0, 0, 2].into());
        let a1 = counts.try_acquire(a).expect("first from a");
        let a2 = counts.try_acquire(a).expect("second from a");
        assert!(counts.try_acquire(a).is_none(), "a is at its cap");
        let b1 = counts.try_acquire(b).expect("b is not");
        assert!(counts.try_acquire(b).is_none(), "all three slots are taken");
        assert_eq!(counts.open(a), (3, 2));
        drop(a1);
        assert_eq!(counts.open(a), (2, 1));
        let b2 = counts.try_acquire(b).expect("a slot came free");
        drop((a2, b1, b2));
        assert_eq!(counts.open(a), (0, 0));
        assert_eq!(counts.open(b), (0, 0));
    }

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate_and_names_the_wait() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::full(3.0, t0);
        for _ in 0..3 {
            assert_eq!(bucket.take(t0, 2.0, 3.0), Ok(()));
        }
        let wait = bucket.take(t0, 2.0, 3.0).expect_err("empty");
        assert_eq!(wait, Duration::from_millis(500));
        // Half a second later one token is back, not more.
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!(bucket.take(t1, 2.0, 3.0), Ok(()));
        assert!(bucket.take(t1, 2.0, 3.0).is_err());
        // It never holds more than the burst.
        let t2 = t1 + Duration::from_secs(60);
        assert!(bucket.is_full(t2, 2.0, 3.0));
        for _ in 0..3 {
            assert_eq!(bucket.take(t2, 2.0, 3.0), Ok(()));
        }
        assert!(bucket.take(t2, 2.0, 3.0).is_err());
        // A zero rate refuses once the burst is spent.
        let mut none = TokenBucket::full(1.0, t0);
        assert_eq!(none.take(t0, 0.0, 1.0), Ok(()));
        assert!(none.take(t2, 0.0, 1.0).is_err());
    }

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn limits() -> ApiLimits {
        ApiLimits {
            header_read_timeout: Duration::from_millis(300),
            request_timeout: Duration::from_millis(300),
            max_connections: 8,
            max_connections_per_client: 2,
            client_write_rate: 1.0,
            client_write_burst: 2.0,
        }
    }

    async fn server() -> ApiServer {
        let router = Router::new()
            .route("/ok", axum::routing::get(|| async { "ok" }))
            .route("/write", axum::routing::post(|| async { "written" }))
            .route("/hang", axum::routing::get(std::future::pending::<&'static str>));
        ApiServer::start_with("127.0.0.1:0".parse().expect("addr"), router, limits())
            .await
            .expect("bind")
    }

    /// Everything the server sends until it closes, bounded.
    async fn read_all(stream: &mut TcpStream) -> String {
        let mut buf = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf));
        read.await.expect("the server closes the connection").expect("read");
        String::from_utf8_lossy(&buf).into_owned()
    }

    async fn request(addr: SocketAddr, method: &str, path: &str) -> String {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        let req = format!(
            "{method} {path} HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        );
        s.write_all(req.as_bytes()).await.expect("write");
        read_all(&mut s).await
    }

    #[tokio::test]
    async fn a_silent_or_half_sent_request_is_closed_after_the_header_timeout() {
        let server = server().await;
        let mut silent = TcpStream::connect(server.local_addr).await.expect("connect");
        let mut half = TcpStream::connect(server.local_addr).await.expect("connect");
        half.write_all(b"GET /ok HTTP/1.1\r\n").await.expect("write");
        // Both are closed by the server (read_all returns), without an answer to the half.
        let _ = read_all(&mut silent).await;
        let answer = read_all(&mut half).await;
        assert!(!answer.contains("200 OK"), "{answer}");
        // An idle kept-alive connection is closed after its request too.
        let mut kept = TcpStream::connect(server.local_addr).await.expect("connect");
        kept.write_all(b"GET /ok HTTP/1.1\r\nhost: x\r\n\r\n").await.expect("write");
        let answer = read_all(&mut kept).await;
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        server.shutdown().await.expect("shutdown");
    }

    #[tokio::test]
    async fn connections_over_the_client_cap_are_refused_with_a_json_503() {
        let server = server().await;
        let _a = TcpStream::connect(server.local_addr).await.expect("connect");
        let _b = TcpStream::connect(server.local_addr).await.expect("connect");
        let mut c = TcpStream::connect(server.local_addr).await.expect("connect");
        let answer = read_all(&mut c).await;
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(answer.contains("retry-after: 1") && answer.contains("TooManyConnections"));
        drop((_a, _b));
        // Slots come back when connections close (the server notices the close on its side).
        let mut ok = String::new();
        for _ in 0..100 {
            ok = request(server.local_addr, "GET", "/ok").await;
            if ok.starts_with("HTTP/1.1 200") {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    }

    #[tokio::test]
    async fn writes_past_the_burst_are_rate_limited_and_slow_requests_time_out() {
        let server = server().await;
        for _ in 0..2 {
            let answer = request(server.local_addr, "POST", "/write").await;
            assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        }
        let answer = request(server.local_addr, "POST", "/write").await;
        assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
        assert!(answer.contains("retry-after: 1") && answer.contains("RateLimited"), "{answer}");
        // Reads are not rate limited.
        assert!(request(server.local_addr, "GET", "/ok").await.starts_with("HTTP/1.1 200"));
        let answer = request(server.local_addr, "GET", "/hang").await;
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(answer.contains("RequestTimeout") && answer.contains("retry-after: 5"), "{answer}");
    }

    #[test]
    fn the_canned_refusal_is_valid_http_with_a_json_body() {
        let text = std::str::from_utf8(TOO_MANY).expect("ascii");
        let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .and_then(|v| v.parse().ok())
            .expect("content-length");
        assert_eq!(body.len(), length, "{body:?}");
        let v: serde_json::Value = serde_json::from_str(body).expect("JSON");
        assert_eq!(v["error"]["code"], "TooManyConnections");
    }
}
