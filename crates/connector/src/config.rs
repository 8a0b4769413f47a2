//! Where things live, and the `status` report.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cache::QuarantineEntry;

/// Environment variable overriding the data dir.
pub const DATA_DIR_ENV: &str = "CALENDAR_CONNECTOR_DATA_DIR";

/// The app's bundle identifier (`identifier` in src-tauri/tauri.conf.json): the macOS data folder, the
/// macOS keychain service, the managed preferences domain and the Windows AppUserModelID.
pub const BUNDLE_ID: &str = "com.calendarconnector.desktop";

/// The data dir: `--data-dir`, else `CALENDAR_CONNECTOR_DATA_DIR`, else the platform's data dir
/// (`~/.local/share/calendar-connector` on Linux, `~/Library/Application Support/com.calendarconnector.desktop` on macOS,
/// `%LOCALAPPDATA%\Calendar Connector` on Windows: the cache is this machine's, so it must not roam
/// with the profile). Logs go to its `logs` folder.
pub fn data_dir(explicit: Option<PathBuf>) -> Option<PathBuf> {
    explicit
        .or_else(|| {
            std::env::var_os(DATA_DIR_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .or_else(platform_data_dir)
}

#[cfg(windows)]
fn platform_data_dir() -> Option<PathBuf> {
    std::env::var_os("LOCALAPPDATA")
        .filter(|v| !v.is_empty())
        .map(|d| PathBuf::from(d).join("Calendar Connector"))
        .or_else(|| {
            directories::BaseDirs::new().map(|d| d.data_local_dir().join("Calendar Connector"))
        })
}

/// macOS: `~/Library/Application Support/com.calendarconnector.desktop`, the folder named after the
/// bundle identifier that Apple's File System Programming Guide asks apps to use.
#[cfg(target_os = "macos")]
fn platform_data_dir() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|d| d.data_dir().join(BUNDLE_ID))
}

#[cfg(not(any(windows, target_os = "macos")))]
fn platform_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("com", "CalendarConnector", "calendar-connector")
        .map(|d| d.data_dir().to_path_buf())
}

/// `status --json`: the contract IT scripts rely on.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    /// Every linked account.
    pub accounts: Vec<AccountStatus>,
    /// Every subscription to a published calendar (read-only, no password).
    pub subscriptions: Vec<SubscriptionStatus>,
}

/// One subscription to a published calendar in the status report.
#[derive(Debug, Clone, Serialize)]
pub struct SubscriptionStatus {
    /// The feed's link (`https://…`); also the id to hide, show or unsubscribe it.
    pub url: String,
    /// Name shown.
    pub display_name: String,
    /// `#RRGGBB` or `#RRGGBBAA`.
    pub color: Option<String>,
    /// Events cached.
    pub event_count: u64,
    /// Always true: a published calendar cannot be changed from here.
    pub read_only: bool,
    /// Hidden by the person.
    pub hidden: bool,
    /// RFC 3339 time of the last refresh attempt.
    pub last_refresh: Option<String>,
    /// RFC 3339 time of the last good answer.
    pub last_success: Option<String>,
    /// Last error, None after a success.
    pub last_error: Option<String>,
    /// Events that could not be read.
    pub quarantined: Vec<QuarantineEntry>,
}

/// Opens `<data_dir>/logs/<stem>.log` for appending, creating the folder. One previous log is kept
/// as `<stem>.old.log`, so no log grows past about 5 MB. Each program of the app (cli, desktop, agent)
/// has its own file; the diagnostics zip takes them all.
pub fn open_log(data_dir: &Path, stem: &str) -> std::io::Result<std::fs::File> {
    let dir = data_dir.join("logs");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{stem}.log"));
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > 5 * 1024 * 1024) {
        let _ = std::fs::rename(&path, dir.join(format!("{stem}.old.log")));
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
}

/// The log filter: `RUST_LOG` when it is set and readable (targets and levels such as `info` or
/// `warn,connector=debug`; no regular expressions, which would cost the binaries a regex engine),
/// otherwise `default` for everything.
pub fn log_filter(
    default: tracing_subscriber::filter::LevelFilter,
) -> tracing_subscriber::filter::Targets {
    std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| tracing_subscriber::filter::Targets::new().with_default(default))
}

