//! `calendar-connector`: with no arguments (or only the app's own flags) the desktop app; with a
//! subcommand the CLI, with no window and no display needed, so `calendar-connector status --json`
//! works from an installed package over SSH.
#![cfg_attr(all(not(debug_assertions), windows), windows_subsystem = "windows")]

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let code = match calendar_connector_app::parse_app_args(args.get(1..).unwrap_or(&[])) {
        Some(app_args) => calendar_connector_app::run(app_args),
        None => {
            #[cfg(windows)]
            calendar_connector_app::windows::attach_parent_console();
            calendar_connector_cli::main_with_args(args)
        }
    };
    std::process::exit(code);
}
