//! The IPC surface: thin `#[tauri::command]`s over `Connector`. No business logic lives here — each
//! command picks the connector, calls one facade method, and reports. Arguments arrive as one
//! camelCase object (`invoke('link_account', { appleId, password })`); errors leave as
//! `{code, message}` ([`IpcError`]). A password comes in (link, relink) but never goes out; the one
//! exception is the demo simulator's own password, which the demo shows so a newcomer can type it.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use connector::config::AccountStatus;
use connector::icloud::{asp, DEFAULT_SERVER_URL};
use connector::relink::{guidance_for, RelinkReason, Surface};

use connector::{EventOut, ExportFormat, LinkReport, Secret, SyncReport};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime, State};
use tauri_plugin_opener::OpenerExt;

use crate::background::spawn_daemon;
use crate::error::{CmdResult, IpcError};
use crate::events::progress_fn;
use crate::events::STATE_CHANGED;
use crate::settings::{self, PolicyView, Settings, SettingsUpdate};
use crate::state::{lock, AppState, DemoRun};

/// Every command, for `generate_handler!` (the list in build.rs must match).
#[macro_export]
macro_rules! all_commands {
    () => {
        tauri::generate_handler![
            $crate::cmd::get_state,
            $crate::cmd::check_password,
            $crate::cmd::link_account,
            $crate::cmd::start_demo,
            $crate::cmd::stop_demo,
            $crate::cmd::sync_now,
            $crate::cmd::relink_account,
            $crate::cmd::retry_auth,
            $crate::cmd::events,
            $crate::cmd::set_calendar_hidden,
            $crate::cmd::guidance,
            $crate::cmd::get_settings,
            $crate::cmd::set_settings,
            $crate::cmd::export_calendars,
            $crate::cmd::save_diagnostics,
            $crate::cmd::choose_export_folder,
            $crate::cmd::choose_diagnostics_file,
            $crate::cmd::show_in_folder,
            $crate::cmd::unlink_account,
            $crate::cmd::simulate_revocation,
            $crate::cmd::demo_stats,
            $crate::cmd::open_apple_account,
            $crate::cmd::open_url,
        ]
    };
}

fn changed<R: Runtime>(app: &AppHandle<R>) {
    let _ = app.emit(STATE_CHANGED, ());
}

/// `get_state()`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateOut {
    /// As in `status --json`.
    pub accounts: Vec<AccountStatus>,
    /// Demo mode.
    pub demo: bool,
    /// Demo only: the simulator's currently accepted password (not anyone's secret), so the demo can
    /// show what to paste after "Simulate Apple revoking the password".
    pub demo_password: Option<String>,
    /// Managed policy.
    pub policy: PolicyView,
    /// Settings with the policy applied.
    pub settings: Settings,
    /// The account a "Fix now" asked to relink, once (then null).
    pub pending_relink: Option<String>,
    /// The server new links use (the policy's, else iCloud).
    pub default_server_url: String,
    /// App version.
    pub version: &'static str,
}

