//! The IPC commands over the mock runtime: no display, no window system. Tests that need the OS
//! keychain (the demo links an account) skip without one, and fail when REQUIRE_KEYCHAIN=1 (CI runs
//! them inside scripts/ci/desktop-session.sh, with an unlocked gnome-keyring).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use calendar_connector_app::{run_app, AppOptions};
use connector::policy::Policy;
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewWindow, WebviewWindowBuilder};

struct Harness {
    _app: App<tauri::test::MockRuntime>,
    webview: WebviewWindow<tauri::test::MockRuntime>,
}

fn harness(data_dir: &Path, policy: Policy) -> Harness {
    let opts = AppOptions {
        data_dir: data_dir.to_path_buf(),
        policy,
        policy_path: data_dir.join("policy.toml"),
        background: false,
        main_daemon: false,
        tray: false,
        open_window: false,
        open_relink: None,
        relink_on_open: false,
    };
    let app = run_app(mock_builder(), opts)
        .unwrap()
        // The real context: the real capabilities decide what the webview may call.
        .build(tauri::generate_context!())
        .unwrap();
    let webview = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    Harness { _app: app, webview }
}

impl Harness {
    fn call(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        get_ipc_response(
            &self.webview,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|b| b.deserialize::<Value>().unwrap())
    }

    fn ok(&self, cmd: &str, args: Value) -> Value {
        self.call(cmd, args.clone())
            .unwrap_or_else(|e| panic!("{cmd}({args}) failed: {e}"))
    }

    fn err(&self, cmd: &str, args: Value) -> Value {
        match self.call(cmd, args.clone()) {
            Ok(v) => panic!("{cmd}({args}) should fail, got {v}"),
            Err(e) => e,
        }
    }
}

/// The demo account lives in one keychain namespace (`calendar-connector-demo`): tests that start a
/// demo take turns, or one test's stop_demo would delete the other's password.
static DEMO: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn demo_turn() -> std::sync::MutexGuard<'static, ()> {
    DEMO.lock().unwrap_or_else(|p| p.into_inner())
}

fn keychain_available() -> bool {
    let ok = connector::credentials::CredentialStore::check_available().is_ok();
    if !ok && std::env::var_os("REQUIRE_KEYCHAIN").is_some_and(|v| v == "1") {
        panic!(
            "REQUIRE_KEYCHAIN=1 but no usable keychain (run inside scripts/ci/desktop-session.sh)"
        );
    }
    ok
}

#[test]
fn fresh_data_dir_has_no_accounts_default_settings_and_no_policy() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path(), Policy::default());
    let s = h.ok("get_state", json!({}));
    assert_eq!(s["accounts"], json!([]));
    assert_eq!(s["demo"], json!(false));
    assert_eq!(s["demoPassword"], Value::Null);
    assert_eq!(s["policy"]["locked"], json!([]));
    assert_eq!(s["policy"]["allowDemo"], Value::Null);
    assert_eq!(
        s["settings"],
        json!({"syncIntervalMinutes": 15, "startAtLogin": false, "notifications": true})
    );
    assert_eq!(s["defaultServerUrl"], json!("https://caldav.icloud.com/"));
    assert_eq!(s["pendingRelink"], Value::Null);
}

#[test]
fn check_password_normalises_and_flags_the_shape() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path(), Policy::default());
    let r = h.ok("check_password", json!({"input": " ABCDEFGHIJKLMNOP "}));
    assert_eq!(
        r,
        json!({"normalized": "abcd-efgh-ijkl-mnop", "looksLikeAsp": true})
    );
    let r = h.ok("check_password", json!({"input": "my-apple-id-password"}));
    assert_eq!(r["looksLikeAsp"], json!(false));
}

