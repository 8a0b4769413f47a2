//! The Calendar Connector engine: everything a user-visible feature needs, no UI.
//!
//! [`Connector`] is the facade the CLI and the desktop app call. Underneath: `icloud` (discovery,
//! response classifier, app-specific-password format), `credentials` (OS keychain, [`Secret`]),
//! `cache` (SQLite), `sync` (planner + executor), `calendar` (iCalendar parsing and recurrence
//! expansion), `account_state` (states, reasons and the transitions between them), `relink` (guidance) and `config` (data dir, status report).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod account_state;
mod accounts_file;
mod backoff;
pub mod cache;
pub mod calendar;
pub mod clock;
pub mod config;
mod connector;
pub mod credentials;
mod daemon;
pub mod demo;
pub mod error;
mod export;
pub mod icloud;
pub mod notify;
pub mod policy;
pub mod published;
pub mod relink;
pub mod settings;
mod subscription;
pub mod sync;
pub mod text;
pub mod watch;

pub use connector::{
    Connector, DetailsOut, EventOut, LinkReport, OpenOptions, SearchOut, SyncReport,
};
pub use credentials::Secret;
pub use daemon::{daemon_lock_at, DaemonLock, DaemonOptions};
pub use error::{Error, Result};
pub use export::{ExportFormat, ExportReport};
pub use subscription::SubscriptionReport;
