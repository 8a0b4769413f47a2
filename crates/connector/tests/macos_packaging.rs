//! The macOS packaging against the code. The sample configuration profile
//! (packaging/macos/calendar-connector.mobileconfig) against the policy reader: one custom-settings
//! payload for the app's managed preferences domain, whose keys are exactly the documented policy
//! keys, with values the reader accepts; a managed preferences file of the shape macOS writes from it
//! (a binary plist of those keys) reads back the same. The bundle: one identifier everywhere, the
//! hardened runtime on, and no entitlement beyond outgoing network (docs/macos.md).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use connector::policy::{Policy, BUNDLE_ID, KEYS};

fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

fn profile() -> plist::Dictionary {
    let v =
        plist::Value::from_file(repo("packaging/macos/calendar-connector.mobileconfig")).unwrap();
    v.into_dictionary()
        .expect("the profile's root is a dictionary")
}

fn string<'a>(d: &'a plist::Dictionary, k: &str) -> &'a str {
    d.get(k)
        .and_then(plist::Value::as_string)
        .unwrap_or_else(|| panic!("{k} is not a string"))
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

#[test]
fn the_sample_profile_sets_exactly_the_documented_keys_of_the_apps_domain() {
    let outer = profile();
    assert_eq!(string(&outer, "PayloadType"), "Configuration");
    assert_eq!(string(&outer, "PayloadScope"), "System");
    assert_eq!(
        outer
            .get("PayloadVersion")
            .and_then(plist::Value::as_signed_integer),
        Some(1)
    );
    let content = outer
        .get("PayloadContent")
        .and_then(plist::Value::as_array)
        .unwrap();
    assert_eq!(content.len(), 1, "one payload");
    let payload = content[0].as_dictionary().unwrap();
    // A custom-settings payload: its type is the managed preferences domain the app reads.
    assert_eq!(string(payload, "PayloadType"), BUNDLE_ID);
    let (a, b) = (
        string(&outer, "PayloadUUID"),
        string(payload, "PayloadUUID"),
    );
    assert!(is_uuid(a) && is_uuid(b) && a != b, "{a} {b}");
    assert_ne!(
        string(&outer, "PayloadIdentifier"),
        string(payload, "PayloadIdentifier")
    );

    let keys: BTreeSet<&str> = payload
        .keys()
        .map(String::as_str)
        .filter(|k| !k.starts_with("Payload"))
        .collect();
    assert_eq!(keys, KEYS.iter().copied().collect::<BTreeSet<_>>());

    let p = Policy::from_plist_dict(payload, "the sample profile").unwrap();
    for k in KEYS {
        assert!(p.value_of(k).is_some(), "{k} is not set by the sample");
    }
    assert_eq!(p.sync_interval_minutes, Some(30));
    assert_eq!(p.allow_demo, Some(false));
}

#[test]
fn a_managed_preferences_file_of_the_profiles_shape_reads_the_same() {
    let outer = profile();
    let payload = outer["PayloadContent"].as_array().unwrap()[0]
        .as_dictionary()
        .unwrap();
    // What macOS writes to /Library/Managed Preferences/<domain>.plist: the preference keys, as a
    // binary property list.
    let mut prefs = plist::Dictionary::new();
    for (k, v) in payload {
        if !k.starts_with("Payload") {
            prefs.insert(k.clone(), v.clone());
        }
    }
    let mut bin = Vec::new();
    plist::to_writer_binary(&mut bin, &plist::Value::Dictionary(prefs.clone())).unwrap();
    let from_file = Policy::from_plist(&bin, "/Library/Managed Preferences/x.plist").unwrap();
    assert_eq!(
        from_file,
        Policy::from_plist_dict(payload, "the sample profile").unwrap()
    );
    let mut xml = Vec::new();
    plist::to_writer_xml(&mut xml, &plist::Value::Dictionary(prefs)).unwrap();
    assert_eq!(Policy::from_plist(&xml, "x").unwrap(), from_file);
}

#[test]
fn the_bundle_identifier_is_the_same_everywhere() {
    let conf: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo("src-tauri/tauri.conf.json")).unwrap())
            .unwrap();
    assert_eq!(conf["identifier"], BUNDLE_ID);
    assert_eq!(connector::notify::APP_USER_MODEL_ID, BUNDLE_ID);
    assert_eq!(
        connector::policy::managed_preferences_path(),
        PathBuf::from(format!("/Library/Managed Preferences/{BUNDLE_ID}.plist"))
    );
    // The Info.plist merged into the bundle names the identifier nowhere else (Tauri writes
    // CFBundleIdentifier from tauri.conf.json), and the profile's payload type is checked above.
    let info = plist::Value::from_file(repo("src-tauri/Info.plist")).unwrap();
    let info = info.as_dictionary().unwrap();
    assert!(!info.contains_key("CFBundleIdentifier"));
    // Notification Center shows action buttons only in the "Alerts" style.
    assert_eq!(
        info.get("NSUserNotificationAlertStyle")
            .and_then(plist::Value::as_string),
        Some("alert")
    );
}

#[test]
fn the_bundle_is_hardened_with_outgoing_network_only() {
    let conf: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo("src-tauri/tauri.conf.json")).unwrap())
            .unwrap();
    let mac = &conf["bundle"]["macOS"];
    assert_eq!(mac["hardenedRuntime"], true);
    assert_eq!(mac["entitlements"], "macos/entitlements.plist");
    // The type-check (scripts/macos-check.sh) uses the bundle's deployment target.
    let min = mac["minimumSystemVersion"].as_str().unwrap();
    let script = std::fs::read_to_string(repo("scripts/macos-check.sh")).unwrap();
    assert!(
        script.contains(&format!("MACOSX_DEPLOYMENT_TARGET={min}\n")),
        "scripts/macos-check.sh must check for macOS {min}"
    );
    let ent = plist::Value::from_file(repo("src-tauri/macos/entitlements.plist")).unwrap();
    let ent = ent.into_dictionary().unwrap();
    let keys: Vec<&str> = ent.keys().map(String::as_str).collect();
    assert_eq!(keys, ["com.apple.security.network.client"]);
    assert_eq!(
        ent["com.apple.security.network.client"].as_boolean(),
        Some(true)
    );
}
