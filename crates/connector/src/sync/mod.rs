//! Sync: for each calendar, list (sync-collection with the stored token; on any failure of the
//! token-carrying request one token-less listing, §3.2; servers without sync-collection get a ctag
//! check and a Depth-1 etag listing), plan, fetch with calendar-multiget in batches with several in
//! flight, parse, and commit one SQLite transaction per batch. The token is stored only after a
//! complete pass.

pub mod plan;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use caldav::{
    CalendarInfo, CalendarMultiget, DavRequest, Get, ItemRef, ListEtags, SyncCollection, Url,
};
use futures_util::stream::{self, StreamExt};

use crate::cache::{Cache, CalendarRow, QuarantinedObject, StoredObject};
use crate::calendar;
use crate::error::{Error, Result};
use crate::icloud::classify::{Classification, Expect};
use crate::icloud::session::{self, dav_error, Session};
use plan::{Listing, Plan};

/// Hrefs per calendar-multiget on Apple's servers: iCloud clients batch 10–50 (§3.3); a few hundred
/// keeps the request count low and every answer small.
pub const BATCH: usize = 200;
/// Hrefs per calendar-multiget on other servers. Stock Radicale refuses a REPORT with more than 10,000
/// VEVENTs and one server was seen capping a multiget at 1,000 (§3.3); Radicale's cost per REPORT is
/// high, so fewer, larger batches halve its work (bench/RESULTS.md).
pub const BATCH_OTHER: usize = 500;

/// Multiget batches in flight for this session's server.
pub fn in_flight(session: &Session) -> usize {
    if session.server_is_apple() {
        IN_FLIGHT
    } else {
        IN_FLIGHT_OTHER
    }
}

/// The multiget batch size for this session's server.
pub fn batch_size(session: &Session) -> usize {
    if session.server_is_apple() {
        BATCH
    } else {
        BATCH_OTHER
    }
}
/// Multiget batches in flight per calendar on Apple's servers: hides the round trips to a far
/// data centre.
pub const IN_FLIGHT: usize = 4;
/// Multiget batches in flight on other servers: one. A self-hosted server is the bottleneck, not the
/// round trip; on stock Radicale (10,000 events, 500-href batches) one at a time was both faster
/// (5.2 s against 5.8 s) and cheaper for the server (4.8 s of its CPU against 6.2 s) than four.
pub const IN_FLIGHT_OTHER: usize = 1;

/// Progress of a sync, for a progress bar or the UI.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Progress {
    /// A calendar's pass starts; `to_fetch` objects will be downloaded.
    CalendarStarted {
        /// Calendar name.
        calendar: String,
        /// Objects to download.
        to_fetch: usize,
    },
    /// Objects downloaded so far in this calendar.
    Fetched {
        /// Calendar name.
        calendar: String,
        /// Done.
        done: usize,
        /// Total.
        total: usize,
    },
    /// A calendar's pass ended.
    CalendarDone {
        /// Calendar name.
        calendar: String,
        /// Outcome.
        report: CalendarReport,
    },
}

/// Callback receiving progress.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// Outcome of one calendar's pass.
#[derive(Debug, Clone, Default, serde::Serialize, PartialEq)]
pub struct CalendarReport {
    /// Objects downloaded and stored.
    pub fetched: usize,
    /// Objects removed from the cache.
    pub deleted: usize,
    /// Objects newly quarantined.
    pub quarantined: usize,
    /// Listed objects that did not come back (retried next pass, never deleted — §3.3).
    pub missing: usize,
    /// Whether the pass used a full listing.
    pub full_listing: bool,
    /// Whether nothing had changed (ctag/token unchanged).
    pub unchanged: bool,
}

use crate::clock::now_rfc3339;

fn lock(cache: &Mutex<Cache>) -> std::sync::MutexGuard<'_, Cache> {
    // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll back), so a
    // poisoned lock is safe to keep using.
    cache.lock().unwrap_or_else(|p| p.into_inner())
}

fn is_account_level(e: &Error) -> bool {
    matches!(
        e,
        Error::Rejected { .. }
            | Error::NeedsRelink { .. }
            | Error::Unreachable(_)
            | Error::Throttled { .. }
            | Error::Redirected(_)
    )
}

/// Listed members whose href was not valid UTF-8 (their lossily decoded paths): they cannot be
/// fetched, so they are quarantined with that reason instead of being asked for on every sync.
type Unreadable = HashSet<String>;

