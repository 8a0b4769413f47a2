//! "Save diagnostics": a zip of logs, status and config for a support request, with every secret and
//! Apple ID redacted (DAVx5's debug-info zip, GitButler's zip.rs). Redaction is by what things look
//! like as well as by the known values, so an Apple ID that a log line quotes in another form, an
//! e-mail address of an invitee, an app-specific password or an `Authorization` value never ships.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use connector::policy::Policy;
use connector::Connector;

use crate::settings::Settings;

/// What goes in.
pub struct Input {
    /// The person's connector and, in demo mode, the demo's.
    pub connectors: Vec<Arc<Connector>>,
    /// User settings.
    pub settings: Settings,
    /// Policy.
    pub policy: Policy,
    /// Where it was read from.
    pub policy_path: PathBuf,
    /// The person's data dir (logs live in `logs/`).
    pub data_dir: PathBuf,
    /// Other strings to blank (the demo simulator's password).
    pub extra_secrets: Vec<String>,
}

/// Most of each log that goes in (the end, where the problem usually is).
const LOG_TAIL: usize = 2 * 1024 * 1024;

/// Replaces Apple IDs (known ones numbered, so lines stay comparable), e-mail addresses,
/// app-specific-password-shaped strings, `Basic`/`Bearer` credentials and `extra` values.
pub fn redact(text: &str, apple_ids: &[String], extra: &[String]) -> String {
    let mut s = text.to_owned();
    for (i, id) in apple_ids.iter().enumerate() {
        if !id.is_empty() {
            s = replace_ci(&s, id, &format!("<apple-id-{}>", i + 1));
        }
    }
    for x in extra {
        if x.len() >= 4 {
            s = s.replace(x.as_str(), "<redacted>");
        }
    }
    let s = redact_after(&s, "Basic ");
    let s = redact_after(&s, "Bearer ");
    let s = redact_asp_shapes(&s);
    redact_emails(&s)
}

fn replace_ci(hay: &str, needle: &str, with: &str) -> String {
    let lower_hay = hay.to_lowercase();
    let lower_needle = needle.to_lowercase();
    if lower_hay.len() != hay.len() {
        return hay.replace(needle, with); // non-ASCII case mapping changed lengths: exact match only
    }
    let mut out = String::with_capacity(hay.len());
    let mut i = 0;
    while let Some(pos) = lower_hay[i..].find(&lower_needle) {
        out.push_str(&hay[i..i + pos]);
        out.push_str(with);
        i += pos + needle.len();
    }
    out.push_str(&hay[i..]);
    out
}

