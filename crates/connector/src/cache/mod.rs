//! The local cache: SQLite (bundled) in WAL mode with versioned migrations.
//!
//! Each object keeps its raw bytes exactly as the server sent them (export writes them back unchanged),
//! its etag, and the parsed fields queries need. Writes happen in one transaction per multiget batch, and
//! a calendar's sync token is written only by [`Cache::finish_pass`] after a complete pass, so a process
//! killed at any moment leaves a consistent cache and the next pass skips what is already stored.

mod accounts;
mod calendars;
mod clean;
mod objects;
mod schema;
mod subscriptions;

use std::path::{Path, PathBuf};

use rusqlite::Connection;

pub use accounts::{AccountRow, NotifyRecord};
pub use calendars::{CalendarMeta, CalendarRow};
pub use objects::{CandidateObject, QuarantineEntry, QuarantinedObject, StoredObject};
pub use subscriptions::SubscriptionRow;

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

/// An open cache.
pub struct Cache {
    conn: Connection,
    path: PathBuf,
    // After `conn`: dropped once the connection has closed (see clean.rs).
    _stamp: clean::StampOnClose,
}

fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase) | Some(rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked)
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
        // Decided before the connection touches the files (clean.rs).
        let check = clean::check_needed(&path);
        // Two processes opening one new cache at once (the window process and the tray agent it
        // starts) can meet SQLite's lock-upgrade deadlock guard, which answers "busy" at once instead
        // of waiting: the whole set-up is tried again for a while (nothing was written by then).
        let started = std::time::Instant::now();
        loop {
            match Self::open_once(&path, check, &classify) {
                Err(CacheError::Sqlite(e))
                    if is_busy(&e) && started.elapsed() < std::time::Duration::from_secs(10) =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(25));
                }
                r => return r,
            }
        }
    }

    fn open_once(
        path: &Path,
        check: bool,
        classify: &dyn Fn(rusqlite::Error) -> CacheError,
    ) -> Result<Cache, CacheError> {
        let conn = Connection::open(path).map_err(classify)?;
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
        // The whole-file check, before anything is written, unless the file is exactly as a clean
        // close of this version left it (clean.rs).
        if check {
            let quick: String = conn
                .query_row("PRAGMA quick_check", [], |r| r.get(0))
                .map_err(classify)?;
            if quick != "ok" {
                return Err(CacheError::Corrupt {
                    path: path.to_path_buf(),
                    detail: quick,
                });
            }
        }
        let mut cache = Cache {
            conn,
            path: path.to_path_buf(),
            _stamp: clean::StampOnClose::new(path),
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
        // Two processes can open a new cache at the same moment (the window process and the tray
        // agent it starts): each step takes the write lock first and looks at the version again
        // under it, so a step the other process already applied is skipped, never run twice.
        for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if now > i as i64 {
                continue;
            }
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn two_processes_opening_a_new_cache_at_once_both_get_it() {
        // Threads stand in for the window process and the tray agent: separate connections to one
        // new file, migrating at the same moment.
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
            let opens: Vec<_> = (0..2)
                .map(|_| {
                    let (d, b) = (dir.path().to_owned(), barrier.clone());
                    std::thread::spawn(move || {
                        b.wait();
                        Cache::open(&d).map(|_| ())
                    })
                })
                .collect();
            for o in opens {
                o.join().unwrap().unwrap();
            }
        }
    }

    use super::*;
    use crate::account_state::{AccountState, RelinkReason, StateWithReason};
    use crate::calendar::{ComponentKind, ObjectSummary};

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
    fn a_version_4_cache_gains_subscriptions_that_no_account_query_sees() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut conn = Connection::open(dir.path().join(CACHE_FILE)).unwrap();
            let tx = conn.transaction().unwrap();
            for sql in &schema::MIGRATIONS[..4] {
                tx.execute_batch(sql).unwrap();
            }
            tx.pragma_update(None, "user_version", 4).unwrap();
            tx.execute_batch(
                "INSERT INTO accounts (id, apple_id, server_url, keyring_service, linked_at) VALUES (1, 'a@b.c', 'http://x/', 'svc', 'now');
                 INSERT INTO calendars (id, account_id, path, url) VALUES (7, 1, '/1/calendars/home/', 'http://x/1/calendars/home/');",
            )
            .unwrap();
            tx.commit().unwrap();
        }
        let c = Cache::open(dir.path()).unwrap();
        let sub = c
            .add_subscription(
                "https://h/published/2/t",
                None,
                Some("Feed"),
                Some("#FF0000"),
                "now",
            )
            .unwrap();
        assert_eq!(sub.display_name, "Feed");
        let ids: Vec<String> = c
            .accounts()
            .unwrap()
            .into_iter()
            .map(|a| a.apple_id)
            .collect();
        assert_eq!(ids, ["a@b.c"], "the pseudo-account is no account");
        assert!(c.account("").unwrap().is_none());
        assert_eq!(c.calendars(1).unwrap().len(), 1);
        let objs = vec![StoredObject {
            href: "e.ics".into(),
            etag: Some("\"1\"".into()),
            raw: b"RAW".to_vec(),
            summary: summary("e"),
        }];
        let mut c = c;
        c.apply_batch(sub.calendar_id, &objs, &[], "now").unwrap();
        assert_eq!(c.event_count(sub.calendar_id).unwrap(), 1);
        // Removing it takes its calendar and objects along; the account's stay.
        c.delete_subscription(&sub).unwrap();
        assert!(c.subscriptions().unwrap().is_empty());
        assert_eq!(c.event_count(sub.calendar_id).unwrap(), 0);
        assert_eq!(c.calendars(1).unwrap().len(), 1);
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
    #[test]
    fn the_window_query_uses_the_window_index_and_search_escapes_like_patterns() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Cache::open(dir.path()).unwrap();
        let plan = c.candidates_plan().unwrap().join("\n");
        assert!(plan.contains("objects_window"), "{plan}");
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
        let mut with_notes = summary("a");
        with_notes.summary = Some("Dentist".into());
        let mut percent = summary("b");
        percent.summary = Some("50% off".into());
        let objs = vec![
            StoredObject {
                href: "/1/calendars/home/a.ics".into(),
                etag: None,
                raw: b"DESCRIPTION:bring the X-ray".to_vec(),
                summary: with_notes,
            },
            StoredObject {
                href: "/1/calendars/home/b.ics".into(),
                etag: None,
                raw: b"RAW".to_vec(),
                summary: percent,
            },
        ];
        c.apply_batch(cal, &objs, &[], "now").unwrap();
        let hrefs = |q: &str| -> Vec<String> {
            c.search_candidates(q, 10, 0)
                .unwrap()
                .into_iter()
                .map(|h| h.href)
                .collect()
        };
        assert_eq!(hrefs("dentIST"), vec!["/1/calendars/home/a.ics"]);
        assert_eq!(hrefs("x-RAY"), vec!["/1/calendars/home/a.ics"]);
        assert_eq!(hrefs("0%"), vec!["/1/calendars/home/b.ics"]);
        assert!(hrefs("5_%").is_empty());
        let (name, raw) = c
            .object_by_href("/1/calendars/home/a.ics")
            .unwrap()
            .unwrap();
        assert_eq!(name, "Home");
        assert_eq!(raw, b"DESCRIPTION:bring the X-ray");
        assert!(c.object_by_href("/nope").unwrap().is_none());
    }
}
