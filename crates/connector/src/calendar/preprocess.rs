//! Byte-level clean-up that runs before calcard sees the data.
//!
//! Line endings are normalised (CRLF and lone CR become LF), folded lines are
//! unfolded at the byte level (a fold may split a UTF-8 sequence, so this must
//! happen before decoding), and only then is the result decoded as UTF-8,
//! replacing invalid sequences with U+FFFD instead of failing.

/// Normalise line endings, unfold, and decode lossily.
pub(crate) fn preprocess(raw: &[u8]) -> String {
    let mut normalized = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b == b'\r' {
            normalized.push(b'\n');
            if raw.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
        } else {
            normalized.push(b);
        }
        i += 1;
    }

    // Unfold: "\n" followed by a single space or tab is removed together with
    // that whitespace character. Folds may be stacked ("\n \n ...").
    let mut unfolded = Vec::with_capacity(normalized.len());
    let mut i = 0;
    while i < normalized.len() {
        let b = normalized[i];
        if b == b'\n' && matches!(normalized.get(i + 1), Some(b' ') | Some(b'\t')) {
            i += 2;
            continue;
        }
        unfolded.push(b);
        i += 1;
    }

    String::from_utf8_lossy(&unfolded).into_owned()
}

#[cfg(test)]
mod tests {
    use super::preprocess;

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
    fn invalid_utf8_decodes_lossily() {
        assert_eq!(preprocess(b"X:a\xFFb"), "X:a\u{fffd}b");
    }
}