/// href → etag of listed items, and the paths of those whose href was not valid UTF-8.
fn listed_items(items: Vec<ItemRef>) -> (HashMap<String, Option<String>>, Unreadable) {
    let mut unreadable = Unreadable::new();
    let map = items
        .into_iter()
        .map(|i| {
            let path = i.url.path().to_owned();
            if i.invalid_utf8 {
                unreadable.insert(path.clone());
            }
            (path, i.etag)
        })
        .collect();
    (map, unreadable)
}

async fn listing_full(
    session: &Session,
    url: &Url,
    mode: &str,
) -> Result<(Listing, Option<String>, Unreadable)> {
    if mode == "etag-listing" {
        let req = ListEtags { url: url.clone() };
        let items = session
            .run(&req, Expect::Multistatus, "the etag listing")
            .await?;
        let (map, unreadable) = listed_items(items);
        return Ok((Listing::Full(map), None, unreadable));
    }
    let req = SyncCollection {
        url: url.clone(),
        token: None,
    };
    let (class, r) = session
        .send_allowing(&req.request(), Expect::Multistatus)
        .await?;
    match class {
        Classification::Ok => {}
        // A server without RFC 6578 refuses the REPORT itself; only that switches to etag listings.
        Classification::Forbidden | Classification::Other { .. } => {
            return Err(Error::Unsupported(format!(
                "sync-collection is not supported on {} (HTTP {})",
                url.path(),
                r.status
            )))
        }
        other => return Err(session::status_error(&other, &r)),
    }
    let res = req.parse(&r).map_err(|e| dav_error(e, "sync-collection"))?;
    if res.incomplete {
        return Err(Error::Protocol(format!(
            "the server truncated the listing of {} (507); it will be completed next sync",
            url.path()
        )));
    }
    let (map, unreadable) = listed_items(res.changed);
    Ok((Listing::Full(map), res.token, unreadable))
}

/// Lists a calendar, following the fallback rules. Returns the listing, the new token, the mode
/// that worked, and the members whose href was not valid UTF-8.
async fn list(
    session: &Session,
    cal: &CalendarRow,
    url: &Url,
) -> Result<(Listing, Option<String>, String, Unreadable)> {
    if cal.sync_mode == "sync-collection" {
        if let Some(tok) = &cal.sync_token {
            let req = SyncCollection {
                url: url.clone(),
                token: Some(tok.clone()),
            };
            let attempt = session
                .run(&req, Expect::Multistatus, "sync-collection")
                .await;
            match attempt {
                Ok(res) if !res.incomplete => {
                    let (changed, unreadable) = listed_items(res.changed);
                    let deleted: BTreeSet<String> =
                        res.deleted.iter().map(|u| u.path().to_owned()).collect();
                    return Ok((
                        Listing::Incremental { changed, deleted },
                        res.token,
                        cal.sync_mode.clone(),
                        unreadable,
                    ));
                }
                Ok(_) => {}
                Err(e) if is_account_level(&e) => return Err(e),
                // QUIRK(icloud §3.2): an expired token may be 403/409/410/412 with or without
                // valid-sync-token; any failure of the token-carrying request → one token-less pass.
                Err(e) => {
                    tracing::info!(calendar = %cal.path, "sync token refused ({e}); listing everything once")
                }
            }
        }
        match listing_full(session, url, "sync-collection").await {
            Ok((l, t, u)) => return Ok((l, t, "sync-collection".into(), u)),
            Err(e) if is_account_level(&e) => return Err(e),
            Err(Error::Unsupported(m)) => {
                tracing::info!(calendar = %cal.path, "{m}; using etag listings");
            }
            Err(e) => return Err(e),
        }
    }
    let (l, _, u) = listing_full(session, url, "etag-listing").await?;
    Ok((l, None, "etag-listing".into(), u))
}

struct Fetched {
    objects: Vec<StoredObject>,
    quarantined: Vec<QuarantinedObject>,
    missing: usize,
}

/// Why a listed member with a non-UTF-8 href is quarantined.
const UNREADABLE_HREF: &str =
    "the server lists this event under an address that is not valid UTF-8, \
so it cannot be asked for; it is skipped until the server lists it differently";
/// Why an object the server delivered empty is quarantined.
const DELIVERED_EMPTY: &str = "the server listed this event but delivered it empty (no calendar \
data); it is fetched again when the server changes it";

