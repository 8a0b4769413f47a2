//! Wire-level tests of the simulator against docs/icloud.md. One binary; modules say where new tests belong:
//! `discovery` (§1), `auth` (§2.1–2.3), `sync` (§3.1–3.2), `multiget` (§3.3, §1.5), `scenarios` (failure
//! modes), `data` (generated objects, ics-dir), `control` (stats, the binary and its HTTP control API).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod client;

mod auth;
mod control;
mod data;
mod discovery;
mod multiget;
mod scenarios;
mod sync;
