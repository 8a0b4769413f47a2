//! The command-line interface of Calendar Connector, exactly the contract in docs/design.md. The desktop
//! binary calls [`main_with_args`] when it is started with a subcommand, so
//! `calendar-connector status --json` works from an installed package with no display.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod output;

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use connector::credentials::service_for_namespace;
use connector::icloud::{asp, DEFAULT_SERVER_URL};
use connector::sync::{Progress, ProgressFn};
use connector::{Connector, Error, ExportFormat, OpenOptions, Secret};

/// Exit codes (docs/design.md).
pub mod exit {
    /// Success.
    pub const OK: i32 = 0;
    /// Other failure.
    pub const OTHER: i32 = 1;
    /// Usage error.
    pub const USAGE: i32 = 2;
    /// An account needs a relink.
    pub const NEEDS_RELINK: i32 = 3;
    /// Server unreachable or throttled.
    pub const UNREACHABLE: i32 = 4;
}

#[derive(Parser, Debug)]
#[command(
    name = "calendar-connector-cli",
    version,
    about = "Mirror iCloud calendars into an offline cache, and know the moment Apple needs a new app-specific password."
)]
struct Cli {
    /// Data directory (cache, accounts). Default: the platform's data dir, or $CALENDAR_CONNECTOR_DATA_DIR.
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// CalDAV server, stored with the account at link time.
    #[arg(long, global = true, value_name = "URL")]
    server_url: Option<String>,
    /// Machine-readable JSON output.
    #[arg(long, global = true)]
    json: bool,
    /// Keychain namespace (tests and the demo use their own, never the real account's entry).
    #[arg(
        long,
        global = true,
        hide = true,
        env = "CALENDAR_CONNECTOR_KEYRING_NAMESPACE"
    )]
    keyring_namespace: Option<String>,
    /// More log output (-v info, -vv debug). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Link an account: verify the app-specific password, save it in the system keychain, first sync.
    Link {
        /// Apple ID (the e-mail address you sign in to iCloud with).
        #[arg(long)]
        apple_id: String,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
        /// Link only; do not run the first sync.
        #[arg(long)]
        no_sync: bool,
    },
    /// Unlink an account: delete its keychain entry and its cached calendars.
    Unlink {
        /// Apple ID.
        #[arg(long)]
        apple_id: String,
    },
    /// Replace the app-specific password in place after Apple rejected it: verified with one request,
    /// then syncing resumes where it stopped. Nothing cached is lost.
    Relink {
        /// Apple ID.
        #[arg(long)]
        apple_id: String,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Subscribe to a calendar someone shared publicly (a webcal:// or https:// link, such as
    /// webcal://p42-caldav.icloud.com/published/2/…): read-only, no password, refreshed with every sync.
    Subscribe {
        /// The link.
        url: String,
        /// Name to show instead of the calendar's own.
        #[arg(long)]
        name: Option<String>,
    },
    /// Remove a subscription (by its link or its name) and the events cached for it.
    Unsubscribe {
        /// The link or the name shown in `status`.
        url_or_name: String,
    },
    /// Sync every account (or one) and refresh the subscriptions.
    Sync {
        /// Only this account.
        #[arg(long)]
        apple_id: Option<String>,
        /// Try the stored password once more on accounts paused after a rejection (one request,
        /// at most 3 tries per 15 minutes).
        #[arg(long)]
        retry_auth: bool,
    },
    /// Sync on a schedule with notifications (no window): what the desktop app's tray agent does.
    Daemon {
        /// Seconds between syncs of each account.
        #[arg(long, default_value_t = 900, value_parser = clap::value_parser!(u64).range(1..))]
        interval: u64,
    },
    /// Accounts, calendars, event counts, quarantined events, and whether a relink is needed.
    Status,
    /// Occurrences in a date range, recurrences expanded.
    Events {
        /// Start (YYYY-MM-DD in the local zone, or RFC 3339). Default: today.
        #[arg(long)]
        from: Option<String>,
        /// End, exclusive. Default: 30 days after --from.
        #[arg(long)]
        to: Option<String>,
        /// Only this calendar (display name or path).
        #[arg(long)]
        calendar: Option<String>,
    },
    /// Export the cache with the bytes as the server sent them.
    Export {
        /// ics: one file per calendar; vdir: one file per event.
        #[arg(long, value_enum)]
        format: Format,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// Try it without an Apple ID: start the built-in iCloud simulator, link a demo account, sync, and
    /// show today's agenda.
    Demo,
    /// Move a damaged cache aside (it is kept, renamed) and start a fresh one; the next sync downloads
    /// everything again.
    RebuildCache,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Ics,
    Vdir,
}

/// Runs the CLI with these arguments (the first is the program name); returns the exit code.
pub fn main_with_args<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            return code;
        }
    };
    init_logging(
        cli.verbose,
        connector::config::data_dir(cli.data_dir.clone()).as_deref(),
    );
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return exit::OTHER;
        }
    };
    let json = cli.json;
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => report_error(&e, json),
    }
}

