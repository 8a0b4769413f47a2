//! The person's settings (`<data_dir>/settings.json`) and how the managed policy overrides them.

use std::path::Path;

use connector::policy::Policy;
use serde::{Deserialize, Serialize};

use crate::error::{CmdResult, IpcError};

pub use connector::settings::{effective, load, settings_path, Settings, SETTINGS_FILE};

/// A partial update from the UI; absent keys keep their value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsUpdate {
    /// Minutes between background syncs (1–1440).
    pub sync_interval_minutes: Option<u64>,
    /// Start at login.
    pub start_at_login: Option<bool>,
    /// Notifications.
    pub notifications: Option<bool>,
}

/// The policy as the UI sees it: which settings are locked and to what.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyView {
    /// The file that was read (whether or not it exists).
    pub path: String,
    /// camelCase names of the keys the policy sets.
    pub locked: Vec<&'static str>,
    /// The values it sets (absent keys are null).
    pub server_url: Option<String>,
    /// Interval.
    pub sync_interval_minutes: Option<u64>,
    /// `false`: "Try the demo" is not offered (null: not set, offered).
    pub allow_demo: Option<bool>,
    /// Notifications.
    pub notifications: Option<bool>,
    /// Apple ID pre-filled in the link wizard.
    pub apple_id_hint: Option<String>,
}

/// The UI's view of a policy read from `path`.
pub fn policy_view(p: &Policy, path: &Path) -> PolicyView {
    let mut locked = Vec::new();
    if p.server_url.is_some() {
        locked.push("serverUrl");
    }
    if p.sync_interval_minutes.is_some() {
        locked.push("syncIntervalMinutes");
    }
    if p.allow_demo.is_some() {
        locked.push("allowDemo");
    }
    if p.notifications.is_some() {
        locked.push("notifications");
    }
    if p.apple_id_hint.is_some() {
        locked.push("appleIdHint");
    }
    PolicyView {
        path: path.display().to_string(),
        locked,
        server_url: p.server_url.clone(),
        sync_interval_minutes: p.sync_interval_minutes,
        allow_demo: p.allow_demo,
        notifications: p.notifications,
        apple_id_hint: p.apple_id_hint.clone(),
    }
}

/// Applies an update; a change to a key the policy locks is refused (the UI shows it locked).
pub fn apply(user: &Settings, up: &SettingsUpdate, p: &Policy) -> CmdResult<Settings> {
    let mut s = user.clone();
    if let Some(m) = up.sync_interval_minutes {
        if !(1..=1440).contains(&m) {
            return Err(IpcError::bad_request(
                "The sync interval must be between 1 minute and 1 day.",
            ));
        }
        match p.sync_interval_minutes {
            Some(locked) if locked != m => return Err(IpcError::policy_locked("sync interval")),
            Some(_) => {}
            None => s.sync_interval_minutes = m,
        }
    }
    if let Some(n) = up.notifications {
        match p.notifications {
            Some(locked) if locked != n => return Err(IpcError::policy_locked("notifications")),
            Some(_) => {}
            None => s.notifications = n,
        }
    }
    if let Some(a) = up.start_at_login {
        s.start_at_login = a;
    }
    Ok(s)
}

/// Writes the settings atomically.
pub fn save(data_dir: &Path, s: &Settings) -> CmdResult<()> {
    let path = settings_path(data_dir);
    let tmp = data_dir.join(format!("{SETTINGS_FILE}.tmp"));
    let body = serde_json::to_vec_pretty(s)
        .map_err(|e| IpcError::internal("Could not save the settings", e))?;
    std::fs::create_dir_all(data_dir)
        .and_then(|()| std::fs::write(&tmp, body))
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| IpcError::internal("Could not save the settings", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changing_a_locked_setting_is_refused_but_sending_its_value_is_fine() {
        let p = Policy {
            sync_interval_minutes: Some(60),
            ..Policy::default()
        };
        let up = SettingsUpdate {
            sync_interval_minutes: Some(5),
            ..Default::default()
        };
        assert_eq!(
            apply(&Settings::default(), &up, &p).unwrap_err().code,
            "policy_locked"
        );
        let up = SettingsUpdate {
            sync_interval_minutes: Some(60),
            notifications: Some(false),
            ..Default::default()
        };
        let s = apply(&Settings::default(), &up, &p).unwrap();
        assert!(!s.notifications);
    }
}
