//! Export and diagnostics: the system's file chooser, the writing, and "Show in folder" for what was
//! written.

use std::path::PathBuf;

use connector::ExportFormat;
use serde::Serialize;
use tauri::{AppHandle, Manager, Runtime, State};
use tauri_plugin_dialog::{DialogExt, FileDialogBuilder, FilePath};

use crate::error::{CmdResult, IpcError};
use crate::state::AppState;

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

/// Which system dialog to show.
enum Ask {
    Folder,
    SaveFile,
}

/// Shows the system's file dialog `ask` (built by `build`), starting in the default folder; the
/// chosen path, or `None` when the person cancels.
async fn ask<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    ask: Ask,
    build: impl FnOnce(FileDialogBuilder<R>) -> FileDialogBuilder<R>,
) -> Option<PathBuf> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let dialog = build(
        app.dialog()
            .file()
            .set_directory(default_out_dir(app, state)),
    );
    let answer = move |p: Option<FilePath>| {
        let _ = tx.send(p);
    };
    match ask {
        Ask::Folder => dialog.pick_folder(answer),
        Ask::SaveFile => dialog.save_file(answer),
    }
    rx.await.ok().flatten().and_then(|p| p.into_path().ok())
}

/// The system's folder chooser for an export; the export goes into a new, dated folder inside the
/// chosen one (so a backup never mixes with what is there). `None` when the person cancels.
#[tauri::command]
pub async fn choose_export_folder<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> CmdResult<Option<String>> {
    let folder = ask(&app, &state, Ask::Folder, |d| {
        d.set_title("Choose where to save the export")
    })
    .await;
    Ok(folder.map(|f| {
        f.join(format!(
            "Calendar Connector export {}",
            chrono::Local::now().format("%Y-%m-%d %H%M%S")
        ))
        .display()
        .to_string()
    }))
}

/// The system's save dialog for the diagnostics zip, with a dated name. `None` when cancelled.
#[tauri::command]
pub async fn choose_diagnostics_file<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> CmdResult<Option<String>> {
    let name = format!(
        "calendar-connector-diagnostics-{}.zip",
        chrono::Local::now().format("%Y%m%d-%H%M%S")
    );
    let path = ask(&app, &state, Ask::SaveFile, |d| {
        d.set_title("Save diagnostics")
            .set_file_name(name)
            .add_filter("Zip archive", &["zip"])
    })
    .await;
    Ok(path.map(|mut p| {
        if p.extension().is_none_or(|e| !e.eq_ignore_ascii_case("zip")) {
            p.set_extension("zip");
        }
        p.display().to_string()
    }))
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