/// Log lines go to `<data dir>/logs/cli.log` (info and up), where diagnostics and support find them;
/// the terminal gets them only when asked (`-v` info, `-vv` debug, or a `RUST_LOG` filter). At the
/// default verbosity the command's own output says what happened in words, once.
fn init_logging(verbose: u8, data_dir: Option<&std::path::Path>) {
    use tracing_subscriber::filter::LevelFilter as Level;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{fmt, Layer};
    let filter = connector::config::log_filter;
    // RUST_LOG, when set, chooses the lines for the terminal as well (and so turns it on).
    let asked = std::env::var_os("RUST_LOG").is_some_and(|v| !v.is_empty());
    let terminal = match verbose {
        0 if asked => Some(Level::WARN),
        0 => None,
        1 => Some(Level::INFO),
        _ => Some(Level::DEBUG),
    }
    .map(|level| {
        fmt::layer()
            .with_writer(std::io::stderr)
            .with_target(false)
            .with_ansi(output::color_on(&std::io::stderr()))
            .with_filter(filter(level))
    });
    let file = data_dir.and_then(|dir| {
        let f = connector::config::open_log(dir, "cli").ok()?;
        Some(
            fmt::layer()
                .with_writer(std::sync::Mutex::new(f))
                .with_target(false)
                .with_ansi(false)
                .with_filter(filter(Level::INFO)),
        )
    });
    let _ = tracing_subscriber::registry()
        .with(terminal)
        .with(file)
        .try_init();
}

fn report_error(e: &anyhow::Error, json: bool) -> i32 {
    let code = e
        .downcast_ref::<Error>()
        .map(Error::exit_code)
        .unwrap_or(exit::OTHER);
    if json {
        let kind = e
            .downcast_ref::<Error>()
            .map(Error::kind)
            .unwrap_or("other");
        let v = serde_json::json!({"error": {"code": kind, "message": format!("{e:#}")}});
        eprintln!("{v}");
    } else {
        eprintln!("error: {e:#}");
    }
    if let Some(Error::NeedsRelink { reason, .. }) = e.downcast_ref::<Error>() {
        if let Some(r) = connector::relink::RelinkReason::parse(reason) {
            eprintln!("\n{}", connector::relink::guidance(r));
        }
    }
    code
}

fn open(cli: &Cli, data_dir: Option<PathBuf>) -> anyhow::Result<Connector> {
    let dir = connector::config::data_dir(data_dir).context(
        "no data directory: pass --data-dir or set CALENDAR_CONNECTOR_DATA_DIR (no home directory found)",
    )?;
    Ok(Connector::open(OpenOptions {
        data_dir: dir,
        keyring_service: service_for_namespace(cli.keyring_namespace.as_deref()),
    })?)
}

