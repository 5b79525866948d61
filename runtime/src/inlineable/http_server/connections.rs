//! The connections of a listener: accepted up to a cap, each closed when it is idle too long
//! or takes too long to send a request. When the cap is reached, the connection idle the
//! longest is closed to make room, so that a flood of idle or half-sent connections closes
//! its own connections, never locks a normal client out.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// How long a connection may take to send a request, and how many may be open.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Connections open at once (`forge.http.max_connections`).
    pub max_connections: usize,
    /// How long a request head may take from its first byte (`header_read_timeout`).
    pub header_read: Duration,
    /// How long a request body may take once its head has arrived (`request_timeout`).
    pub request: Duration,
    /// How long a connection may wait for its next request (`keep_alive_timeout`).
    pub keep_alive: Duration,
}

/// A stamp of "never" for the times kept as milliseconds since the listener started.
const NEVER: u64 = u64::MAX;

/// One open connection, as the listener and its own task see it.
#[derive(Debug)]
struct Conn {
    /// Requests whose answer is not yet sent.
    busy: AtomicUsize,
    /// When the last answer was sent (or the connection opened).
    idle_since: AtomicU64,
    /// When the first byte of the next request head arrived, while idle; `NEVER` if none.
    head_since: AtomicU64,
    /// Told to close because the listener needs room; no longer counted against the cap.
    evicted: AtomicBool,
    /// Wakes the connection's task when it is evicted.
    evict: tokio::sync::Notify,
}

/// The open connections, and how many of them are closing to make room.
#[derive(Debug, Default)]
struct Open {
    conns: BTreeMap<u64, Arc<Conn>>,
    evicting: usize,
}

impl Open {
    /// Marks the connection idle the longest as evicted and wakes it; whether there was one.
    fn evict_idlest(&mut self) -> bool {
        let idlest = self
            .conns
            .values()
            .filter(|c| c.busy.load(Ordering::SeqCst) == 0 && !c.evicted.load(Ordering::SeqCst))
            .min_by_key(|c| c.idle_since.load(Ordering::Relaxed));
        let Some(conn) = idlest else { return false };
        conn.evicted.store(true, Ordering::SeqCst);
        conn.evict.notify_one();
        self.evicting += 1;
        true
    }

    /// An evicted connection that turned out busy stays, and counts again.
    fn spare(&mut self, conn: &Conn) {
        if conn.evicted.swap(false, Ordering::SeqCst) {
            self.evicting = self.evicting.saturating_sub(1);
        }
    }

    fn remove(&mut self, id: u64) {
        if let Some(conn) = self.conns.remove(&id)
            && conn.evicted.load(Ordering::SeqCst)
        {
            self.evicting = self.evicting.saturating_sub(1);
        }
    }
}

/// The open connections and the clock their times are counted on.
#[derive(Debug)]
struct Table {
    start: Instant,
    next: AtomicU64,
    open: Mutex<Open>,
}

impl Table {
    fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(NEVER - 1)
    }

    fn open(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a new connection, closing the one idle the longest when `max` are open.
    /// `None` when every open connection is busy: the newcomer is the one to go.
    fn admit(&self, max: usize) -> Option<(u64, Arc<Conn>)> {
        let mut open = self.open();
        if open.conns.len().saturating_sub(open.evicting) >= max && !open.evict_idlest() {
            return None;
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            busy: AtomicUsize::new(0),
            idle_since: AtomicU64::new(self.now()),
            head_since: AtomicU64::new(NEVER),
            evicted: AtomicBool::new(false),
            evict: tokio::sync::Notify::new(),
        });
        open.conns.insert(id, Arc::clone(&conn));
        Some((id, conn))
    }
}

/// Serves `app` on `listener` until `stop` resolves, then shuts every connection down
/// gracefully and waits until they are closed.
pub async fn serve_connections(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    stop: impl std::future::Future<Output = ()> + Send,
) {
    let table = Arc::new(Table {
        start: Instant::now(),
        next: AtomicU64::new(0),
        open: Mutex::new(Open::default()),
    });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (closed_tx, closed_rx) = tokio::sync::watch::channel(());
    let mut stop = std::pin::pin!(stop);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                on_accept_error(&table, &error).await;
                continue;
            }
        };
        let Some((id, conn)) = table.admit(limits.max_connections) else {
            tracing::warn!(
                max_connections = limits.max_connections,
                "closed a new connection: every connection is busy (forge.http.max_connections)"
            );
            continue;
        };
        // rmcp writes an answer's SSE stream in several small pieces; with Nagle's algorithm
        // each call would wait for the client's delayed ACK (about 40 ms).
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
        let task = Connection {
            table: Arc::clone(&table),
            id,
            conn,
            limits,
        };
        let (stop_rx, closed_tx) = (stop_rx.clone(), closed_tx.clone());
        let app = app.clone();
        tokio::spawn(async move {
            task.run(stream, app, stop_rx).await;
            drop(closed_tx);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(closed_rx);
    closed_tx.closed().await;
}

/// Out of descriptors, the connection idle the longest is closed to make room; any other
/// error is the one connection's, or passes.
async fn on_accept_error(table: &Table, error: &std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::ConnectionRefused
    ) {
        return;
    }
    tracing::warn!(%error, "cannot accept a connection; closing the one idle the longest");
    table.open().evict_idlest();
    tokio::time::sleep(Duration::from_millis(20)).await;
}

