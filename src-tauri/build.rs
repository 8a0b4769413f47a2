//! Generates the Tauri context and the app's own command permissions (`allow-<command>`), so each
//! window's capability lists exactly the commands it may call.
fn main() {
    let attrs = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(calendar_connector_commands()));
    if let Err(e) = tauri_build::try_build(attrs) {
        println!("cargo:warning=tauri build script failed: {e:#}");
        std::process::exit(1);
    }
}

/// Every `#[tauri::command]` in src/cmd/ (kept in step by the `commands_are_all_registered` test).
fn calendar_connector_commands() -> &'static [&'static str] {
    &[
        "get_state",
        "check_password",
        "link_account",
        "start_demo",
        "stop_demo",
        "sync_now",
        "relink_account",
        "retry_auth",
        "events",
        "set_calendar_hidden",
        "guidance",
        "get_settings",
        "set_settings",
        "export_calendars",
        "save_diagnostics",
        "choose_export_folder",
        "choose_diagnostics_file",
        "show_in_folder",
        "unlink_account",
        "simulate_revocation",
        "demo_stats",
        "open_apple_account",
        "open_url",
        "window_ready",
        "classify_link",
        "subscribe_calendar",
        "unsubscribe_calendar",
        "set_subscription_hidden",
        "refresh_subscriptions",
        "event_details",
        "search_events",
        "open_event_link",
        "get_view_state",
        "set_view_state",
    ]
}
