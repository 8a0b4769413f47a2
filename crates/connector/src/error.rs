//! The engine's error, typed for the decisions callers make (exit codes, backoff, relink), not for its
//! internals. Every message is meant to be shown to a person as it is.

use std::path::Path;
use std::time::Duration;

use crate::cache::CacheError;
use crate::credentials::KeychainError;

/// Everything that can go wrong in a connector operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server rejected the password (HTTP 401). The account now needs a relink.
    #[error("the server rejected the password for {apple_id}")]
    Rejected {
        /// The account.
        apple_id: String,
    },
    /// The server refused the password of an account being linked: nothing was linked or stored.
    #[error("{}", link_refused_text(apple_id, *apple, *looks_like_asp))]
    LinkRefused {
        /// The account.
        apple_id: String,
        /// The server is Apple's.
        apple: bool,
        /// The password has the shape of an app-specific password.
        looks_like_asp: bool,
    },
    /// The account is paused until the person relinks; nothing was sent.
    #[error("syncing {apple_id} is paused until you relink: nothing more is sent to the server")]
    NeedsRelink {
        /// The account.
        apple_id: String,
        /// Relink reason code.
        reason: String,
    },
    /// Too many verification attempts; refused locally, nothing sent.
    #[error("Apple refused the password for {apple_id} three times in 15 minutes; to keep Apple from locking the Apple ID, the next check waits: try again after {when}")]
    VerificationLimit {
        /// The account.
        apple_id: String,
        /// RFC 3339 time when the next attempt is possible.
        until: String,
        /// The same in the person's local time with the wait, e.g. "19:22 (in 14 minutes)".
        when: String,
    },
    /// The account is backing off after throttling; nothing sent.
    #[error(
        "the server asked {apple_id} to slow down; the next attempt is possible after {until}"
    )]
    BackingOff {
        /// The account.
        apple_id: String,
        /// RFC 3339 time.
        until: String,
    },
    /// Another daemon holds the data dir.
    #[error("{0}")]
    AlreadyRunning(String),
    /// The answer was not calendar data (an HTML page, a sign-in page, an empty or non-XML body).
    #[error("{0}")]
    NotDav(String),
    /// The server asked us to slow down.
    #[error("the server is throttling requests (HTTP {status}){}", retry_after.map(|d| format!("; retry after {} s", d.as_secs())).unwrap_or_default())]
    Throttled {
        /// 503 or 429.
        status: u16,
        /// How long to wait at least (already floored and doubled per docs/icloud.md §2.6).
        retry_after: Option<Duration>,
    },
    /// Could not reach the server (DNS, refused, TLS, timeout).
    #[error("{0}")]
    Unreachable(String),
    /// A temporary server-side failure (5xx, truncated body, reset).
    #[error("{0}")]
    Transient(String),
    /// The server redirected somewhere we do not send credentials.
    #[error("{0}")]
    Redirected(String),
    /// The server's answer did not make sense (missing properties, unexpected status…).
    #[error("{0}")]
    Protocol(String),
    /// The server does not offer a request we tried (engine-internal: triggers a fallback).
    #[error("{0}")]
    Unsupported(String),
    /// Keychain failure.
    #[error(transparent)]
    Keychain(#[from] KeychainError),
    /// Cache failure.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// No such account, bad argument, …
    #[error("{0}")]
    Usage(String),
    /// File system failure (export, config).
    #[error("{0}")]
    Io(String),
    /// A bug in the engine (an account state change the state machine does not allow).
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Stable machine-readable kind (status JSON, IPC `code`).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Rejected { .. } | Error::LinkRefused { .. } => "rejected",
            Error::NeedsRelink { .. } => "needs_relink",
            Error::VerificationLimit { .. } => "verification_limit",
            Error::BackingOff { .. } => "backing_off",
            Error::AlreadyRunning(_) => "already_running",
            Error::NotDav(_) => "not_dav",
            Error::Throttled { .. } => "throttled",
            Error::Unreachable(_) => "unreachable",
            Error::Transient(_) => "transient",
            Error::Redirected(_) => "redirected",
            Error::Protocol(_) => "protocol",
            Error::Unsupported(_) => "unsupported",
            Error::Keychain(_) => "keychain",
            Error::Cache(_) => "cache",
            Error::Usage(_) => "usage",
            Error::Io(_) => "io",
            Error::Internal(_) => "internal",
        }
    }

    /// Process exit code per docs/design.md: 3 needs relink, 4 unreachable or throttled, 1 other.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Rejected { .. }
            | Error::LinkRefused { .. }
            | Error::NeedsRelink { .. }
            | Error::VerificationLimit { .. } => 3,
            Error::Throttled { .. }
            | Error::BackingOff { .. }
            | Error::Unreachable(_)
            | Error::Transient(_) => 4,
            Error::Usage(_) => 2,
            _ => 1,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Cache(CacheError::Sqlite(e))
    }
}

pub(crate) fn io_err(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::Io(format!("could not {what} {}: {e}", path.display()))
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a refused first link says: nothing was linked, and what to do, by what was typed and where.
fn link_refused_text(apple_id: &str, apple: bool, looks_like_asp: bool) -> String {
    const WHERE: &str = "https://account.apple.com (Sign-In and Security → App-Specific Passwords)";
    match (apple, looks_like_asp) {
        (true, false) => format!(
            "Apple did not accept this password for {apple_id}, so nothing was linked. iCloud \
             calendars need an app-specific password, not the Apple ID password: make one at {WHERE} \
             and use it here."
        ),
        (true, true) => format!(
            "Apple did not accept this app-specific password for {apple_id}, so nothing was linked. \
             Check that the Apple ID is right and that the password was copied completely; if in \
             doubt, make a new one at {WHERE}."
        ),
        (false, _) => format!(
            "The server did not accept this user name and password for {apple_id}, so nothing was \
             linked. Check both and try again (for iCloud, use an app-specific password from {WHERE})."
        ),
    }
}
