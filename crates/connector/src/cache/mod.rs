//! The local cache: SQLite (bundled) in WAL mode with versioned migrations.
//!
//! Each object keeps its raw bytes exactly as the server sent them (export writes them back unchanged),
//! its etag, and the parsed fields queries need. Writes happen in one transaction per multiget batch, and
//! a calendar's sync token is written only by [`Cache::finish_pass`] after a complete pass, so a process
//! killed at any moment leaves a consistent cache and the next pass skips what is already stored.

mod schema;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};

use crate::account_state::{AccountState, RelinkReason, StateWithReason};
use crate::calendar::{ComponentKind, ObjectSummary};

/// File name of the cache inside the data dir.
pub const CACHE_FILE: &str = "cache.sqlite3";

/// Cache failures, with the path and what a person can do about it.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The file exists but is not a usable SQLite database.
    #[error("the cache at {path} is damaged ({detail}). Nothing was deleted. Run `calendar-connector-cli rebuild-cache` to move it aside and download your calendars again")]
    Corrupt {
        /// Cache file.
        path: PathBuf,
        /// SQLite's words.
        detail: String,
    },
    /// The data dir or file cannot be written.
    #[error("the data directory {path} is not writable ({detail}); choose another with --data-dir or fix its permissions")]
    ReadOnly {
        /// Data dir.
        path: PathBuf,
        /// OS / SQLite words.
        detail: String,
    },
    /// The cache was written by a newer version of the app.
    #[error("the cache at {path} was written by a newer Calendar Connector (schema {found}, this version knows {known}); update the app")]
    TooNew {
        /// Cache file.
        path: PathBuf,
        /// Version on disk.
        found: i64,
        /// Newest version known here.
        known: i64,
    },
    /// Any other SQLite error.
    #[error("cache error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// One linked account as stored.
#[derive(Debug, Clone)]
pub struct AccountRow {
    /// Row id.
    pub id: i64,
    /// Apple ID (or user name on a generic server).
    pub apple_id: String,
    /// Server URL chosen at link time.
    pub server_url: String,
    /// Keychain service holding the password.
    pub keyring_service: String,
    /// Apple's numeric person id, when discovery found it.
    pub dsid: Option<String>,
    /// Principal URL from discovery.
    pub principal_url: Option<String>,
    /// calendar-home-set URL from discovery.
    pub home_url: Option<String>,
    /// Hosts (host:port) discovery returned, allowed to receive credentials.
    pub trusted_hosts: Vec<String>,
    /// Account state and, when a relink is needed, why.
    pub state: StateWithReason,
    /// Whether this password has completed a sync before.
    pub password_worked: bool,
    /// RFC 3339 time of the last complete sync.
    pub last_successful_sync: Option<String>,
    /// Last error message, None after a success.
    pub last_error: Option<String>,
    /// Machine-readable kind of the last error.
    pub last_error_kind: Option<String>,
}

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

/// What the notification policy remembers of one account: the notification up now, when it was shown,
/// and a "Later" snooze. The cache stores it; `crate::notify` decides with it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NotifyRecord {
    /// `needs_relink` or `stale` while a notification is up.
    pub kind: Option<String>,
    /// Its id.
    pub id: Option<u32>,
    /// When it was last shown (unix seconds).
    pub last_shown: Option<i64>,
    /// "Later" until (unix seconds).
    pub snoozed_until: Option<i64>,
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

// States and reasons are stored as their codes; schema v4's triggers keep anything else out, so a code
// that does not parse is a damaged row, reported as such rather than guessed.
impl rusqlite::types::ToSql for AccountState {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

impl rusqlite::types::FromSql for AccountState {
    fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let s = v.as_str()?;
        AccountState::parse(s).ok_or_else(|| {
            rusqlite::types::FromSqlError::Other(format!("unknown account state {s:?}").into())
        })
    }
}

impl rusqlite::types::ToSql for RelinkReason {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

impl rusqlite::types::FromSql for RelinkReason {
    fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let s = v.as_str()?;
        RelinkReason::parse(s).ok_or_else(|| {
            rusqlite::types::FromSqlError::Other(format!("unknown relink reason {s:?}").into())
        })
    }
}

