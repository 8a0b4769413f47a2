//! The demo's lifecycle: start (the simulator linked into a demo-only data dir and keychain name, a
//! first sync with progress, its own background daemon), stop, and the simulated revocation.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use connector::LinkReport;
use serde::Serialize;
use tauri::{AppHandle, Runtime, State};

use super::changed;
use crate::background::spawn_daemon;
use crate::error::{CmdResult, IpcError};
use crate::events::progress_fn;
use crate::state::{AppState, DemoRun};

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
