//! The managed policy IT pre-sets on a fleet: one TOML file per machine and, on Windows, Group Policy
//! values in the registry, on macOS the managed preferences a configuration profile writes; read at
//! start. Every key it sets wins over the person's own settings, and the
//! UI shows those settings as locked.
//!
//! Where the file lives: Linux `/etc/calendar-connector/policy.toml`, macOS
//! `/Library/Application Support/Calendar Connector/policy.toml`, Windows
//! `%ProgramData%\Calendar Connector\policy.toml`; `CALENDAR_CONNECTOR_POLICY` overrides the path (tests,
//! staged roll-outs). On Windows a value under `HKLM\SOFTWARE\Policies\Calendar Connector` (what the
//! ADMX templates in packaging/windows/policy/ write) wins over the same key in the file; on macOS a key
//! in `/Library/Managed Preferences/com.calendarconnector.desktop.plist` (what a configuration profile
//! with the sample payload in packaging/macos/ writes) does. A missing
//! file or key is "no policy"; a malformed one is an error that names where it came from and what is
//! wrong, never silently ignored, so a typo cannot quietly unlock a setting. See docs/it-deployment.md.

use std::collections::BTreeMap;
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

/// The documented policy keys, in the order docs/it-deployment.md lists them. The ADMX templates, the
/// registry reader and the status report use exactly these names.
pub const KEYS: [&str; 5] = [
    "server_url",
    "sync_interval_minutes",
    "allow_demo",
    "notifications",
    "apple_id_hint",
];

/// The registry key Group Policy writes (under HKEY_LOCAL_MACHINE).
pub const REGISTRY_KEY: &str = r"SOFTWARE\Policies\Calendar Connector";

/// The app's bundle identifier: the managed preferences domain on macOS (a configuration profile's
/// payload type), and the same string as the Tauri identifier, the Windows AppUserModelID and the macOS
/// keychain service.
pub const BUNDLE_ID: &str = crate::config::BUNDLE_ID;

/// Where macOS writes the computer-level managed preferences of a configuration profile.
pub const MANAGED_PREFERENCES_DIR: &str = "/Library/Managed Preferences";

/// The managed preferences file of this app (read on macOS only).
pub fn managed_preferences_path() -> PathBuf {
    Path::new(MANAGED_PREFERENCES_DIR).join(format!("{BUNDLE_ID}.plist"))
}

/// A policy value as the Windows registry holds it (platform-neutral, so the conversion is tested on
/// every OS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryValue {
    /// REG_DWORD: numbers, and booleans as 0 or 1.
    Dword(u32),
    /// REG_SZ or REG_EXPAND_SZ: text.
    Text(String),
    /// Any other type (named, for the error).
    Other(String),
}

