//! Accounts: what discovery found, the state (see `crate::account_state`), errors, backoff, password
//! checks and the notification record.

use rusqlite::{params, OptionalExtension};

use super::{Cache, CacheError};
use crate::account_state::{AccountState, RelinkReason, StateWithReason};

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

impl Cache {
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
            "SELECT {} FROM accounts WHERE kind = 'account' ORDER BY id",
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
                    "SELECT {} FROM accounts WHERE apple_id = ?1 AND kind = 'account'",
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
}
