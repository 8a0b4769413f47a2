//! The workspace end-to-end tests, one test binary with a module per area: the CLI binary against the
//! iCloud simulator, a real Radicale, the real Secret Service and a real notification server. Shared
//! helpers (environments, the link set-up, Radicale, cache snapshots, the desktop lock) are in the
//! `e2e` library, `tests/src/lib.rs`.
//!
//! The tests run in parallel threads of this one process. Each has its own data dir, keychain
//! namespace and simulator; the desktop session is shared, so tests that run a daemon hold
//! [`e2e::desktop_shared`] and tests that count notifications or click through dunst hold
//! [`e2e::desktop_exclusive`].
//!
//! Run under `scripts/ci/desktop-session.sh` after `cargo build -p calendar-connector-cli`:
//! `REQUIRE_KEYCHAIN=1 scripts/ci/desktop-session.sh cargo test -p e2e`; one area with
//! `cargo test -p e2e --test e2e notify::`.

mod cli_radicale;
mod cli_sim;
mod crash;
mod faults;
mod fuzz;
mod keychain;
mod notify;
mod relink;
mod secrets;
mod soak;
