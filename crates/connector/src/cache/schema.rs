//! Versioned migrations. `PRAGMA user_version` holds the number of migrations applied; each runs in
//! its own transaction, so a crash mid-upgrade leaves the previous version intact.

/// Migration N (1-based) brings the schema from version N-1 to N. Append only; never edit one that shipped.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: accounts, calendars, objects (raw bytes as received + parsed fields), quarantine.
    r#"
    CREATE TABLE accounts (
        id                    INTEGER PRIMARY KEY,
        apple_id              TEXT NOT NULL UNIQUE,
        server_url            TEXT NOT NULL,
        keyring_service       TEXT NOT NULL,
        dsid                  TEXT,
        principal_url         TEXT,
        home_url              TEXT,
        trusted_hosts         TEXT NOT NULL DEFAULT '[]',
        state                 TEXT NOT NULL DEFAULT 'active',
        relink_reason         TEXT,
        password_worked       INTEGER NOT NULL DEFAULT 0,
        last_successful_sync  TEXT,
        last_error            TEXT,
        last_error_kind       TEXT,
        linked_at             TEXT NOT NULL
    );
    CREATE TABLE calendars (
        id              INTEGER PRIMARY KEY,
        account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        path            TEXT NOT NULL,
        url             TEXT NOT NULL,
        display_name    TEXT,
        color           TEXT,
        ctag            TEXT,
        sync_token      TEXT,
        read_only       INTEGER NOT NULL DEFAULT 0,
        sort_order      INTEGER,
        hidden          INTEGER NOT NULL DEFAULT 0,
        sync_mode       TEXT NOT NULL DEFAULT 'sync-collection',
        last_synced     TEXT,
        UNIQUE(account_id, path)
    );
    CREATE TABLE objects (
        calendar_id   INTEGER NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
        href          TEXT NOT NULL,
        etag          TEXT,
        raw           BLOB NOT NULL,
        uid           TEXT NOT NULL,
        summary       TEXT,
        location      TEXT,
        all_day       INTEGER NOT NULL,
        recurring     INTEGER NOT NULL,
        component     TEXT NOT NULL,
        window_start  INTEGER NOT NULL,
        window_end    INTEGER,
        PRIMARY KEY (calendar_id, href)
    ) WITHOUT ROWID;
    CREATE INDEX objects_window ON objects(window_start, window_end);
    CREATE TABLE quarantine (
        calendar_id  INTEGER NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
        href         TEXT NOT NULL,
        etag         TEXT,
        error        TEXT NOT NULL,
        raw          BLOB,
        first_seen   TEXT NOT NULL,
        PRIMARY KEY (calendar_id, href)
    ) WITHOUT ROWID;
    "#,
    // 2: lockout protection and notifications: backoff, persistent verification attempts, the
    // notification shown per account.
    r#"
    ALTER TABLE accounts ADD COLUMN next_attempt_at INTEGER;
    ALTER TABLE accounts ADD COLUMN backoff_secs INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE verification_attempts (
        account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        at          INTEGER NOT NULL
    );
    CREATE INDEX verification_attempts_account ON verification_attempts(account_id, at);
    CREATE TABLE notifications (
        account_id     INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
        kind           TEXT,
        notification_id INTEGER,
        last_shown     INTEGER,
        snoozed_until  INTEGER
    );
    "#,
    // 3: objects becomes a rowid table with a unique (calendar_id, href) index. Clustered on the href
    // (WITHOUT ROWID), every batch of random hrefs dirtied one ~700-byte-row leaf page per object and
    // left pages half full; now rows append and only the small index is written at random, which
    // halves the cache's size and the bytes a first sync writes (bench/RESULTS.md).
    r#"
    CREATE TABLE objects_v3 (
        calendar_id   INTEGER NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
        href          TEXT NOT NULL,
        etag          TEXT,
        raw           BLOB NOT NULL,
        uid           TEXT NOT NULL,
        summary       TEXT,
        location      TEXT,
        all_day       INTEGER NOT NULL,
        recurring     INTEGER NOT NULL,
        component     TEXT NOT NULL,
        window_start  INTEGER NOT NULL,
        window_end    INTEGER,
        UNIQUE (calendar_id, href)
    );
    INSERT INTO objects_v3 (calendar_id, href, etag, raw, uid, summary, location, all_day, recurring, component, window_start, window_end)
        SELECT calendar_id, href, etag, raw, uid, summary, location, all_day, recurring, component, window_start, window_end
        FROM objects ORDER BY calendar_id, href;
    DROP TABLE objects;
    ALTER TABLE objects_v3 RENAME TO objects;
    CREATE INDEX objects_window ON objects(window_start, window_end);
    "#,
    // 4: account states and relink reasons are typed in the engine (`account_state`); only their codes
    // may be stored. Values an older build could leave are normalised the way it read them (an unknown
    // state was read as `active`, an unknown reason as none, and a `needs_relink` without a reason
    // was shown the `password_rejected` guidance), and triggers refuse anything else from now on.
    r#"
    UPDATE accounts SET state = 'active'
        WHERE state NOT IN ('active', 'syncing', 'backoff', 'needs_relink', 'verifying');
    UPDATE accounts SET relink_reason = NULL
        WHERE relink_reason NOT IN ('app_specific_password_required', 'password_revoked', 'password_rejected');
    UPDATE accounts SET relink_reason = 'password_rejected'
        WHERE state = 'needs_relink' AND relink_reason IS NULL;
    CREATE TRIGGER accounts_state_insert BEFORE INSERT ON accounts
        WHEN NEW.state NOT IN ('active', 'syncing', 'backoff', 'needs_relink', 'verifying')
          OR NEW.relink_reason NOT IN ('app_specific_password_required', 'password_revoked', 'password_rejected')
          OR (NEW.state = 'needs_relink' AND NEW.relink_reason IS NULL)
    BEGIN SELECT RAISE(ABORT, 'invalid account state or relink reason'); END;
    CREATE TRIGGER accounts_state_update BEFORE UPDATE OF state, relink_reason ON accounts
        WHEN NEW.state NOT IN ('active', 'syncing', 'backoff', 'needs_relink', 'verifying')
          OR NEW.relink_reason NOT IN ('app_specific_password_required', 'password_revoked', 'password_rejected')
          OR (NEW.state = 'needs_relink' AND NEW.relink_reason IS NULL)
    BEGIN SELECT RAISE(ABORT, 'invalid account state or relink reason'); END;
    "#,
    // 5: subscriptions to published calendars (an `.ics` feed read by URL, no password). Each owns a
    // read-only row in `calendars`, so its events, visibility, export and the views need nothing new.
    // Those rows hang off one hidden pseudo-account (`kind = 'subscriptions'`, empty Apple ID, which
    // `link` refuses) instead of a nullable `calendars.account_id`: SQLite cannot relax a NOT NULL in
    // place, and rebuilding `calendars` would cascade-delete every cached object through the foreign
    // keys. Account queries only see `kind = 'account'`, so sync, status, notifications and
    // accounts.json never meet the pseudo-account. Removing a subscription deletes its calendar row;
    // its objects, quarantine and this row go with it (ON DELETE CASCADE).
    r#"
    ALTER TABLE accounts ADD COLUMN kind TEXT NOT NULL DEFAULT 'account';
    CREATE TABLE subscriptions (
        id              INTEGER PRIMARY KEY,
        calendar_id     INTEGER NOT NULL UNIQUE REFERENCES calendars(id) ON DELETE CASCADE,
        url             TEXT NOT NULL UNIQUE,
        name            TEXT,
        etag            TEXT,
        last_modified   TEXT,
        last_refresh    TEXT,
        last_success    TEXT,
        last_error      TEXT,
        added_at        TEXT NOT NULL
    );
    "#,
];