fn read_password(from_stdin: bool) -> anyhow::Result<Secret> {
    let raw = if from_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("could not read the password from standard input")?;
        s
    } else {
        if !std::io::stdin().is_terminal() {
            anyhow::bail!(Error::Usage(
                "no terminal to ask for the password; pass --password-stdin and pipe it in".into()
            ));
        }
        eprintln!("Create an app-specific password at https://account.apple.com → Sign-In and Security → App-Specific Passwords.");
        rpassword::prompt_password("App-specific password: ")
            .context("could not read the password")?
    };
    let s = Secret::new(raw.trim_end_matches(['\r', '\n']).to_owned());
    if s.expose().trim().is_empty() {
        anyhow::bail!(Error::Usage("the password is empty".into()));
    }
    Ok(s)
}

fn progress_fn(json: bool) -> ProgressFn {
    if json {
        return Arc::new(|_p: Progress| {});
    }
    output::progress_printer(std::io::stderr().is_terminal())
}

async fn run(cli: Cli) -> anyhow::Result<i32> {
    match &cli.command {
        Command::Link {
            apple_id,
            password_stdin,
            no_sync,
        } => {
            let c = open(&cli, cli.data_dir.clone())?;
            let secret = read_password(*password_stdin)?;
            let server = cli
                .server_url
                .clone()
                .unwrap_or_else(|| DEFAULT_SERVER_URL.into());
            // Only Apple's servers want an app-specific password; other servers take their own.
            if asp::is_apple_server(&server)
                && !asp::looks_like_asp(&asp::normalize(secret.expose()))
            {
                eprintln!("warning: this does not look like an app-specific password (abcd-efgh-ijkl-mnop). iCloud rejects the Apple ID password itself; make one at https://account.apple.com → Sign-In and Security → App-Specific Passwords.");
            }
            let report = c.link(apple_id, &server, secret).await?;
            if !cli.json {
                println!(
                    "Linked {} — {} {}: {}",
                    connector::text::for_display(&report.apple_id),
                    report.calendars.len(),
                    if report.calendars.len() == 1 {
                        "calendar"
                    } else {
                        "calendars"
                    },
                    connector::text::for_display(&report.calendars.join(", "))
                );
            }
            if *no_sync {
                if cli.json {
                    println!("{}", serde_json::to_string_pretty(&report)?);
                }
                return Ok(exit::OK);
            }
            sync_cmd(&cli, &c, Some(&report.apple_id), false).await
        }
        Command::Relink {
            apple_id,
            password_stdin,
        } => {
            let c = open(&cli, cli.data_dir.clone())?;
            let secret = read_password(*password_stdin)?;
            let normalized = asp::normalize(secret.expose());
            // Only the account's server, not the whole status report (which counts every calendar).
            let apple = c
                .server_url(apple_id)
                .is_ok_and(|u| asp::is_apple_server(&u));
            if apple && !asp::looks_like_asp(&normalized) {
                eprintln!("warning: this does not look like an app-specific password (abcd-efgh-ijkl-mnop); trying it anyway.");
            }
            let report = c.relink(apple_id, secret, progress_fn(cli.json)).await?;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("Reconnected {} — nothing was lost.", report.apple_id);
                println!("{}", output::sync_summary(&report));
            }
            Ok(exit::OK)
        }
        Command::Daemon { interval } => {
            let c = open(&cli, cli.data_dir.clone())?;
            daemon(&c, *interval).await
        }
        Command::Unlink { apple_id } => {
            let c = open(&cli, cli.data_dir.clone())?;
            c.unlink(apple_id)?;
            if !cli.json {
                println!(
                    "Unlinked {apple_id}; its keychain entry and cached calendars were removed."
                );
            }
            Ok(exit::OK)
        }
        Command::Subscribe { url, name } => {
            let c = open(&cli, cli.data_dir.clone())?;
            let r = c.subscribe(url, name.as_deref()).await?;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                println!(
                    "Subscribed to {} (read-only, no password needed): {}",
                    connector::text::for_display(&r.name),
                    output::subscribed_counts(&r)
                );
                println!("It is refreshed with every sync; remove it with: calendar-connector-cli unsubscribe {:?}", r.name);
            }
            Ok(exit::OK)
        }
        Command::Unsubscribe { url_or_name } => {
            let c = open(&cli, cli.data_dir.clone())?;
            let name = c.unsubscribe(url_or_name)?;
            if cli.json {
                println!("{}", serde_json::json!({ "unsubscribed": name }));
            } else {
                println!(
                    "Unsubscribed from {}; its cached events were removed.",
                    connector::text::for_display(&name)
                );
            }
            Ok(exit::OK)
        }
        Command::Sync {
            apple_id,
            retry_auth,
        } => {
            let c = open(&cli, cli.data_dir.clone())?;
            sync_cmd(&cli, &c, apple_id.as_deref(), *retry_auth).await
        }
        Command::Status => {
            let c = open(&cli, cli.data_dir.clone())?;
            let st = c.status()?;
            let policy = connector::policy::load_managed();
            if cli.json {
                let mut v = serde_json::to_value(&st)?;
                v["policy"] = output::policy_json(&policy);
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                print!(
                    "{}",
                    output::status_text(&st, output::Paint(output::color_on(&std::io::stdout())))
                );
                print!("{}", output::policy_text(&policy));
            }
            Ok(status_exit_code(&st))
        }
        Command::Events { from, to, calendar } => {
            let c = open(&cli, cli.data_dir.clone())?;
            let (from, to) = output::parse_range(from.as_deref(), to.as_deref())?;
            let evs = c.events(from, to, calendar.as_deref())?;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&evs)?);
            } else {
                let (first, last) = output::local_days(from, to);
                print!("{}", output::agenda_text(&evs, first, last));
            }
            Ok(exit::OK)
        }
        Command::Export { format, out } => {
            let c = open(&cli, cli.data_dir.clone())?;
            let f = match format {
                Format::Ics => ExportFormat::Ics,
                Format::Vdir => ExportFormat::Vdir,
            };
            let r = c.export(f, out)?;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                println!(
                    "Exported {} object(s) into {} file(s) in {}",
                    r.objects,
                    r.files,
                    out.display()
                );
            }
            Ok(exit::OK)
        }
        Command::Demo => demo(&cli).await,
        Command::RebuildCache => {
            let dir = connector::config::data_dir(cli.data_dir.clone())
                .context("no data directory: pass --data-dir")?;
            let (_c, moved) = Connector::rebuild_cache(OpenOptions {
                data_dir: dir,
                keyring_service: service_for_namespace(cli.keyring_namespace.as_deref()),
            })?;
            match moved {
                Some(p) => println!("The old cache was kept as {}; a fresh one was created. Run `sync` to download your calendars again.", p.display()),
                None => println!("There was no cache; a fresh one was created."),
            }
            Ok(exit::OK)
        }
    }
}