impl Policy {
    /// Parses policy TOML; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<Policy> {
        let origin = format!("the policy file {}", origin.display());
        let p: Policy = toml::from_str(text).map_err(|e| {
            Error::Usage(format!("{origin} is not valid: {}", e.to_string().trim()))
        })?;
        p.validate(&origin)
    }

    /// Checks the values' ranges; `origin` ("the policy file …") starts each error.
    fn validate(self, origin: &str) -> Result<Policy> {
        if let Some(m) = self.sync_interval_minutes {
            if !(1..=1440).contains(&m) {
                return Err(Error::Usage(format!(
                    "{origin} sets sync_interval_minutes = {m}; it must be 1 to 1440"
                )));
            }
        }
        if let Some(u) = &self.server_url {
            crate::connector::parse_server_url(u)
                .map_err(|e| Error::Usage(format!("{origin} sets an unusable server_url: {e}")))?;
        }
        Ok(self)
    }

    /// The policy of the values under a registry key (`location` names it in errors). Names match
    /// [`KEYS`] case-insensitively, as registry names do; an unknown name, a wrong type or a value out
    /// of range is refused exactly as in the file.
    pub fn from_registry_values(
        values: impl IntoIterator<Item = (String, RegistryValue)>,
        location: &str,
    ) -> Result<Policy> {
        let origin = format!("the Group Policy key {location}");
        let mut p = Policy::default();
        for (name, value) in values {
            let key = name.to_ascii_lowercase();
            let wrong = |want: &str| {
                Error::Usage(format!(
                    "{origin} has {name} = {}; it must be {want}",
                    describe_registry_value(&value)
                ))
            };
            match (key.as_str(), &value) {
                ("server_url", RegistryValue::Text(t)) => p.server_url = Some(t.clone()),
                ("apple_id_hint", RegistryValue::Text(t)) => p.apple_id_hint = Some(t.clone()),
                ("server_url" | "apple_id_hint", _) => return Err(wrong("text (REG_SZ)")),
                ("sync_interval_minutes", RegistryValue::Dword(n)) => {
                    p.sync_interval_minutes = Some(u64::from(*n))
                }
                ("sync_interval_minutes", _) => {
                    return Err(wrong("a number of minutes, 1 to 1440 (REG_DWORD)"))
                }
                ("allow_demo" | "notifications", RegistryValue::Dword(n @ (0 | 1))) => {
                    let b = Some(*n == 1);
                    if key == "allow_demo" {
                        p.allow_demo = b;
                    } else {
                        p.notifications = b;
                    }
                }
                ("allow_demo" | "notifications", _) => {
                    return Err(wrong("0 (off) or 1 (on) as a REG_DWORD"))
                }
                // The key's unnamed default value, which regedit creates: not a policy.
                ("", _) => {}
                _ => {
                    return Err(Error::Usage(format!(
                    "{origin} has a value named {name}, which is not a Calendar Connector policy; \
                         the policies are {}",
                    KEYS.join(", ")
                )))
                }
            }
        }
        p.validate(&origin)
    }

    /// The policy of a managed preferences plist (XML or binary; `location` names it in errors). The
    /// root is a dictionary whose keys are [`KEYS`], spelled exactly (preference keys are
    /// case-sensitive), with the types docs/it-deployment.md gives: strings, an integer, booleans.
    /// Keys starting with `Payload` (a profile's own bookkeeping) are skipped; any other key, a wrong
    /// type or a value out of range is refused exactly as in the file.
    pub fn from_plist(bytes: &[u8], location: &str) -> Result<Policy> {
        let origin = format!("the managed preferences {location}");
        let root = plist::Value::from_reader(std::io::Cursor::new(bytes))
            .map_err(|e| Error::Usage(format!("{origin} is not a valid property list: {e}")))?;
        let Some(dict) = root.as_dictionary() else {
            return Err(Error::Usage(format!(
                "{origin} is not a dictionary of preference keys"
            )));
        };
        Policy::from_plist_dict(dict, &origin)
    }

    /// [`Policy::from_plist`] of an already parsed dictionary (a `.mobileconfig` payload's).
    pub fn from_plist_dict(dict: &plist::Dictionary, origin: &str) -> Result<Policy> {
        let mut p = Policy::default();
        for (name, value) in dict {
            let wrong = |want: &str| {
                Error::Usage(format!(
                    "{origin} has {name} = {}; it must be {want}",
                    describe_plist_value(value)
                ))
            };
            match (name.as_str(), value) {
                ("server_url", plist::Value::String(t)) => p.server_url = Some(t.clone()),
                ("apple_id_hint", plist::Value::String(t)) => p.apple_id_hint = Some(t.clone()),
                ("server_url" | "apple_id_hint", _) => return Err(wrong("a string")),
                ("sync_interval_minutes", plist::Value::Integer(n)) => match n.as_unsigned() {
                    Some(m) => p.sync_interval_minutes = Some(m),
                    None => return Err(wrong("an integer, 1 to 1440")),
                },
                ("sync_interval_minutes", _) => return Err(wrong("an integer, 1 to 1440")),
                ("allow_demo", plist::Value::Boolean(b)) => p.allow_demo = Some(*b),
                ("notifications", plist::Value::Boolean(b)) => p.notifications = Some(*b),
                ("allow_demo" | "notifications", _) => {
                    return Err(wrong("a boolean (<true/> or <false/>)"))
                }
                (n, _) if n.starts_with("Payload") => {}
                _ => {
                    return Err(Error::Usage(format!(
                    "{origin} has a key named {name}, which is not a Calendar Connector policy; \
                         the policies are {}",
                    KEYS.join(", ")
                )))
                }
            }
        }
        p.validate(origin)
    }

    /// The value of `key` (one of [`KEYS`]) as JSON, or `None` when unset.
    pub fn value_of(&self, key: &str) -> Option<serde_json::Value> {
        let v = serde_json::to_value(self).ok()?;
        v.get(key).cloned()
    }

    /// `self` with every key `over` sets replaced by its value.
    fn overlaid_with(self, over: &Policy) -> Policy {
        Policy {
            server_url: over.server_url.clone().or(self.server_url),
            sync_interval_minutes: over.sync_interval_minutes.or(self.sync_interval_minutes),
            allow_demo: over.allow_demo.or(self.allow_demo),
            notifications: over.notifications.or(self.notifications),
            apple_id_hint: over.apple_id_hint.clone().or(self.apple_id_hint),
        }
    }

    /// Reads the file at `path`; a missing file is the empty policy.
    pub fn load_from(path: &Path) -> Result<Policy> {
        match std::fs::read_to_string(path) {
            Ok(text) => Policy::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Policy::default()),
            Err(e) => Err(crate::error::io_err("read", path, e)),
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

fn describe_registry_value(v: &RegistryValue) -> String {
    match v {
        RegistryValue::Dword(n) => format!("{n} (REG_DWORD)"),
        RegistryValue::Text(t) => format!("{t:?} (REG_SZ)"),
        RegistryValue::Other(ty) => format!("a {ty} value"),
    }
}

fn describe_plist_value(v: &plist::Value) -> String {
    match v {
        plist::Value::String(t) => format!("{t:?} (a string)"),
        plist::Value::Integer(n) => format!("{n} (an integer)"),
        plist::Value::Boolean(b) => format!("{b} (a boolean)"),
        plist::Value::Real(r) => format!("{r} (a real number)"),
        plist::Value::Array(_) => "an array".into(),
        plist::Value::Dictionary(_) => "a dictionary".into(),
        plist::Value::Data(_) => "data".into(),
        plist::Value::Date(_) => "a date".into(),
        _ => "a value of another type".into(),
    }
}

/// Where one policy value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The policy file.
    File,
    /// Group Policy (the Windows registry).
    Registry,
    /// A configuration profile (macOS managed preferences).
    ManagedPreferences,
}

