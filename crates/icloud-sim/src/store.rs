//! The calendars in memory, with the change log sync-collection answers from.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::config::{CalendarSpec, Component, SimConfig};
use crate::generate::{self, hash_bytes, mix};

/// Characters escaped in hrefs. QUIRK(icloud §1.5): this includes '@'.
const HREF_ESCAPE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Opaque-looking prefix shared by iCloud's tokens.
const TOKEN_PREFIX: &str = "HwoQEgwAAAh4";

pub(crate) struct Object {
    pub(crate) etag: String,
    pub(crate) data: Arc<Vec<u8>>,
    /// Calendar revision of the last change.
    pub(crate) rev: u64,
    /// Whether multiget wraps this object's data in CDATA (else XML-escaped text).
    pub(crate) cdata: bool,
}

pub(crate) struct Calendar {
    pub(crate) spec: CalendarSpec,
    pub(crate) objects: BTreeMap<String, Object>,
    /// Deleted names and the revision that deleted them.
    pub(crate) tombstones: BTreeMap<String, u64>,
    pub(crate) rev: u64,
    seed: u64,
    next_index: u64,
    id: u16,
}

pub(crate) struct Store {
    pub(crate) dsid: String,
    pub(crate) calendars: Vec<Calendar>,
    base_date: chrono::NaiveDate,
    broken_percent: f64,
    /// Bumped by `expire_sync_tokens`; tokens of an older epoch are invalid.
    epoch: u32,
    edits: u64,
}

/// What a sync-collection with a token may see.
pub(crate) enum Since {
    Everything,
    Revision(u64),
}

fn etag_for(data: &[u8], name: &str, rev: u64) -> String {
    let mut v = mix(hash_bytes(data) ^ hash_bytes(name.as_bytes()), rev) % 36u64.pow(8);
    let mut digits = [b'0'; 8];
    for d in digits.iter_mut().rev() {
        *d = b"0123456789abcdefghijklmnopqrstuvwxyz"[(v % 36) as usize];
        v /= 36;
    }
    format!("\"{}\"", String::from_utf8_lossy(&digits))
}

/// An object name as it appears in hrefs (percent-encoded, '@' as %40).
pub(crate) fn encode_name(name: &str) -> String {
    // Raw-byte placeholders (a name stored with bytes that are not UTF-8) stay as they are, so the
    // listing serves those bytes verbatim, as iCloud serves what it stored.
    if !name.chars().any(crate::xml::is_raw_byte_placeholder) {
        return utf8_percent_encode(name, HREF_ESCAPE).to_string();
    }
    let mut out = String::new();
    let mut run = String::new();
    for c in name.chars() {
        if crate::xml::is_raw_byte_placeholder(c) {
            out.push_str(&utf8_percent_encode(&run, HREF_ESCAPE).to_string());
            run.clear();
            out.push(c);
        } else {
            run.push(c);
        }
    }
    out.push_str(&utf8_percent_encode(&run, HREF_ESCAPE).to_string());
    out
}

impl Calendar {
    fn insert(&mut self, name: String, data: Vec<u8>) {
        self.rev += 1;
        let etag = etag_for(&data, &name, self.rev);
        let cdata = hash_bytes(name.as_bytes()) & 1 == 0;
        self.tombstones.remove(&name);
        self.objects.insert(
            name,
            Object {
                etag,
                data: Arc::new(data),
                rev: self.rev,
                cdata,
            },
        );
    }

    fn remove(&mut self, name: &str) -> bool {
        if self.objects.remove(name).is_some() {
            self.rev += 1;
            self.tombstones.insert(name.to_owned(), self.rev);
            true
        } else {
            false
        }
    }

    fn generate_next(&mut self, base: chrono::NaiveDate, broken_percent: f64) -> String {
        let (mut name, data) = generate::object(
            self.seed,
            self.next_index,
            self.spec.component,
            base,
            broken_percent,
        );
        if self.objects.contains_key(&name) {
            name = format!("{}-{}.ics", name.trim_end_matches(".ics"), self.next_index);
        }
        self.next_index += 1;
        self.insert(name.clone(), data);
        name
    }