/// Everything the UI shows.
#[tauri::command]
pub async fn get_state(state: State<'_, AppState>) -> CmdResult<StateOut> {
    if let Some(opened) = lock(&state.window_opened).take() {
        tracing::info!(
            ms = opened.elapsed().as_millis() as u64,
            "window open: its page has the state to show"
        );
    }
    let conn = state.current().await;
    let mut accounts = conn.status()?.accounts;
    // The window's words: the last step says where to paste, never which command to run.
    for a in &mut accounts {
        if a.guidance.is_some() {
            let reason = a
                .relink_reason
                .as_deref()
                .and_then(RelinkReason::parse)
                .unwrap_or(RelinkReason::PasswordRejected);
            a.guidance = Some(guidance_for(reason, Surface::Window));
        }
    }
    let demo_password = state
        .demo
        .lock()
        .await
        .as_ref()
        .map(|d| d.demo.password.clone());
    Ok(StateOut {
        accounts,
        demo: state.is_demo(),
        demo_password,
        policy: settings::policy_view(&state.policy, &state.policy_path),
        settings: state.effective_settings(),
        pending_relink: state.take_pending_relink(),
        default_server_url: state
            .policy
            .server_url
            .clone()
            .unwrap_or_else(|| DEFAULT_SERVER_URL.to_owned()),
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// `check_password()`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordCheck {
    /// The input as it will be sent (bare letters get their hyphens, lowercase).
    pub normalized: String,
    /// Whether it has the xxxx-xxxx-xxxx-xxxx shape of an app-specific password.
    pub looks_like_asp: bool,
}

/// Live check of what the person pasted (no request is sent).
#[tauri::command]
pub async fn check_password(input: String) -> CmdResult<PasswordCheck> {
    let normalized = asp::normalize(&input);
    let looks_like_asp = asp::looks_like_asp(&normalized);
    Ok(PasswordCheck {
        normalized,
        looks_like_asp,
    })
}

/// Links a real account (verifying the password with one request), then runs the first sync with
/// progress events. A link that succeeds ends the demo; one that fails changes nothing that existed
/// before it (the demo keeps running).
#[tauri::command]
pub async fn link_account<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    apple_id: String,
    password: String,
    server_url: Option<String>,
) -> CmdResult<LinkReport> {
    let server = match (&state.policy.server_url, server_url) {
        (Some(p), _) => p.clone(),
        (None, Some(s)) if !s.trim().is_empty() => s,
        (None, _) => DEFAULT_SERVER_URL.to_owned(),
    };
    let report = state
        .main
        .link(&apple_id, &server, Secret::new(password))
        .await?;
    stop_demo_inner(&app, &state).await;
    changed(&app);
    let (_, errors) = state
        .main
        .sync(Some(&report.apple_id), progress_fn(&app), false)
        .await;
    for e in errors {
        tracing::warn!(account = %report.apple_id, "first sync: {e}");
    }
    changed(&app);
    Ok(report)
}

async fn shutdown_demo(d: DemoRun) {
    if let Some(h) = d.daemon {
        h.stop().await;
    }
    forget_demo_dir(d.conn.data_dir());
    drop(d.conn);
    d.demo.sim.shutdown().await;
}

/// Removes a demo data dir and the demo account's keychain entry.
pub fn forget_demo_dir(dir: &std::path::Path) {
    connector::demo::forget(dir);
}

/// Ends the demo, if one runs.
pub async fn stop_demo_inner<R: Runtime>(app: &AppHandle<R>, state: &AppState) {
    let run = state.demo.lock().await.take();
    state.demo_running.store(false, Ordering::SeqCst);
    if let Some(d) = run {
        shutdown_demo(d).await;
        changed(app);
    }
}

/// Starts the built-in simulator, links its demo account (in `<data_dir>/demo`, demo keychain
/// namespace), syncs with progress events, and switches the app to it.
#[tauri::command]
pub async fn start_demo<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> CmdResult<LinkReport> {
    if state.policy.allow_demo == Some(false) {
        return Err(IpcError::policy_locked("demo"));
    }
    stop_demo_inner(&app, &state).await;
    let dir = state.data_dir.join("demo");
    forget_demo_dir(&dir);
    let connector::demo::LinkedDemo { demo, conn, report } =
        connector::demo::start_linked(&dir).await?;
    let conn = Arc::new(conn);
    {
        let mut slot = state.demo.lock().await;
        *slot = Some(DemoRun {
            demo,
            conn: conn.clone(),
            daemon: None,
        });
        state.demo_running.store(true, Ordering::SeqCst);
    }
    changed(&app);
    let (_, errors) = conn
        .sync(Some(&report.apple_id), progress_fn(&app), false)
        .await;
    if let Some(e) = errors.into_iter().next() {
        return Err(e.into());
    }
    if state.background {
        let settings = state.effective_settings();
        if let Some(run) = state.demo.lock().await.as_mut() {
            run.daemon = Some(spawn_daemon(&app, conn.clone(), &settings));
        }
    }
    changed(&app);
    Ok(report)
}

/// Ends the demo: stops the simulator, removes the demo account and its keychain entry.
#[tauri::command]
pub async fn stop_demo<R: Runtime>(app: AppHandle<R>, state: State<'_, AppState>) -> CmdResult<()> {
    stop_demo_inner(&app, &state).await;
    changed(&app);
    Ok(())
}

/// `sync_now()`.
#[derive(Debug, Serialize)]
pub struct SyncOut {
    /// Accounts that synced.
    pub reports: Vec<SyncReport>,
    /// The others, as `{code, message}`.
    pub errors: Vec<IpcError>,
}

/// "Sync now" for one account or all.
#[tauri::command]
pub async fn sync_now<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    apple_id: Option<String>,
) -> CmdResult<SyncOut> {
    let conn = state.current().await;
    changed(&app);
    let (reports, errors) = conn
        .sync(apple_id.as_deref(), progress_fn(&app), false)
        .await;
    changed(&app);
    Ok(SyncOut {
        reports,
        errors: errors.into_iter().map(IpcError::from).collect(),
    })
}

