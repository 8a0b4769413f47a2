//! The tray agent: an icon that shows ok / syncing / needs relink, and the menu Open, Sync now,
//! Relink…, Quit.

use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Runtime};

use crate::events::TrayState;
use crate::state::{lock, AppState};

const TRAY_ID: &str = "main";

/// Menu items whose state follows the accounts.
pub struct TrayItems<R: Runtime> {
    relink: MenuItem<R>,
    status: MenuItem<R>,
    /// Account the Relink… item opens.
    relink_for: std::sync::Mutex<Option<String>>,
}

fn icon(state: TrayState) -> Option<Image<'static>> {
    let bytes: &'static [u8] = match state {
        TrayState::Ok => include_bytes!("../../icons/tray-ok.png"),
        TrayState::Syncing => include_bytes!("../../icons/tray-syncing.png"),
        TrayState::NeedsRelink => include_bytes!("../../icons/tray-relink.png"),
    };
    Image::from_bytes(bytes).ok()
}

fn tooltip(state: TrayState) -> &'static str {
    state.tooltip()
}

/// Creates the tray icon. Fails where the desktop has no tray (then closing the window quits).
pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let status = MenuItem::with_id(app, "status", tooltip(TrayState::Ok), false, None::<&str>)?;
    let open = MenuItem::with_id(app, "open", "Open Calendar Connector", true, None::<&str>)?;
    let sync = MenuItem::with_id(app, "sync", "Sync now", true, None::<&str>)?;
    let relink = MenuItem::with_id(app, "relink", "Relink…", false, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let sep = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(app, &[&status, &sep, &open, &sync, &relink, &sep, &quit])?;
    let mut b = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip(tooltip(TrayState::Ok))
        .menu(&menu)
        // macOS menu-bar items open their menu on a click; elsewhere a left click opens the window.
        .show_menu_on_left_click(cfg!(target_os = "macos"))
        .on_menu_event(|app, event| match event.id().as_ref() {
            "open" => crate::window::show_main(app),
            "sync" => {
                let app = app.clone();
                tauri::async_runtime::spawn(async move {
                    let state = app.state::<AppState>();
                    let conn = state.current().await;
                    // A paused account cannot sync until it is relinked: "Sync now" opens its
                    // relink wizard instead of doing nothing.
                    let paused = conn.sync_from_tray(crate::events::progress_fn(&app)).await;
                    if let Some(who) = paused {
                        crate::window::open_relink(&app, &who);
                    }
                });
            }
            "relink" => {
                let who = app
                    .try_state::<TrayItems<R>>()
                    .and_then(|t| lock(&t.relink_for).clone());
                match who {
                    Some(who) => crate::window::open_relink(app, &who),
                    None => crate::window::show_main(app),
                }
            }
            "quit" => app.exit(0),
            _ => {}
        })
        .on_tray_icon_event(|tray, event| {
            if cfg!(target_os = "macos") {
                return;
            }
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                crate::window::show_main(tray.app_handle());
            }
        });
    if let Some(i) = icon(TrayState::Ok) {
        b = b.icon(i);
    }
    b.build(app)?;
    app.manage(TrayItems {
        relink,
        status,
        relink_for: std::sync::Mutex::new(None),
    });
    Ok(())
}

/// Shows the aggregate state; `relink_for` is the account Relink… opens.
pub fn show_state<R: Runtime>(app: &AppHandle<R>, state: TrayState, relink_for: Option<String>) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let _ = tray.set_icon(icon(state));
    let _ = tray.set_tooltip(Some(tooltip(state)));
    if let Some(items) = app.try_state::<TrayItems<R>>() {
        let _ = items.status.set_text(tooltip(state));
        let _ = items.relink.set_enabled(relink_for.is_some());
        *lock(&items.relink_for) = relink_for;
    }
}