/// One object as the server delivered it: parsed, or quarantined with the specific reason.
pub(crate) fn parse_object(
    href: String,
    etag: Option<String>,
    raw: Vec<u8>,
    note: &str,
) -> ParsedObject {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return ParsedObject::Quarantined(QuarantinedObject {
            href,
            etag,
            error: DELIVERED_EMPTY.to_owned(),
            raw,
        });
    }
    match calendar::summarize(&raw) {
        Ok(summary) => ParsedObject::Stored(StoredObject {
            href,
            etag,
            raw,
            summary,
        }),
        Err(e) => ParsedObject::Quarantined(QuarantinedObject {
            href,
            etag,
            error: format!("{note}{e}"),
            raw,
        }),
    }
}

pub(crate) enum ParsedObject {
    Stored(StoredObject),
    Quarantined(QuarantinedObject),
}

/// GETs one object whose multiget data was not valid UTF-8, for its exact bytes (the parser decodes
/// them lossily, as it does any bytes). A failure other than an account-level one quarantines it.
async fn fetch_exact(
    session: &Session,
    url: &Url,
    href: &str,
) -> Result<Option<(Vec<u8>, Option<String>)>> {
    let Ok(item) = url.join(href) else {
        return Ok(None);
    };
    let req = Get { url: item };
    match session.send_allowing(&req.request(), Expect::Object).await {
        Ok((Classification::Ok, r)) => Ok(req.parse(&r).ok().map(|g| (g.data, g.etag))),
        Ok(_) => Ok(None),
        Err(e) if is_account_level(&e) => Err(e),
        Err(_) => Ok(None),
    }
}

async fn fetch_batch(
    session: &Session,
    url: &Url,
    hrefs: &[String],
    listed: &HashMap<String, Option<String>>,
    unreadable: &Unreadable,
) -> Result<Fetched> {
    // Members listed under a non-UTF-8 href are quarantined without a request: no URL reaches them.
    let mut quarantined: Vec<QuarantinedObject> = hrefs
        .iter()
        .filter(|h| unreadable.contains(*h))
        .map(|h| QuarantinedObject {
            href: h.clone(),
            etag: listed.get(h).cloned().flatten(),
            error: UNREADABLE_HREF.to_owned(),
            raw: Vec::new(),
        })
        .collect();
    let urls: Vec<Url> = hrefs
        .iter()
        .filter(|h| !unreadable.contains(*h))
        .filter_map(|h| url.join(h).ok())
        .collect();
    if urls.is_empty() {
        return Ok(Fetched {
            objects: Vec::new(),
            quarantined,
            missing: 0,
        });
    }
    let req = CalendarMultiget {
        url: url.clone(),
        hrefs: urls,
    };
    let (class, r) = session
        .send_allowing(&req.request(), Expect::Multistatus)
        .await?;
    if class != Classification::Ok {
        return Err(session::status_error(&class, &r));
    }
    let items = req
        .parse(&r)
        .map_err(|e| dav_error(e, "calendar-multiget"))?;
    let missing = req.missing(&items).len();
    // Data that was not valid UTF-8 inside the XML: the exact bytes come from a GET of that object.
    let mut delivered = Vec::with_capacity(items.len());
    for it in items {
        let Some(data) = it.data else { continue };
        if it.status != 200 {
            continue;
        }
        let href = it.url.path().to_owned();
        if it.invalid_utf8 {
            let note = "the server sent bytes that are not valid UTF-8 (read with U+FFFD in their \
                        place), and then: ";
            match fetch_exact(session, url, &href).await? {
                Some((bytes, etag)) => delivered.push((href, etag.or(it.etag), bytes, note)),
                None => delivered.push((href, it.etag, data, note)),
            }
        } else {
            delivered.push((href, it.etag, data, ""));
        }
    }
    let parsed = tokio::task::spawn_blocking(move || {
        let mut objects = Vec::new();
        let mut quarantined = Vec::new();
        for (href, etag, data, note) in delivered {
            match parse_object(href, etag, data, note) {
                ParsedObject::Stored(o) => objects.push(o),
                ParsedObject::Quarantined(q) => quarantined.push(q),
            }
        }
        (objects, quarantined)
    })
    .await
    .map_err(|e| Error::Protocol(format!("parser task failed: {e}")))?;
    let (mut objects, parsed_quarantined) = parsed;
    quarantined.extend(parsed_quarantined);
    // A multiget answer without an etag: keep the listing's, so the next pass can compare.
    for o in &mut objects {
        if o.etag.is_none() {
            o.etag = listed.get(&o.href).cloned().flatten();
        }
    }
    for q in &mut quarantined {
        if q.etag.is_none() {
            q.etag = listed.get(&q.href).cloned().flatten();
        }
    }
    Ok(Fetched {
        objects,
        quarantined,
        missing,
    })
}