/// The relink wizard's "Verify": one verification request with the new password, then the keychain
/// entry is replaced in place and sync resumes (nothing refetched).
#[tauri::command]
pub async fn relink_account<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    apple_id: String,
    password: String,
) -> CmdResult<SyncReport> {
    let conn = state.current().await;
    let r = conn
        .relink(&apple_id, Secret::new(password), progress_fn(&app))
        .await;
    changed(&app);
    Ok(r?)
}

/// "Try again" with the stored password (one verification request, at most 3 per 15 minutes).
#[tauri::command]
pub async fn retry_auth<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    apple_id: String,
) -> CmdResult<SyncReport> {
    let conn = state.current().await;
    let (mut reports, errors) = conn.sync(Some(&apple_id), progress_fn(&app), true).await;
    changed(&app);
    if let Some(e) = errors.into_iter().next() {
        return Err(e.into());
    }
    reports
        .pop()
        .ok_or_else(|| IpcError::bad_request(format!("no linked account {apple_id}")))
}

fn parse_time(what: &str, s: &str) -> CmdResult<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| IpcError::bad_request(format!("{what} {s:?} is not an RFC 3339 time: {e}")))
}

/// Occurrences in [from, to) (RFC 3339), recurrences expanded, hidden calendars left out unless one is
/// asked for by name.
#[tauri::command]
pub async fn events(
    state: State<'_, AppState>,
    from: String,
    to: String,
    calendar: Option<String>,
) -> CmdResult<Vec<EventOut>> {
    let from = parse_time("from", &from)?;
    let to = parse_time("to", &to)?;
    let conn = state.current().await;
    Ok(conn.events(from, to, calendar.as_deref())?)
}

/// Shows or hides a calendar (id = its collection path) in the agenda.
#[tauri::command]
pub async fn set_calendar_hidden<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    apple_id: String,
    calendar_id: String,
    hidden: bool,
) -> CmdResult<()> {
    let conn = state.current().await;
    conn.set_calendar_hidden(&apple_id, &calendar_id, hidden)?;
    changed(&app);
    Ok(())
}

/// The guidance text of a relink reason, in the window's words (the reason is the notification's).
#[tauri::command]
pub async fn guidance(reason: String) -> CmdResult<String> {
    let r = RelinkReason::parse(&reason)
        .ok_or_else(|| IpcError::bad_request(format!("unknown relink reason {reason:?}")))?;
    Ok(guidance_for(r, Surface::Window))
}

/// Settings with the policy applied.
#[tauri::command]
pub async fn get_settings(state: State<'_, AppState>) -> CmdResult<Settings> {
    Ok(state.effective_settings())
}

/// Changes settings (absent keys unchanged); a change to a setting the policy locks is refused.
/// Returns the settings now in force.
#[tauri::command]
pub async fn set_settings<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    sync_interval_minutes: Option<u64>,
    start_at_login: Option<bool>,
    notifications: Option<bool>,
) -> CmdResult<Settings> {
    let up = SettingsUpdate {
        sync_interval_minutes,
        start_at_login,
        notifications,
    };
    let before = state.user_settings();
    let new = settings::apply(&before, &up, &state.policy)?;
    if new.start_at_login != before.start_at_login {
        if let Some(auto) = app.try_state::<tauri_plugin_autostart::AutoLaunchManager>() {
            let r = if new.start_at_login {
                auto.enable()
            } else {
                auto.disable()
            };
            r.map_err(|e| IpcError::internal("Could not change “Start at login”", e))?;
        }
    }
    settings::save(&state.data_dir, &new)?;
    *lock(&state.settings) = new;
    if settings::effective(&before, &state.policy) != state.effective_settings() {
        crate::background::restart_daemons(&app).await;
    }
    changed(&app);
    Ok(state.effective_settings())
}

/// `export_calendars()`.
#[derive(Debug, Serialize)]
pub struct ExportOut {
    /// Where the files went.
    pub dir: String,
    /// Files written.
    pub files: usize,
    /// Objects written.
    pub objects: usize,
}

fn default_out_dir<R: Runtime>(app: &AppHandle<R>, state: &AppState) -> PathBuf {
    app.path()
        .download_dir()
        .or_else(|_| app.path().home_dir())
        .unwrap_or_else(|_| state.data_dir.clone())
}

