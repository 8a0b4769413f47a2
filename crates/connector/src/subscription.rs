//! Subscriptions on the facade: subscribe to a published calendar, refresh it with a conditional GET,
//! unsubscribe. A subscription sends no credentials at all, never needs a relink and never raises a
//! notification; its events live in a read-only calendar like any other (see migration 5).

use std::collections::HashSet;
use std::time::Duration;

use caldav::{ConditionalGet, ConditionalResult, Url};
use serde::Serialize;

use crate::cache::SubscriptionRow;
use crate::clock::{self, now_rfc3339};
use crate::connector::{lock, Connector};
use crate::error::{Error, Result};
use crate::icloud::session::transport_error;
use crate::published::{feed_url, object_etag, object_href, split_feed, SplitFeed};
use crate::sync::{parse_object, ParsedObject};

/// Outcome of subscribing to or refreshing one subscription.
#[derive(Debug, Clone, Serialize)]
pub struct SubscriptionReport {
    /// The feed fetched.
    pub url: String,
    /// Name shown.
    pub name: String,
    /// Events now cached.
    pub events: u64,
    /// Objects stored because they are new or changed.
    pub fetched: usize,
    /// Objects removed because the feed no longer has them.
    pub deleted: usize,
    /// Objects newly quarantined.
    pub quarantined: usize,
    /// The server answered 304: nothing changed, nothing was written.
    pub unchanged: bool,
}

/// What the server answered, in words a person can act on.
fn status_error(url: &Url, status: u16) -> Error {
    match status {
        404 | 410 => Error::Protocol(format!(
            "the calendar at {url} is not shared any more (HTTP {status}): the person who \
             published it may have stopped sharing it, or the link is incomplete; nothing was changed"
        )),
        401 | 403 => Error::Protocol(format!(
            "{url} asks for a password (HTTP {status}), so it is not a public calendar; link the \
             account it belongs to instead"
        )),
        429 | 500..=599 => Error::Transient(format!(
            "the server of {url} had a problem (HTTP {status}); nothing was changed, the next \
             refresh tries again"
        )),
        _ => Error::Protocol(format!(
            "{url} answered HTTP {status} instead of a calendar; nothing was changed"
        )),
    }
}

/// One conditional GET of a feed, without credentials.
async fn fetch(
    url: &Url,
    etag: Option<&str>,
    last_modified: Option<&str>,
) -> Result<ConditionalResult> {
    let req = ConditionalGet {
        url: url.clone(),
        etag: etag.map(str::to_owned),
        last_modified: last_modified.map(str::to_owned),
    };
    let transport = Connector::transport()?;
    // No credentials: a published calendar is public, and nothing of an account may reach its host.
    let resp = transport
        .execute_with_headers(&req.request(), None, &req.headers())
        .await
        .map_err(|e| match e {
            // QUIRK(icloud §1.9): in March 2022 published links redirected in a loop for days.
            caldav::TransportError::TooManyRedirects => Error::Transient(format!(
                "{url} kept redirecting to another address without ever answering with the \
                 calendar; nothing was changed, the next refresh tries again. If it lasts, ask \
                 for the calendar's link again"
            )),
            e => match transport_error(e) {
                Error::Redirected(m) => Error::Protocol(format!(
                    "{m}. The calendar may have moved: ask for its new link and subscribe to \
                     that; nothing was changed"
                )),
                other => other,
            },
        })?;
    let result = req
        .parse(&resp)
        .map_err(|_| status_error(url, resp.status))?;
    if let ConditionalResult::Fetched {
        content_type: Some(ct),
        ..
    } = &result
    {
        if ct.to_ascii_lowercase().starts_with("text/html") {
            return Err(Error::Protocol(format!(
                "the link did not return a calendar ({url} sent a web page); nothing was changed. \
                 Check that the link is complete and still shared"
            )));
        }
    }
    Ok(result)
}

fn split(body: &[u8]) -> Result<SplitFeed> {
    split_feed(body).map_err(Error::Protocol)
}

fn due(last_refresh: Option<&str>, interval: Duration, now: i64) -> bool {
    due_at(last_refresh, interval) <= now
}

/// When a subscription refreshed at `last_refresh` is due again (never refreshed: now, i.e. 0).
fn due_at(last_refresh: Option<&str>, interval: Duration) -> i64 {
    let Some(at) = last_refresh.and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok()) else {
        return 0;
    };
    at.timestamp()
        .saturating_add(i64::try_from(interval.as_secs()).unwrap_or(i64::MAX))
}

