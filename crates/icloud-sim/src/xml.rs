//! Reading DAV request bodies and writing multistatus answers.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

pub(crate) const DAV: &str = "DAV:";
pub(crate) const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
pub(crate) const CS: &str = "http://calendarserver.org/ns/";
pub(crate) const ICAL: &str = "http://apple.com/ns/ical/";

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PropName {
    pub(crate) ns: String,
    pub(crate) local: String,
}

impl PropName {
    #[cfg(test)]
    pub(crate) fn is(&self, ns: &str, local: &str) -> bool {
        self.ns == ns && self.local == local
    }

    /// An empty element naming this property, for the 404 propstat.
    pub(crate) fn empty_element(&self) -> String {
        if self.ns == DAV {
            format!("<{}/>", self.local)
        } else {
            format!(
                "<{} xmlns=\"{}\"/>",
                self.local,
                escape(&self.ns).replace('"', "&quot;")
            )
        }
    }
}

/// The parts of a PROPFIND or REPORT body the simulator acts on.
#[derive(Debug, Default)]
pub(crate) struct RequestBody {
    /// Namespace and local name of the root element; `None` for an empty body.
    pub(crate) root: Option<(String, String)>,
    /// Children of the top-level `DAV:prop`.
    pub(crate) props: Vec<PropName>,
    pub(crate) allprop: bool,
    /// Top-level `DAV:href`s (multiget).
    pub(crate) hrefs: Vec<String>,
    /// Top-level `DAV:sync-token` (sync-collection), `Some("")` when present but empty.
    pub(crate) sync_token: Option<String>,
}

impl RequestBody {
    pub(crate) fn root_is(&self, ns: &str, local: &str) -> bool {
        self.root
            .as_ref()
            .is_some_and(|(n, l)| n == ns && l == local)
    }
}

fn resolved(r: &ResolveResult) -> String {
    match r {
        ResolveResult::Bound(ns) => String::from_utf8_lossy(ns.as_ref()).into_owned(),
        _ => String::new(),
    }
}