    /// `CS:getctag`: changes with every change of the calendar.
    pub(crate) fn ctag(&self) -> String {
        format!("FT=-@RU={:016x}@S={}", mix(self.seed, 0xC7A6), self.rev)
    }

    /// The collection's own etag (§3.1: it appears among sync results).
    pub(crate) fn etag(&self) -> String {
        format!("\"{:x}\"", mix(self.seed, self.rev))
    }
}

impl Store {
    pub(crate) fn new(cfg: &SimConfig) -> anyhow::Result<Store> {
        let mut store = Store {
            dsid: cfg.dsid.clone(),
            calendars: Vec::new(),
            base_date: cfg.base_date,
            broken_percent: cfg.broken_percent,
            epoch: 1,
            edits: 0,
        };
        if let Some(dir) = &cfg.ics_dir {
            store.load_dir(dir, cfg.seed)?;
        } else {
            for spec in &cfg.calendars {
                let idx = store.add_calendar(spec.clone(), cfg.seed);
                for _ in 0..spec.events {
                    store.calendars[idx].generate_next(cfg.base_date, cfg.broken_percent);
                }
                // The generated contents are revision 1, whatever their number.
                let cal = &mut store.calendars[idx];
                cal.rev = 1;
                for (name, o) in cal.objects.iter_mut() {
                    o.rev = 1;
                    o.etag = etag_for(&o.data, name, 1);
                }
            }
        }
        Ok(store)
    }

    fn add_calendar(&mut self, spec: CalendarSpec, seed: u64) -> usize {
        let id = self.calendars.len() as u16;
        self.calendars.push(Calendar {
            seed: mix(seed, hash_bytes(spec.slug.as_bytes())),
            spec,
            objects: BTreeMap::new(),
            tombstones: BTreeMap::new(),
            rev: 1,
            next_index: 0,
            id,
        });
        self.calendars.len() - 1
    }

