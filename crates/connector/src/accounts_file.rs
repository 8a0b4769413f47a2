//! `accounts.json` in the data dir: which accounts are linked, to which server and keychain service;
//! and `subscriptions.json`: the published calendars subscribed to (link and the person's name).
//! They let `rebuild-cache` re-add both to a fresh cache; the cache is the source of truth.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::cache::{AccountRow, SubscriptionRow};
use crate::error::{io_err, Error, Result};

const ACCOUNTS_FILE: &str = "accounts.json";
const SUBSCRIPTIONS_FILE: &str = "subscriptions.json";

/// One subscription as the file records it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SubscriptionEntry {
    pub(crate) url: String,
    #[serde(default)]
    pub(crate) name: Option<String>,
}

/// The subscriptions recorded in `data_dir`; none when the file is missing or unreadable.
pub(crate) fn read_subscriptions(data_dir: &Path) -> Vec<SubscriptionEntry> {
    std::fs::read(data_dir.join(SUBSCRIPTIONS_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Replaces `subscriptions.json` with `subs`.
pub(crate) fn write_subscriptions(data_dir: &Path, subs: &[SubscriptionRow]) -> Result<()> {
    let entries: Vec<SubscriptionEntry> = subs
        .iter()
        .map(|s| SubscriptionEntry {
            url: s.url.clone(),
            name: s.name.clone(),
        })
        .collect();
    replace(data_dir, SUBSCRIPTIONS_FILE, &entries)
}

fn replace(data_dir: &Path, name: &str, value: &impl Serialize) -> Result<()> {
    let path = data_dir.join(name);
    let tmp = data_dir.join(format!("{name}.tmp"));
    let body = serde_json::to_vec_pretty(value).map_err(|e| Error::Io(e.to_string()))?;
    std::fs::write(&tmp, body).map_err(|e| io_err("write", &tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| io_err("write", &path, e))?;
    Ok(())
}

/// One linked account as the file records it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub(crate) apple_id: String,
    pub(crate) server_url: String,
    pub(crate) keyring_service: String,
}

/// The entries in `data_dir`; none when the file is missing or unreadable.
pub(crate) fn read(data_dir: &Path) -> Vec<Entry> {
    std::fs::read(data_dir.join(ACCOUNTS_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Replaces the file with `accounts` (written to a temporary file, then renamed).
pub(crate) fn write(data_dir: &Path, accounts: &[AccountRow]) -> Result<()> {
    let entries: Vec<Entry> = accounts
        .iter()
        .map(|a| Entry {
            apple_id: a.apple_id.clone(),
            server_url: a.server_url.clone(),
            keyring_service: a.keyring_service.clone(),
        })
        .collect();
    replace(data_dir, ACCOUNTS_FILE, &entries)
}