pub(crate) fn parse(body: &[u8]) -> Result<RequestBody, String> {
    let text = String::from_utf8_lossy(body);
    let mut reader = NsReader::from_str(&text);
    reader.config_mut().trim_text(true);
    let mut out = RequestBody::default();
    let mut stack: Vec<(String, String)> = Vec::new();
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| e.to_string())?;
        match event {
            Event::Start(e) => {
                let name = (
                    resolved(&ns),
                    String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                );
                element(&mut out, &stack, &name);
                stack.push(name);
            }
            Event::Empty(e) => {
                let name = (
                    resolved(&ns),
                    String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                );
                element(&mut out, &stack, &name);
                if stack.len() == 1 && name.0 == DAV && name.1 == "sync-token" {
                    out.sync_token = Some(String::new());
                }
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Text(t) => {
                let s = t.unescape().map_err(|e| e.to_string())?.into_owned();
                text_in(&mut out, &stack, s);
            }
            Event::CData(c) => {
                let s = String::from_utf8_lossy(&c.into_inner()).into_owned();
                text_in(&mut out, &stack, s);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

fn element(out: &mut RequestBody, stack: &[(String, String)], name: &(String, String)) {
    match stack.len() {
        0 => out.root = Some(name.clone()),
        1 if name.0 == DAV && name.1 == "allprop" => out.allprop = true,
        2 if stack[1].0 == DAV && stack[1].1 == "prop" => out.props.push(PropName {
            ns: name.0.clone(),
            local: name.1.clone(),
        }),
        _ => {}
    }
}

fn text_in(out: &mut RequestBody, stack: &[(String, String)], s: String) {
    if stack.len() != 2 || stack[1].0 != DAV {
        return;
    }
    match stack[1].1.as_str() {
        "href" => out.hrefs.push(s),
        "sync-token" => out.sync_token = Some(s),
        _ => {}
    }
}

/// Escapes element text (quotes stay, as in iCloud's `<getetag>"…"</getetag>`).
pub(crate) fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(['&', '<', '>']) {
        return s.into();
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out.into()
}

fn xml_char_ok(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// First of 256 private-use code points (plane 16) that stand for one raw byte each while a body is
/// built as a `String`; [`restore_raw_bytes`] turns them back into those bytes.
const RAW_BYTE_BASE: u32 = 0x10_FF00;

/// Appends `<C:calendar-data>`: CDATA with raw CRLF for some objects, escaped text with `&#13;` for the
/// others, so clients must read both. QUIRK(icloud §3.4): like iCloud, the stored bytes go out verbatim,
/// so bytes that are not UTF-8 reach the client inside the XML (as placeholders here, restored by
/// [`restore_raw_bytes`] when the body is sent). Control characters XML cannot carry become U+FFFD.
pub(crate) fn push_calendar_data(out: &mut String, data: &[u8], cdata: bool) {
    let text = verbatim_text(data);
    out.push_str("<calendar-data xmlns=\"urn:ietf:params:xml:ns:caldav\">");
    if cdata {
        out.push_str("<![CDATA[");
        // A literal "]]>" would end the section early: split it across two sections.
        for c in text.replace("]]>", "]]]]><![CDATA[>").chars() {
            out.push(if xml_char_ok(c) { c } else { '\u{FFFD}' });
        }
        out.push_str("]]>");
    } else {
        for c in text.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '\r' => out.push_str("&#13;"),
                c if xml_char_ok(c) => out.push(c),
                _ => out.push('\u{FFFD}'),
            }
        }
    }
    out.push_str("</calendar-data>");
}

/// Whether `c` stands for one raw byte (see [`RAW_BYTE_BASE`]).
pub(crate) fn is_raw_byte_placeholder(c: char) -> bool {
    (RAW_BYTE_BASE..=RAW_BYTE_BASE + 0xFF).contains(&u32::from(c))
}

/// The name of an object stored with `bytes` that are not UTF-8: each byte of an invalid sequence as
/// its placeholder, so the name's listing href carries those raw bytes.
pub fn name_with_raw_bytes(bytes: &[u8]) -> String {
    verbatim_text(bytes).into_owned()
}

/// `data` as text, each byte of an invalid UTF-8 sequence replaced by its placeholder code point.
fn verbatim_text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(data) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(data.len() + 8);
    for chunk in data.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push(char::from_u32(RAW_BYTE_BASE + u32::from(*b)).unwrap_or('\u{FFFD}'));
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The bytes of a body built with [`push_calendar_data`]: placeholders become their raw bytes.
pub(crate) fn restore_raw_bytes(body: String) -> Vec<u8> {
    // U+10FF00..U+10FFFF encode as F4 8F BC..BF xx; nearly every body has none.
    if !body.as_bytes().windows(2).any(|w| w == [0xF4, 0x8F]) {
        return body.into_bytes();
    }
    let mut out = Vec::with_capacity(body.len());
    let mut buf = [0u8; 4];
    for c in body.chars() {
        let n = u32::from(c);
        if (RAW_BYTE_BASE..=RAW_BYTE_BASE + 0xFF).contains(&n) {
            out.push((n - RAW_BYTE_BASE) as u8);
        } else {
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
    out
}

pub(crate) const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_that_are_not_utf8_go_out_verbatim() {
        for cdata in [true, false] {
            let mut out = String::new();
            push_calendar_data(&mut out, b"SUMMARY:a\xFF\xC3b\xC3\xBC", cdata);
            let bytes = restore_raw_bytes(out);
            assert!(
                bytes.windows(5).any(|w| w == b"a\xFF\xC3b\xC3"),
                "{}",
                String::from_utf8_lossy(&bytes)
            );
        }
        assert_eq!(restore_raw_bytes("plain ü".into()), "plain ü".as_bytes());
    }

    #[test]
    fn parses_prefixed_and_default_namespaces() {
        let body = br#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:displayname/><C:calendar-home-set/><x xmlns="urn:other"/></D:prop></D:propfind>"#;
        let p = parse(body).unwrap();
        assert!(p.root_is(DAV, "propfind"));
        assert_eq!(p.props.len(), 3);
        assert!(p.props[1].is(CALDAV, "calendar-home-set"));
        assert!(p.props[2].is("urn:other", "x"));
    }

    #[test]
    fn parses_multiget_hrefs_and_sync_token() {
        let body = br#"<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><D:href>/a%40b.ics</D:href><D:href>/c.ics</D:href></C:calendar-multiget>"#;
        let p = parse(body).unwrap();
        assert_eq!(p.hrefs, vec!["/a%40b.ics", "/c.ics"]);
        let body = br#"<sync-collection xmlns="DAV:"><sync-token/><sync-level>1</sync-level><prop><getetag/></prop></sync-collection>"#;
        assert_eq!(parse(body).unwrap().sync_token.as_deref(), Some(""));
    }

    #[test]
    fn calendar_data_cdata_survives_a_terminator_inside() {
        let mut out = String::new();
        push_calendar_data(&mut out, b"A]]>B\r\n", true);
        assert_eq!(out.matches("<![CDATA[").count(), 2);
        let mut out = String::new();
        push_calendar_data(&mut out, b"A<&\r\n", false);
        assert!(out.contains("A&lt;&amp;&#13;\n"));
    }
}