#[test]
fn errors_cross_ipc_as_code_and_message() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path(), Policy::default());
    let e = h.err(
        "events",
        json!({"from": "yesterday", "to": "2026-01-02T00:00:00Z"}),
    );
    assert_eq!(e["code"], json!("bad_request"));
    assert!(e["message"].as_str().unwrap().contains("RFC 3339"), "{e}");
    let e = h.err("unlink_account", json!({"appleId": "nobody@example.com"}));
    assert_eq!(e["code"], json!("usage"));
    assert!(e["message"]
        .as_str()
        .unwrap()
        .contains("nobody@example.com"));
    let e = h.err("simulate_revocation", json!({}));
    assert_eq!(
        e,
        json!({"code": "not_demo", "message": "This only works in demo mode."})
    );
    let e = h.err("guidance", json!({"reason": "gremlins"}));
    assert_eq!(e["code"], json!("bad_request"));
    let e = h.err("export_calendars", json!({"format": "csv"}));
    assert_eq!(e["code"], json!("bad_request"));
    // an empty sync reports no errors and no accounts
    assert_eq!(
        h.ok("sync_now", json!({})),
        json!({"reports": [], "errors": []})
    );
}

/// The window's guidance is connector's, with the last step for a window: no command to run.
#[test]
fn guidance_is_connectors_text() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path(), Policy::default());
    for reason in [
        connector::relink::RelinkReason::AppSpecificPasswordRequired,
        connector::relink::RelinkReason::PasswordRevoked,
        connector::relink::RelinkReason::PasswordRejected,
    ] {
        let g = h.ok("guidance", json!({"reason": reason.as_str()}));
        assert_eq!(
            g,
            json!(connector::relink::guidance_for(
                reason,
                connector::relink::Surface::Window
            ))
        );
        assert!(!g.as_str().unwrap().contains("calendar-connector-cli"));
    }
}

#[test]
fn settings_persist_in_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    {
        let h = harness(dir.path(), Policy::default());
        let s = h.ok(
            "set_settings",
            json!({"syncIntervalMinutes": 30, "notifications": false}),
        );
        assert_eq!(
            s,
            json!({"syncIntervalMinutes": 30, "startAtLogin": false, "notifications": false})
        );
        let e = h.err("set_settings", json!({"syncIntervalMinutes": 0}));
        assert_eq!(e["code"], json!("bad_request"));
    }
    let saved: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("settings.json")).unwrap()).unwrap();
    assert_eq!(saved["syncIntervalMinutes"], json!(30));
    let h = harness(dir.path(), Policy::default());
    assert_eq!(
        h.ok("get_settings", json!({}))["notifications"],
        json!(false)
    );
}

#[test]
fn policy_wins_and_locked_settings_are_reported_locked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("settings.json"),
        r#"{"syncIntervalMinutes": 5, "startAtLogin": false, "notifications": false}"#,
    )
    .unwrap();
    let policy = Policy {
        server_url: Some("https://caldav.example.com/".into()),
        sync_interval_minutes: Some(60),
        allow_demo: Some(false),
        notifications: Some(true),
        apple_id_hint: Some("jane@example.com".into()),
    };
    let h = harness(dir.path(), policy);
    let s = h.ok("get_state", json!({}));
    assert_eq!(
        s["policy"]["locked"],
        json!([
            "serverUrl",
            "syncIntervalMinutes",
            "allowDemo",
            "notifications",
            "appleIdHint"
        ])
    );
    assert_eq!(s["policy"]["syncIntervalMinutes"], json!(60));
    assert_eq!(s["policy"]["allowDemo"], json!(false));
    assert_eq!(s["settings"]["syncIntervalMinutes"], json!(60));
    assert_eq!(s["settings"]["notifications"], json!(true));
    assert_eq!(s["defaultServerUrl"], json!("https://caldav.example.com/"));
    let e = h.err("set_settings", json!({"syncIntervalMinutes": 10}));
    assert_eq!(e["code"], json!("policy_locked"));
    let e = h.err("start_demo", json!({}));
    assert_eq!(e["code"], json!("policy_locked"));
    // Sending the locked value back (a settings form does) is fine.
    h.ok(
        "set_settings",
        json!({"syncIntervalMinutes": 60, "startAtLogin": false}),
    );
}

#[test]
fn only_allow_listed_apple_pages_can_be_opened() {
    use calendar_connector_app::cmd::url_allowed;
    assert!(url_allowed("https://account.apple.com/account/manage"));
    assert!(url_allowed("https://support.apple.com/en-us/102654"));
    assert!(!url_allowed("https://account.apple.com.evil.example/"));
    assert!(!url_allowed("https://account.apple.com@evil.example/"));
    assert!(!url_allowed("http://account.apple.com/"));
    assert!(!url_allowed("file:///etc/passwd"));
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path(), Policy::default());
    let e = h.err("open_url", json!({"url": "https://example.com/"}));
    assert_eq!(e["code"], json!("bad_request"));
}

