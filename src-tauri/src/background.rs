//! Background work: the connector's daemon (scheduler + notifications) per connector, and a light
//! watcher that keeps the tray icon and the webview in step with the accounts' state.

use std::sync::Arc;
use std::time::Duration;

use connector::notify::ActionHandler;
use connector::{Connector, DaemonOptions};
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tokio_util::sync::CancellationToken;

use crate::events::{tray_state, TrayState, STATE_CHANGED};
use crate::settings::Settings;
use crate::state::{AppState, DaemonHandle};

/// Starts the daemon over `conn` with the effective settings. "Fix now" on its notification opens the
/// relink wizard of that account.
pub fn spawn_daemon<R: Runtime>(
    app: &AppHandle<R>,
    conn: Arc<Connector>,
    settings: &Settings,
) -> DaemonHandle {
    let token = CancellationToken::new();
    let fix_app = app.clone();
    let opts = DaemonOptions {
        interval: settings.interval(),
        on_fix_now: Arc::new(move |who: &str| crate::window::open_relink(&fix_app, who)),
        on_change: None,
    };
    let notifications = settings.notifications;
    let t = token.clone();
    let join = tauri::async_runtime::spawn(async move {
        let make = move |h: ActionHandler| connector::notify::desktop_or_silent(notifications, h);
        if let Err(e) = conn.run_daemon(opts, make, t).await {
            tracing::warn!(
                data_dir = %conn.data_dir().display(),
                "background sync is not running here: {e}"
            );
        }
    });
    DaemonHandle { token, join }
}

/// Restarts every daemon with the current settings (after the settings changed).
pub async fn restart_daemons<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    if !state.background {
        return;
    }
    let settings = state.effective_settings();
    // The person's daemon is restarted only where it runs (on Linux the tray agent has it, and
    // re-reads the settings file itself).
    let mut main = state.main_daemon.lock().await;
    if let Some(d) = main.take() {
        d.stop().await;
        *main = Some(spawn_daemon(app, state.main.clone(), &settings));
    }
    drop(main);
    let mut demo = state.demo.lock().await;
    if let Some(run) = demo.as_mut() {
        if let Some(d) = run.daemon.take() {
            d.stop().await;
        }
        run.daemon = Some(spawn_daemon(app, run.conn.clone(), &settings));
    }
}

/// Every 2 s: read the status (a few SQLite reads), and when it changed, update the tray and tell the
/// webview. Cheap enough to leave running while the window is closed.
pub fn spawn_watcher<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let mut last = String::new();
        loop {
            let state = app.state::<AppState>();
            let mut reports = Vec::new();
            let current = state.current().await;
            if let Ok(r) = current.status() {
                reports.push(r);
            }
            if state.is_demo() {
                if let Ok(r) = state.main.status() {
                    reports.push(r);
                }
            }
            let snapshot = serde_json::to_string(&reports).unwrap_or_default();
            if snapshot != last {
                last = snapshot;
                let agg = reports
                    .iter()
                    .fold(TrayState::Ok, |agg, r| agg.worst(tray_state(r)));
                let relink_for = reports
                    .iter()
                    .find_map(|r| r.first_needing_relink())
                    .map(str::to_owned);
                crate::tray::show_state(&app, agg, relink_for);
                let _ = app.emit(STATE_CHANGED, ());
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    });
}
