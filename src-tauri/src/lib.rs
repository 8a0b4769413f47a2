//! The Calendar Connector desktop shell (Tauri 2): thin commands over `connector::Connector`, a tray
//! agent that keeps syncing when the window is closed, one instance per session, start at login, and
//! the notification's "Fix now" → the relink wizard of that account. No business logic lives here.
//!
//! [`run`] is the real app; [`run_app`] sets up any runtime, so `tauri::test::mock_builder()` drives
//! the same commands without a display (tests/commands.rs).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod background;
pub mod cmd;
pub mod diagnostics;
pub mod error;
pub mod events;
#[cfg(target_os = "macos")]
pub mod macos;
pub mod settings;
pub mod state;
pub mod tray;
pub mod window;
#[cfg(windows)]
pub mod windows;

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use connector::notify::UserAction;
use connector::policy::Policy;
use connector::{Connector, OpenOptions};
use tauri::{Manager, RunEvent, Runtime};

use crate::state::AppState;

/// Options of the app itself (not of the CLI): `--hidden`, `--data-dir DIR`, `--open-relink ID`, and
/// a notification's `calendar-connector:notification?…` URI (Windows starts the app with it when a
/// toast or one of its buttons is clicked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppArgs {
    /// Start in the tray without a window (start at login uses it).
    pub hidden: bool,
    /// Data dir (else `CALENDAR_CONNECTOR_DATA_DIR`, else the platform's).
    pub data_dir: Option<PathBuf>,
    /// Open the relink wizard of this account (a second launch forwards it to the first).
    pub open_relink: Option<String>,
    /// "Later" on this account's notification: snooze it for a day (and open no window).
    pub snooze: Option<String>,
}

/// `Some` when `args` (without argv[0]) start the desktop app: no arguments, or only the app's own
/// flags. Anything else — a subcommand, `--help`, `--version` — is the CLI's.
pub fn parse_app_args(args: &[OsString]) -> Option<AppArgs> {
    let mut out = AppArgs::default();
    let mut it = args.iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(a) = it.next() {
        if a == "--hidden" {
            out.hidden = true;
        } else if a == "--data-dir" {
            out.data_dir = Some(PathBuf::from(it.next()?));
        } else if let Some(v) = a.strip_prefix("--data-dir=") {
            out.data_dir = Some(PathBuf::from(v));
        } else if a == "--open-relink" {
            out.open_relink = Some(it.next()?);
        } else if let Some(v) = a.strip_prefix("--open-relink=") {
            out.open_relink = Some(v.to_owned());
        } else if let Some((action, who)) = connector::notify::parse_activation_uri(&a) {
            match action {
                UserAction::FixNow => out.open_relink = Some(who),
                UserAction::Later => {
                    out.snooze = Some(who);
                    out.hidden = true;
                }
                UserAction::Dismissed => out.hidden = true,
            }
        } else if a.starts_with("-psn_") {
            // macOS Finder's process serial number
        } else {
            return None;
        }
    }
    Some(out)
}

/// How [`run_app`] sets the app up.
pub struct AppOptions {
    /// The person's data dir.
    pub data_dir: PathBuf,
    /// Managed policy.
    pub policy: Policy,
    /// Where it was read from.
    pub policy_path: PathBuf,
    /// Run the state watcher and the demo's daemon.
    pub background: bool,
    /// Run the person's daemon (scheduler and notifications) in this process. Off on Linux when the
    /// tray agent (`calendar-connector-agent`) runs it.
    pub main_daemon: bool,
    /// Create the tray icon.
    pub tray: bool,
    /// Open the main window at start.
    pub open_window: bool,
    /// Open the relink wizard of this account at start.
    pub open_relink: Option<String>,
    /// When the window opens at start without `open_relink`, open the relink wizard of the first
    /// account that needs one instead (macOS: a click on a notification of an app that is not running
    /// starts it with no arguments, and that click means "Fix now").
    pub relink_on_open: bool,
}