/// One key of the policy in force, for `status --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyReport {
    /// The value, or null when nothing sets it (the person's own setting applies).
    pub value: Option<serde_json::Value>,
    /// Where it came from, or null when unset.
    pub source: Option<Source>,
    /// The file path, registry value or managed preferences file and key that set it, or null.
    pub location: Option<String>,
}

/// The managed policy in force: the file, overlaid with Group Policy (Windows) or managed preferences
/// (macOS), and where each key came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Managed {
    /// The merged policy.
    pub policy: Policy,
    /// The file that was read (whether or not it exists).
    pub file: PathBuf,
    /// The policy the file sets.
    pub from_file: Policy,
    /// The policy Group Policy sets (empty off Windows).
    pub from_registry: Policy,
    /// The managed preferences file that was read (`None` off macOS).
    pub managed_preferences: Option<PathBuf>,
    /// The policy a configuration profile sets (empty off macOS).
    pub from_managed_preferences: Policy,
}

impl Managed {
    /// Merges the file and Group Policy: the registry wins key by key.
    pub fn merge(file: PathBuf, from_file: Policy, from_registry: Policy) -> Managed {
        Managed {
            policy: from_file.clone().overlaid_with(&from_registry),
            file,
            from_file,
            from_registry,
            managed_preferences: None,
            from_managed_preferences: Policy::default(),
        }
    }

    /// `self` with the managed preferences read from `path` on top: they win key by key.
    pub fn with_managed_preferences(self, path: PathBuf, prefs: Policy) -> Managed {
        Managed {
            policy: self.policy.clone().overlaid_with(&prefs),
            managed_preferences: Some(path),
            from_managed_preferences: prefs,
            ..self
        }
    }

