//! Byte-level clean-up that runs before calcard sees the data.
//!
//! Line endings are normalised (CRLF and lone CR become LF), folded lines are
//! unfolded at the byte level (a fold may split a UTF-8 sequence, so this must
//! happen before decoding), and only then is the result decoded as UTF-8,
//! replacing invalid sequences with U+FFFD instead of failing. Component
//! boundaries written the way some clients write them (`begin:vevent`, trailing
//! spaces or tabs after `BEGIN:VEVENT`) are made canonical, as common clients
//! accept them.

/// Normalise line endings, unfold, and decode lossily.
///
/// One pass: runs without a line break are copied whole (found with memchr); a CR, CRLF or LF
/// becomes LF unless a space or tab follows, in which case the break and that one character are a
/// fold and vanish. Valid UTF-8 (nearly always) is then taken as is, without another copy.
pub(crate) fn preprocess(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    let mut line_start = 0;
    while let Some(off) = memchr::memchr2(b'\r', b'\n', &raw[i..]) {
        out.extend_from_slice(&raw[i..i + off]);
        let mut j = i + off + 1;
        if raw[i + off] == b'\r' && raw.get(j) == Some(&b'\n') {
            j += 1;
        }
        if matches!(raw.get(j), Some(b' ') | Some(b'\t')) {
            j += 1;
        } else {
            canonical_boundary(&mut out, line_start);
            out.push(b'\n');
            line_start = out.len();
        }
        i = j;
    }
    out.extend_from_slice(&raw[i..]);
    canonical_boundary(&mut out, line_start);
    match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// If the (unfolded) line at `out[start..]` is a component boundary — `BEGIN:` or `END:` in any
/// case — drops trailing spaces and tabs and upper-cases it, so `begin:vevent \t` reads as
/// `BEGIN:VEVENT`. Other lines are left exactly as they are.
fn canonical_boundary(out: &mut Vec<u8>, start: usize) {
    let line = &out[start..];
    let is_boundary =
        |kw: &[u8]| line.len() > kw.len() && line[..kw.len()].eq_ignore_ascii_case(kw);
    if !(is_boundary(b"BEGIN:") || is_boundary(b"END:")) {
        return;
    }
    while matches!(out.last(), Some(b' ' | b'\t')) && out.len() > start {
        out.pop();
    }
    out[start..].make_ascii_uppercase();
}

#[cfg(test)]
mod tests {
    use super::preprocess;

    #[test]
    fn component_boundaries_in_any_case_with_trailing_blanks_become_canonical() {
        assert_eq!(
            preprocess(b"begin:vcalendar\r\nBEGIN:VEVENT \t\r\nSUMMARY:a b \r\nEnd:VEvent\r\nEND:VCALENDAR  "),
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:a b \nEND:VEVENT\nEND:VCALENDAR"
        );
        // Not a boundary: untouched.
        assert_eq!(preprocess(b"BEGINNER:x \nEND:"), "BEGINNER:x \nEND:");
    }

    #[test]
    fn crlf_and_cr_become_lf() {
        assert_eq!(preprocess(b"A:1\r\nB:2\rC:3\n"), "A:1\nB:2\nC:3\n");
    }

    #[test]
    fn fold_inside_utf8_sequence_is_rejoined_before_decoding() {
        // "ü" is C3 BC; the fold splits it.
        let raw = b"SUMMARY:Gr\xC3\r\n \xBCn\r\n";
        assert_eq!(preprocess(raw), "SUMMARY:Gr\u{fc}n\n");
    }

    #[test]
    fn tab_fold_and_stacked_folds() {
        assert_eq!(preprocess(b"X:a\r\n\tb\r\n c\r\n"), "X:abc\n");
    }

    #[test]
    fn lone_crs_and_mixed_breaks_match_the_two_pass_rules() {
        assert_eq!(preprocess(b"A\r\r\n B\n\r C\r"), "A\nB\nC\n");
        assert_eq!(preprocess(b"\r\n \r\n\t"), "");
        assert_eq!(preprocess(b"no break"), "no break");
    }

    #[test]
    fn invalid_utf8_decodes_lossily() {
        assert_eq!(preprocess(b"X:a\xFFb"), "X:a\u{fffd}b");
    }
}
