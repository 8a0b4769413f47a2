//! An iCloud-faithful CalDAV server on loopback, for tests and the app's demo mode.
//!
//! It speaks what `docs/icloud.md` (§1–§3) records about iCloud on the wire: discovery across a front and a
//! partition host, Apple's 401, sync-collection with the collection among its results, multiget with
//! per-item 404s, '@' hrefs served as `%40`, and data that trips parsers. [`Scenario`]s switch on the
//! failures a client must survive — with the `testing` feature only, which also brings the HTTP
//! control API under `/__sim/` that the `icloud-sim` binary serves. Without it (the app's demo) the
//! server answers like iCloud on a good day, and a revocation changes the password. Start one with
//! [`Sim::start`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod config;
#[cfg(feature = "testing")]
mod control;
mod dav;
#[cfg(feature = "testing")]
mod fault;
mod generate;
mod http;
mod scenario;
mod store;
mod xml;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

pub use config::{CalendarSpec, Component, SimConfig};
pub use scenario::{RequestKind, Scenario, Stats};
pub use xml::name_with_raw_bytes;

use dav::{Host, Shared};
#[cfg(feature = "testing")]
use scenario::Armed;

/// A running simulator. Cheap to clone; every clone drives the same server.
#[derive(Clone)]
pub struct Sim {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    front: SocketAddr,
    partition: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("front", &self.inner.front)
            .field("partition", &self.inner.partition)
            .finish()
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    host: Host,
    mut stop: watch::Receiver<bool>,
) {
    // Connections live in this set, so they end with the loop.
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let shared = shared.clone();
                let open = ConnectionCount::new(&shared);
                conns.spawn(async move {
                    let _open = open;
                    http::serve(stream, |req| {
                        #[cfg(feature = "testing")]
                        if host == Host::Front && req.raw_path().starts_with("/__sim/") {
                            return control::handle(&shared, req);
                        }
                        dav::handle(&shared, host, req)
                    })
                    .await;
                });
                while conns.try_join_next().is_some() {}
            }
            _ = stop.changed() => break,
        }
    }
}

/// Counts a connection in [`Shared::open_connections`] until dropped (the connection's task ended
/// or was aborted).
struct ConnectionCount(Arc<Shared>);

impl ConnectionCount {
    fn new(shared: &Arc<Shared>) -> Self {
        shared.open_connections.fetch_add(1, Ordering::SeqCst);
        ConnectionCount(shared.clone())
    }
}