/// Exports every calendar, bytes as cached: `ics` (one file per calendar) or `vdir` (one file per
/// event). `dir` defaults to a new folder in Downloads.
#[tauri::command]
pub async fn export_calendars<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    format: String,
    dir: Option<String>,
) -> CmdResult<ExportOut> {
    let fmt = match format.as_str() {
        "ics" => ExportFormat::Ics,
        "vdir" => ExportFormat::Vdir,
        other => {
            return Err(IpcError::bad_request(format!(
                "unknown export format {other:?}; use \"ics\" or \"vdir\""
            )))
        }
    };
    let dir = match dir.filter(|d| !d.trim().is_empty()) {
        Some(d) => PathBuf::from(d),
        None => default_out_dir(&app, &state).join(format!(
            "Calendar Connector export {}",
            chrono::Local::now().format("%Y-%m-%d %H%M%S")
        )),
    };
    let conn = state.current().await;
    let r = conn.export(fmt, &dir)?;
    state.wrote(&dir);
    Ok(ExportOut {
        dir: dir.display().to_string(),
        files: r.files,
        objects: r.objects,
    })
}

/// Writes a zip of logs, status and config with every secret and Apple ID redacted; returns its path.
#[tauri::command]
pub async fn save_diagnostics<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    path: Option<String>,
) -> CmdResult<String> {
    let path = match path.filter(|p| !p.trim().is_empty()) {
        Some(p) => PathBuf::from(p),
        None => default_out_dir(&app, &state).join(format!(
            "calendar-connector-diagnostics-{}.zip",
            chrono::Local::now().format("%Y%m%d-%H%M%S")
        )),
    };
    let mut connectors = vec![state.main.clone()];
    let mut demo_password = None;
    if let Some(d) = state.demo.lock().await.as_ref() {
        connectors.push(d.conn.clone());
        demo_password = Some(d.demo.password.clone());
    }
    let input = crate::diagnostics::Input {
        connectors,
        settings: state.user_settings(),
        policy: state.policy.clone(),
        policy_path: state.policy_path.clone(),
        data_dir: state.data_dir.clone(),
        extra_secrets: demo_password.into_iter().collect(),
    };
    let out = path.clone();
    tauri::async_runtime::spawn_blocking(move || crate::diagnostics::write_zip(&input, &out))
        .await
        .map_err(|e| IpcError::internal("Could not save diagnostics", e))?
        .map_err(|e| IpcError::internal("Could not save diagnostics", e))?;
    state.wrote(&path);
    Ok(path.display().to_string())
}

/// The system's folder chooser for an export; the export goes into a new, dated folder inside the
/// chosen one (so a backup never mixes with what is there). `None` when the person cancels.
#[tauri::command]
pub async fn choose_export_folder<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> CmdResult<Option<String>> {
    use tauri_plugin_dialog::DialogExt;
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title("Choose where to save the export")
        .set_directory(default_out_dir(&app, &state))
        .pick_folder(move |p| {
            let _ = tx.send(p);
        });
    let picked = rx.await.ok().flatten();
    let Some(folder) = picked.map(|p| p.into_path()).transpose().ok().flatten() else {
        return Ok(None);
    };
    let dir = folder.join(format!(
        "Calendar Connector export {}",
        chrono::Local::now().format("%Y-%m-%d %H%M%S")
    ));
    Ok(Some(dir.display().to_string()))
}

/// The system's save dialog for the diagnostics zip, with a dated name. `None` when cancelled.
#[tauri::command]
pub async fn choose_diagnostics_file<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> CmdResult<Option<String>> {
    use tauri_plugin_dialog::DialogExt;
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title("Save diagnostics")
        .set_directory(default_out_dir(&app, &state))
        .set_file_name(format!(
            "calendar-connector-diagnostics-{}.zip",
            chrono::Local::now().format("%Y%m%d-%H%M%S")
        ))
        .add_filter("Zip archive", &["zip"])
        .save_file(move |p| {
            let _ = tx.send(p);
        });
    let picked = rx.await.ok().flatten();
    let Some(mut path) = picked.map(|p| p.into_path()).transpose().ok().flatten() else {
        return Ok(None);
    };
    if path
        .extension()
        .is_none_or(|e| !e.eq_ignore_ascii_case("zip"))
    {
        path.set_extension("zip");
    }
    Ok(Some(path.display().to_string()))
}

/// "Show in folder" for something this app wrote in this session (an export or a diagnostics zip):
/// opens the file manager with it selected. Other paths are refused: the window cannot use this to
/// open arbitrary places.
#[tauri::command]
pub async fn show_in_folder(state: State<'_, AppState>, path: String) -> CmdResult<()> {
    let path = PathBuf::from(path);
    if !state.has_written(&path) {
        return Err(IpcError::bad_request(
            "Calendar Connector shows only the files it saved itself.",
        ));
    }
    tauri_plugin_opener::reveal_item_in_dir(&path).map_err(|e| {
        IpcError::new(
            "no_file_manager",
            format!(
                "The file manager could not be opened ({e}). The file is at {}.",
                path.display()
            ),
        )
    })
}

