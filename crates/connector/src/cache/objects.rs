//! Objects and quarantine: one transaction per batch, the sync token written only after a complete
//! pass, and the queries of the agenda and the export.

use std::collections::HashMap;

use rusqlite::{params, OptionalExtension};

use super::{Cache, CacheError};
use crate::calendar::{ComponentKind, ObjectSummary};

/// A parsed object ready to store.
#[derive(Debug, Clone)]
pub struct StoredObject {
    /// Path of the resource.
    pub href: String,
    /// Etag the server sent with these bytes.
    pub etag: Option<String>,
    /// Bytes as received.
    pub raw: Vec<u8>,
    /// Parsed fields.
    pub summary: ObjectSummary,
}

/// An object that could not be understood.
#[derive(Debug, Clone)]
pub struct QuarantinedObject {
    /// Path of the resource.
    pub href: String,
    /// Etag of the bad version.
    pub etag: Option<String>,
    /// Specific error.
    pub error: String,
    /// Bytes as received (kept so nothing is lost).
    pub raw: Vec<u8>,
}

/// A quarantine row for status.
#[derive(Debug, Clone, serde::Serialize)]
pub struct QuarantineEntry {
    /// Calendar display name.
    pub calendar: String,
    /// Resource path.
    pub href: String,
    /// Error.
    pub error: String,
}

/// An object selected for a query window.
#[derive(Debug, Clone)]
pub struct CandidateObject {
    /// Calendar display name.
    pub calendar: String,
    /// Resource path.
    pub href: String,
    /// Bytes.
    pub raw: Vec<u8>,
}

/// The window query: the `objects_window` index bounds it by `window_start`, and the index's
/// `window_end` column filters before any row (and its bytes) is read.
const CANDIDATES_SQL: &str = "SELECT COALESCE(c.display_name, c.path), o.href, o.raw FROM objects o JOIN calendars c ON c.id = o.calendar_id
     WHERE o.component = 'VEVENT' AND o.window_start < ?2 AND (o.window_end IS NULL OR o.window_end > ?1)
       AND (?3 IS NULL OR c.display_name = ?3 OR c.path = ?3) AND (?3 IS NOT NULL OR c.hidden = 0)";

fn component_str(c: &ComponentKind) -> &'static str {
    match c {
        ComponentKind::Event => "VEVENT",
        ComponentKind::Todo => "VTODO",
        _ => "OTHER",
    }
}