impl Drop for ConnectionCount {
    fn drop(&mut self) {
        self.0.open_connections.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Sim {
    /// Generates (or loads) the calendars and binds both listeners on 127.0.0.1.
    pub async fn start(cfg: SimConfig) -> anyhow::Result<Sim> {
        let front_listener = TcpListener::bind(("127.0.0.1", cfg.front_port)).await?;
        let partition_listener = TcpListener::bind(("127.0.0.1", cfg.partition_port)).await?;
        let front = front_listener.local_addr()?;
        let partition = partition_listener.local_addr()?;
        let partition_url = format!("http://{partition}/");
        let published = cfg.published.clone();
        let store = {
            let cfg = cfg.clone();
            tokio::task::spawn_blocking(move || store::Store::new(&cfg)).await??
        };
        let shared = Arc::new(Shared::new(
            store,
            cfg.apple_id,
            cfg.password,
            cfg.seed,
            partition_url,
        ));
        {
            let mut st = shared.lock();
            for (token, ics) in published {
                st.published.insert(token, dav::Published::new(ics));
            }
        }
        let (stop, rx) = watch::channel(false);
        let tasks = vec![
            tokio::spawn(accept_loop(
                front_listener,
                shared.clone(),
                Host::Front,
                rx.clone(),
            )),
            tokio::spawn(accept_loop(
                partition_listener,
                shared.clone(),
                Host::Partition,
                rx,
            )),
        ];
        Ok(Sim {
            inner: Arc::new(Inner {
                shared,
                front,
                partition,
                stop,
                tasks: Mutex::new(tasks),
            }),
        })
    }

    /// `http://127.0.0.1:P1/`, the stand-in for `https://caldav.icloud.com/`.
    pub fn front_url(&self) -> String {
        format!("http://{}/", self.inner.front)
    }

    /// `http://127.0.0.1:P2/`, the stand-in for `https://pNN-caldav.icloud.com/`.
    pub fn partition_url(&self) -> String {
        format!("http://{}/", self.inner.partition)
    }

    #[cfg(feature = "testing")]
    /// Applies `s` to every following DAV request on both hosts.
    pub fn set_scenario(&self, s: Scenario) {
        self.inner.shared.lock().armed = Armed::new(s);
    }

    #[cfg(feature = "testing")]
    /// Lets `after_requests` more DAV requests through normally, then applies `s`.
    pub fn set_scenario_after(&self, s: Scenario, after_requests: u64) {
        self.inner.shared.lock().armed = Armed {
            scenario: s,
            only: None,
            skip: after_requests,
        };
    }

    #[cfg(feature = "testing")]
    /// Applies `s` only to requests of `kind`, after `after_matching` of them went through normally
    /// (e.g. a 500 on the 5th multiget: `ServerError { status: 500 }, Multiget, 4`).
    pub fn set_scenario_for(&self, s: Scenario, kind: RequestKind, after_matching: u64) {
        self.inner.shared.lock().armed = Armed {
            scenario: s,
            only: Some(kind),
            skip: after_matching,
        };
    }

    #[cfg(feature = "testing")]
    /// The scenario last set (it may still be waiting for its turn).
    pub fn scenario(&self) -> Scenario {
        self.inner.shared.lock().armed.scenario.clone()
    }

    /// The link of the calendar published under `token` (whether or not one is), as a `webcal://`
    /// link on the partition host, the way iCloud hands it out (QUIRK(icloud §1.9)).
    pub fn published_link(&self, token: &str) -> String {
        format!("webcal://{}/published/2/{token}", self.inner.partition)
    }

    #[cfg(feature = "testing")]
    /// Publishes `ics` (one whole VCALENDAR) under `token`, replacing what was there (a new etag
    /// when the bytes differ); returns its `webcal://` link.
    pub fn publish(&self, token: &str, ics: Vec<u8>) -> String {
        let mut st = self.inner.shared.lock();
        let keep = st.published.get(token).filter(|p| p.ics == ics).cloned();
        let p = keep.unwrap_or_else(|| dav::Published::new(ics));
        st.published.insert(token.to_owned(), p);
        self.published_link(token)
    }

    #[cfg(feature = "testing")]
    /// Makes `token`'s link answer `301 Moved Permanently` to `location` (QUIRK(icloud §1.9): a
    /// published link moved to another partition host, or, pointed at itself, a redirect loop);
    /// returns its `webcal://` link.
    pub fn publish_moved(&self, token: &str, location: &str) -> String {
        let p = dav::Published::moved(location.to_owned());
        self.inner
            .shared
            .lock()
            .published
            .insert(token.to_owned(), p);
        self.published_link(token)
    }

    #[cfg(feature = "testing")]
    /// Stops publishing `token` (its link then answers 404); false when nothing was published.
    pub fn unpublish(&self, token: &str) -> bool {
        self.inner.shared.lock().published.remove(token).is_some()
    }

    /// Changes the accepted password, as when Apple revokes an app-specific password (§2.3).
    pub fn set_password(&self, pw: &str) {
        self.inner.shared.lock().password = pw.to_owned();
    }

    /// Counters since start or the last [`Sim::reset_stats`].
    pub fn stats(&self) -> Stats {
        self.inner.shared.lock().stats.clone()
    }

    /// Waits until every client connection has closed, so a request a killed client had already
    /// sent is served and counted before the caller reads or resets [`Sim::stats`]. False when
    /// connections are still open after `limit`.
    pub async fn settle(&self, limit: std::time::Duration) -> bool {
        let until = tokio::time::Instant::now() + limit;
        while self.inner.shared.open_connections.load(Ordering::SeqCst) > 0 {
            if tokio::time::Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        true
    }

    /// Zeroes the counters.
    pub fn reset_stats(&self) {
        self.inner.shared.lock().stats = Stats::default();
    }

    fn with_calendar<T: Default>(
        &self,
        slug: &str,
        f: impl FnOnce(&mut store::Store, usize) -> T,
    ) -> T {
        let mut st = self.inner.shared.lock();
        match st.store.calendar_index(slug) {
            Some(cal) => f(&mut st.store, cal),
            None => T::default(),
        }
    }

    fn plain(store: &store::Store, cal: usize, names: Vec<String>) -> Vec<String> {
        names.iter().map(|n| store.plain_href(cal, n)).collect()
    }

    /// Generates `n` new objects; returns their hrefs ('@' unescaped, as [`Sim::objects`] gives them).
    pub fn add_events(&self, calendar_slug: &str, n: usize) -> Vec<String> {
        self.with_calendar(calendar_slug, |s, c| {
            let names = s.add(c, n);
            Self::plain(s, c, names)
        })
    }

    /// Changes the SUMMARY (and so the etag) of the first `n` objects in href order; returns their hrefs.
    pub fn modify_events(&self, calendar_slug: &str, n: usize) -> Vec<String> {
        self.with_calendar(calendar_slug, |s, c| {
            let names = s.modify(c, n);
            Self::plain(s, c, names)
        })
    }

    /// Deletes the first `n` objects in href order; returns their hrefs.
    pub fn delete_events(&self, calendar_slug: &str, n: usize) -> Vec<String> {
        self.with_calendar(calendar_slug, |s, c| {
            let names = s.delete(c, n);
            Self::plain(s, c, names)
        })
    }

    /// Stores `ics` as `<calendar>/<name>` (replacing any object of that name); returns its href, or an
    /// empty string when the calendar does not exist.
    pub fn put_object(&self, calendar_slug: &str, name: &str, ics: Vec<u8>) -> String {
        self.with_calendar(calendar_slug, |s, c| {
            s.put(c, name, ics);
            s.plain_href(c, name)
        })
    }

    /// Deletes the object at `href` (either '@' or `%40` form); false when there was none.
    pub fn delete_object(&self, href: &str) -> bool {
        let path = percent_encoding::percent_decode_str(href)
            .decode_utf8_lossy()
            .into_owned();
        let mut st = self.inner.shared.lock();
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let [_, "calendars", slug, name] = segs.as_slice() else {
            return false;
        };
        match st.store.calendar_index(slug) {
            Some(cal) => st.store.remove(cal, name),
            None => false,
        }
    }

    /// What the server serves for a calendar: (href with '@' unescaped, etag, bytes), in href order.
    pub fn objects(&self, calendar_slug: &str) -> Vec<(String, String, Vec<u8>)> {
        let st = self.inner.shared.lock();
        let Some(cal) = st.store.calendar_index(calendar_slug) else {
            return Vec::new();
        };
        st.store.calendars[cal]
            .objects
            .iter()
            .map(|(name, o)| {
                (
                    st.store.plain_href(cal, name),
                    o.etag.clone(),
                    o.data.as_ref().clone(),
                )
            })
            .collect()
    }

    /// Invalidates every sync token issued so far (§3.2).
    pub fn expire_sync_tokens(&self) {
        self.inner.shared.lock().store.expire_tokens();
    }

    /// Stops both listeners and drops every open connection.
    pub async fn shutdown(self) {
        let _ = self.inner.stop.send(true);
        let tasks =
            std::mem::take(&mut *self.inner.tasks.lock().unwrap_or_else(|e| e.into_inner()));
        for t in tasks {
            let _ = t.await;
        }
    }
}