impl Connector {
    /// Subscribes to a published calendar (`webcal://…`, `https://…/published/…` or any other `.ics`
    /// link): fetches it once without a password, and only when the answer is a calendar stores it
    /// as a read-only calendar. `name` replaces the feed's own name.
    pub async fn subscribe(&self, link: &str, name: Option<&str>) -> Result<SubscriptionReport> {
        let url = feed_url(link)?;
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        if let Some(s) = lock(&self.cache).subscription_by_url(url.as_str())? {
            return Err(Error::Usage(format!(
                "you are already subscribed to this calendar as \"{}\"",
                s.display_name
            )));
        }
        let ConditionalResult::Fetched {
            data,
            etag,
            last_modified,
            ..
        } = fetch(&url, None, None).await?
        else {
            return Err(Error::Protocol(format!(
                "{url} answered 304 Not Modified to a request that asked for the calendar; nothing \
                 was stored"
            )));
        };
        let feed = split(&data)?;
        let sub = lock(&self.cache).add_subscription(
            url.as_str(),
            name,
            feed.name.as_deref(),
            feed.color.as_deref(),
            &now_rfc3339(),
        )?;
        let report = self.store_feed(&sub, feed, etag, last_modified)?;
        self.write_subscriptions_file()?;
        Ok(report)
    }

