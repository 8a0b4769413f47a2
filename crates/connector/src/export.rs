//! Export: every cached object with its bytes exactly as the server sent them, as one .ics file per
//! calendar (time zones deduplicated) or as a vdir (one file per object).

use std::path::Path;

use serde::Serialize;

use crate::cache::Cache;
use crate::error::{io_err, Result};

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One .ics file per calendar.
    Ics,
    /// One directory per calendar, one .ics file per object, bytes as cached.
    Vdir,
}

/// Result of `export`.
#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    /// Files written.
    pub files: usize,
    /// Objects written.
    pub objects: usize,
}

/// Writes every calendar of every account under `out`.
pub(crate) fn export(c: &Cache, format: ExportFormat, out: &Path) -> Result<ExportReport> {
    std::fs::create_dir_all(out).map_err(|e| io_err("create", out, e))?;
    let mut report = ExportReport {
        files: 0,
        objects: 0,
    };
    // Accounts' calendars, then the subscriptions' (read-only calendars of published links).
    let mut all = Vec::new();
    for a in c.accounts()? {
        for cal in c.calendars(a.id)? {
            all.push((format!("{}-{}", a.apple_id, cal.name()), cal.id));
        }
    }
    for s in c.subscriptions()? {
        all.push((format!("subscribed-{}", s.display_name), s.calendar_id));
    }
    for (label, calendar_id) in all {
        let base = safe_file_name(&label);
        match format {
            ExportFormat::Vdir => {
                let dir = out.join(&base);
                std::fs::create_dir_all(&dir).map_err(|e| io_err("create", &dir, e))?;
                let r = c.for_each_object(calendar_id, |href, raw| {
                    let name = href.rsplit('/').next().unwrap_or(href);
                    let mut file = safe_file_name(name);
                    if !file.ends_with(".ics") {
                        file.push_str(".ics");
                    }
                    std::fs::write(dir.join(file), raw)?;
                    report.files += 1;
                    report.objects += 1;
                    Ok(())
                })?;
                r.map_err(|e| io_err("write into", &dir, e))?;
            }
            ExportFormat::Ics => {
                let path = out.join(format!("{base}.ics"));
                let mut buf: Vec<u8> = Vec::new();
                let mut n = 0;
                let r = c.for_each_object(calendar_id, |_, raw| {
                    buf.extend_from_slice(raw);
                    if !raw.ends_with(b"\n") {
                        buf.extend_from_slice(b"\r\n");
                    }
                    n += 1;
                    Ok(())
                })?;
                r.map_err(|e| io_err("read", &path, e))?;
                let merged = merge_to_single_calendar(&buf);
                std::fs::write(&path, merged).map_err(|e| io_err("write", &path, e))?;
                report.files += 1;
                report.objects += n;
            }
        }
    }
    Ok(report)
}

fn safe_file_name(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with('.') {
        out.insert(0, '_');
    }
    out
}

/// Joins several VCALENDAR objects into one: the first object's header, every component once (time
/// zones deduplicated by TZID), one END. Component lines are copied byte for byte.
fn merge_to_single_calendar(objects: &[u8]) -> Vec<u8> {
    let mut header: Vec<&[u8]> = Vec::new();
    let mut header_done = false;
    let mut body: Vec<u8> = Vec::new();
    let mut seen_tz: std::collections::HashSet<Vec<u8>> = std::collections::HashSet::new();
    let mut depth = 0usize;
    let mut current: Vec<u8> = Vec::new();
    let mut current_tz: Option<Vec<u8>> = None;
    for line in objects.split_inclusive(|b| *b == b'\n') {
        let t = line.strip_suffix(b"\n").unwrap_or(line);
        let t = t.strip_suffix(b"\r").unwrap_or(t);
        let upper = t.to_ascii_uppercase();
        if upper == b"BEGIN:VCALENDAR" {
            depth = 0;
            continue;
        }
        if upper == b"END:VCALENDAR" {
            header_done = true;
            continue;
        }
        if upper.starts_with(b"BEGIN:") {
            depth += 1;
        }
        if depth == 0 {
            if !header_done {
                header.push(line);
            }
            continue;
        }
        current.extend_from_slice(line);
        if depth == 1 && upper.starts_with(b"TZID:") {
            current_tz = Some(upper[5..].to_vec());
        }
        if upper.starts_with(b"END:") {
            depth -= 1;
            if depth == 0 {
                let is_tz = current.to_ascii_uppercase().starts_with(b"BEGIN:VTIMEZONE");
                let keep = !is_tz || current_tz.take().is_none_or(|tz| seen_tz.insert(tz));
                if keep {
                    body.extend_from_slice(&current);
                }
                current.clear();
            }
        }
    }
    let mut out = b"BEGIN:VCALENDAR\r\n".to_vec();
    for h in header {
        out.extend_from_slice(h);
    }
    out.extend_from_slice(&body);
    out.extend_from_slice(b"END:VCALENDAR\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ics_export_merges_objects_and_dedupes_time_zones() {
        let a = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:a\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let b = a.replace("UID:a", "UID:b");
        let merged = merge_to_single_calendar(format!("{a}{b}").as_bytes());
        let s = String::from_utf8(merged).unwrap();
        assert_eq!(s.matches("BEGIN:VCALENDAR").count(), 1);
        assert_eq!(s.matches("BEGIN:VTIMEZONE").count(), 1);
        assert_eq!(s.matches("BEGIN:VEVENT").count(), 2);
        assert!(s.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
    }
}