    /// Every documented key with its value and source.
    pub fn report(&self) -> BTreeMap<&'static str, KeyReport> {
        KEYS.iter()
            .map(|&k| {
                let prefs = self.managed_preferences.as_ref();
                let r = if let (Some(v), Some(path)) =
                    (self.from_managed_preferences.value_of(k), prefs)
                {
                    KeyReport {
                        value: Some(v),
                        source: Some(Source::ManagedPreferences),
                        location: Some(format!("{} {k}", path.display())),
                    }
                } else if let Some(v) = self.from_registry.value_of(k) {
                    KeyReport {
                        value: Some(v),
                        source: Some(Source::Registry),
                        location: Some(format!(r"HKLM\{REGISTRY_KEY}\{k}")),
                    }
                } else if let Some(v) = self.from_file.value_of(k) {
                    KeyReport {
                        value: Some(v),
                        source: Some(Source::File),
                        location: Some(self.file.display().to_string()),
                    }
                } else {
                    KeyReport {
                        value: None,
                        source: None,
                        location: None,
                    }
                };
                (k, r)
            })
            .collect()
    }
}

/// Reads this machine's policy: the file ([`policy_path`]) and, on Windows, Group Policy's registry
/// values, on macOS the managed preferences, which win. Any layer being invalid is an error.
pub fn load_managed() -> Result<Managed> {
    let file = policy_path();
    let from_file = Policy::load_from(&file)?;
    let from_registry = read_registry()?;
    let managed = Managed::merge(file, from_file, from_registry);
    #[cfg(target_os = "macos")]
    {
        let path = managed_preferences_path();
        let prefs = load_managed_preferences(&path)?;
        Ok(managed.with_managed_preferences(path, prefs))
    }
    #[cfg(not(target_os = "macos"))]
    Ok(managed)
}

/// Reads a managed preferences plist; a missing file is the empty policy (no profile installed).
pub fn load_managed_preferences(path: &Path) -> Result<Policy> {
    match std::fs::read(path) {
        Ok(bytes) => Policy::from_plist(&bytes, &path.display().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Policy::default()),
        Err(e) => Err(crate::error::io_err("read", path, e)),
    }
}

#[cfg(windows)]
fn read_registry() -> Result<Policy> {
    use windows_registry::{Type, LOCAL_MACHINE};
    let location = format!(r"HKLM\{REGISTRY_KEY}");
    let key = match LOCAL_MACHINE.options().read().open(REGISTRY_KEY) {
        Ok(k) => k,
        // ERROR_FILE_NOT_FOUND as an HRESULT: no Group Policy for this app.
        Err(e) if e.code().0 as u32 == 0x8007_0002 => return Ok(Policy::default()),
        Err(e) => {
            return Err(Error::Io(format!(
                "could not read the Group Policy key {location}: {}",
                e.message()
            )))
        }
    };
    let values = key.values().map_err(|e| {
        Error::Io(format!(
            "could not list the Group Policy key {location}: {}",
            e.message()
        ))
    })?;
    let mut out = Vec::new();
    for (name, value) in values {
        let v = match value.ty() {
            Type::U32 => match u32::try_from(value) {
                Ok(n) => RegistryValue::Dword(n),
                Err(_) => RegistryValue::Other("malformed REG_DWORD".into()),
            },
            Type::String | Type::ExpandString => match String::try_from(value) {
                Ok(t) => RegistryValue::Text(t),
                Err(_) => RegistryValue::Other("malformed REG_SZ".into()),
            },
            Type::U64 => RegistryValue::Other("REG_QWORD".into()),
            Type::MultiString => RegistryValue::Other("REG_MULTI_SZ".into()),
            Type::Bytes => RegistryValue::Other("REG_BINARY".into()),
            Type::Other(t) => RegistryValue::Other(format!("registry type {t}")),
        };
        out.push((name, v));
    }
    Policy::from_registry_values(out, &location)
}

