//! Subscriptions to published calendars (schema 5): the feed's URL and HTTP validators, the outcome of
//! the last refresh, and the read-only calendar row that holds the events (owned by the hidden
//! pseudo-account; see the comment on migration 5).

use rusqlite::{params, OptionalExtension};

use super::{Cache, CacheError, CalendarMeta};

/// One subscription as stored, with its calendar's name, colour and visibility.
#[derive(Debug, Clone)]
pub struct SubscriptionRow {
    /// Row id.
    pub id: i64,
    /// The calendar row holding the events.
    pub calendar_id: i64,
    /// The feed as fetched (`https://…`, or `http://` on loopback).
    pub url: String,
    /// The name the person gave, which wins over the feed's `X-WR-CALNAME`.
    pub name: Option<String>,
    /// Name shown: the person's, else the feed's, else the URL's last segment.
    pub display_name: String,
    /// `#RRGGBB` or `#RRGGBBAA` from the feed's `X-APPLE-CALENDAR-COLOR`.
    pub color: Option<String>,
    /// Hidden by the person.
    pub hidden: bool,
    /// `ETag` of the last answer stored.
    pub etag: Option<String>,
    /// `Last-Modified` of the last answer stored.
    pub last_modified: Option<String>,
    /// RFC 3339 time of the last refresh attempt.
    pub last_refresh: Option<String>,
    /// RFC 3339 time of the last refresh that got a good answer (200 or 304).
    pub last_success: Option<String>,
    /// What went wrong last time, None after a success.
    pub last_error: Option<String>,
}

/// Apple ID of the pseudo-account owning the subscriptions' calendars: empty, which `link` refuses.
const PSEUDO_APPLE_ID: &str = "";

impl Cache {
    /// The pseudo-account owning the subscriptions' calendars, created on first use.
    fn subscriptions_account(&self) -> Result<i64, CacheError> {
        self.conn.execute(
            "INSERT INTO accounts (apple_id, server_url, keyring_service, linked_at, kind)
             VALUES (?1, '', '', '', 'subscriptions') ON CONFLICT(apple_id) DO NOTHING",
            [PSEUDO_APPLE_ID],
        )?;
        Ok(self.conn.query_row(
            "SELECT id FROM accounts WHERE apple_id = ?1 AND kind = 'subscriptions'",
            [PSEUDO_APPLE_ID],
            |r| r.get(0),
        )?)
    }

    /// Adds a subscription and its read-only calendar; returns the subscription.
    pub fn add_subscription(
        &self,
        url: &str,
        name: Option<&str>,
        feed_name: Option<&str>,
        color: Option<&str>,
        now: &str,
    ) -> Result<SubscriptionRow, CacheError> {
        let account = self.subscriptions_account()?;
        let calendar_id = self.upsert_calendar(
            account,
            &CalendarMeta {
                path: url.to_owned(),
                url: url.to_owned(),
                display_name: name.or(feed_name).map(str::to_owned),
                color: color.map(str::to_owned),
                read_only: true,
                sort_order: None,
            },
        )?;
        self.conn.execute(
            "INSERT INTO subscriptions (calendar_id, url, name, added_at) VALUES (?1, ?2, ?3, ?4)",
            params![calendar_id, url, name, now],
        )?;
        self.subscription_by_url(url)?
            .ok_or(CacheError::Sqlite(rusqlite::Error::QueryReturnedNoRows))
    }

    fn subscription_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SubscriptionRow> {
        let url: String = r.get(2)?;
        let shown: Option<String> = r.get(4)?;
        let display_name = shown.unwrap_or_else(|| {
            url.trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_owned()
        });
        Ok(SubscriptionRow {
            id: r.get(0)?,
            calendar_id: r.get(1)?,
            url,
            name: r.get(3)?,
            display_name,
            color: r.get(5)?,
            hidden: r.get(6)?,
            etag: r.get(7)?,
            last_modified: r.get(8)?,
            last_refresh: r.get(9)?,
            last_success: r.get(10)?,
            last_error: r.get(11)?,
        })
    }

    const SUBSCRIPTION_COLS: &'static str = "s.id, s.calendar_id, s.url, s.name, c.display_name, c.color, c.hidden, s.etag, s.last_modified, s.last_refresh, s.last_success, s.last_error";

    /// Every subscription, in the order they were added.
    pub fn subscriptions(&self) -> Result<Vec<SubscriptionRow>, CacheError> {
        let mut st = self.conn.prepare(&format!(
            "SELECT {} FROM subscriptions s JOIN calendars c ON c.id = s.calendar_id ORDER BY s.id",
            Self::SUBSCRIPTION_COLS
        ))?;
        let rows = st.query_map([], Self::subscription_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One subscription by its feed URL.
    pub fn subscription_by_url(&self, url: &str) -> Result<Option<SubscriptionRow>, CacheError> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {} FROM subscriptions s JOIN calendars c ON c.id = s.calendar_id WHERE s.url = ?1",
                    Self::SUBSCRIPTION_COLS
                ),
                [url],
                Self::subscription_from_row,
            )
            .optional()?)
    }

    /// Records a good answer: the new validators (an unchanged 304 keeps the old ones), the feed's
    /// name and colour when it sent them (the person's own name stays), and clears the error.
    pub fn record_subscription_success(
        &self,
        s: &SubscriptionRow,
        validators: Option<(Option<&str>, Option<&str>)>,
        feed_name: Option<&str>,
        color: Option<&str>,
        now: &str,
    ) -> Result<(), CacheError> {
        if let Some((etag, last_modified)) = validators {
            self.conn.execute(
                "UPDATE subscriptions SET etag = ?2, last_modified = ?3 WHERE id = ?1",
                params![s.id, etag, last_modified],
            )?;
        }
        self.conn.execute(
            "UPDATE subscriptions SET last_refresh = ?2, last_success = ?2, last_error = NULL WHERE id = ?1",
            params![s.id, now],
        )?;
        if s.name.is_none() {
            if let Some(n) = feed_name {
                self.conn.execute(
                    "UPDATE calendars SET display_name = ?2 WHERE id = ?1",
                    params![s.calendar_id, n],
                )?;
            }
        }
        if let Some(c) = color {
            self.conn.execute(
                "UPDATE calendars SET color = ?2 WHERE id = ?1",
                params![s.calendar_id, c],
            )?;
        }
        Ok(())
    }

    /// Records a failed refresh; everything cached stays.
    pub fn record_subscription_error(
        &self,
        id: i64,
        message: &str,
        now: &str,
    ) -> Result<(), CacheError> {
        self.conn.execute(
            "UPDATE subscriptions SET last_refresh = ?2, last_error = ?3 WHERE id = ?1",
            params![id, now, message],
        )?;
        Ok(())
    }

    /// Removes a subscription with its calendar, events and quarantine.
    pub fn delete_subscription(&self, s: &SubscriptionRow) -> Result<(), CacheError> {
        self.conn
            .execute("DELETE FROM calendars WHERE id = ?1", [s.calendar_id])?;
        Ok(())
    }

    /// Quarantined objects of one calendar.
    pub fn quarantined_in(
        &self,
        calendar_id: i64,
    ) -> Result<Vec<super::QuarantineEntry>, CacheError> {
        let mut st = self.conn.prepare(
            "SELECT COALESCE(c.display_name, c.path), q.href, q.error FROM quarantine q JOIN calendars c ON c.id = q.calendar_id
             WHERE c.id = ?1 ORDER BY q.href",
        )?;
        let rows = st.query_map([calendar_id], |r| {
            Ok(super::QuarantineEntry {
                calendar: r.get(0)?,
                href: r.get(1)?,
                error: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
