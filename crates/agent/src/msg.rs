//! The messages of the agent's loop: the leaf that `agent` and `tray` both use, so neither imports
//! the other.

use connector::watch::Changes;
use tokio::sync::mpsc::UnboundedSender;

/// What the tray, the daemon and the watcher tell the agent's loop.
#[derive(Debug)]
pub enum Msg {
    /// Something in the data dir changed.
    Changed(Changes),
    /// Open the window (on the relink wizard of this account).
    Open(Option<String>),
    /// The tray's "Sync now".
    SyncNow,
    /// The tray's "Quit".
    Quit,
    /// The daemon of this generation stopped (with its error, if it failed).
    DaemonEnded(u64, Option<connector::Error>),
}

/// The sender the tray and the daemon's callbacks use.
pub type Tx = UnboundedSender<Msg>;