#[test]
fn every_command_is_registered_and_allowed_in_the_main_window_capability() {
    let build = include_str!("../build.rs");
    let cap: Value =
        serde_json::from_str(include_str!("../capabilities/main-window.json")).unwrap();
    let perms: Vec<&str> = cap["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    let list = build.split("&[").nth(1).unwrap().split(']').next().unwrap();
    let names: Vec<&str> = list
        .split(',')
        .map(|s| s.trim().trim_matches('"'))
        .filter(|s| !s.is_empty())
        .collect();
    assert!(names.len() >= 18, "{names:?}");
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path(), Policy::default());
    for n in &names {
        let perm = format!("allow-{}", n.replace('_', "-"));
        assert!(perms.contains(&perm.as_str()), "capability lacks {perm}");
        let src = include_str!("../src/cmd/mod.rs");
        let registered = [
            "",
            "demo::",
            "files::",
            "browser::",
            "calendar::",
            "subscriptions::",
        ]
        .iter()
        .any(|m| src.contains(&format!("$crate::cmd::{m}{n},")));
        assert!(registered, "{n} not in generate_handler");
    }
    // Nothing beyond the app's commands and event listening.
    assert!(perms
        .iter()
        .all(|p| p.starts_with("allow-") || p.starts_with("core:event:allow-")));
    // And an unknown command is refused.
    assert!(h.call("no_such_command", json!({})).is_err());
}

#[test]
fn a_failed_link_of_another_account_leaves_the_demo_running() {
    if !keychain_available() {
        eprintln!("skipped: no usable keychain");
        return;
    }
    let _turn = demo_turn();
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path(), Policy::default());
    h.ok("start_demo", json!({}));
    let before = h.ok("get_state", json!({}));
    assert_eq!(before["demo"], json!(true));
    // Nothing listens on port 9: the link fails.
    let e = h.err(
        "link_account",
        json!({"appleId": "someone@example.com", "password": "abcd-efgh-ijkl-mnop", "serverUrl": "http://127.0.0.1:9/"}),
    );
    assert_eq!(e["code"], json!("unreachable"), "{e}");
    let after = h.ok("get_state", json!({}));
    assert_eq!(after["demo"], json!(true), "the demo still runs: {after}");
    assert_eq!(after["accounts"], before["accounts"], "nothing changed");
    h.ok("stop_demo", json!({}));
}

#[test]
fn try_again_says_how_many_checks_are_left_and_then_when_the_next_is_allowed() {
    if !keychain_available() {
        eprintln!("skipped: no usable keychain");
        return;
    }
    let _turn = demo_turn();
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path(), Policy::default());
    h.ok("start_demo", json!({}));
    h.ok("simulate_revocation", json!({}));
    let acc = |h: &Harness| h.ok("get_state", json!({}))["accounts"][0].clone();
    let a = acc(&h);
    let apple_id = a["apple_id"].as_str().unwrap().to_owned();
    assert_eq!(a["password_checks_left"], json!(3), "{a:#}");
    assert!(a["next_password_check_at"].is_null());
    for left in [2, 1, 0] {
        let e = h.err("retry_auth", json!({"appleId": apple_id}));
        assert_eq!(e["code"], json!("needs_relink"), "{e}");
        assert_eq!(acc(&h)["password_checks_left"], json!(left));
    }
    let a = acc(&h);
    let at = chrono::DateTime::parse_from_rfc3339(a["next_password_check_at"].as_str().unwrap())
        .unwrap();
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    assert!(wait > chrono::Duration::minutes(14) && wait <= chrono::Duration::minutes(15));
    // The fourth is refused locally, in words with the local time and the minutes left.
    let e = h.err("retry_auth", json!({"appleId": apple_id}));
    assert_eq!(e["code"], json!("verification_limit"), "{e}");
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("(in 15 minutes)") || msg.contains("(in 14 minutes)"),
        "{msg}"
    );
    let utc = a["next_password_check_at"].as_str().unwrap();
    assert!(!msg.contains(utc), "local time, not UTC: {msg}");
    h.ok("stop_demo", json!({}));
}

