//! The managed policy file IT pre-sets on a fleet: one TOML file per machine, read at start; every key
//! it sets wins over the person's own settings, and the UI shows those settings as locked.
//!
//! Where it lives: Linux `/etc/calendar-connector/policy.toml`, macOS
//! `/Library/Application Support/Calendar Connector/policy.toml`, Windows
//! `%ProgramData%\Calendar Connector\policy.toml`; `CALENDAR_CONNECTOR_POLICY` overrides the path (tests,
//! staged roll-outs). A missing file is "no policy"; a malformed one is an error that names the file and
//! the line, never silently ignored, so a typo cannot quietly unlock a setting. See docs/it-deployment.md.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Environment variable overriding the policy file's path.
pub const POLICY_ENV: &str = "CALENDAR_CONNECTOR_POLICY";

/// The keys IT can set. Every key is optional; an absent key leaves the setting to the person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// CalDAV server every new link uses (for example a CalDAV proxy); the person cannot change it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_url: Option<String>,
    /// Minutes between background syncs (1–1440).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_interval_minutes: Option<u64>,
    /// `false` hides "Try the demo" (the built-in simulator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_demo: Option<bool>,
    /// Native notifications on or off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<bool>,
    /// Apple ID pre-filled in the link wizard (for example the person's managed Apple ID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apple_id_hint: Option<String>,
}

impl Policy {
    /// Parses policy TOML; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<Policy> {
        let p: Policy = toml::from_str(text).map_err(|e| {
            Error::Usage(format!(
                "the policy file {} is not valid: {}",
                origin.display(),
                e.to_string().trim()
            ))
        })?;
        if let Some(m) = p.sync_interval_minutes {
            if !(1..=1440).contains(&m) {
                return Err(Error::Usage(format!(
                    "the policy file {} sets sync_interval_minutes = {m}; it must be 1 to 1440",
                    origin.display()
                )));
            }
        }
        if let Some(u) = &p.server_url {
            crate::connector::parse_server_url(u).map_err(|e| {
                Error::Usage(format!(
                    "the policy file {} sets an unusable server_url: {e}",
                    origin.display()
                ))
            })?;
        }
        Ok(p)
    }

    /// Reads the file at `path`; a missing file is the empty policy.
    pub fn load_from(path: &Path) -> Result<Policy> {
        match std::fs::read_to_string(path) {
            Ok(text) => Policy::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Policy::default()),
            Err(e) => Err(crate::connector::io_err("read", path, e)),
        }
    }

    /// Reads the machine's policy ([`policy_path`]).
    pub fn load() -> Result<Policy> {
        Policy::load_from(&policy_path())
    }

    /// Whether any key is set.
    pub fn is_empty(&self) -> bool {
        *self == Policy::default()
    }
}

/// The policy file of this machine: `CALENDAR_CONNECTOR_POLICY`, else the per-OS system-wide path.
pub fn policy_path() -> PathBuf {
    if let Some(p) = std::env::var_os(POLICY_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(p);
    }
    system_policy_path()
}

/// The per-OS system-wide path (ignoring the environment).
pub fn system_policy_path() -> PathBuf {
    #[cfg(target_os = "macos")]
    {
        PathBuf::from("/Library/Application Support/Calendar Connector/policy.toml")
    }
    #[cfg(windows)]
    {
        let base = std::env::var_os("ProgramData")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(r"C:\ProgramData"));
        base.join("Calendar Connector").join("policy.toml")
    }
    #[cfg(not(any(target_os = "macos", windows)))]
    {
        PathBuf::from("/etc/calendar-connector/policy.toml")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_key_parses() {
        let p = Policy::parse(
            "server_url = \"https://caldav.example.com/\"\nsync_interval_minutes = 30\nallow_demo = false\nnotifications = true\napple_id_hint = \"a@example.com\"\n",
            Path::new("policy.toml"),
        )
        .unwrap();
        assert_eq!(p.sync_interval_minutes, Some(30));
        assert_eq!(p.allow_demo, Some(false));
        assert_eq!(p.notifications, Some(true));
        assert_eq!(p.apple_id_hint.as_deref(), Some("a@example.com"));
        assert!(!p.is_empty());
    }

    #[test]
    fn a_typo_is_an_error_not_an_unlocked_setting() {
        let e =
            Policy::parse("sync_intervall_minutes = 5\n", Path::new("/etc/p.toml")).unwrap_err();
        assert!(e.to_string().contains("/etc/p.toml"), "{e}");
        assert!(Policy::parse("sync_interval_minutes = 0\n", Path::new("p")).is_err());
        assert!(Policy::parse("server_url = \"caldav\"\n", Path::new("p")).is_err());
    }

    #[test]
    fn a_missing_file_is_no_policy() {
        let dir = tempfile::tempdir().unwrap();
        let p = Policy::load_from(&dir.path().join("absent.toml")).unwrap();
        assert!(p.is_empty());
    }
}
