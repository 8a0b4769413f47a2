//! The iCloud profile: discovery (which also serves generic CalDAV servers such as Radicale), the
//! response classifier, the session that applies it to every response (lockout protection), and the
//! app-specific-password format.

pub mod asp;
pub mod classify;
pub mod discovery;
pub mod session;

/// Default server: QUIRK(icloud §1.1) start at caldav.icloud.com, never the icloud.com apex.
pub const DEFAULT_SERVER_URL: &str = "https://caldav.icloud.com/";