/// The account whose relink wizard a start that opens the window shows, when
/// [`AppOptions::relink_on_open`]: the first that needs a relink.
pub fn relink_at_start<'a>(accounts: impl IntoIterator<Item = (&'a str, bool)>) -> Option<String> {
    accounts
        .into_iter()
        .find(|(_, needs_relink)| *needs_relink)
        .map(|(who, _)| who.to_owned())
}

/// Keychain service of real accounts (`CALENDAR_CONNECTOR_KEYRING_NAMESPACE` as in the CLI).
fn keyring_service() -> String {
    let ns = std::env::var("CALENDAR_CONNECTOR_KEYRING_NAMESPACE").ok();
    connector::credentials::service_for_namespace(ns.as_deref())
}

/// Sets up state, commands and (per `opts`) tray, background sync and the window on any runtime.
pub fn run_app<R: Runtime>(
    builder: tauri::Builder<R>,
    opts: AppOptions,
) -> Result<tauri::Builder<R>, connector::Error> {
    std::fs::create_dir_all(&opts.data_dir).map_err(|e| {
        connector::Error::Io(format!(
            "could not create the data dir {}: {e}",
            opts.data_dir.display()
        ))
    })?;
    let main = Connector::open(OpenOptions {
        data_dir: opts.data_dir.clone(),
        keyring_service: keyring_service(),
    })?;
    let state = AppState {
        settings: Mutex::new(settings::load(&opts.data_dir)),
        data_dir: opts.data_dir.clone(),
        main: std::sync::Arc::new(main),
        policy: opts.policy.clone(),
        policy_path: opts.policy_path.clone(),
        demo: tokio::sync::Mutex::new(None),
        demo_running: AtomicBool::new(false),
        main_daemon: tokio::sync::Mutex::new(None),
        pending_relink: Mutex::new(None),
        window_opened: Mutex::new(None),
        written: Mutex::new(Vec::new()),
        background: opts.background,
        tray: AtomicBool::new(false),
    };
    let (want_tray, background, main_daemon, open_window, open_relink, relink_on_open) = (
        opts.tray,
        opts.background,
        opts.main_daemon,
        opts.open_window,
        opts.open_relink,
        opts.relink_on_open,
    );
    Ok(builder
        .manage(state)
        .invoke_handler(all_commands!())
        .setup(move |app| {
            let handle = app.handle().clone();
            let state = app.state::<AppState>();
            // macOS: out of the Dock until a window opens (start at login, the menu bar alone).
            #[cfg(target_os = "macos")]
            window::set_in_dock(&handle, false);
            if want_tray {
                match tray::create(&handle) {
                    Ok(()) => state.tray.store(true, Ordering::SeqCst),
                    Err(e) => {
                        tracing::warn!("no tray icon ({e}); closing the window will quit the app")
                    }
                }
            }
            if background {
                // A demo left behind by a run that did not quit cleanly: its simulator is gone.
                cmd::forget_demo_dir(&state.data_dir.join("demo"));
                let settings = state.effective_settings();
                if let Some(mut slot) = main_daemon
                    .then(|| state.main_daemon.try_lock().ok())
                    .flatten()
                {
                    *slot = Some(background::spawn_daemon(
                        &handle,
                        state.main.clone(),
                        &settings,
                    ));
                }
                background::spawn_watcher(&handle);
            }
            let open_relink = open_relink.or_else(|| {
                let report = (relink_on_open && open_window)
                    .then(|| state.main.status().ok())
                    .flatten()?;
                relink_at_start(
                    report
                        .accounts
                        .iter()
                        .map(|a| (a.apple_id.as_str(), a.icloud_app_specific_password_required)),
                )
            });
            if let Some(who) = open_relink {
                window::open_relink(&handle, &who);
            } else if open_window {
                window::show_main(&handle);
            }
            Ok(())
        }))
}