impl Cache {
    pub fn object_etags(
        &self,
        calendar_id: i64,
    ) -> Result<HashMap<String, Option<String>>, CacheError> {
        let mut st = self
            .conn
            .prepare("SELECT href, etag FROM objects WHERE calendar_id = ?1")?;
        let rows = st.query_map([calendar_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// href → etag of every quarantined object of a calendar.
    pub fn quarantine_etags(
        &self,
        calendar_id: i64,
    ) -> Result<HashMap<String, Option<String>>, CacheError> {
        let mut st = self
            .conn
            .prepare("SELECT href, etag FROM quarantine WHERE calendar_id = ?1")?;
        let rows = st.query_map([calendar_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stores one multiget batch in one transaction. Returns the quarantine entries that are new (not
    /// already quarantined with the same etag), so each (href, etag) is logged once.
    pub fn apply_batch(
        &mut self,
        calendar_id: i64,
        objects: &[StoredObject],
        quarantined: &[QuarantinedObject],
        now: &str,
    ) -> Result<Vec<QuarantinedObject>, CacheError> {
        let tx = self.conn.transaction()?;
        {
            let mut put = tx.prepare_cached(
                "INSERT OR REPLACE INTO objects (calendar_id, href, etag, raw, uid, summary, location, all_day, recurring, component, window_start, window_end)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?;
            let mut unq =
                tx.prepare_cached("DELETE FROM quarantine WHERE calendar_id = ?1 AND href = ?2")?;
            // Nearly always nothing is quarantined: then one query spares a delete per object.
            let any_quarantined: bool = tx
                .prepare_cached("SELECT EXISTS(SELECT 1 FROM quarantine WHERE calendar_id = ?1)")?
                .query_row([calendar_id], |r| r.get(0))?;
            for o in objects {
                let s = &o.summary;
                put.execute(params![
                    calendar_id,
                    o.href,
                    o.etag,
                    o.raw,
                    s.uid,
                    s.summary,
                    s.location,
                    s.all_day,
                    s.recurring,
                    component_str(&s.component),
                    s.window_start,
                    s.window_end
                ])?;
                if any_quarantined {
                    unq.execute(params![calendar_id, o.href])?;
                }
            }
        }
        let mut fresh = Vec::new();
        {
            let mut old = tx.prepare_cached(
                "SELECT etag FROM quarantine WHERE calendar_id = ?1 AND href = ?2",
            )?;
            let mut put = tx.prepare_cached(
                "INSERT INTO quarantine (calendar_id, href, etag, error, raw, first_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(calendar_id, href) DO UPDATE SET etag = excluded.etag, error = excluded.error, raw = excluded.raw",
            )?;
            for q in quarantined {
                let prev: Option<Option<String>> = old
                    .query_row(params![calendar_id, q.href], |r| r.get(0))
                    .optional()?;
                if prev.as_ref() != Some(&q.etag) {
                    fresh.push(q.clone());
                }
                put.execute(params![calendar_id, q.href, q.etag, q.error, q.raw, now])?;
            }
        }
        tx.commit()?;
        Ok(fresh)
    }

    /// Ends a complete pass in one transaction: applies the deletions the listing proved, then stores the
    /// new sync token and ctag. Nothing else ever writes the token.
    pub fn finish_pass(
        &mut self,
        calendar_id: i64,
        deletions: &[String],
        sync_token: Option<&str>,
        ctag: Option<&str>,
        now: &str,
    ) -> Result<(), CacheError> {
        let tx = self.conn.transaction()?;
        {
            let mut del =
                tx.prepare_cached("DELETE FROM objects WHERE calendar_id = ?1 AND href = ?2")?;
            let mut delq =
                tx.prepare_cached("DELETE FROM quarantine WHERE calendar_id = ?1 AND href = ?2")?;
            for h in deletions {
                del.execute(params![calendar_id, h])?;
                delq.execute(params![calendar_id, h])?;
            }
        }
        tx.execute(
            "UPDATE calendars SET sync_token = ?2, ctag = ?3, last_synced = ?4 WHERE id = ?1",
            params![calendar_id, sync_token, ctag, now],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Forgets a calendar's sync token (the next pass lists everything).
    pub fn clear_sync_token(&self, calendar_id: i64) -> Result<(), CacheError> {
        self.conn.execute(
            "UPDATE calendars SET sync_token = NULL WHERE id = ?1",
            [calendar_id],
        )?;
        Ok(())
    }

    /// Number of event resources (one per href) in a calendar.
    pub fn event_count(&self, calendar_id: i64) -> Result<u64, CacheError> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM objects WHERE calendar_id = ?1 AND component = 'VEVENT'",
            [calendar_id],
            |r| r.get(0),
        )?)
    }

    /// Number of stored objects of any kind.
    pub fn object_count(&self, calendar_id: i64) -> Result<u64, CacheError> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM objects WHERE calendar_id = ?1",
            [calendar_id],
            |r| r.get(0),
        )?)
    }

    /// Quarantined objects of an account.
    pub fn quarantined(&self, account_id: i64) -> Result<Vec<QuarantineEntry>, CacheError> {
        let mut st = self.conn.prepare(
            "SELECT COALESCE(c.display_name, c.path), q.href, q.error FROM quarantine q JOIN calendars c ON c.id = q.calendar_id
             WHERE c.account_id = ?1 ORDER BY c.path, q.href",
        )?;
        let rows = st.query_map([account_id], |r| {
            Ok(QuarantineEntry {
                calendar: r.get(0)?,
                href: r.get(1)?,
                error: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Event objects of visible calendars whose bounds may overlap [from, to) (unix seconds).
    pub fn candidates(
        &self,
        from: i64,
        to: i64,
        calendar: Option<&str>,
    ) -> Result<Vec<CandidateObject>, CacheError> {
        let mut st = self.conn.prepare_cached(CANDIDATES_SQL)?;
        let rows = st.query_map(params![from, to, calendar], |r| {
            Ok(CandidateObject {
                calendar: r.get(0)?,
                href: r.get(1)?,
                raw: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Calls `f(href, raw)` for every stored object of a calendar, in href order (export).
    pub fn for_each_object(
        &self,
        calendar_id: i64,
        mut f: impl FnMut(&str, &[u8]) -> std::io::Result<()>,
    ) -> Result<std::io::Result<()>, CacheError> {
        let mut st = self
            .conn
            .prepare("SELECT href, raw FROM objects WHERE calendar_id = ?1 ORDER BY href")?;
        let mut rows = st.query([calendar_id])?;
        while let Some(r) = rows.next()? {
            let href: String = r.get(0)?;
            let raw: Vec<u8> = r.get(1)?;
            if let Err(e) = f(&href, &raw) {
                return Ok(Err(e));
            }
        }
        Ok(Ok(()))
    }
}

/// One object whose title, location or notes contain a search text.
#[derive(Debug, Clone)]
pub struct SearchHit {
    /// Calendar display name.
    pub calendar: String,
    /// Resource path.
    pub href: String,
    /// Bytes.
    pub raw: Vec<u8>,
    /// Stored title.
    pub summary: Option<String>,
    /// Stored location.
    pub location: Option<String>,
    /// Whether the object repeats.
    pub recurring: bool,
    /// Start of the object's bounds (unix seconds).
    pub window_start: i64,
}

/// `text` as a LIKE pattern matching it anywhere, with `%`, `_` and `\` taken literally.
fn like_anywhere(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

impl Cache {
    /// The SQL of [`Cache::candidates`], for `EXPLAIN QUERY PLAN` in tests.
    #[cfg(test)]
    pub(crate) fn candidates_plan(&self) -> Result<Vec<String>, CacheError> {
        let mut st = self
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {CANDIDATES_SQL}"))?;
        let rows = st.query_map(params![0i64, 1i64, Option::<String>::None], |r| {
            r.get::<_, String>(3)
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The stored bytes and calendar name of the event object at `href`, if cached.
    pub fn object_by_href(&self, href: &str) -> Result<Option<(String, Vec<u8>)>, CacheError> {
        Ok(self
            .conn
            .query_row(
                "SELECT COALESCE(c.display_name, c.path), o.raw FROM objects o JOIN calendars c ON c.id = o.calendar_id
                 WHERE o.href = ?1 LIMIT 1",
                [href],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Event objects of visible calendars whose title, location or stored bytes contain `text`
    /// (case-insensitive for ASCII, as SQLite's LIKE), at most `limit`. The caller checks that a
    /// match in the bytes is in the notes.
    /// Those nearest to `now` (unix seconds) come first.
    pub fn search_candidates(
        &self,
        text: &str,
        limit: usize,
        now: i64,
    ) -> Result<Vec<SearchHit>, CacheError> {
        let mut st = self.conn.prepare_cached(
            "SELECT COALESCE(c.display_name, c.path), o.href, o.raw, o.summary, o.location, o.recurring, o.window_start
             FROM objects o JOIN calendars c ON c.id = o.calendar_id
             WHERE o.component = 'VEVENT' AND c.hidden = 0
               AND (o.summary LIKE ?1 ESCAPE '\\' OR o.location LIKE ?1 ESCAPE '\\' OR o.raw LIKE ?1 ESCAPE '\\')
             ORDER BY ABS(o.window_start - ?3) LIMIT ?2",
        )?;
        let rows = st.query_map(
            params![
                like_anywhere(text),
                i64::try_from(limit).unwrap_or(i64::MAX),
                now
            ],
            |r| {
                Ok(SearchHit {
                    calendar: r.get(0)?,
                    href: r.get(1)?,
                    raw: r.get(2)?,
                    summary: r.get(3)?,
                    location: r.get(4)?,
                    recurring: r.get(5)?,
                    window_start: r.get(6)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
