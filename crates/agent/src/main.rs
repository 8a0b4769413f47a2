//! `calendar-connector-agent`: Calendar Connector's tray agent on Linux.
//!
//! The desktop app (`calendar-connector`) links WebKitGTK; only loading those libraries costs a process
//! about 40 MiB before it does anything. The agent is what runs all day instead: the tray icon (the
//! StatusNotifierItem protocol over D-Bus, no GTK), the scheduler and the notifications (the
//! connector's daemon), and nothing else. The window is a process of its own, started on demand from
//! the tray, a notification's "Fix now" or a launch from the menu, and gone when its window closes.
//!
//! One agent per data dir: it holds the data dir's daemon lock, and a second one exits at once.
//! Start at login runs `calendar-connector --hidden`, which hands over to this binary.
//!
//! On Windows and macOS the desktop app itself is the tray agent (their trays need no WebView, and the
//! webview runs only while a window is open), so this binary only says so there.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

#[cfg(target_os = "linux")]
mod agent;
#[cfg(target_os = "linux")]
mod msg;
#[cfg(target_os = "linux")]
mod tray;

/// The desktop app's binary, installed beside the agent.
#[cfg(target_os = "linux")]
const APP_BINARY: &str = "calendar-connector";

use std::path::PathBuf;

/// The agent's options.
#[derive(Debug, Default, PartialEq, Eq)]
struct Args {
    /// `--data-dir DIR` (else `CALENDAR_CONNECTOR_DATA_DIR`, else the platform's).
    data_dir: Option<PathBuf>,
}

const USAGE: &str = "usage: calendar-connector-agent [--data-dir DIR]\n\n\
    Calendar Connector's tray agent: the tray icon, background sync and notifications. It starts\n\
    with your session when \"Start at login\" is on; the window opens from the tray icon.";

/// Parses the arguments (without argv[0]); `Err` holds what to print and the exit code.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, (String, i32)> {
    let mut out = Args::default();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--data-dir" => match it.next() {
                Some(d) => out.data_dir = Some(PathBuf::from(d)),
                None => return Err((format!("--data-dir needs a directory\n{USAGE}"), 2)),
            },
            "-h" | "--help" => return Err((USAGE.to_owned(), 0)),
            "-V" | "--version" => {
                return Err((
                    format!("calendar-connector-agent {}", env!("CARGO_PKG_VERSION")),
                    0,
                ))
            }
            _ => match a.strip_prefix("--data-dir=") {
                Some(d) => out.data_dir = Some(PathBuf::from(d)),
                None => return Err((format!("unknown argument {a:?}\n{USAGE}"), 2)),
            },
        }
    }
    Ok(out)
}

fn main() {
    let code = match parse_args(std::env::args().skip(1)) {
        Ok(args) => run(args),
        Err((text, code)) => {
            if code == 0 {
                println!("{text}");
            } else {
                eprintln!("calendar-connector-agent: {text}");
            }
            code
        }
    };
    std::process::exit(code);
}

#[cfg(target_os = "linux")]
fn run(args: Args) -> i32 {
    agent::run(args.data_dir)
}

#[cfg(not(target_os = "linux"))]
fn run(_args: Args) -> i32 {
    eprintln!(
        "calendar-connector-agent: on this system Calendar Connector's desktop app is its own tray \
         agent; start it with: calendar-connector --hidden"
    );
    2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &[&str]) -> Result<Args, (String, i32)> {
        parse_args(v.iter().map(|s| s.to_string()))
    }

    #[test]
    fn arguments() {
        assert_eq!(parse(&[]).unwrap(), Args::default());
        assert_eq!(
            parse(&["--data-dir", "/x"]).unwrap().data_dir,
            Some(PathBuf::from("/x"))
        );
        assert_eq!(
            parse(&["--data-dir=/y"]).unwrap().data_dir,
            Some(PathBuf::from("/y"))
        );
        assert_eq!(parse(&["--data-dir"]).unwrap_err().1, 2);
        assert_eq!(parse(&["--help"]).unwrap_err().1, 0);
        assert_eq!(parse(&["--what"]).unwrap_err().1, 2);
    }
}