#[cfg(not(windows))]
fn read_registry() -> Result<Policy> {
    Ok(Policy::default())
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

    fn reg(v: &[(&str, RegistryValue)]) -> Vec<(String, RegistryValue)> {
        v.iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn registry_values_map_to_the_same_keys_and_checks_as_the_file() {
        let p = Policy::from_registry_values(
            reg(&[
                (
                    "server_url",
                    RegistryValue::Text("https://caldav.example.com/".into()),
                ),
                ("Sync_Interval_Minutes", RegistryValue::Dword(30)),
                ("allow_demo", RegistryValue::Dword(0)),
                ("notifications", RegistryValue::Dword(1)),
                ("apple_id_hint", RegistryValue::Text("a@example.com".into())),
                ("", RegistryValue::Text(String::new())),
            ]),
            r"HKLM\X",
        )
        .unwrap();
        assert_eq!(p.sync_interval_minutes, Some(30));
        assert_eq!(p.allow_demo, Some(false));
        assert_eq!(p.notifications, Some(true));
        assert_eq!(p.server_url.as_deref(), Some("https://caldav.example.com/"));
        for (bad, says) in [
            (
                ("sync_interval_minutes", RegistryValue::Dword(0)),
                "1 to 1440",
            ),
            (
                ("sync_interval_minutes", RegistryValue::Text("30".into())),
                "REG_DWORD",
            ),
            (("allow_demo", RegistryValue::Dword(2)), "0 (off) or 1 (on)"),
            (("server_url", RegistryValue::Dword(1)), "REG_SZ"),
            (
                ("server_url", RegistryValue::Text("caldav".into())),
                "server_url",
            ),
            (
                ("sync_intervall_minutes", RegistryValue::Dword(5)),
                "not a Calendar Connector policy",
            ),
            (
                ("notifications", RegistryValue::Other("REG_QWORD".into())),
                "REG_QWORD",
            ),
        ] {
            let e = Policy::from_registry_values(reg(&[bad]), r"HKLM\X").unwrap_err();
            let msg = e.to_string();
            assert!(msg.contains(r"Group Policy key HKLM\X"), "{msg}");
            assert!(msg.contains(says), "{msg}");
        }
    }

    #[test]
    fn the_registry_wins_key_by_key_and_the_report_names_each_source() {
        let file = Policy::parse(
            "sync_interval_minutes = 60\nallow_demo = true\n",
            Path::new("/etc/p.toml"),
        )
        .unwrap();
        let registry = Policy {
            sync_interval_minutes: Some(30),
            ..Policy::default()
        };
        let m = Managed::merge(PathBuf::from("/etc/p.toml"), file, registry);
        assert_eq!(m.policy.sync_interval_minutes, Some(30));
        assert_eq!(m.policy.allow_demo, Some(true));
        let r = m.report();
        assert_eq!(r.len(), KEYS.len());
        let i = &r["sync_interval_minutes"];
        assert_eq!(i.value, Some(serde_json::json!(30)));
        assert_eq!(i.source, Some(Source::Registry));
        assert_eq!(
            i.location.as_deref(),
            Some(r"HKLM\SOFTWARE\Policies\Calendar Connector\sync_interval_minutes")
        );
        assert_eq!(r["allow_demo"].source, Some(Source::File));
        assert_eq!(r["allow_demo"].location.as_deref(), Some("/etc/p.toml"));
        assert_eq!(r["server_url"].value, None);
        assert_eq!(r["server_url"].source, None);
    }

    #[test]
    fn the_documented_keys_are_the_policy_fields() {
        let all = Policy {
            server_url: Some("https://x.example/".into()),
            sync_interval_minutes: Some(1),
            allow_demo: Some(true),
            notifications: Some(true),
            apple_id_hint: Some("a".into()),
        };
        let v = serde_json::to_value(&all).unwrap();
        let mut fields: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        fields.sort_unstable();
        let mut keys = KEYS.to_vec();
        keys.sort_unstable();
        assert_eq!(fields, keys);
    }

    const PREFS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
<key>server_url</key><string>https://caldav.example.com/</string>
<key>sync_interval_minutes</key><integer>30</integer>
<key>allow_demo</key><false/>
<key>notifications</key><true/>
<key>apple_id_hint</key><string>a@example.com</string>
<key>PayloadUUID</key><string>not a policy, skipped</string>
</dict></plist>"#;

    #[test]
    fn managed_preferences_map_to_the_same_keys_xml_or_binary() {
        let p = Policy::from_plist(PREFS.as_bytes(), "/L/x.plist").unwrap();
        assert_eq!(p.server_url.as_deref(), Some("https://caldav.example.com/"));
        assert_eq!(p.sync_interval_minutes, Some(30));
        assert_eq!(p.allow_demo, Some(false));
        assert_eq!(p.notifications, Some(true));
        assert_eq!(p.apple_id_hint.as_deref(), Some("a@example.com"));
        // macOS usually stores managed preferences as binary plists.
        let v = plist::Value::from_reader_xml(PREFS.as_bytes()).unwrap();
        let mut bin = Vec::new();
        plist::to_writer_binary(&mut bin, &v).unwrap();
        assert!(bin.starts_with(b"bplist00"));
        assert_eq!(Policy::from_plist(&bin, "/L/x.plist").unwrap(), p);
    }

    fn prefs_with(body: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\"><dict>{body}</dict></plist>"
        )
    }

    #[test]
    fn a_bad_managed_preference_is_refused_with_its_source() {
        for (body, says) in [
            (
                "<key>sync_interval_minutes</key><integer>0</integer>",
                "1 to 1440",
            ),
            (
                "<key>sync_interval_minutes</key><integer>-5</integer>",
                "an integer, 1 to 1440",
            ),
            (
                "<key>sync_interval_minutes</key><string>30</string>",
                "an integer",
            ),
            ("<key>allow_demo</key><integer>1</integer>", "a boolean"),
            ("<key>notifications</key><string>yes</string>", "a boolean"),
            ("<key>server_url</key><true/>", "a string"),
            ("<key>server_url</key><string>caldav</string>", "server_url"),
            (
                "<key>Allow_Demo</key><false/>",
                "not a Calendar Connector policy",
            ),
        ] {
            let e = Policy::from_plist(prefs_with(body).as_bytes(), "/L/x.plist").unwrap_err();
            let msg = e.to_string();
            assert!(msg.contains("managed preferences /L/x.plist"), "{msg}");
            assert!(msg.contains(says), "{body}: {msg}");
        }
        let e = Policy::from_plist(b"not a plist", "/L/x.plist").unwrap_err();
        assert!(e.to_string().contains("not a valid property list"), "{e}");
        let e = Policy::from_plist(b"<plist version=\"1.0\"><array/></plist>", "/L/x.plist")
            .unwrap_err();
        assert!(e.to_string().contains("not a dictionary"), "{e}");
        assert!(Policy::from_plist(prefs_with("").as_bytes(), "x")
            .unwrap()
            .is_empty());
    }

    #[test]
    fn managed_preferences_win_over_the_file_and_the_report_names_them() {
        let file = Policy::parse(
            "sync_interval_minutes = 60\nallow_demo = true\n",
            Path::new("/p.toml"),
        )
        .unwrap();
        let prefs = Policy {
            sync_interval_minutes: Some(15),
            ..Policy::default()
        };
        let path = managed_preferences_path();
        assert_eq!(
            path,
            Path::new("/Library/Managed Preferences/com.calendarconnector.desktop.plist")
        );
        let m = Managed::merge(PathBuf::from("/p.toml"), file, Policy::default())
            .with_managed_preferences(path, prefs);
        assert_eq!(m.policy.sync_interval_minutes, Some(15));
        assert_eq!(m.policy.allow_demo, Some(true));
        let r = m.report();
        let i = &r["sync_interval_minutes"];
        assert_eq!(i.value, Some(serde_json::json!(15)));
        assert_eq!(i.source, Some(Source::ManagedPreferences));
        assert_eq!(
            i.location.as_deref(),
            Some("/Library/Managed Preferences/com.calendarconnector.desktop.plist sync_interval_minutes")
        );
        assert_eq!(
            serde_json::to_value(&i.source).unwrap(),
            serde_json::json!("managed_preferences")
        );
        assert_eq!(r["allow_demo"].source, Some(Source::File));
        assert_eq!(r["server_url"].source, None);
    }

    #[test]
    fn a_missing_managed_preferences_file_is_no_policy_and_a_bad_one_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let absent = dir.path().join("absent.plist");
        assert!(load_managed_preferences(&absent).unwrap().is_empty());
        let bad = dir.path().join("bad.plist");
        std::fs::write(
            &bad,
            prefs_with("<key>sync_interval_minutes</key><integer>5000</integer>"),
        )
        .unwrap();
        let e = load_managed_preferences(&bad).unwrap_err().to_string();
        assert!(e.contains(&bad.display().to_string()), "{e}");
    }

    #[test]
    fn a_missing_file_is_no_policy() {
        let dir = tempfile::tempdir().unwrap();
        let p = Policy::load_from(&dir.path().join("absent.toml")).unwrap();
        assert!(p.is_empty());
    }
}