    fn load_dir(&mut self, dir: &Path, seed: u64) -> anyhow::Result<()> {
        const COLORS: &[&str] = &[
            "#1BADF8FF",
            "#FF9500FF",
            "#63DA38FF",
            "#CC73E1FF",
            "#FF2968FF",
            "#A2845EFF",
        ];
        let mut subdirs: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", dir.display()))?
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .collect();
        subdirs.sort_by_key(|e| e.file_name());
        for (i, sub) in subdirs.iter().enumerate() {
            let slug = sub.file_name().to_string_lossy().into_owned();
            let mut files: Vec<_> = std::fs::read_dir(sub.path())?
                .filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "ics") && e.path().is_file())
                .collect();
            files.sort_by_key(|e| e.file_name());
            let mut objects = Vec::new();
            for f in files {
                objects.push((
                    f.file_name().to_string_lossy().into_owned(),
                    std::fs::read(f.path())?,
                ));
            }
            let contains = |needle: &[u8]| {
                objects
                    .iter()
                    .any(|(_, d)| d.windows(needle.len()).any(|w| w == needle))
            };
            let component = if contains(b"BEGIN:VTODO") && !contains(b"BEGIN:VEVENT") {
                Component::Vtodo
            } else {
                Component::Vevent
            };
            let spec = CalendarSpec::new(&slug, &slug, COLORS[i % COLORS.len()], component, 0);
            let idx = self.add_calendar(spec, seed);
            let cal = &mut self.calendars[idx];
            for (name, data) in objects {
                cal.insert(name, data);
            }
        }
        Ok(())
    }

    pub(crate) fn calendar_index(&self, slug: &str) -> Option<usize> {
        self.calendars.iter().position(|c| c.spec.slug == slug)
    }

    /// `/<dsid>/calendars/<slug>/<name>` with '@' unescaped.
    pub(crate) fn plain_href(&self, cal: usize, name: &str) -> String {
        format!(
            "/{}/calendars/{}/{}",
            self.dsid, self.calendars[cal].spec.slug, name
        )
    }

    /// The href as listings serve it. QUIRK(icloud §1.5): '@' as %40.
    pub(crate) fn listed_href(&self, cal: usize, name: &str) -> String {
        format!(
            "/{}/calendars/{}/{}",
            self.dsid,
            self.calendars[cal].spec.slug,
            encode_name(name)
        )
    }

    pub(crate) fn add(&mut self, cal: usize, n: usize) -> Vec<String> {
        let (base, broken) = (self.base_date, self.broken_percent);
        (0..n)
            .map(|_| self.calendars[cal].generate_next(base, broken))
            .collect()
    }

    pub(crate) fn modify(&mut self, cal: usize, n: usize) -> Vec<String> {
        let names: Vec<String> = self.calendars[cal]
            .objects
            .keys()
            .take(n)
            .cloned()
            .collect();
        for name in &names {
            self.edits += 1;
            let c = &mut self.calendars[cal];
            if let Some(o) = c.objects.get(name) {
                let data = generate::with_new_summary(&o.data, self.edits);
                c.insert(name.clone(), data);
            }
        }
        names
    }

    pub(crate) fn delete(&mut self, cal: usize, n: usize) -> Vec<String> {
        let names: Vec<String> = self.calendars[cal]
            .objects
            .keys()
            .take(n)
            .cloned()
            .collect();
        for name in &names {
            self.calendars[cal].remove(name);
        }
        names
    }

    /// Gives one object a new SUMMARY (so new data and a new etag); false when it does not exist.
    pub(crate) fn touch(&mut self, cal: usize, name: &str) -> bool {
        self.edits += 1;
        let c = &mut self.calendars[cal];
        let Some(o) = c.objects.get(name) else {
            return false;
        };
        let data = generate::with_new_summary(&o.data, self.edits);
        c.insert(name.to_owned(), data);
        true
    }

    /// Deletes a whole calendar (it vanishes from the home listing; requests on it get 404).
    #[cfg(feature = "testing")]
    pub(crate) fn remove_calendar(&mut self, cal: usize) {
        self.calendars.remove(cal);
    }

    pub(crate) fn put(&mut self, cal: usize, name: &str, data: Vec<u8>) {
        self.calendars[cal].insert(name.to_owned(), data);
    }

    pub(crate) fn remove(&mut self, cal: usize, name: &str) -> bool {
        self.calendars[cal].remove(name)
    }

    pub(crate) fn expire_tokens(&mut self) {
        self.epoch += 1;
    }

    /// `DAV:sync-token`: opaque, not a URI (§1.7).
    pub(crate) fn sync_token(&self, cal: usize) -> String {
        let c = &self.calendars[cal];
        let mut raw = Vec::with_capacity(22);
        raw.extend_from_slice(&c.id.to_be_bytes());
        raw.extend_from_slice(&self.epoch.to_be_bytes());
        raw.extend_from_slice(&c.rev.to_be_bytes());
        let check = mix(c.seed, hash_bytes(&raw)).to_be_bytes();
        raw.extend_from_slice(&check[..4]);
        format!(
            "{TOKEN_PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }

    /// The revision a token stands for, if it is valid for this calendar now.
    pub(crate) fn check_token(&self, cal: usize, token: &str) -> Option<Since> {
        let token = token.trim();
        if token.is_empty() {
            return Some(Since::Everything);
        }
        let c = &self.calendars[cal];
        let raw = base64::engine::general_purpose::STANDARD
            .decode(token.strip_prefix(TOKEN_PREFIX)?)
            .ok()?;
        if raw.len() != 18 {
            return None;
        }
        let check = mix(c.seed, hash_bytes(&raw[..14])).to_be_bytes();
        let id = u16::from_be_bytes([raw[0], raw[1]]);
        let epoch = u32::from_be_bytes([raw[2], raw[3], raw[4], raw[5]]);
        let mut rev = [0u8; 8];
        rev.copy_from_slice(&raw[6..14]);
        let rev = u64::from_be_bytes(rev);
        (raw[14..] == check[..4] && id == c.id && epoch == self.epoch && rev <= c.rev)
            .then_some(Since::Revision(rev))
    }
}