/// Log lines (info and up, or [`log_filter`]) to stderr and to `<data_dir>/logs/<stem>.log`
/// ([`open_log`]): the set-up of the programs that run in the background.
pub fn init_logging(data_dir: &Path, stem: &str) {
    use tracing_subscriber::fmt::writer::MakeWriterExt;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let layer = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_ansi(false);
    let registry = tracing_subscriber::registry()
        .with(log_filter(tracing_subscriber::filter::LevelFilter::INFO));
    let _ = match open_log(data_dir, stem) {
        Ok(f) => registry
            .with(layer.with_writer(std::io::stderr.and(std::sync::Mutex::new(f))))
            .try_init(),
        Err(_) => registry.with(layer.with_writer(std::io::stderr)).try_init(),
    };
}

/// What the tray shows for a whole status report (or several: [`Overall::worst`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overall {
    /// Every account is fine (or there is none).
    Ok,
    /// A sync runs.
    Syncing,
    /// An account needs a relink.
    NeedsRelink,
}

impl Overall {
    /// The one that matters more: a relink over a sync over fine.
    pub fn worst(self, other: Overall) -> Overall {
        match (self, other) {
            (Overall::NeedsRelink, _) | (_, Overall::NeedsRelink) => Overall::NeedsRelink,
            (Overall::Syncing, _) | (_, Overall::Syncing) => Overall::Syncing,
            _ => Overall::Ok,
        }
    }

    /// The tray's tooltip and status line.
    pub fn tooltip(self) -> &'static str {
        match self {
            Overall::Ok => "Calendar Connector — calendars up to date",
            Overall::Syncing => "Calendar Connector — syncing…",
            Overall::NeedsRelink => "Calendar Connector — a new app-specific password is needed",
        }
    }
}

impl StatusReport {
    /// The tray's summary of this report.
    pub fn overall(&self) -> Overall {
        if self.first_needing_relink().is_some() {
            Overall::NeedsRelink
        } else if self.accounts.iter().any(|a| a.state == "syncing") {
            Overall::Syncing
        } else {
            Overall::Ok
        }
    }

    /// The first account that needs a relink (the tray's "Relink…" opens its wizard).
    pub fn first_needing_relink(&self) -> Option<&str> {
        self.accounts
            .iter()
            .find(|a| a.icloud_app_specific_password_required)
            .map(|a| a.apple_id.as_str())
    }
}

/// One account in the status report.
#[derive(Debug, Clone, Serialize)]
pub struct AccountStatus {
    /// Apple ID.
    pub apple_id: String,
    /// Server URL.
    pub server_url: String,
    /// `active`, `syncing`, `backoff`, `needs_relink`, `verifying`.
    pub state: String,
    /// The attribute IT scripts watch.
    pub icloud_app_specific_password_required: bool,
    /// Why a relink is needed, or null.
    pub relink_reason: Option<String>,
    /// What to do, or null when nothing is needed.
    pub guidance: Option<String>,
    /// RFC 3339, or null.
    pub last_successful_sync: Option<String>,
    /// Last error, or null.
    pub last_error: Option<String>,
    /// While backing off: the earliest next attempt (RFC 3339), else null.
    pub next_attempt_at: Option<String>,
    /// Password checks with Apple still allowed now (of 3 refusals per 15 minutes; a check that
    /// works resets it). "Try again" and a relink each use one.
    pub password_checks_left: u32,
    /// When no check is left: when the next one is allowed (RFC 3339), else null.
    pub next_password_check_at: Option<String>,
    /// Calendars.
    pub calendars: Vec<CalendarStatus>,
    /// Quarantined objects.
    pub quarantined: Vec<QuarantineEntry>,
}

/// One calendar in the status report.
#[derive(Debug, Clone, Serialize)]
pub struct CalendarStatus {
    /// Stable id: the collection path.
    pub id: String,
    /// Name.
    pub display_name: String,
    /// `#RRGGBBAA` or null.
    pub color: Option<String>,
    /// Event resources (one per href), not expanded occurrences.
    pub event_count: u64,
    /// Shared read-only calendar.
    pub read_only: bool,
    /// Hidden in the agenda.
    pub hidden: bool,
}
