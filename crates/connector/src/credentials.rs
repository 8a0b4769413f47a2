//! Credentials in the OS keychain (Secret Service, macOS Keychain, Windows Credential Manager) through
//! `keyring`, and the [`Secret`] type that keeps a password out of logs, panics and serialised output.
//!
//! docs/design.md rule 5: the password lives in the keychain and in memory only. There is no plaintext
//! fallback: without a usable keychain every operation fails with an error that says what is missing.

use std::fmt;

/// Keychain service name of real accounts: `calendar-connector` in the Secret Service and Credential
/// Manager; on macOS the bundle identifier, the convention for an app's own Keychain items.
#[cfg(not(target_os = "macos"))]
pub const SERVICE: &str = "calendar-connector";
/// Keychain service name of real accounts: `calendar-connector` in the Secret Service and Credential
/// Manager; on macOS the bundle identifier, the convention for an app's own Keychain items.
#[cfg(target_os = "macos")]
pub const SERVICE: &str = crate::config::BUNDLE_ID;

/// A password held in memory. `Debug` and `Display` are redacted, it implements neither `Serialize` nor
/// `Clone`-into-string helpers, and the bytes are overwritten when it is dropped.
pub struct Secret(String);

impl Secret {
    /// Wraps a password.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The password, for the one place that needs it: the `Authorization` header and the keychain.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A copy of this secret (explicit, so copies are visible in review).
    pub fn duplicate(&self) -> Secret {
        Secret(self.0.clone())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // Overwrite the heap buffer (its whole capacity) before it is freed, in a way the compiler
        // may not optimise away.
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// What went wrong with the keychain, in words a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum KeychainError {
    /// No usable credential store on this machine (no Secret Service on the session bus, locked keyring…).
    #[error("the system keychain is not available: {0}")]
    Unavailable(String),
    /// The entry does not exist.
    #[error("no password for {account} is stored in the system keychain (service {service})")]
    NoEntry {
        /// Keychain service name.
        service: String,
        /// Apple ID / user name.
        account: String,
    },
    /// Any other failure of the store.
    #[error("the system keychain failed: {0}")]
    Failed(String),
}

fn describe(e: &keyring::Error) -> String {
    // keyring's Display of platform errors is terse ("Couldn't access platform secure storage"); add the
    // cause so "no Secret Service on the session bus" is visible.
    let detail = format!("{e:?}");
    let hint = if detail.contains("NotFound")
        || (detail.contains("Zbus") && detail.contains("Connection"))
    {
        " — no Secret Service on the D-Bus session bus (is a keyring daemon such as gnome-keyring running, and DBUS_SESSION_BUS_ADDRESS set?)"
    } else if detail.contains("NoResult") || detail.contains("Locked") {
        " — the keyring is locked or has no default collection; unlock it (e.g. log in to the desktop) and try again"
    } else {
        ""
    };
    format!("{e}{hint}")
}

fn map_err(e: keyring::Error, service: &str, account: &str) -> KeychainError {
    match e {
        keyring::Error::NoEntry => KeychainError::NoEntry {
            service: service.to_owned(),
            account: account.to_owned(),
        },
        keyring::Error::NoStorageAccess(_)
        | keyring::Error::PlatformFailure(_)
        | keyring::Error::NoDefaultStore => KeychainError::Unavailable(describe(&e)),
        other => KeychainError::Failed(describe(&other)),
    }
}

/// A namespaced view of the OS keychain. Real accounts use service `calendar-connector`; tests and the
/// demo use `calendar-connector-<namespace>` so they never touch a real account's entry.
#[derive(Debug, Clone)]
pub struct CredentialStore {
    service: String,
}

impl CredentialStore {
    /// The store for a keychain service name (see [`service_for_namespace`]).
    pub fn new(service: impl Into<String>) -> Self {
        CredentialStore {
            service: service.into(),
        }
    }

    /// Keychain service name of this store.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Fails with a specific error when no credential store can be opened at all.
    pub fn check_available() -> Result<(), KeychainError> {
        match keyring::Entry::store_status() {
            Ok(()) => Ok(()),
            Err(e) => Err(KeychainError::Unavailable(describe(e))),
        }
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry, KeychainError> {
        Self::check_available()?;
        keyring::Entry::new(&self.service, account).map_err(|e| map_err(e, &self.service, account))
    }

    /// Stores (or replaces) the password of `account`.
    pub fn store(&self, account: &str, secret: &Secret) -> Result<(), KeychainError> {
        self.entry(account)?
            .set_password(secret.expose())
            .map_err(|e| map_err(e, &self.service, account))
    }

    /// Reads the password of `account`.
    pub fn load(&self, account: &str) -> Result<Secret, KeychainError> {
        self.entry(account)?
            .get_password()
            .map(Secret::new)
            .map_err(|e| map_err(e, &self.service, account))
    }

    /// Deletes the entry; a missing entry is not an error.
    pub fn delete(&self, account: &str) -> Result<(), KeychainError> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_err(e, &self.service, account)),
        }
    }
}

