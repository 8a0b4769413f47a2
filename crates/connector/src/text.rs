//! Text from a server, made safe to show to a person. Titles, locations and calendar names are the
//! server's bytes: a right-to-left override (U+202E) in "Payroll \u{202E}gnp.exe\u{202C} review" makes a
//! terminal or a notification show "Payroll exe.png review", and an escape character can drive a
//! terminal. Human output (CLI text, notifications, tray and window text) goes through [`for_display`];
//! JSON and exports keep the exact text.

use std::borrow::Cow;

/// Whether `c` changes how text around it is ordered or shown without being visible itself: the
/// bidirectional embeddings, overrides, isolates and marks, and the other invisible format characters
/// (zero-width spaces and joiners, word joiner, invisible operators, BOM, interlinear annotation).
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{061C}'                 // Arabic letter mark
        | '\u{115F}' | '\u{1160}'  // Hangul fillers
        | '\u{180E}'               // Mongolian vowel separator
        | '\u{200B}'..='\u{200F}'  // zero-width space/non-joiner/joiner, LRM, RLM
        | '\u{202A}'..='\u{202E}'  // LRE, RLE, PDF, LRO, RLO
        | '\u{2060}'..='\u{2064}'  // word joiner, invisible operators
        | '\u{2066}'..='\u{206F}'  // isolates, deprecated format characters
        | '\u{FEFF}'               // zero-width no-break space (BOM)
        | '\u{FFF9}'..='\u{FFFB}'  // interlinear annotation
        | '\u{1D173}'..='\u{1D17A}' // musical format characters
        | '\u{E0001}' | '\u{E0020}'..='\u{E007F}' // tags
    )
}

/// `s` for a person's eyes, on one line: invisible formatting characters dropped, control characters
/// (escape sequences, line breaks, tabs) shown as a space, so nothing in the text can reorder or
/// restyle what is printed around it. Borrowed when nothing needed changing (nearly always).
pub fn for_display(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c.is_control() || is_invisible_format(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_invisible_format(c) {
            continue;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    Cow::Owned(out)
}

/// Like [`for_display`], keeping line breaks (for multi-line texts such as guidance).
pub fn for_display_lines(s: &str) -> String {
    s.split('\n')
        .map(|l| for_display(l.trim_end_matches('\r')).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_overrides_cannot_reorder_a_line() {
        let title = "Payroll \u{202E}gnp.exe\u{202C} review";
        assert_eq!(for_display(title), "Payroll gnp.exe review");
        for c in [
            '\u{2067}', '\u{2069}', '\u{200F}', '\u{061C}', '\u{200B}', '\u{FEFF}',
        ] {
            assert_eq!(for_display(&format!("a{c}b")), "ab", "{:?}", c);
        }
    }

    #[test]
    fn control_characters_become_spaces_and_plain_text_is_borrowed() {
        assert_eq!(
            for_display("red\u{1b}[31mtext\nnext\tcol"),
            "red [31mtext next col"
        );
        assert!(matches!(for_display("Café — 会議 🎉"), Cow::Borrowed(_)));
        assert_eq!(for_display_lines("a\u{202E}b\r\nc"), "ab\nc");
    }
}
