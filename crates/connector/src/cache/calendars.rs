//! Calendar collections: metadata from discovery, sync token and ctag, sync mode, hidden.

use rusqlite::params;

use super::{Cache, CacheError};

/// One calendar collection as stored.
#[derive(Debug, Clone)]
pub struct CalendarRow {
    /// Row id.
    pub id: i64,
    /// Owning account.
    pub account_id: i64,
    /// Collection path on the server (the cache key together with the account; never the host, §1.4).
    pub path: String,
    /// Current full URL (host may change between partitions).
    pub url: String,
    /// Name shown to people.
    pub display_name: Option<String>,
    /// `#RRGGBBAA`.
    pub color: Option<String>,
    /// Last ctag seen after a complete pass.
    pub ctag: Option<String>,
    /// Sync token stored after a complete pass.
    pub sync_token: Option<String>,
    /// Shared read-only calendar.
    pub read_only: bool,
    /// Server-side order.
    pub sort_order: Option<i64>,
    /// Hidden by the person.
    pub hidden: bool,
    /// `sync-collection` or `etag-listing`.
    pub sync_mode: String,
}

impl CalendarRow {
    /// Display name, falling back to the last path segment.
    pub fn name(&self) -> String {
        self.display_name.clone().unwrap_or_else(|| {
            self.path
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_owned()
        })
    }
}

/// What discovery learned about a calendar.
#[derive(Debug, Clone)]
pub struct CalendarMeta {
    /// Collection path.
    pub path: String,
    /// Full URL.
    pub url: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Color.
    pub color: Option<String>,
    /// Read-only.
    pub read_only: bool,
    /// Order.
    pub sort_order: Option<i64>,
}

impl Cache {
    /// Inserts or refreshes a calendar's metadata, keyed on account + path (never the host, §1.4).
    pub fn upsert_calendar(&self, account_id: i64, m: &CalendarMeta) -> Result<i64, CacheError> {
        self.conn.execute(
            "INSERT INTO calendars (account_id, path, url, display_name, color, read_only, sort_order)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT(account_id, path) DO UPDATE SET url = excluded.url, display_name = excluded.display_name,
               color = excluded.color, read_only = excluded.read_only, sort_order = excluded.sort_order",
            params![account_id, m.path, m.url, m.display_name, m.color, m.read_only, m.sort_order],
        )?;
        Ok(self.conn.query_row(
            "SELECT id FROM calendars WHERE account_id = ?1 AND path = ?2",
            params![account_id, m.path],
            |r| r.get(0),
        )?)
    }

    /// Removes calendars the server no longer lists (only called with a complete discovery answer).
    pub fn remove_calendars_except(
        &self,
        account_id: i64,
        keep: &[String],
    ) -> Result<usize, CacheError> {
        let cals = self.calendars(account_id)?;
        let mut n = 0;
        for c in cals {
            if !keep.contains(&c.path) {
                self.conn
                    .execute("DELETE FROM calendars WHERE id = ?1", [c.id])?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Calendars of an account, in server order then name.
    pub fn calendars(&self, account_id: i64) -> Result<Vec<CalendarRow>, CacheError> {
        let mut st = self.conn.prepare(
            "SELECT id, account_id, path, url, display_name, color, ctag, sync_token, read_only, sort_order, hidden, sync_mode
             FROM calendars WHERE account_id = ?1 ORDER BY COALESCE(sort_order, 1000000), display_name, path",
        )?;
        let rows = st.query_map([account_id], |r| {
            Ok(CalendarRow {
                id: r.get(0)?,
                account_id: r.get(1)?,
                path: r.get(2)?,
                url: r.get(3)?,
                display_name: r.get(4)?,
                color: r.get(5)?,
                ctag: r.get(6)?,
                sync_token: r.get(7)?,
                read_only: r.get(8)?,
                sort_order: r.get(9)?,
                hidden: r.get(10)?,
                sync_mode: r.get(11)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Remembers which listing method works for this calendar.
    pub fn set_sync_mode(&self, calendar_id: i64, mode: &str) -> Result<(), CacheError> {
        self.conn.execute(
            "UPDATE calendars SET sync_mode = ?2 WHERE id = ?1",
            params![calendar_id, mode],
        )?;
        Ok(())
    }

    /// Shows or hides a calendar in the agenda.
    pub fn set_hidden(&self, calendar_id: i64, hidden: bool) -> Result<(), CacheError> {
        self.conn.execute(
            "UPDATE calendars SET hidden = ?2 WHERE id = ?1",
            params![calendar_id, hidden],
        )?;
        Ok(())
    }
}
