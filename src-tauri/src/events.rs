//! The leaf every other module of the shell may use and that uses none of them: the names of the events
//! the webview listens to, the tray's aggregate state, and the progress sink that forwards sync steps.
//! Keeping these here is what keeps `background`, `cmd`, `tray` and `window` free of import cycles.

use std::sync::Arc;

use connector::sync::{Progress, ProgressFn};
use tauri::{AppHandle, Emitter, Runtime};

/// Event: something in the accounts' state changed (no payload); the UI calls `get_state` again.
pub const STATE_CHANGED: &str = "state-changed";
/// Event: a sync progress step (`connector::sync::Progress`).
pub const SYNC_PROGRESS: &str = "sync-progress";
/// Event: open the relink wizard of `{ appleId }`.
pub const OPEN_RELINK: &str = "open-relink";

/// Aggregate state for the tray.
pub use connector::config::Overall as TrayState;

/// Aggregates a status report.
pub fn tray_state(report: &connector::config::StatusReport) -> TrayState {
    report.overall()
}

/// Sends each progress step to the webview as `sync-progress`.
pub fn progress_fn<R: Runtime>(app: &AppHandle<R>) -> ProgressFn {
    let app = app.clone();
    Arc::new(move |p: Progress| {
        let _ = app.emit(SYNC_PROGRESS, &p);
    })
}
