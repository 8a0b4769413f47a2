//! The person's settings (`<data_dir>/settings.json`) and how the managed policy overrides them. The
//! desktop window writes them; the tray agent (a process of its own on Linux) reads them, and re-reads
//! them when the file changes ([`crate::watch`]).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::policy::Policy;

/// File name in the data dir.
pub const SETTINGS_FILE: &str = "settings.json";

/// User settings, as the UI sees them (camelCase).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// Minutes between background syncs.
    pub sync_interval_minutes: u64,
    /// Start (in the tray) at login. Off by default.
    pub start_at_login: bool,
    /// Native notifications.
    pub notifications: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            sync_interval_minutes: 15,
            start_at_login: false,
            notifications: true,
        }
    }
}

impl Settings {
    /// The time between background syncs (at least a minute).
    pub fn interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.sync_interval_minutes.max(1) * 60)
    }
}

/// Settings with the policy applied: policy wins.
pub fn effective(user: &Settings, p: &Policy) -> Settings {
    Settings {
        sync_interval_minutes: p
            .sync_interval_minutes
            .unwrap_or(user.sync_interval_minutes),
        start_at_login: user.start_at_login,
        notifications: p.notifications.unwrap_or(user.notifications),
    }
}

/// Path of the settings file.
pub fn settings_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SETTINGS_FILE)
}

/// Reads the settings; a missing or unreadable file gives the defaults (logged).
pub fn load(data_dir: &Path) -> Settings {
    let path = settings_path(data_dir);
    match std::fs::read(&path) {
        Ok(b) => serde_json::from_slice(&b).unwrap_or_else(|e| {
            tracing::warn!("ignoring {}: {e}", path.display());
            Settings::default()
        }),
        Err(_) => Settings::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_wins_over_user_settings() {
        let p = Policy {
            sync_interval_minutes: Some(60),
            notifications: Some(true),
            ..Policy::default()
        };
        let user = Settings {
            sync_interval_minutes: 5,
            start_at_login: true,
            notifications: false,
        };
        let e = effective(&user, &p);
        assert_eq!(e.sync_interval_minutes, 60);
        assert!(e.notifications);
        assert!(e.start_at_login);
    }

    #[test]
    fn a_missing_or_broken_file_gives_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()), Settings::default());
        std::fs::write(settings_path(dir.path()), b"{ not json").unwrap();
        assert_eq!(load(dir.path()), Settings::default());
        std::fs::write(settings_path(dir.path()), br#"{"syncIntervalMinutes": 30}"#).unwrap();
        assert_eq!(load(dir.path()).sync_interval_minutes, 30);
        assert!(load(dir.path()).notifications);
    }
}
