//! The main window. It is created on demand and destroyed when closed (the WebKit processes go with
//! it, so the tray agent's idle cost is the Rust process alone).

use tauri::webview::PageLoadEvent;
use tauri::{AppHandle, Emitter, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};

use crate::events::OPEN_RELINK;
use crate::state::{lock, AppState};

/// Label of the main window (the capability `main-window` names it).
pub const MAIN: &str = "main";

/// How long a new window may stay hidden waiting for its page.
const REVEAL_AFTER: std::time::Duration = std::time::Duration::from_secs(3);

/// Shows and focuses the main window (a new one once its page is ready).
pub fn reveal<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window(MAIN) {
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// Shows and focuses the main window, creating it when it does not exist.
pub fn show_main<R: Runtime>(app: &AppHandle<R>) {
    show_main_for(app, None);
}

/// Shows the main window; a window created for `relink` gets `open-relink` once its page has loaded
/// (and the account waits in `get_state().pendingRelink` as well, whichever the UI reads first).
fn show_main_for<R: Runtime>(app: &AppHandle<R>, relink: Option<String>) {
    #[cfg(target_os = "macos")]
    set_in_dock(app, true);
    if let Some(w) = app.get_webview_window(MAIN) {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
        return;
    }
    if let Some(state) = app.try_state::<AppState>() {
        *lock(&state.window_opened) = Some(std::time::Instant::now());
    }
    // Created hidden: the page shows itself once its first content is in place (`window_ready`), so
    // the window never appears blank. Should the page not say so, it shows after REVEAL_AFTER anyway.
    let built = WebviewWindowBuilder::new(app, MAIN, WebviewUrl::App("index.html".into()))
        .title("Calendar Connector")
        .visible(false)
        .inner_size(1040.0, 720.0)
        .min_inner_size(720.0, 520.0)
        .center()
        .on_page_load(move |w, payload| {
            if let Some(opened) = w
                .try_state::<AppState>()
                .and_then(|state| *lock(&state.window_opened))
            {
                let phase = match payload.event() {
                    PageLoadEvent::Started => "window open: the page starts loading",
                    PageLoadEvent::Finished => "window open: the page has loaded",
                };
                tracing::info!(ms = opened.elapsed().as_millis() as u64, "{phase}");
            }
            if payload.event() != PageLoadEvent::Finished {
                return;
            }
            if let Some(who) = relink.clone() {
                tauri::async_runtime::spawn(async move {
                    // The page's listeners register right after load; give them a moment.
                    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
                    let _ = w.emit(OPEN_RELINK, serde_json::json!({ "appleId": who }));
                });
            }
        })
        .build();
    match built {
        Ok(w) => {
            let handle = app.clone();
            tauri::async_runtime::spawn(async move {
                tokio::time::sleep(REVEAL_AFTER).await;
                if handle
                    .get_webview_window(MAIN)
                    .is_some_and(|w| !w.is_visible().unwrap_or(true))
                {
                    tracing::warn!(
                        "the page did not say it was ready within {} s; showing the window anyway",
                        REVEAL_AFTER.as_secs()
                    );
                    reveal(&handle);
                }
            });
            #[cfg(target_os = "macos")]
            {
                // The window is destroyed when closed: the app leaves the Dock with it.
                let handle = app.clone();
                w.on_window_event(move |e| {
                    if let tauri::WindowEvent::Destroyed = e {
                        set_in_dock(&handle, false);
                    }
                });
            }
            #[cfg(not(target_os = "macos"))]
            let _ = w;
        }
        Err(e) => tracing::error!("could not open the window: {e}"),
    }
}

/// macOS: the app is in the Dock and the app switcher only while its window is open; without one it
/// lives in the menu bar alone (`NSApplicationActivationPolicyAccessory`, Apple's policy for apps
/// without a Dock icon; `Regular` brings the icon back).
#[cfg(target_os = "macos")]
pub fn set_in_dock<R: Runtime>(app: &AppHandle<R>, visible: bool) {
    let policy = if visible {
        tauri::ActivationPolicy::Regular
    } else {
        tauri::ActivationPolicy::Accessory
    };
    if let Err(e) = app.set_activation_policy(policy) {
        tracing::warn!("could not change the Dock icon: {e}");
    }
}

/// "Fix now": the relink wizard of `apple_id`. When the window already shows, it gets the
/// `open-relink` event; a window created for it finds the account in `get_state().pendingRelink`
/// (the event could arrive before its listener exists).
pub fn open_relink<R: Runtime>(app: &AppHandle<R>, apple_id: &str) {
    tracing::info!(account = apple_id, "opening the relink wizard");
    if let Some(state) = app.try_state::<AppState>() {
        *lock(&state.pending_relink) = Some(apple_id.to_owned());
    }
    let existed = app.get_webview_window(MAIN).is_some();
    show_main_for(app, (!existed).then(|| apple_id.to_owned()));
    if existed {
        let _ = app.emit_to(
            MAIN,
            OPEN_RELINK,
            serde_json::json!({ "appleId": apple_id }),
        );
    }
}