/// `status`'s exit code, so fleet scripts need not parse the output: 3 when an account needs a relink,
/// else 4 when one is backing off (server unreachable or throttled), else 0.
fn status_exit_code(st: &connector::config::StatusReport) -> i32 {
    if st
        .accounts
        .iter()
        .any(|a| a.icloud_app_specific_password_required)
    {
        exit::NEEDS_RELINK
    } else if st.accounts.iter().any(|a| a.state == "backoff") {
        exit::UNREACHABLE
    } else {
        exit::OK
    }
}

async fn sync_cmd(
    cli: &Cli,
    c: &Connector,
    apple_id: Option<&str>,
    retry_auth: bool,
) -> anyhow::Result<i32> {
    // Subscriptions belong to no account: refreshed when every account is synced.
    let (reports, subs, errors) = match apple_id {
        None => c.sync_everything(progress_fn(cli.json), retry_auth).await,
        Some(_) => {
            let (r, e) = c.sync(apple_id, progress_fn(cli.json), retry_auth).await;
            (r, vec![], e)
        }
    };
    if cli.json {
        let errs: Vec<_> = errors
            .iter()
            .map(|e| serde_json::json!({"code": e.kind(), "message": e.to_string()}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"accounts": reports, "subscriptions": subs, "errors": errs})
            )?
        );
    } else {
        for r in &reports {
            println!("{}", output::sync_summary(r));
        }
        for r in &subs {
            println!("{}", output::subscription_summary(r));
        }
    }
    // Exit with the most specific code: relink beats unreachable beats other.
    let mut code = exit::OK;
    for e in &errors {
        if !cli.json {
            eprintln!("error: {e}");
            if let Error::NeedsRelink { reason, .. } = e {
                if let Some(r) = connector::relink::RelinkReason::parse(reason) {
                    eprintln!("\n{}", connector::relink::guidance(r));
                }
            }
        }
        let ec = e.exit_code();
        code = match (code, ec) {
            (exit::NEEDS_RELINK, _) | (_, exit::NEEDS_RELINK) => exit::NEEDS_RELINK,
            (exit::UNREACHABLE, _) | (_, exit::UNREACHABLE) => exit::UNREACHABLE,
            (_, other) => other,
        };
    }
    Ok(code)
}

