//! The browser allow-list: the window opens only Apple's account and support pages.

use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_opener::OpenerExt;

use crate::error::{CmdResult, IpcError};

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
