//! The IPC surface: thin `#[tauri::command]`s over `Connector`. No business logic lives here — each
//! command picks the connector, calls one facade method, and reports. Arguments arrive as one
//! camelCase object (`invoke('link_account', { appleId, password })`); errors leave as
//! `{code, message}` ([`IpcError`]). A password comes in (link, relink) but never goes out; the one
//! exception is the demo simulator's own password, which the demo shows so a newcomer can type it.

use connector::config::{AccountStatus, SubscriptionStatus};
use connector::icloud::{asp, DEFAULT_SERVER_URL};
use connector::relink::{guidance_for, RelinkReason, Surface};
use std::collections::BTreeMap;

use connector::{EventOut, LinkReport, Secret, SyncReport};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime, State};

use crate::error::{CmdResult, IpcError};
use crate::events::progress_fn;
use crate::events::STATE_CHANGED;
use crate::settings::{self, PolicyView, Settings, SettingsUpdate};
use crate::state::{lock, AppState};

pub mod browser;
pub mod calendar;
pub mod demo;
pub mod files;
pub mod subscriptions;

pub use browser::url_allowed;
pub use demo::{forget_demo_dir, stop_demo_inner};

/// Every command, for `generate_handler!` (the list in build.rs must match).
#[macro_export]
macro_rules! all_commands {
    () => {
        tauri::generate_handler![
            $crate::cmd::get_state,
            $crate::cmd::check_password,
            $crate::cmd::link_account,
            $crate::cmd::demo::start_demo,
            $crate::cmd::demo::stop_demo,
            $crate::cmd::sync_now,
            $crate::cmd::relink_account,
            $crate::cmd::retry_auth,
            $crate::cmd::events,
            $crate::cmd::set_calendar_hidden,
            $crate::cmd::guidance,
            $crate::cmd::get_settings,
            $crate::cmd::set_settings,
            $crate::cmd::files::export_calendars,
            $crate::cmd::files::save_diagnostics,
            $crate::cmd::files::choose_export_folder,
            $crate::cmd::files::choose_diagnostics_file,
            $crate::cmd::files::show_in_folder,
            $crate::cmd::unlink_account,
            $crate::cmd::demo::simulate_revocation,
            $crate::cmd::demo::demo_stats,
            $crate::cmd::browser::open_apple_account,
            $crate::cmd::browser::open_url,
            $crate::cmd::window_ready,
            $crate::cmd::subscriptions::classify_link,
            $crate::cmd::subscriptions::subscribe_calendar,
            $crate::cmd::subscriptions::unsubscribe_calendar,
            $crate::cmd::subscriptions::set_subscription_hidden,
            $crate::cmd::subscriptions::refresh_subscriptions,
            $crate::cmd::calendar::event_details,
            $crate::cmd::calendar::search_events,
            $crate::cmd::calendar::open_event_link,
            $crate::cmd::calendar::get_view_state,
            $crate::cmd::calendar::set_view_state,
        ]
    };
}

pub(crate) fn changed<R: Runtime>(app: &AppHandle<R>) {
    let _ = app.emit(STATE_CHANGED, ());
}

/// `get_state()`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateOut {
    /// As in `status --json`.
    pub accounts: Vec<AccountStatus>,
    /// Subscriptions to published calendars (read-only, no password), as in `status --json`.
    pub subscriptions: Vec<SubscriptionStatus>,
    /// Demo mode.
    pub demo: bool,
    /// Demo only: the simulator's currently accepted password (not anyone's secret), so the demo can
    /// show what to paste after "Simulate Apple revoking the password".
    pub demo_password: Option<String>,
    /// Demo only: the link of the simulator's public calendar, to try subscribing.
    pub demo_published_link: Option<String>,
    /// Managed policy.
    pub policy: PolicyView,
    /// Settings with the policy applied.
    pub settings: Settings,
    /// The account a "Fix now" asked to relink, once (then null).
    pub pending_relink: Option<String>,
    /// The server new links use (the policy's, else iCloud).
    pub default_server_url: String,
    /// Changes whenever what the calendar views show may have changed, not on a sync that changed
    /// nothing (`Connector::events_version`): the page keeps the events it fetched while it stays.
    pub events_version: String,
    /// App version.
    pub version: &'static str,
}

/// The page has put its first content in the DOM: the window, created hidden so that nobody sees a
/// blank page, shows now (see `window::show_main_for`).
/// `marks` are the page's own times (ms since its navigation started) of the steps of its start, for
/// the log.
#[tauri::command]
pub fn window_ready<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    marks: Option<BTreeMap<String, f64>>,
) {
    let opened = lock(&state.window_opened).take();
    crate::window::reveal(&app);
    if let Some(opened) = opened {
        let marks: Vec<String> = marks
            .unwrap_or_default()
            .iter()
            .map(|(step, ms)| format!("{step} {ms:.0}"))
            .collect();
        tracing::info!(
            ms = opened.elapsed().as_millis() as u64,
            page = %marks.join(", "),
            "window shown with its content"
        );
    }
}

/// Everything the UI shows.
#[tauri::command]
pub async fn get_state(state: State<'_, AppState>) -> CmdResult<StateOut> {
    if let Some(opened) = *lock(&state.window_opened) {
        tracing::info!(
            ms = opened.elapsed().as_millis() as u64,
            "window open: its page has the state to show"
        );
    }
    let conn = state.current().await;
    // Read before the status, so a change between the two shows as a change next time.
    let events_version = conn.events_version()?;
    let status = conn.status()?;
    let subscriptions = status.subscriptions;
    let mut accounts = status.accounts;
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
    let (demo_password, demo_published_link) = state
        .demo
        .lock()
        .await
        .as_ref()
        .map(|d| (d.demo.password.clone(), d.demo.published_link.clone()))
        .unzip();
    Ok(StateOut {
        accounts,
        subscriptions,
        demo: state.is_demo(),
        demo_password,
        demo_published_link,
        policy: settings::policy_view(&state.policy, &state.policy_path),
        settings: state.effective_settings(),
        pending_relink: state.take_pending_relink(),
        default_server_url: state
            .policy
            .server_url
            .clone()
            .unwrap_or_else(|| DEFAULT_SERVER_URL.to_owned()),
        events_version,
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
    // Without an account, the subscriptions are refreshed too (they belong to no account).
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