    /// Removes a subscription (by its link or its name) with everything cached for it. Returns the
    /// name it had.
    pub fn unsubscribe(&self, which: &str) -> Result<String> {
        let which = which.trim();
        let c = lock(&self.cache);
        let all = c.subscriptions()?;
        let by_url = feed_url(which).ok();
        let found: Vec<&SubscriptionRow> = all
            .iter()
            .filter(|s| {
                by_url.as_ref().is_some_and(|u| u.as_str() == s.url)
                    || s.url == which
                    || s.display_name.eq_ignore_ascii_case(which)
            })
            .collect();
        match found.as_slice() {
            [one] => {
                c.delete_subscription(one)?;
                drop(c);
                self.write_subscriptions_file()?;
                Ok(one.display_name.clone())
            }
            [] => Err(Error::Usage(format!(
                "no subscription matches {which:?}; `status` lists them with their links"
            ))),
            many => Err(Error::Usage(format!(
                "{} subscriptions are called {which:?}; unsubscribe by link instead: {}",
                many.len(),
                many.iter()
                    .map(|s| s.url.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Shows or hides a subscription's calendar (by its link) in the views.
    pub fn set_subscription_hidden(&self, url: &str, hidden: bool) -> Result<()> {
        let c = lock(&self.cache);
        let s = c
            .subscription_by_url(url)?
            .ok_or_else(|| Error::Usage(format!("there is no subscription {url}")))?;
        c.set_hidden(s.calendar_id, hidden)?;
        Ok(())
    }

    /// Refreshes every subscription now. Returns the reports of those that answered and the errors of
    /// the others (all are attempted; a failure changes nothing cached).
    pub async fn refresh_subscriptions(&self) -> (Vec<SubscriptionReport>, Vec<Error>) {
        self.refresh_where(|_| true).await
    }

    /// Refreshes the subscriptions not refreshed for `interval` (the daemon calls this on every
    /// wake-up; a failed refresh also waits a whole interval).
    pub async fn refresh_due_subscriptions(
        &self,
        interval: Duration,
    ) -> (Vec<SubscriptionReport>, Vec<Error>) {
        let now = clock::now_secs();
        self.refresh_where(|s| due(s.last_refresh.as_deref(), interval, now))
            .await
    }

    /// When the next subscription is due (the daemon sleeps until then at the latest), if any.
    pub fn next_subscription_due(&self, interval: Duration) -> Result<Option<i64>> {
        Ok(lock(&self.cache)
            .subscriptions()?
            .iter()
            .map(|s| due_at(s.last_refresh.as_deref(), interval))
            .min())
    }

    async fn refresh_where(
        &self,
        pick: impl Fn(&SubscriptionRow) -> bool,
    ) -> (Vec<SubscriptionReport>, Vec<Error>) {
        let subs = match lock(&self.cache).subscriptions() {
            Ok(v) => v.into_iter().filter(|s| pick(s)).collect::<Vec<_>>(),
            Err(e) => return (vec![], vec![e.into()]),
        };
        let mut reports = Vec::new();
        let mut errors = Vec::new();
        for s in subs {
            match self.refresh_one(&s).await {
                Ok(r) => reports.push(r),
                Err(e) => {
                    tracing::warn!(subscription = %s.display_name, "refresh failed: {e}");
                    let named = Error::Protocol(format!("{}: {e}", s.display_name));
                    if let Err(db) = lock(&self.cache).record_subscription_error(
                        s.id,
                        &e.to_string(),
                        &now_rfc3339(),
                    ) {
                        errors.push(db.into());
                    }
                    errors.push(match e {
                        Error::Transient(m) => Error::Transient(format!("{}: {m}", s.display_name)),
                        Error::Unreachable(m) => {
                            Error::Unreachable(format!("{}: {m}", s.display_name))
                        }
                        _ => named,
                    });
                }
            }
        }
        (reports, errors)
    }

    async fn refresh_one(&self, s: &SubscriptionRow) -> Result<SubscriptionReport> {
        let url = Url::parse(&s.url)
            .map_err(|e| Error::Internal(format!("stored subscription link {}: {e}", s.url)))?;
        match fetch(&url, s.etag.as_deref(), s.last_modified.as_deref()).await? {
            ConditionalResult::NotModified => {
                let c = lock(&self.cache);
                c.record_subscription_success(s, None, None, None, &now_rfc3339())?;
                Ok(SubscriptionReport {
                    url: s.url.clone(),
                    name: s.display_name.clone(),
                    events: c.event_count(s.calendar_id)?,
                    fetched: 0,
                    deleted: 0,
                    quarantined: 0,
                    unchanged: true,
                })
            }
            ConditionalResult::Fetched {
                data,
                etag,
                last_modified,
                ..
            } => {
                let feed = split(&data)?;
                self.store_feed(s, feed, etag, last_modified)
            }
        }
    }

    /// Stores a complete, good feed: new and changed objects (a bad one quarantined, never stopping
    /// the rest), then removes what the feed no longer has, then the validators.
    fn store_feed(
        &self,
        s: &SubscriptionRow,
        feed: SplitFeed,
        etag: Option<String>,
        last_modified: Option<String>,
    ) -> Result<SubscriptionReport> {
        let now = now_rfc3339();
        let mut c = lock(&self.cache);
        let stored = c.object_etags(s.calendar_id)?;
        let held = c.quarantine_etags(s.calendar_id)?;
        let mut seen = HashSet::new();
        let mut objects = Vec::new();
        let mut quarantined = Vec::new();
        for (uid, raw) in feed.objects {
            let href = object_href(&uid);
            let tag = object_etag(&raw);
            seen.insert(href.clone());
            let same = |m: &std::collections::HashMap<String, Option<String>>| {
                m.get(&href)
                    .is_some_and(|e| e.as_deref() == Some(tag.as_str()))
            };
            if same(&stored) || same(&held) {
                continue;
            }
            match parse_object(href, Some(tag), raw, "") {
                ParsedObject::Stored(o) => objects.push(o),
                ParsedObject::Quarantined(q) => quarantined.push(q),
            }
        }
        let fetched = objects.len();
        let fresh = c.apply_batch(s.calendar_id, &objects, &quarantined, &now)?;
        for q in &fresh {
            tracing::warn!(subscription = %s.display_name, href = %q.href, "quarantined: {}", q.error);
        }
        let gone: Vec<String> = stored
            .keys()
            .chain(held.keys())
            .filter(|h| !seen.contains(*h))
            .cloned()
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        c.finish_pass(s.calendar_id, &gone, None, etag.as_deref(), &now)?;
        c.record_subscription_success(
            s,
            Some((etag.as_deref(), last_modified.as_deref())),
            feed.name.as_deref(),
            feed.color.as_deref(),
            &now,
        )?;
        let name = c
            .subscription_by_url(&s.url)?
            .map_or_else(|| s.display_name.clone(), |r| r.display_name);
        Ok(SubscriptionReport {
            url: s.url.clone(),
            name,
            events: c.event_count(s.calendar_id)?,
            fetched,
            deleted: gone.len(),
            quarantined: fresh.len(),
            unchanged: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscription_is_due_after_one_interval() {
        let i = Duration::from_secs(900);
        assert!(due(None, i, 0));
        assert!(due(Some("garbage"), i, 0));
        let at = "2026-01-01T00:00:00Z";
        let t = chrono::DateTime::parse_from_rfc3339(at)
            .unwrap()
            .timestamp();
        assert!(!due(Some(at), i, t + 899));
        assert!(due(Some(at), i, t + 900));
    }
}