/// Unlinks an account: removes its keychain entry and its cache.
#[tauri::command]
pub async fn unlink_account<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    apple_id: String,
) -> CmdResult<()> {
    let conn = state.current().await;
    conn.unlink(&apple_id)?;
    changed(&app);
    Ok(())
}

/// A random password shaped like an app-specific one (xxxx-xxxx-xxxx-xxxx), for the simulator.
fn random_asp() -> String {
    use std::hash::{BuildHasher, Hasher};
    let seed = std::collections::hash_map::RandomState::new();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut out = String::with_capacity(19);
    for i in 0..16u8 {
        let mut h = seed.build_hasher();
        h.write_u8(i);
        h.write_u128(nanos);
        out.push(char::from(b'a' + (h.finish() % 26) as u8));
        if i % 4 == 3 && i < 15 {
            out.push('-');
        }
    }
    out
}

/// `simulate_revocation()`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevocationOut {
    /// The demo account.
    pub apple_id: String,
    /// The simulator's new password (what the demo's relink wizard needs).
    pub new_password: String,
    /// What the sync right after it said (normally `needs_relink`).
    pub sync_error: Option<IpcError>,
}

/// Demo only: the simulator starts accepting only a new password, as when Apple revokes an
/// app-specific password; then a real sync runs, so the rejection → notification → relink loop
/// happens for real.
#[tauri::command]
pub async fn simulate_revocation<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> CmdResult<RevocationOut> {
    let new_password = random_asp();
    let (conn, apple_id) = {
        let mut guard = state.demo.lock().await;
        let run = guard.as_mut().ok_or_else(IpcError::not_demo)?;
        run.demo.sim.set_password(&new_password);
        run.demo.password = new_password.clone();
        (run.conn.clone(), run.demo.apple_id.clone())
    };
    tracing::info!("demo: the simulator now rejects the old password");
    let (_, errors) = conn.sync(Some(&apple_id), progress_fn(&app), false).await;
    changed(&app);
    Ok(RevocationOut {
        apple_id,
        new_password,
        sync_error: errors.into_iter().next().map(IpcError::from),
    })
}

/// Demo only: the simulator's request counters (tests check that a relink refetched nothing).
#[tauri::command]
pub async fn demo_stats(state: State<'_, AppState>) -> CmdResult<icloud_sim::Stats> {
    let guard = state.demo.lock().await;
    let run = guard.as_ref().ok_or_else(IpcError::not_demo)?;
    Ok(run.demo.sim.stats())
}

/// Pages the app may open in the browser. Nothing else is ever opened.
pub const ALLOWED_URL_PREFIXES: &[&str] =
    &["https://account.apple.com/", "https://support.apple.com/"];

/// Where app-specific passwords are made.
pub const APPLE_ACCOUNT_URL: &str = "https://account.apple.com/account/manage";

/// Whether `url` is on the allow-list (exact scheme and host, no userinfo tricks).
pub fn url_allowed(url: &str) -> bool {
    ALLOWED_URL_PREFIXES.iter().any(|p| url.starts_with(p))
        && !url.contains('@')
        && !url.contains('\\')
        && !url.chars().any(char::is_whitespace)
}

/// Opens account.apple.com (the page with "App-Specific Passwords") in the default browser.
#[tauri::command]
pub async fn open_apple_account<R: Runtime>(app: AppHandle<R>) -> CmdResult<()> {
    open_allowed(&app, APPLE_ACCOUNT_URL)
}

/// Opens an allow-listed Apple page (account.apple.com, support.apple.com) in the default browser.
#[tauri::command]
pub async fn open_url<R: Runtime>(app: AppHandle<R>, url: String) -> CmdResult<()> {
    open_allowed(&app, &url)
}

fn open_allowed<R: Runtime>(app: &AppHandle<R>, url: &str) -> CmdResult<()> {
    if !url_allowed(url) {
        return Err(IpcError::bad_request(
            "Only account.apple.com and support.apple.com pages can be opened.",
        ));
    }
    match app.try_state::<tauri_plugin_opener::Opener<R>>() {
        Some(_) => app
            .opener()
            .open_url(url, None::<&str>)
            .map_err(|e| IpcError::new("io", format!("Could not open the browser: {e}"))),
        None => Err(IpcError::new("io", "No browser opener in this build.")),
    }
}
