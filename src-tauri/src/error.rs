//! Errors as they cross IPC: `{code, message}`. `code` is connector's stable [`connector::Error::kind`]
//! (or one of the shell's own codes below); `message` is the sentence shown to the person. Neither ever
//! contains a password: connector's errors never carry one, and the shell adds none.

use serde::Serialize;

/// What a command returns on failure.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IpcError {
    /// Machine-readable: `needs_relink`, `rejected`, `unreachable`, … or `policy_locked`,
    /// `not_demo`, `bad_request`, `internal`.
    pub code: String,
    /// For people.
    pub message: String,
}

impl IpcError {
    /// An error of the shell itself.
    pub fn new(code: &str, message: impl Into<String>) -> IpcError {
        IpcError {
            code: code.to_owned(),
            message: message.into(),
        }
    }

    /// A request the UI should not have sent.
    pub fn bad_request(message: impl Into<String>) -> IpcError {
        IpcError::new("bad_request", message)
    }

    /// A setting the managed policy file fixes.
    pub fn policy_locked(key: &str) -> IpcError {
        IpcError::new(
            "policy_locked",
            format!("Your organisation manages the setting “{key}”; it cannot be changed here."),
        )
    }

    /// A demo-only command outside demo mode.
    pub fn not_demo() -> IpcError {
        IpcError::new("not_demo", "This only works in demo mode.")
    }

    /// Something that is nobody's fault but ours; details go to the log, not to the UI.
    pub fn internal(what: &str, detail: impl std::fmt::Display) -> IpcError {
        tracing::error!("{what}: {detail}");
        IpcError::new(
            "internal",
            format!("{what}. Details are in the log; “Save diagnostics” collects it."),
        )
    }
}

impl From<connector::Error> for IpcError {
    fn from(e: connector::Error) -> Self {
        IpcError {
            code: e.kind().to_owned(),
            message: e.to_string(),
        }
    }
}

impl std::fmt::Display for IpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for IpcError {}

/// Command result.
pub type CmdResult<T> = Result<T, IpcError>;