/// "Later" on `apple_id`'s notification, whichever connector (the person's or the demo's) has it.
fn snooze<R: Runtime>(app: &tauri::AppHandle<R>, apple_id: &str) {
    let state = app.state::<AppState>();
    let mut conns = vec![state.main.clone()];
    if let Ok(demo) = state.demo.try_lock() {
        conns.extend(demo.as_ref().map(|d| d.conn.clone()));
    }
    for c in conns {
        if let Err(e) = c.snooze_notification(apple_id) {
            tracing::warn!(account = apple_id, "could not snooze the notification: {e}");
        }
    }
}

/// Linux: the tray agent installed beside this binary, if it is.
#[cfg(target_os = "linux")]
fn agent_binary() -> Option<PathBuf> {
    let p = std::env::current_exe()
        .ok()?
        .with_file_name("calendar-connector-agent");
    p.is_file().then_some(p)
}

/// Linux: the agent's command line for these app arguments.
#[cfg(target_os = "linux")]
fn agent_command(agent: &std::path::Path, args: &AppArgs) -> std::process::Command {
    let mut cmd = std::process::Command::new(agent);
    if let Some(d) = &args.data_dir {
        cmd.arg("--data-dir").arg(d);
    }
    cmd
}

/// Linux, a window process: starts the tray agent unless one already runs for `data_dir` (it holds the
/// data dir's daemon lock). The agent lives on after the window closes, in its own process group so a
/// Ctrl-C in the terminal that started the window does not stop it.
#[cfg(target_os = "linux")]
fn ensure_agent(agent: &std::path::Path, args: &AppArgs, data_dir: &std::path::Path) {
    use std::os::unix::process::CommandExt;
    match connector::daemon_lock_at(data_dir) {
        Ok(lock) => drop(lock),
        Err(connector::Error::AlreadyRunning(_)) => return,
        Err(e) => {
            tracing::warn!("cannot tell whether the tray agent runs: {e}");
            return;
        }
    }
    let started = agent_command(agent, args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .process_group(0)
        .spawn();
    match started {
        Ok(child) => tracing::info!(pid = child.id(), "tray agent started"),
        Err(e) => tracing::error!("could not start the tray agent {}: {e}", agent.display()),
    }
}

/// WebKit's switch to its own CPU painting instead of painting through OpenGL.
#[cfg(target_os = "linux")]
const CPU_PAINTING: &str = "WEBKIT_SKIA_ENABLE_CPU_RENDERING";

/// Whether `dri` (`/dev/dri`) holds a GPU render node (`renderD128`, …).
#[cfg(target_os = "linux")]
fn has_render_node(dri: &std::path::Path) -> bool {
    std::fs::read_dir(dri).is_ok_and(|d| {
        d.flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    })
}

/// Without a GPU render node (a virtual machine, a remote session, a machine without a GPU driver)
/// WebKit still paints through OpenGL, which Mesa then emulates on the CPU (llvmpipe); WebKit's own
/// CPU painting is much faster there. Measured under Xvfb at 50,000 events, the first month view
/// took 270–1,100 ms the first way and 137 ms the second. A person's own setting of the variable
/// wins. Called first thing, before any thread exists, since it changes the environment that
/// WebKit's web process inherits.
///
/// Not done: turning WebKit's OpenGL compositor off too (`WEBKIT_DISABLE_COMPOSITING_MODE`). It
/// saved CPU in the first seconds of an opened window, but a WebDriver click on a dialog's button
/// then never returned, and what hangs a test may hang a person.
#[cfg(target_os = "linux")]
fn paint_on_the_cpu_without_a_gpu() {
    if std::env::var_os(CPU_PAINTING).is_none()
        && !has_render_node(std::path::Path::new("/dev/dri"))
    {
        std::env::set_var(CPU_PAINTING, "1");
    }
}

/// The desktop app. Returns the process exit code.
pub fn run(args: AppArgs) -> i32 {
    #[cfg(target_os = "linux")]
    paint_on_the_cpu_without_a_gpu();
    // Linux: start at login (`--hidden`) is the tray agent's job, a small process without WebKit or
    // GTK; this process becomes it.
    #[cfg(target_os = "linux")]
    let agent = agent_binary();
    #[cfg(target_os = "linux")]
    if let (true, None, Some(agent)) = (args.hidden, &args.snooze, &agent) {
        use std::os::unix::process::CommandExt;
        let e = agent_command(agent, &args).exec();
        eprintln!(
            "calendar-connector: could not start the tray agent {}: {e}; running the tray here",
            agent.display()
        );
    }
    #[cfg(all(unix, not(target_os = "macos")))]
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        eprintln!(
            "calendar-connector: no display (neither DISPLAY nor WAYLAND_DISPLAY is set), so the window \
             cannot open.\nThe command line works without one, for example: calendar-connector status --json \
             · calendar-connector demo · calendar-connector --help"
        );
        return 1;
    }
    let Some(data_dir) = connector::config::data_dir(args.data_dir.clone()) else {
        eprintln!("calendar-connector: no data directory; set CALENDAR_CONNECTOR_DATA_DIR");
        return 1;
    };
    connector::config::init_logging(&data_dir, "desktop");
    let (policy, policy_path) = match connector::policy::load_managed() {
        Ok(m) => (m.policy, m.file),
        Err(e) => {
            // A broken policy must not silently unlock what IT meant to lock.
            tracing::error!("{e}");
            eprintln!("calendar-connector: {e}");
            #[cfg(windows)]
            windows::message_box("Calendar Connector cannot start", &e.to_string());
            #[cfg(target_os = "macos")]
            macos::alert("Calendar Connector cannot start", &e.to_string());
            return 2;
        }
    };
    if !policy.is_empty() {
        tracing::info!(path = %policy_path.display(), "managed policy in force");
    }
    #[cfg(windows)]
    if let Err(e) = tauri::webview_version() {
        let text = "Calendar Connector needs the Microsoft Edge WebView2 Runtime to show its window, and \
                    this computer does not have it. Windows 10 and 11 usually include it; install the \
                    \"Evergreen\" runtime from Microsoft (https://developer.microsoft.com/microsoft-edge/webview2/) \
                    or ask your IT department, then start Calendar Connector again.\n\nThe command line \
                    works without it, for example: calendar-connector.exe status";
        tracing::error!("the WebView2 runtime is missing ({e}); the window cannot open");
        windows::message_box("Calendar Connector", text);
        return 1;
    }
    // Start at login (Settings), in the tray without a window. macOS: a LaunchAgent,
    // ~/Library/LaunchAgents/com.calendarconnector.desktop.plist, labelled with the bundle identifier
    // as launchd's convention asks (elsewhere the plugin's own names: the HKCU Run value, the XDG
    // autostart entry).
    let autostart = tauri_plugin_autostart::Builder::new().args(["--hidden"]);
    #[cfg(target_os = "macos")]
    let autostart = autostart
        .macos_launcher(tauri_plugin_autostart::MacosLauncher::LaunchAgent)
        .app_name(connector::config::BUNDLE_ID);
    let builder = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            let forwarded = parse_app_args(
                argv.get(1..)
                    .unwrap_or(&[])
                    .iter()
                    .map(OsString::from)
                    .collect::<Vec<_>>()
                    .as_slice(),
            );
            match forwarded {
                Some(AppArgs {
                    open_relink: Some(who),
                    ..
                }) => window::open_relink(app, &who),
                Some(AppArgs {
                    snooze: Some(who), ..
                }) => snooze(app, &who),
                _ => window::show_main(app),
            }
        }))
        .plugin(autostart.build())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_dialog::init());
    // Linux with the agent installed: this is a window process. The agent has the tray, the schedule
    // and the notifications; this process ends when its window closes. Elsewhere (and on Linux without
    // the agent) this process is the tray agent too, and a closed window leaves it in the tray.
    #[cfg(target_os = "linux")]
    let agent_elsewhere = match &agent {
        Some(agent) => {
            ensure_agent(agent, &args, &data_dir);
            true
        }
        None => false,
    };
    #[cfg(not(target_os = "linux"))]
    let agent_elsewhere = false;
    let opts = AppOptions {
        data_dir,
        policy,
        policy_path,
        background: true,
        main_daemon: !agent_elsewhere,
        tray: !agent_elsewhere,
        open_window: !args.hidden,
        open_relink: args.open_relink,
        relink_on_open: cfg!(target_os = "macos"),
    };
    let app = match run_app(builder, opts)
        .map_err(|e| e.to_string())
        .and_then(|b| {
            b.build(tauri::generate_context!())
                .map_err(|e| e.to_string())
        }) {
        Ok(app) => app,
        Err(e) => {
            tracing::error!("could not start: {e}");
            eprintln!("calendar-connector: could not start: {e}");
            return 1;
        }
    };
    if let Some(who) = &args.snooze {
        snooze(app.handle(), who);
    }
    app.run(|handle, event| match event {
        // Closing the last window keeps the tray agent (and background sync) running; Quit exits.
        RunEvent::ExitRequested { api, code, .. }
            if code.is_none() && handle.state::<AppState>().tray.load(Ordering::SeqCst) =>
        {
            api.prevent_exit();
            tracing::info!("window closed; Calendar Connector keeps running in the tray");
        }
        // macOS: opening the app again (Finder, Launchpad, Spotlight) while it runs in the menu bar.
        #[cfg(target_os = "macos")]
        RunEvent::Reopen {
            has_visible_windows: false,
            ..
        } => window::show_main(handle),
        RunEvent::Exit => {
            let h = handle.clone();
            tauri::async_runtime::block_on(async move {
                let state = h.state::<AppState>();
                cmd::stop_demo_inner(&h, &state).await;
            });
        }
        _ => {}
    });
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn a_render_node_is_a_gpu_and_a_missing_or_empty_dri_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!has_render_node(&dir.path().join("missing")));
        assert!(!has_render_node(dir.path()));
        std::fs::write(dir.path().join("card0"), b"").unwrap();
        assert!(!has_render_node(dir.path()));
        std::fs::write(dir.path().join("renderD128"), b"").unwrap();
        assert!(has_render_node(dir.path()));
    }

    fn args(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn subcommands_go_to_the_cli_and_app_flags_start_the_app() {
        assert_eq!(parse_app_args(&[]), Some(AppArgs::default()));
        assert!(parse_app_args(&args(&["status", "--json"])).is_none());
        assert!(parse_app_args(&args(&["--json", "status"])).is_none());
        assert!(parse_app_args(&args(&["--help"])).is_none());
        assert!(parse_app_args(&args(&["--version"])).is_none());
        assert!(parse_app_args(&args(&["--data-dir"])).is_none());
        let a = parse_app_args(&args(&[
            "--hidden",
            "--data-dir",
            "/tmp/x",
            "--open-relink=a@b.c",
        ]))
        .unwrap();
        assert!(a.hidden);
        assert_eq!(a.data_dir, Some(PathBuf::from("/tmp/x")));
        assert_eq!(a.open_relink.as_deref(), Some("a@b.c"));
    }

    #[test]
    fn a_start_with_the_window_relinks_the_first_account_that_needs_it() {
        assert_eq!(relink_at_start([("a@b.c", false)]), None);
        assert_eq!(
            relink_at_start([("a@b.c", false), ("d@e.f", true), ("g@h.i", true)]),
            Some("d@e.f".to_owned())
        );
        assert_eq!(relink_at_start([]), None);
    }

    #[test]
    fn notification_uris_open_the_wizard_or_snooze_without_a_window() {
        let fix = connector::notify::activation_uri("default", "a@b.c");
        let a = parse_app_args(&args(&[&fix])).unwrap();
        assert_eq!(a.open_relink.as_deref(), Some("a@b.c"));
        assert!(!a.hidden);
        let later = connector::notify::activation_uri("later", "a@b.c");
        let a = parse_app_args(&args(&[&later])).unwrap();
        assert_eq!(a.snooze.as_deref(), Some("a@b.c"));
        assert!(a.hidden);
        assert!(parse_app_args(&args(&["calendar-connector:other"])).is_none());
    }
}