/// One connection's task.
struct Connection {
    table: Arc<Table>,
    id: u64,
    conn: Arc<Conn>,
    limits: ConnectionLimits,
}

impl Connection {
    async fn run(
        self,
        stream: TcpStream,
        app: Router,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let io = TokioIo::new(Watched {
            io: stream,
            conn: Arc::clone(&self.conn),
            table: Arc::clone(&self.table),
        });
        // `app` as hyper calls it: each request counted busy until its answer is sent, its
        // body bounded in time.
        let app = TowerToHyperService::new(app);
        let (conn, table, limit) = (
            Arc::clone(&self.conn),
            Arc::clone(&self.table),
            self.limits.request,
        );
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let busy = Busy::enter(&conn, &table);
            let request = request.map(|body| {
                Body::new(Deadline {
                    body,
                    until: tokio::time::Instant::now() + limit,
                    timer: None,
                })
            });
            let answer = hyper::service::Service::call(&app, request);
            async move {
                let response = answer.await?;
                Ok::<_, Infallible>(response.map(|body| super::holding(body, busy)))
            }
        });
        // No timer for hyper: `overdue` below keeps the head's and the idle time, and hyper's
        // own header timeout would cost a timer for every request.
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder.keep_alive(true);
        let mut connection = std::pin::pin!(builder.serve_connection(io, service));
        let mut check = tokio::time::interval(self.check_every());
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut stopping = false;
        loop {
            tokio::select! {
                served = connection.as_mut() => {
                    if let Err(error) = served {
                        tracing::debug!(%error, "connection ended");
                    }
                    break;
                }
                () = self.conn.evict.notified() => {
                    if self.conn.busy.load(Ordering::SeqCst) == 0 {
                        tracing::debug!("closed an idle connection to make room for a new one");
                        break;
                    }
                    // A request arrived since it was picked: it stays.
                    self.table.open().spare(&self.conn);
                }
                _ = check.tick() => {
                    if let Some(why) = self.overdue() {
                        tracing::debug!("closed a connection: {why}");
                        break;
                    }
                }
                changed = stop.changed(), if !stopping => {
                    stopping = true;
                    if changed.is_ok() {
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
        }
        self.table.open().remove(self.id);
    }

    /// How often the connection's times are looked at: a quarter of the shorter timeout, so
    /// that a connection is closed at most a quarter late.
    fn check_every(&self) -> Duration {
        (self.limits.header_read.min(self.limits.keep_alive) / 4).max(Duration::from_millis(50))
    }

    /// Why the connection should be closed now, if it should.
    fn overdue(&self) -> Option<&'static str> {
        let conn = &self.conn;
        if conn.busy.load(Ordering::SeqCst) > 0 {
            return None;
        }
        let now = self.table.now();
        let head = conn.head_since.load(Ordering::SeqCst);
        let elapsed = |since: u64| Duration::from_millis(now.saturating_sub(since));
        if head != NEVER {
            return (elapsed(head) > self.limits.header_read)
                .then_some("the request head took too long (forge.http.header_read_timeout)");
        }
        (elapsed(conn.idle_since.load(Ordering::SeqCst)) > self.limits.keep_alive)
            .then_some("idle too long (forge.http.keep_alive_timeout)")
    }
}

/// A request being answered on a connection; dropping it marks the connection idle when it
/// was the last.
struct Busy {
    conn: Arc<Conn>,
    table: Arc<Table>,
}

impl Busy {
    fn enter(conn: &Arc<Conn>, table: &Arc<Table>) -> Self {
        conn.busy.fetch_add(1, Ordering::SeqCst);
        conn.head_since.store(NEVER, Ordering::SeqCst);
        Self {
            conn: Arc::clone(conn),
            table: Arc::clone(table),
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.conn
            .idle_since
            .store(self.table.now(), Ordering::SeqCst);
        self.conn.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A request body that fails once its time is up, so that a body sent a byte at a time
/// cannot hold a connection and a request slot. Its timer is set only when the body keeps
/// it waiting: most bodies arrive with their head.
struct Deadline {
    body: Incoming,
    until: tokio::time::Instant,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// The error of a body that took too long.
#[derive(Debug)]
struct TooSlow;

impl std::fmt::Display for TooSlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body took too long (forge.http.request_timeout)")
    }
}

impl std::error::Error for TooSlow {}

impl HttpBody for Deadline {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let until = self.until;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(until)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(TooSlow)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// A socket that notes when the first byte of a request head arrives on an idle connection,
/// for the header-read timeout.
struct Watched {
    io: TcpStream,
    conn: Arc<Conn>,
    table: Arc<Table>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let read = Pin::new(&mut self.io).poll_read(cx, buf);
        let conn = &self.conn;
        if buf.filled().len() > before
            && conn.busy.load(Ordering::SeqCst) == 0
            && conn.head_since.load(Ordering::SeqCst) == NEVER
        {
            conn.head_since.store(self.table.now(), Ordering::SeqCst);
        }
        read
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