fn redact_after(s: &str, marker: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find(marker) {
        out.push_str(&rest[..pos + marker.len()]);
        rest = &rest[pos + marker.len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || "+/=-_.~".contains(c)))
            .unwrap_or(rest.len());
        if end > 0 {
            out.push_str("<redacted>");
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// `xxxx-xxxx-xxxx-xxxx` (letters, either case) and the same 16 letters without hyphens when they
/// stand alone as a word.
fn redact_asp_shapes(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let is_word = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
    while i < b.len() {
        let at_word_start = i == 0 || !is_word(b[i - 1]);
        if at_word_start && i + 19 <= b.len() {
            let w = &b[i..i + 19];
            let shaped = w.iter().enumerate().all(|(k, c)| {
                if k % 5 == 4 {
                    *c == b'-'
                } else {
                    c.is_ascii_alphabetic()
                }
            });
            if shaped && (i + 19 == b.len() || !is_word(b[i + 19])) {
                out.extend_from_slice(b"<app-specific-password>");
                i += 19;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

fn redact_emails(s: &str) -> String {
    let is_local = |c: char| c.is_alphanumeric() || "._%+-".contains(c);
    let is_domain = |c: char| c.is_alphanumeric() || ".-".contains(c);
    let chars: Vec<char> = s.chars().collect();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for (at, c) in chars.iter().enumerate() {
        if *c != '@' || spans.last().is_some_and(|(_, e)| at < *e) {
            continue;
        }
        let mut a = at;
        while a > 0 && is_local(chars[a - 1]) {
            a -= 1;
        }
        let mut b = at + 1;
        while b < chars.len() && is_domain(chars[b]) {
            b += 1;
        }
        while b > at + 1 && chars[b - 1] == '.' {
            b -= 1;
        }
        if a < at && chars[at + 1..b].contains(&'.') {
            spans.push((a, b));
        }
    }
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    for (a, b) in spans {
        out.extend(&chars[i..a]);
        out.push_str("<email>");
        i = b;
    }
    out.extend(&chars[i..]);
    out
}

/// The unguessable part of a subscription's link (its last path segment), when it is long enough to
/// be one.
fn link_token(url: &str) -> Option<String> {
    let path = url.split_once("://").map_or(url, |(_, rest)| rest);
    let last = path.trim_end_matches('/').rsplit('/').next()?;
    (last.len() >= 8 && path.contains('/')).then(|| last.to_owned())
}

fn tail(bytes: &[u8]) -> String {
    let from = bytes.len().saturating_sub(LOG_TAIL);
    String::from_utf8_lossy(&bytes[from..]).into_owned()
}

/// Builds the zip at `out`.
pub fn write_zip(input: &Input, out: &Path) -> Result<(), String> {
    let mut apple_ids = Vec::new();
    let mut statuses = Vec::new();
    let mut extra = input.extra_secrets.clone();
    for c in &input.connectors {
        apple_ids.extend(c.account_ids().unwrap_or_default());
        statuses.push(match c.status() {
            Ok(s) => {
                // Whoever has a public calendar's link can read it: its token stays home.
                extra.extend(s.subscriptions.iter().filter_map(|x| link_token(&x.url)));
                serde_json::to_value(&s).unwrap_or_default()
            }
            Err(e) => serde_json::json!({ "error": e.to_string() }),
        });
    }
    let red = |t: &str| redact(t, &apple_ids, &extra);
    let mut files: Vec<(String, String)> = Vec::new();
    files.push((
        "about.txt".into(),
        format!(
            "Calendar Connector {}\nos: {} {}\npolicy file: {}\ndata dir: {}\nwritten: {}\n",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::env::consts::ARCH,
            input.policy_path.display(),
            input.data_dir.display(),
            chrono::Utc::now().to_rfc3339(),
        ),
    ));
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    files.push((
        "status.json".into(),
        red(&pretty(&serde_json::Value::Array(statuses))),
    ));
    files.push((
        "settings.json".into(),
        red(&pretty(
            &serde_json::to_value(&input.settings).unwrap_or_default(),
        )),
    ));
    files.push((
        "policy.json".into(),
        red(&pretty(
            &serde_json::to_value(&input.policy).unwrap_or_default(),
        )),
    ));
    for c in &input.connectors {
        let dir = c.data_dir();
        let prefix = if dir == input.data_dir { "" } else { "demo/" };
        if let Ok(b) = std::fs::read(dir.join("accounts.json")) {
            files.push((
                format!("{prefix}accounts.json"),
                red(&String::from_utf8_lossy(&b)),
            ));
        }
    }
    if let Ok(rd) = std::fs::read_dir(input.data_dir.join("logs")) {
        let mut logs: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        logs.sort();
        for p in logs {
            if let (Some(name), Ok(b)) = (p.file_name(), std::fs::read(&p)) {
                files.push((format!("logs/{}", name.to_string_lossy()), red(&tail(&b))));
            }
        }
    }
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    let file = std::fs::File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in files {
        zip.start_file(name.as_str(), opts)
            .map_err(|e| e.to_string())?;
        zip.write_all(body.as_bytes()).map_err(|e| e.to_string())?;
    }
    zip.finish().map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscription_link_token_is_redacted() {
        let url = "https://p42-caldav.icloud.com/published/2/MTIzNDU2Nzg5MDEyMzQ1Ng";
        let t = link_token(url).unwrap();
        assert_eq!(t, "MTIzNDU2Nzg5MDEyMzQ1Ng");
        let out = redact(&format!("refresh of {url} failed"), &[], &[t]);
        assert!(!out.contains("MTIzNDU2"), "{out}");
        assert!(out.contains("p42-caldav.icloud.com/published/2/"), "{out}");
        assert_eq!(link_token("https://h/"), None);
    }

    #[test]
    fn apple_ids_emails_passwords_and_auth_headers_are_redacted() {
        let ids = vec!["Jane.Doe@iCloud.com".to_owned()];
        let text =
            "sync of jane.doe@icloud.com failed; invitee bob@example.org; pw abcd-efgh-ijkl-mnop; \
                    Authorization: Basic amFuZTpzZWNyZXQ= end; demo s3cretdemo";
        let r = redact(text, &ids, &["s3cretdemo".to_owned()]);
        assert!(r.contains("<apple-id-1>"), "{r}");
        assert!(!r.to_lowercase().contains("jane"), "{r}");
        assert!(!r.contains("bob@example.org"), "{r}");
        assert!(r.contains("<email>"), "{r}");
        assert!(!r.contains("abcd-efgh"), "{r}");
        assert!(!r.contains("amFuZTpzZWNyZXQ"), "{r}");
        assert!(!r.contains("s3cretdemo"), "{r}");
        assert!(r.ends_with("<redacted>"), "{r}");
    }

    #[test]
    fn ordinary_text_is_kept() {
        let t = "calendar Work: fetched 12, deleted 0 (2026-05-01T10:00:00Z) a-b-c";
        assert_eq!(redact(t, &[], &[]), t);
    }
}
