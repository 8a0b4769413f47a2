//! Subscriptions to published calendars (a `webcal://…/published/…` link someone shared): the link
//! wizard's live recognition of what was pasted, subscribe, unsubscribe, show/hide. Thin over
//! `Connector`, like every command; a subscription has no password, so nothing secret passes here.

use connector::published::{caldav_host_hint, is_published_calendar_link};
use connector::SubscriptionReport;
use serde::Serialize;
use tauri::{AppHandle, Runtime, State};

use super::changed;
use crate::error::{CmdResult, IpcError};
use crate::state::AppState;

/// What the person pasted in the link wizard's Apple ID or server field.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PastedLink {
    /// A public calendar someone shared: subscribe to it (read-only, no password).
    pub published: bool,
    /// An iCloud partition host or calendar URL: discovery starts here instead.
    pub discovery_start: Option<String>,
}

/// Live check of a pasted link (no request is sent).
#[tauri::command]
pub async fn classify_link(input: String) -> CmdResult<PastedLink> {
    Ok(PastedLink {
        published: is_published_calendar_link(&input),
        discovery_start: caldav_host_hint(&input),
    })
}

/// Subscribes to a published calendar: one GET without credentials; stored only when the answer is
/// a calendar.
#[tauri::command]
pub async fn subscribe_calendar<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    url: String,
    name: Option<String>,
) -> CmdResult<SubscriptionReport> {
    let conn = state.current().await;
    let r = conn.subscribe(&url, name.as_deref()).await;
    changed(&app);
    Ok(r?)
}

/// `refresh_subscriptions()`.
#[derive(Debug, Serialize)]
pub struct RefreshOut {
    /// Subscriptions that answered (200 or 304).
    pub reports: Vec<SubscriptionReport>,
    /// The others, as `{code, message}` (nothing cached was changed for them).
    pub errors: Vec<IpcError>,
}

/// "Sync now" for the subscriptions: one conditional GET each.
#[tauri::command]
pub async fn refresh_subscriptions<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> CmdResult<RefreshOut> {
    let conn = state.current().await;
    let (reports, errors) = conn.refresh_subscriptions().await;
    changed(&app);
    Ok(RefreshOut {
        reports,
        errors: errors.into_iter().map(IpcError::from).collect(),
    })
}

/// Removes a subscription (by its link) and its cached events; returns the name it had.
#[tauri::command]
pub async fn unsubscribe_calendar<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    url: String,
) -> CmdResult<String> {
    let conn = state.current().await;
    let name = conn.unsubscribe(&url)?;
    changed(&app);
    Ok(name)
}

/// Shows or hides a subscription's calendar in the views.
#[tauri::command]
pub async fn set_subscription_hidden<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    url: String,
    hidden: bool,
) -> CmdResult<()> {
    let conn = state.current().await;
    conn.set_subscription_hidden(&url, hidden)?;
    changed(&app);
    Ok(())
}