async fn demo(cli: &Cli) -> anyhow::Result<i32> {
    let dir = match &cli.data_dir {
        Some(d) => d.clone(),
        None => connector::config::data_dir(None)
            .context("no data directory: pass --data-dir")?
            .join("demo"),
    };
    println!(
        "Demo: starting the built-in iCloud simulator and linking its demo account (its password lives in the keychain under a demo-only name)…"
    );
    let connector::demo::LinkedDemo {
        demo,
        conn: c,
        report,
    } = connector::demo::start_linked(&dir).await?;
    println!(
        "The simulator serves {} as {}.",
        demo.sim.front_url(),
        demo.apple_id
    );
    println!("Linked — calendars: {}", report.calendars.join(", "));
    let code = sync_cmd(cli, &c, Some(&demo.apple_id), false).await?;
    if code != exit::OK {
        return Ok(code);
    }
    if !cli.json {
        print!(
            "\n{}",
            output::status_text(
                &c.status()?,
                output::Paint(output::color_on(&std::io::stdout()))
            )
        );
    }
    let (from, to) = output::parse_range(None, None)?;
    let to = to.min(from + chrono::Duration::days(1));
    let evs = c.events(from, to, None)?;
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&evs)?);
    } else {
        println!("\nToday's agenda:");
        let (first, last) = output::local_days(from, to);
        print!("{}", output::agenda_text(&evs, first, last));
        println!(
            "\nThe demo calendars stay in {dir} and can be read offline:\n  calendar-connector-cli --data-dir {dir} events\nThe simulator stops with this command, so that copy no longer syncs; run calendar-connector-cli demo again for a fresh one.",
            dir = dir.display(),
        );
    }
    demo.sim.shutdown().await;
    Ok(exit::OK)
}

/// The daemon: scheduler + notifications until SIGTERM/SIGINT.
async fn daemon(c: &Connector, interval: u64) -> anyhow::Result<i32> {
    let shutdown = tokio_util::sync::CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        stop.cancel();
    });
    let opts = connector::DaemonOptions {
        interval: std::time::Duration::from_secs(interval),
        on_fix_now: Arc::new(|apple_id: &str| {
            // Without the desktop app: open Apple's page and say which command finishes the job.
            eprintln!(
                "To reconnect {apple_id}: make a new app-specific password at https://account.apple.com (Sign-In and Security → App-Specific Passwords), then run: calendar-connector-cli relink --apple-id {apple_id}"
            );
            open_url("https://account.apple.com");
        }),
        on_change: None,
    };
    eprintln!(
        "Calendar Connector daemon: syncing every {interval} s; stop with Ctrl-C or SIGTERM."
    );
    c.run_daemon(
        opts,
        |handler| Arc::new(connector::notify::DesktopNotifier::new(handler)),
        shutdown,
    )
    .await?;
    Ok(exit::OK)
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Opens a URL in the person's browser (allow-listed callers only pass Apple's pages).
fn open_url(url: &str) {
    #[cfg(target_os = "macos")]
    let cmd = ("open", vec![url]);
    #[cfg(windows)]
    let cmd = ("cmd", vec!["/C", "start", "", url]);
    #[cfg(all(unix, not(target_os = "macos")))]
    let cmd = ("xdg-open", vec![url]);
    if let Err(e) = std::process::Command::new(cmd.0)
        .args(cmd.1)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        eprintln!("could not open {url}: {e}");
    }
}