/// Syncs one calendar. `info` is what the calendar list just said about it.
pub async fn sync_calendar(
    session: &Session,
    cache: &Mutex<Cache>,
    cal: &CalendarRow,
    info: &CalendarInfo,
    progress: &ProgressFn,
) -> Result<CalendarReport> {
    let name = cal.name();
    let url = info.url.clone();
    // Nothing changed since the last complete pass: ctag and token as stored.
    if cal.ctag.is_some()
        && cal.ctag == info.ctag
        && (info.sync_token.is_none()
            || info.sync_token == cal.sync_token
            || cal.sync_mode != "sync-collection")
    {
        let report = CalendarReport {
            unchanged: true,
            ..Default::default()
        };
        progress(Progress::CalendarDone {
            calendar: name,
            report: report.clone(),
        });
        return Ok(report);
    }
    let (listing, token, mode, unreadable) = list(session, cal, &url).await?;
    if mode != cal.sync_mode {
        lock(cache).set_sync_mode(cal.id, &mode)?;
    }
    let (cached, quarantined) = {
        let c = lock(cache);
        (c.object_etags(cal.id)?, c.quarantine_etags(cal.id)?)
    };
    let mut plan = Plan::build(&listing, &cached, &quarantined);
    let full = matches!(listing, Listing::Full(_));
    if plan.is_mass_deletion(cached.len()) {
        // Rule 3: a second, independent listing must agree before more than half goes.
        let (second, _, _) = listing_full(session, &url, &mode).await?;
        let again = Plan::build(&second, &cached, &quarantined);
        if again.delete != plan.delete {
            return Err(Error::Protocol(format!(
                "the server's listings of {name} disagree ({} vs {} deletions); nothing was deleted",
                plan.delete.len(),
                again.delete.len()
            )));
        }
        plan = again;
    }
    // Moved, not copied: at 50,000 members every copy of the listing costs megabytes.
    let listed: HashMap<String, Option<String>> = match listing {
        Listing::Full(m) => m,
        Listing::Incremental { changed, .. } => changed,
    };
    let total = plan.fetch.len();
    progress(Progress::CalendarStarted {
        calendar: name.clone(),
        to_fetch: total,
    });
    let mut report = CalendarReport {
        full_listing: full,
        ..Default::default()
    };
    // Index ranges, not copies of the hrefs; the futures borrow `plan.fetch`.
    let n = batch_size(session);
    let batches: Vec<std::ops::Range<usize>> = (0..plan.fetch.len())
        .step_by(n)
        .map(|i| i..(i + n).min(plan.fetch.len()))
        .collect();
    let listed_ref = &listed;
    let unreadable_ref = &unreadable;
    let url_ref = &url;
    let fetch = &plan.fetch;
    let mut results = stream::iter(batches)
        .map(move |r| fetch_batch(session, url_ref, &fetch[r], listed_ref, unreadable_ref))
        .buffer_unordered(in_flight(session));
    let mut first_error = None;
    while let Some(res) = results.next().await {
        match res {
            Ok(f) => {
                report.missing += f.missing;
                let now = now_rfc3339();
                let fresh = lock(cache).apply_batch(cal.id, &f.objects, &f.quarantined, &now)?;
                for q in &fresh {
                    // Rule 4: logged once per (href, etag).
                    tracing::warn!(calendar = %name, href = %q.href, etag = q.etag.as_deref().unwrap_or("-"), error = %q.error, "quarantined an event that cannot be understood");
                }
                report.quarantined += fresh.len();
                report.fetched += f.objects.len() + f.quarantined.len();
                progress(Progress::Fetched {
                    calendar: name.clone(),
                    done: report.fetched + report.missing,
                    total,
                });
            }
            Err(e) => {
                if is_account_level(&e) {
                    return Err(e);
                }
                // Keep the batches already committed; the pass is incomplete, so no token is stored.
                first_error.get_or_insert(e);
            }
        }
    }
    drop(results);
    if let Some(e) = first_error {
        return Err(e);
    }
    if report.missing > 0 {
        tracing::info!(calendar = %name, missing = report.missing, "some listed objects did not come back; they are fetched next sync");
    }
    let complete = report.missing == 0;
    let now = now_rfc3339();
    lock(cache).finish_pass(
        cal.id,
        &plan.delete,
        if complete {
            token.as_deref()
        } else {
            cal.sync_token.as_deref()
        },
        if complete {
            info.ctag.as_deref()
        } else {
            cal.ctag.as_deref()
        },
        &now,
    )?;
    report.deleted = plan.delete.len();
    progress(Progress::CalendarDone {
        calendar: name,
        report: report.clone(),
    });
    Ok(report)
}