fn component_str(c: &ComponentKind) -> &'static str {
    match c {
        ComponentKind::Event => "VEVENT",
        ComponentKind::Todo => "VTODO",
        _ => "OTHER",
    }
}

/// An open cache.
pub struct Cache {
    conn: Connection,
    path: PathBuf,
}

fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase) | Some(rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

fn is_readonly(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::ReadOnly)
            | Some(rusqlite::ErrorCode::CannotOpen)
            | Some(rusqlite::ErrorCode::PermissionDenied)
    )
}

impl Cache {
    /// Opens (creating if needed) the cache in `data_dir`, migrating it to the current schema.
    pub fn open(data_dir: &Path) -> Result<Cache, CacheError> {
        let ro = |detail: String| CacheError::ReadOnly {
            path: data_dir.to_path_buf(),
            detail,
        };
        std::fs::create_dir_all(data_dir).map_err(|e| ro(e.to_string()))?;
        let path = data_dir.join(CACHE_FILE);
        let classify = |e: rusqlite::Error| -> CacheError {
            if is_corruption(&e) {
                CacheError::Corrupt {
                    path: path.clone(),
                    detail: e.to_string(),
                }
            } else if is_readonly(&e) {
                ro(e.to_string())
            } else {
                CacheError::Sqlite(e)
            }
        };
        let conn = Connection::open(&path).map_err(classify)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(classify)?;
        // journal_mode returns a row; WAL makes readers (status, the UI) never block the sync writer.
        let _mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(classify)?;
        // A first sync commits a batch at a time; checkpointing the WAL every 1,000 pages (the default)
        // rewrote the same index pages into the database over and over. 8,192 pages (32 MiB at most)
        // lets a 10,000-event sync checkpoint once, when the connection closes.
        conn.execute_batch(
            "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=8192;",
        )
        .map_err(classify)?;
        let quick: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(classify)?;
        if quick != "ok" {
            return Err(CacheError::Corrupt {
                path,
                detail: quick,
            });
        }
        let mut cache = Cache {
            conn,
            path: path.clone(),
        };
        cache.migrate().map_err(|e| match e {
            CacheError::Sqlite(e) => classify(e),
            other => other,
        })?;
        Ok(cache)
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn migrate(&mut self) -> Result<(), CacheError> {
        let known = schema::MIGRATIONS.len() as i64;
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > known {
            return Err(CacheError::TooNew {
                path: self.path.clone(),
                found: version,
                known,
            });
        }
        for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        Ok(())
    }

    // ----------------------------------------------------------------------------------- accounts

    /// Creates the account or updates its server URL / keyring service (relink keeps the row and cache).
    pub fn upsert_account(
        &self,
        apple_id: &str,
        server_url: &str,
        keyring_service: &str,
        now: &str,
    ) -> Result<i64, CacheError> {
        self.conn.execute(
            "INSERT INTO accounts (apple_id, server_url, keyring_service, linked_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(apple_id) DO UPDATE SET server_url = excluded.server_url, keyring_service = excluded.keyring_service",
            params![apple_id, server_url, keyring_service, now],
        )?;
        Ok(self.conn.query_row(
            "SELECT id FROM accounts WHERE apple_id = ?1",
            [apple_id],
            |r| r.get(0),
        )?)
    }

    fn account_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AccountRow> {
        let hosts: String = r.get(7)?;
        Ok(AccountRow {
            id: r.get(0)?,
            apple_id: r.get(1)?,
            server_url: r.get(2)?,
            keyring_service: r.get(3)?,
            dsid: r.get(4)?,
            principal_url: r.get(5)?,
            home_url: r.get(6)?,
            trusted_hosts: serde_json::from_str(&hosts).unwrap_or_default(),
            state: StateWithReason {
                state: r.get(8)?,
                reason: r.get(9)?,
            },
            password_worked: r.get(10)?,
            last_successful_sync: r.get(11)?,
            last_error: r.get(12)?,
            last_error_kind: r.get(13)?,
        })
    }

    const ACCOUNT_COLS: &'static str = "id, apple_id, server_url, keyring_service, dsid, principal_url, home_url, trusted_hosts, state, relink_reason, password_worked, last_successful_sync, last_error, last_error_kind";

    /// Every account, in link order.
    pub fn accounts(&self) -> Result<Vec<AccountRow>, CacheError> {
        let mut st = self.conn.prepare(&format!(
            "SELECT {} FROM accounts ORDER BY id",
            Self::ACCOUNT_COLS
        ))?;
        let rows = st.query_map([], Self::account_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One account by Apple ID.
    pub fn account(&self, apple_id: &str) -> Result<Option<AccountRow>, CacheError> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {} FROM accounts WHERE apple_id = ?1",
                    Self::ACCOUNT_COLS
                ),
                [apple_id],
                Self::account_from_row,
            )
            .optional()?)
    }

    /// Removes the account and everything cached for it.
    pub fn delete_account(&self, id: i64) -> Result<(), CacheError> {
        self.conn
            .execute("DELETE FROM accounts WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Stores what discovery found.
    pub fn set_discovery(
        &self,
        id: i64,
        dsid: Option<&str>,
        principal: &str,
        home: &str,
        trusted_hosts: &[String],
    ) -> Result<(), CacheError> {
        let hosts = serde_json::to_string(trusted_hosts).unwrap_or_else(|_| "[]".into());
        self.conn.execute(
            "UPDATE accounts SET dsid = ?2, principal_url = ?3, home_url = ?4, trusted_hosts = ?5 WHERE id = ?1",
            params![id, dsid, principal, home, hosts],
        )?;
        Ok(())
    }

    /// The account state and relink reason.
    pub fn account_state(&self, id: i64) -> Result<StateWithReason, CacheError> {
        Ok(self.conn.query_row(
            "SELECT state, relink_reason FROM accounts WHERE id = ?1",
            [id],
            |r| {
                Ok(StateWithReason {
                    state: r.get(0)?,
                    reason: r.get(1)?,
                })
            },
        )?)
    }

    /// Stores the account state and relink reason (the connector's `account_state::transition` decides
    /// them).
    pub fn set_state(&self, id: i64, state: StateWithReason) -> Result<(), CacheError> {
        self.conn.execute(
            "UPDATE accounts SET state = ?2, relink_reason = ?3 WHERE id = ?1",
            params![id, state.state, state.reason],
        )?;
        Ok(())
    }

    /// Records a complete successful sync: clears the error, remembers the password worked.
    pub fn record_success(&self, id: i64, now: &str) -> Result<(), CacheError> {
        self.conn.execute(
            "UPDATE accounts SET last_successful_sync = ?2, last_error = NULL, last_error_kind = NULL, password_worked = 1 WHERE id = ?1",
            params![id, now],
        )?;
        Ok(())
    }

    /// Records that the password was accepted by the server (a request succeeded).
    pub fn record_password_worked(&self, id: i64, worked: bool) -> Result<(), CacheError> {
        self.conn.execute(
            "UPDATE accounts SET password_worked = ?2 WHERE id = ?1",
            params![id, worked],
        )?;
        Ok(())
    }

    /// Records the last error.
    pub fn record_error(&self, id: i64, kind: &str, message: &str) -> Result<(), CacheError> {
        self.conn.execute(
            "UPDATE accounts SET last_error = ?2, last_error_kind = ?3 WHERE id = ?1",
            params![id, message, kind],
        )?;
        Ok(())
    }

    /// Backoff: when the next attempt may be made (unix seconds) and the current floor.
    pub fn set_backoff(
        &self,
        id: i64,
        next_attempt_at: Option<i64>,
        backoff_secs: i64,
    ) -> Result<(), CacheError> {
        self.conn.execute(
            "UPDATE accounts SET next_attempt_at = ?2, backoff_secs = ?3 WHERE id = ?1",
            params![id, next_attempt_at, backoff_secs],
        )?;
        Ok(())
    }

    /// (next_attempt_at, backoff_secs) of an account.
    pub fn backoff(&self, id: i64) -> Result<(Option<i64>, i64), CacheError> {
        Ok(self.conn.query_row(
            "SELECT next_attempt_at, backoff_secs FROM accounts WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// When the account was linked (RFC 3339).
    pub fn linked_at(&self, id: i64) -> Result<String, CacheError> {
        Ok(self
            .conn
            .query_row("SELECT linked_at FROM accounts WHERE id = ?1", [id], |r| {
                r.get(0)
            })?)
    }

    /// Verification attempts at or after `since` (unix seconds), oldest first.
    pub fn verification_attempts(&self, id: i64, since: i64) -> Result<Vec<i64>, CacheError> {
        let mut st = self.conn.prepare(
            "SELECT at FROM verification_attempts WHERE account_id = ?1 AND at >= ?2 ORDER BY at",
        )?;
        let rows = st.query_map(params![id, since], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records a verification attempt (and forgets ones older than a day).
    pub fn record_verification_attempt(&self, id: i64, at: i64) -> Result<(), CacheError> {
        self.conn.execute(
            "DELETE FROM verification_attempts WHERE account_id = ?1 AND at < ?2",
            params![id, at - 86_400],
        )?;
        self.conn.execute(
            "INSERT INTO verification_attempts (account_id, at) VALUES (?1, ?2)",
            params![id, at],
        )?;
        Ok(())
    }

    /// Forgets one recorded attempt (a check that ended without Apple's answer is no failure).
    pub fn forget_verification_attempt(&self, id: i64, at: i64) -> Result<(), CacheError> {
        self.conn.execute(
            "DELETE FROM verification_attempts WHERE rowid = \
             (SELECT rowid FROM verification_attempts WHERE account_id = ?1 AND at = ?2 LIMIT 1)",
            params![id, at],
        )?;
        Ok(())
    }

    /// Forgets every recorded attempt of an account: a password that worked resets the count.
    pub fn clear_verification_attempts(&self, id: i64) -> Result<(), CacheError> {
        self.conn.execute(
            "DELETE FROM verification_attempts WHERE account_id = ?1",
            params![id],
        )?;
        Ok(())
    }

    /// The notification record of an account.
    pub fn notify_record(&self, id: i64) -> Result<NotifyRecord, CacheError> {
        Ok(self
            .conn
            .query_row(
                "SELECT kind, notification_id, last_shown, snoozed_until FROM notifications WHERE account_id = ?1",
                [id],
                |r| {
                    Ok(NotifyRecord {
                        kind: r.get(0)?,
                        id: r.get::<_, Option<i64>>(1)?.and_then(|v| u32::try_from(v).ok()),
                        last_shown: r.get(2)?,
                        snoozed_until: r.get(3)?,
                    })
                },
            )
            .optional()?
            .unwrap_or_default())
    }

    /// Stores the notification record of an account.
    pub fn set_notify_record(&self, id: i64, rec: &NotifyRecord) -> Result<(), CacheError> {
        self.conn.execute(
            "INSERT INTO notifications (account_id, kind, notification_id, last_shown, snoozed_until) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(account_id) DO UPDATE SET kind = excluded.kind, notification_id = excluded.notification_id,
               last_shown = excluded.last_shown, snoozed_until = excluded.snoozed_until",
            params![id, rec.kind, rec.id.map(i64::from), rec.last_shown, rec.snoozed_until],
        )?;
        Ok(())
    }

    // ---------------------------------------------------------------------------------- calendars

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

    // ------------------------------------------------------------------------------------ objects

    /// href → etag of every stored object of a calendar.
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
        let mut st = self.conn.prepare(
            "SELECT COALESCE(c.display_name, c.path), o.href, o.raw FROM objects o JOIN calendars c ON c.id = o.calendar_id
             WHERE o.component = 'VEVENT' AND o.window_start < ?2 AND (o.window_end IS NULL OR o.window_end > ?1)
               AND (?3 IS NULL OR c.display_name = ?3 OR c.path = ?3) AND (?3 IS NOT NULL OR c.hidden = 0)",
        )?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(uid: &str) -> ObjectSummary {
        ObjectSummary {
            uid: uid.into(),
            summary: Some("s".into()),
            location: None,
            all_day: false,
            recurring: false,
            window_start: 0,
            window_end: Some(10),
            component: ComponentKind::Event,
        }
    }

    #[test]
    fn token_is_only_written_by_finish_pass_and_batches_are_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Cache::open(dir.path()).unwrap();
        let a = c
            .upsert_account("a@b.c", "http://x/", "svc", "now")
            .unwrap();
        let cal = c
            .upsert_calendar(
                a,
                &CalendarMeta {
                    path: "/1/calendars/home/".into(),
                    url: "http://x/1/calendars/home/".into(),
                    display_name: Some("Home".into()),
                    color: None,
                    read_only: false,
                    sort_order: None,
                },
            )
            .unwrap();
        let objs = vec![StoredObject {
            href: "/1/calendars/home/a.ics".into(),
            etag: Some("\"1\"".into()),
            raw: b"RAW".to_vec(),
            summary: summary("a"),
        }];
        c.apply_batch(cal, &objs, &[], "now").unwrap();
        assert_eq!(c.calendars(a).unwrap()[0].sync_token, None);
        c.finish_pass(cal, &[], Some("tok"), None, "now").unwrap();
        assert_eq!(
            c.calendars(a).unwrap()[0].sync_token.as_deref(),
            Some("tok")
        );
        assert_eq!(c.event_count(cal).unwrap(), 1);
        let q = QuarantinedObject {
            href: "/1/calendars/home/b.ics".into(),
            etag: Some("\"2\"".into()),
            error: "bad".into(),
            raw: b"X".to_vec(),
        };
        assert_eq!(
            c.apply_batch(cal, &[], std::slice::from_ref(&q), "now")
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            c.apply_batch(cal, &[], &[q], "now").unwrap().len(),
            0,
            "logged once per (href, etag)"
        );
        drop(c);
        // Reopening keeps everything and does not re-run migrations.
        let c = Cache::open(dir.path()).unwrap();
        assert_eq!(c.quarantined(a).unwrap().len(), 1);
    }

    #[test]
    fn a_version_2_cache_keeps_its_objects_and_tokens_through_migration_3() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut conn = Connection::open(dir.path().join(CACHE_FILE)).unwrap();
            let tx = conn.transaction().unwrap();
            for sql in &schema::MIGRATIONS[..2] {
                tx.execute_batch(sql).unwrap();
            }
            tx.pragma_update(None, "user_version", 2).unwrap();
            tx.execute_batch(
                "INSERT INTO accounts (id, apple_id, server_url, keyring_service, linked_at) VALUES (1, 'a@b.c', 'http://x/', 'svc', 'now');
                 INSERT INTO calendars (id, account_id, path, url, sync_token) VALUES (7, 1, '/1/calendars/home/', 'http://x/1/calendars/home/', 'tok-9');
                 INSERT INTO objects VALUES (7, '/1/calendars/home/b.ics', '\"2\"', X'4242', 'b', 'B', NULL, 0, 1, 'VEVENT', 5, NULL);
                 INSERT INTO objects VALUES (7, '/1/calendars/home/a.ics', '\"1\"', X'4141', 'a', 'A', 'here', 1, 0, 'VEVENT', 0, 10);",
            )
            .unwrap();
            tx.commit().unwrap();
        }
        let mut c = Cache::open(dir.path()).unwrap();
        let v: i64 = c
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, schema::MIGRATIONS.len() as i64);
        assert_eq!(
            c.calendars(1).unwrap()[0].sync_token.as_deref(),
            Some("tok-9")
        );
        assert_eq!(c.event_count(7).unwrap(), 2);
        let hrefs = c.object_etags(7).unwrap();
        assert_eq!(
            hrefs
                .get("/1/calendars/home/a.ics")
                .cloned()
                .flatten()
                .as_deref(),
            Some("\"1\"")
        );
        let got = c.candidates(0, 100, None).unwrap();
        assert_eq!(got.len(), 2);
        // The (calendar_id, href) key still holds: a second copy replaces the first.
        let objs = vec![StoredObject {
            href: "/1/calendars/home/a.ics".into(),
            etag: Some("\"3\"".into()),
            raw: b"RAW".to_vec(),
            summary: summary("a"),
        }];
        c.apply_batch(7, &objs, &[], "now").unwrap();
        assert_eq!(c.event_count(7).unwrap(), 2);
    }

    #[test]
    fn a_version_3_cache_keeps_its_account_states_through_migration_4() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut conn = Connection::open(dir.path().join(CACHE_FILE)).unwrap();
            let tx = conn.transaction().unwrap();
            for sql in &schema::MIGRATIONS[..3] {
                tx.execute_batch(sql).unwrap();
            }
            tx.pragma_update(None, "user_version", 3).unwrap();
            tx.execute_batch(
                "INSERT INTO accounts (apple_id, server_url, keyring_service, linked_at, state, relink_reason) VALUES
                    ('revoked@x', 'http://x/', 'svc', 'now', 'needs_relink', 'password_revoked'),
                    ('backoff@x', 'http://x/', 'svc', 'now', 'backoff', NULL),
                    ('bare@x', 'http://x/', 'svc', 'now', 'needs_relink', NULL),
                    ('odd@x', 'http://x/', 'svc', 'now', 'paused', 'tired');",
            )
            .unwrap();
            tx.commit().unwrap();
        }
        let c = Cache::open(dir.path()).unwrap();
        let got: Vec<(String, StateWithReason)> = c
            .accounts()
            .unwrap()
            .into_iter()
            .map(|a| (a.apple_id, a.state))
            .collect();
        let with = |state, reason| StateWithReason {
            state,
            reason: Some(reason),
        };
        assert_eq!(
            got,
            vec![
                (
                    "revoked@x".into(),
                    with(AccountState::NeedsRelink, RelinkReason::PasswordRevoked)
                ),
                (
                    "backoff@x".into(),
                    StateWithReason::plain(AccountState::Backoff)
                ),
                // Older builds showed the password_rejected guidance for a needs_relink without reason.
                (
                    "bare@x".into(),
                    with(AccountState::NeedsRelink, RelinkReason::PasswordRejected)
                ),
                // ... and read an unknown state as active, an unknown reason as none.
                ("odd@x".into(), StateWithReason::plain(AccountState::Active)),
            ]
        );
        // From now on only codes the engine knows can be stored.
        for bad in [
            "UPDATE accounts SET state = 'paused' WHERE apple_id = 'odd@x'",
            "UPDATE accounts SET relink_reason = 'tired' WHERE apple_id = 'odd@x'",
            "UPDATE accounts SET state = 'needs_relink', relink_reason = NULL WHERE apple_id = 'odd@x'",
            "INSERT INTO accounts (apple_id, server_url, keyring_service, linked_at, state) VALUES ('n@x', 'u', 's', 'now', 'Active')",
        ] {
            let err = c.conn.execute_batch(bad).unwrap_err();
            assert!(err.to_string().contains("invalid account state"), "{bad}: {err}");
        }
        let id = c.account("odd@x").unwrap().unwrap().id;
        let revoked = with(AccountState::NeedsRelink, RelinkReason::PasswordRevoked);
        c.set_state(id, revoked).unwrap();
        assert_eq!(c.account("odd@x").unwrap().unwrap().state, revoked);
    }

    #[test]
    fn garbage_file_is_reported_as_corrupt_and_left_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(CACHE_FILE);
        std::fs::write(
            &p,
            b"this is not a database, it is a cake recipe. ".repeat(200),
        )
        .unwrap();
        let err = Cache::open(dir.path()).err().unwrap();
        assert!(matches!(err, CacheError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("rebuild-cache"));
        assert!(p.exists());
    }
}
