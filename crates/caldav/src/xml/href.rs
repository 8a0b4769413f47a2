//! Hrefs: resolving them against the request URL and giving one resource one path.

use url::Url;

use crate::error::XmlError;

/// Resolves `raw` against `base` (keeping base's port for relative hrefs) and normalizes the
/// percent-encoding of the path so that one resource always has one `url.path()`:
/// escapes of unreserved characters (`A-Z a-z 0-9 - . _ ~`) and of `@` are decoded, the hex of
/// every other escape is uppercased.
///
/// QUIRK(icloud §1.5): iCloud escapes `@` as `%40` in hrefs but rejects `%40` on GET.
///
/// Hrefs longer than 16 KiB are refused ([`XmlError::BadHref`] then carries only their start).
pub fn normalize_href(base: &Url, raw: &str) -> Result<Url, XmlError> {
    let trimmed = raw.trim();
    if trimmed.len() > MAX_HREF_BYTES {
        let mut end = 80;
        while !trimmed.is_char_boundary(end) {
            end -= 1;
        }
        return Err(XmlError::BadHref {
            href: format!("{}… ({} bytes)", &trimmed[..end], trimmed.len()),
        });
    }
    let bad = || XmlError::BadHref {
        href: raw.to_owned(),
    };
    if trimmed.is_empty() {
        return Err(bad());
    }
    let mut url = base.join(trimmed).map_err(|_| bad())?;
    if url.cannot_be_a_base() {
        return Err(bad());
    }
    let path = normalize_escapes(url.path());
    if path != url.path() {
        url.set_path(&path);
    }
    Ok(url)
}

/// Longest href accepted; real ones are a few hundred bytes, and servers limit request lines to
/// about 8 KB. Bounds the work (and the size of the error) for a hostile 50 MB href.
pub(crate) const MAX_HREF_BYTES: usize = 16 * 1024;

pub(crate) fn normalize_escapes(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            if let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|c| hex_val(*c)),
                bytes.get(i + 2).and_then(|c| hex_val(*c)),
            ) {
                let decoded = h * 16 + l;
                if decoded.is_ascii_alphanumeric() || b"-._~@".contains(&decoded) {
                    out.push(char::from(decoded));
                } else {
                    out.push('%');
                    out.push(char::from(HEX[usize::from(h)]));
                    out.push(char::from(HEX[usize::from(l)]));
                }
                i += 3;
                continue;
            }
            // A '%' that starts no escape is a literal percent sign: escape it, or decoding a
            // later escape could make it start one ("%%41a" → "%Aa" → "%AA") and
            // normalization would not be idempotent.
            out.push_str("%25");
            i += 1;
            continue;
        }
        // Url::path() is ASCII, so byte-wise copying is char-wise copying.
        out.push(char::from(b));
        i += 1;
    }
    out
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}
