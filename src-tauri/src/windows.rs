//! The two Windows calls the desktop binary makes outside Tauri, each through one documented Win32
//! function: attaching to the console it was typed in, and telling the person in a message box that the
//! WebView2 runtime is missing. This is the crate's only `unsafe` code.
#![allow(unsafe_code)]

use std::os::windows::io::AsRawHandle;

use windows_sys::Win32::System::Console::{AttachConsole, ATTACH_PARENT_PROCESS};
use windows_sys::Win32::UI::WindowsAndMessaging::{MessageBoxW, MB_ICONERROR, MB_OK};

/// The desktop binary is a GUI-subsystem program, so Windows gives it no console: typed in cmd or
/// PowerShell, `calendar-connector.exe status --json` would print nothing. When standard output has no
/// handle (not redirected to a pipe or file, where it already works), attach to the parent's console so
/// the subcommand prints where it was typed. No effect when started from Explorer (no parent console).
pub fn attach_parent_console() {
    if !std::io::stdout().as_raw_handle().is_null() {
        return;
    }
    // SAFETY: AttachConsole takes a process id by value and touches no memory of ours; it fails
    // harmlessly (returns 0) when the parent has no console or we already have one. Rust's stdout looks
    // the standard handle up on each write, so it sees the console from here on.
    unsafe {
        AttachConsole(ATTACH_PARENT_PROCESS);
    }
}

/// Shows a modal error box with `title` and `text`.
pub fn message_box(title: &str, text: &str) {
    let wide = |s: &str| s.encode_utf16().chain(Some(0)).collect::<Vec<u16>>();
    let (title, text) = (wide(title), wide(text));
    // SAFETY: both pointers are to NUL-terminated UTF-16 buffers that outlive the call; a null owner
    // window is allowed.
    unsafe {
        MessageBoxW(
            std::ptr::null_mut(),
            text.as_ptr(),
            title.as_ptr(),
            MB_OK | MB_ICONERROR,
        );
    }
}