#[test]
fn demo_links_syncs_then_a_revocation_needs_relink_and_relink_keeps_every_event() {
    if !keychain_available() {
        eprintln!("skipped: no usable keychain");
        return;
    }
    let _turn = demo_turn();
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path(), Policy::default());
    let link = h.ok("start_demo", json!({}));
    assert!(!link["calendars"].as_array().unwrap().is_empty(), "{link}");
    let s = h.ok("get_state", json!({}));
    assert_eq!(s["demo"], json!(true));
    let acc = &s["accounts"][0];
    assert_eq!(acc["state"], json!("active"));
    let apple_id = acc["apple_id"].as_str().unwrap().to_owned();
    let from = chrono::Utc::now() - chrono::Duration::days(1);
    let to = from + chrono::Duration::days(30);
    let range = json!({"from": from.to_rfc3339(), "to": to.to_rfc3339()});
    let before = h.ok("events", range.clone());
    assert!(
        !before.as_array().unwrap().is_empty(),
        "the demo has events"
    );
    let stats_before = h.ok("demo_stats", json!({}));

    let rev = h.ok("simulate_revocation", json!({}));
    assert_eq!(
        rev["sync_error"]["code"]
            .as_str()
            .or(rev["syncError"]["code"].as_str()),
        Some("needs_relink")
    );
    let new_pw = rev["newPassword"].as_str().unwrap().to_owned();
    let s = h.ok("get_state", json!({}));
    assert_eq!(
        s["accounts"][0]["icloud_app_specific_password_required"],
        json!(true)
    );
    assert_eq!(s["accounts"][0]["relink_reason"], json!("password_revoked"));
    // Rule 1: no more requests with the rejected password.
    let after_401 = h.ok("demo_stats", json!({}));
    let r = h.ok("sync_now", json!({"appleId": apple_id}));
    assert_eq!(r["errors"][0]["code"], json!("needs_relink"));
    assert_eq!(
        h.ok("demo_stats", json!({}))["requests"],
        after_401["requests"]
    );

    let e = h.err(
        "relink_account",
        json!({"appleId": apple_id, "password": "wxyz-wxyz-wxyz-wxyz"}),
    );
    assert_eq!(e["code"], json!("needs_relink"));
    h.ok(
        "relink_account",
        json!({"appleId": apple_id, "password": new_pw}),
    );
    let s = h.ok("get_state", json!({}));
    assert_eq!(s["accounts"][0]["state"], json!("active"));
    let after = h.ok("events", range);
    assert_eq!(after, before, "relink kept every event");
    let stats_after = h.ok("demo_stats", json!({}));
    assert_eq!(
        stats_after["multiget_hrefs"], stats_before["multiget_hrefs"],
        "relink refetched nothing"
    );

    let zip = dir.path().join("diag.zip");
    let p = h.ok(
        "save_diagnostics",
        json!({"path": zip.display().to_string()}),
    );
    assert_eq!(p, json!(zip.display().to_string()));
    let bytes = std::fs::read(&zip).unwrap();
    assert!(bytes.starts_with(b"PK"));
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
    let mut all = String::new();
    for i in 0..archive.len() {
        use std::io::Read;
        let mut f = archive.by_index(i).unwrap();
        f.read_to_string(&mut all).unwrap();
    }
    assert!(all.contains("<apple-id-"), "status is in the zip");
    assert!(!all.contains(&apple_id), "the Apple ID is redacted");
    assert!(!all.contains(&new_pw), "the password is redacted");

    h.ok("stop_demo", json!({}));
    assert_eq!(h.ok("get_state", json!({}))["demo"], json!(false));
    assert!(!dir.path().join("demo").exists());
}

#[test]
fn a_window_other_than_main_may_call_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path(), Policy::default());
    let other = WebviewWindowBuilder::new(&h._app, "other", Default::default())
        .build()
        .unwrap();
    let r = get_ipc_response(
        &other,
        InvokeRequest {
            cmd: "get_state".into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(json!({})),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    );
    let Err(e) = r else {
        panic!("a window without a capability was allowed to call get_state")
    };
    assert!(e.to_string().contains("not allowed"), "{e}");
}