/// Where the connector keeps passwords, per (keychain service, account): the OS keychain
/// ([`OsKeychain`]) in the app and the CLI, an in-memory store ([`MemoryKeychain`]) in tests that run
/// the engine in-process.
pub trait Keychain: Send + Sync {
    /// Fails with a specific error when no store can be opened at all.
    fn check_available(&self) -> Result<(), KeychainError>;
    /// Stores (or replaces) the password of `account`.
    fn store(&self, service: &str, account: &str, secret: &Secret) -> Result<(), KeychainError>;
    /// Reads the password of `account`.
    fn load(&self, service: &str, account: &str) -> Result<Secret, KeychainError>;
    /// Deletes the entry; a missing entry is not an error.
    fn delete(&self, service: &str, account: &str) -> Result<(), KeychainError>;
}

/// The OS keychain (through [`CredentialStore`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct OsKeychain;

impl Keychain for OsKeychain {
    fn check_available(&self) -> Result<(), KeychainError> {
        CredentialStore::check_available()
    }

    fn store(&self, service: &str, account: &str, secret: &Secret) -> Result<(), KeychainError> {
        CredentialStore::new(service).store(account, secret)
    }

    fn load(&self, service: &str, account: &str) -> Result<Secret, KeychainError> {
        CredentialStore::new(service).load(account)
    }

    fn delete(&self, service: &str, account: &str) -> Result<(), KeychainError> {
        CredentialStore::new(service).delete(account)
    }
}

/// Passwords in this process's memory only, gone when it ends: for tests of the engine that must not
/// depend on (or touch) a desktop keychain. Never written anywhere.
#[derive(Default)]
pub struct MemoryKeychain {
    entries: std::sync::Mutex<std::collections::HashMap<(String, String), Secret>>,
}

impl MemoryKeychain {
    fn entries(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<(String, String), Secret>> {
        // A panic while the lock was held cannot leave the map half-updated (each call is one
        // insert, get or remove).
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl fmt::Debug for MemoryKeychain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryKeychain")
            .field("entries", &self.entries().len())
            .finish()
    }
}

impl Keychain for MemoryKeychain {
    fn check_available(&self) -> Result<(), KeychainError> {
        Ok(())
    }

    fn store(&self, service: &str, account: &str, secret: &Secret) -> Result<(), KeychainError> {
        self.entries()
            .insert((service.to_owned(), account.to_owned()), secret.duplicate());
        Ok(())
    }

    fn load(&self, service: &str, account: &str) -> Result<Secret, KeychainError> {
        self.entries()
            .get(&(service.to_owned(), account.to_owned()))
            .map(Secret::duplicate)
            .ok_or_else(|| KeychainError::NoEntry {
                service: service.to_owned(),
                account: account.to_owned(),
            })
    }

    fn delete(&self, service: &str, account: &str) -> Result<(), KeychainError> {
        self.entries()
            .remove(&(service.to_owned(), account.to_owned()));
        Ok(())
    }
}

/// Keychain service name for a namespace: `None` → the real one.
pub fn service_for_namespace(ns: Option<&str>) -> String {
    match ns {
        None | Some("") => SERVICE.to_owned(),
        Some(ns) => format!("{SERVICE}-{ns}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_and_display_are_redacted() {
        let s = Secret::new("abcd-efgh-ijkl-mnop");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        assert_eq!(format!("{s}"), "<redacted>");
        assert!(!format!("{:?}", Some(&s)).contains("abcd"));
    }

    #[test]
    fn the_memory_keychain_keeps_one_password_per_service_and_account() {
        let k = MemoryKeychain::default();
        k.store("svc", "a@x", &Secret::new("one")).unwrap();
        k.store("svc", "a@x", &Secret::new("two")).unwrap();
        k.store("other", "a@x", &Secret::new("three")).unwrap();
        assert_eq!(k.load("svc", "a@x").unwrap().expose(), "two");
        assert_eq!(k.load("other", "a@x").unwrap().expose(), "three");
        assert!(!format!("{k:?}").contains("two"));
        k.delete("svc", "a@x").unwrap();
        k.delete("svc", "a@x").unwrap();
        assert!(matches!(
            k.load("svc", "a@x"),
            Err(KeychainError::NoEntry { .. })
        ));
    }

    #[test]
    fn namespaces_never_collide_with_the_real_service() {
        assert_eq!(service_for_namespace(None), SERVICE);
        assert_eq!(
            service_for_namespace(Some("test-1")),
            format!("{SERVICE}-test-1")
        );
        #[cfg(not(target_os = "macos"))]
        assert_eq!(SERVICE, "calendar-connector");
    }
}
