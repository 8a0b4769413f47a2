//! `icloud-sim`: the simulator as a process, for the demo and for tests in other languages.
//!
//! Prints `READY front=<url> partition=<url>` once both listeners accept, then serves until SIGTERM or
//! Ctrl-C. Control it over HTTP under `/__sim/` on the front listener (see the crate README).

use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::Parser;
use icloud_sim::{Sim, SimConfig};

#[derive(Parser, Debug)]
#[command(
    name = "icloud-sim",
    version,
    about = "An iCloud-faithful CalDAV server on loopback"
)]
struct Args {
    /// Front host port (caldav.icloud.com); 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Partition host port (pNN-caldav.icloud.com); 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    partition_port: u16,
    /// The Apple ID accepted in Basic auth.
    #[arg(long, default_value = "demo@example.com")]
    apple_id: String,
    /// Read the accepted password from the first line of stdin (default: abcd-efgh-ijkl-mnop).
    #[arg(long)]
    password_stdin: bool,
    /// Events in every event calendar (Home, Work).
    #[arg(long)]
    events_per_calendar: Option<usize>,
    /// Seed of the deterministic generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Serve these .ics files instead (one subdirectory per calendar).
    #[arg(long)]
    ics_dir: Option<PathBuf>,
    /// Percentage of generated objects that are deliberately unparseable.
    #[arg(long, default_value_t = 0.0)]
    broken_percent: f64,
    /// Base date of the generated events (YYYY-MM-DD; default today, UTC).
    #[arg(long)]
    base_date: Option<chrono::NaiveDate>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    // RUST_LOG as targets and levels (`info`, `icloud_sim=debug`); errors only when unset.
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<tracing_subscriber::filter::Targets>().ok())
        .unwrap_or_else(|| {
            tracing_subscriber::filter::Targets::new().with_default(tracing::Level::ERROR)
        });
    tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .init();
    let args = Args::parse();
    let mut cfg = SimConfig {
        apple_id: args.apple_id,
        front_port: args.port,
        partition_port: args.partition_port,
        seed: args.seed,
        ics_dir: args.ics_dir,
        broken_percent: args.broken_percent,
        ..SimConfig::default()
    };
    if let Some(d) = args.base_date {
        cfg.base_date = d;
    }
    if args.password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        cfg.password = line.trim().to_owned();
    }
    if let Some(n) = args.events_per_calendar {
        for c in cfg
            .calendars
            .iter_mut()
            .filter(|c| c.component == icloud_sim::Component::Vevent)
        {
            c.events = n;
        }
    }
    let sim = Sim::start(cfg).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "READY front={} partition={}",
            sim.front_url(),
            sim.partition_url()
        )?;
        out.flush()?;
    }
    wait_for_signal().await?;
    sim.shutdown().await;
    Ok(())
}

#[cfg(unix)]
async fn wait_for_signal() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    Ok(())
}

#[cfg(not(unix))]
async fn wait_for_signal() -> anyhow::Result<()> {
    tokio::signal::ctrl_c().await?;
    Ok(())
}
