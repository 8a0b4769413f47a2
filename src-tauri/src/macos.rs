//! macOS-only pieces of the desktop shell.

/// Shows a modal alert without the app's window (which may not exist yet): a policy that cannot be
/// used stops the app before Tauri starts, and an app opened from Finder has no terminal for its
/// stderr. `osascript` is part of macOS; the title and text are passed as arguments to the script,
/// never spliced into it, so no text can change what it runs.
pub fn alert(title: &str, text: &str) {
    let shown = std::process::Command::new("/usr/bin/osascript")
        .args([
            "-e",
            "on run argv",
            "-e",
            "display alert (item 1 of argv) message (item 2 of argv) as critical",
            "-e",
            "end run",
            title,
            text,
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    if let Err(e) = shown {
        tracing::warn!("could not show the alert: {e}");
    }
}
