//! The streaming `DAV:multistatus` parser (RFC 4918 §14.16): the document is read event by event;
//! element trees are built only for the contents of `DAV:prop`, everything else goes straight into
//! [`DavResponse`] values.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use url::Url;

use super::href::normalize_href;
use super::model::{DavResponse, Element, Multistatus, Propstat, DAV};
use crate::error::XmlError;

/// Where the parser is; one frame per open element below the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    Root,
    Response,
    Propstat,
    Prop,
    PropElem,
    Href,
    Status,
    SyncToken,
    Skip,
}

#[derive(Default)]
struct ResponseBuilder {
    hrefs: Vec<String>,
    status: Option<u16>,
    propstats: Vec<Propstat>,
    invalid_utf8: Vec<String>,
}

struct Parser<'u, 's> {
    sink: &'s mut dyn FnMut(DavResponse),
    base: &'u Url,
    frames: Vec<Frame>,
    text: String,
    response: Option<ResponseBuilder>,
    propstat: Option<Propstat>,
    elems: Vec<Element>,
    out: Multistatus,
}

/// Parses a `DAV:multistatus` body; hrefs are resolved against `request_url` (the URL that was
/// finally answered).
///
/// Tolerates default or prefixed namespaces, an XML declaration or BOM, CDATA, unknown elements and
/// properties in 404 propstats. A body whose root is not `DAV:multistatus` is
/// [`XmlError::NotMultistatus`]; a body that is not well-formed or ends before the root closes is
/// [`XmlError::Malformed`].
pub fn parse_multistatus(body: &[u8], request_url: &Url) -> Result<Multistatus, XmlError> {
    let mut responses = Vec::new();
    let mut ms = parse_multistatus_each(body, request_url, &mut |r| responses.push(r))?;
    ms.responses = responses;
    Ok(ms)
}

/// Like [`parse_multistatus`], but hands each `DAV:response` to `sink` as soon as it closes and
/// keeps none: a listing of 50,000 members never exists as a tree in memory. The returned
/// [`Multistatus`] carries the sync token and no responses. On an error, `sink` has seen the
/// responses before it; callers discard them.
pub fn parse_multistatus_each(
    body: &[u8],
    request_url: &Url,
    sink: &mut dyn FnMut(DavResponse),
) -> Result<Multistatus, XmlError> {
    let mut reader = NsReader::from_reader(body);
    let mut buf = Vec::new();
    // Find the root element.
    loop {
        buf.clear();
        let (ns, event) = match reader.read_resolved_event_into(&mut buf) {
            Ok(x) => x,
            Err(e) => {
                let position = reader.error_position();
                let trimmed = trim_start_bom(body);
                // Garbage that is not even XML-looking is "not a multistatus", not "broken XML".
                return Err(if trimmed.first() == Some(&b'<') {
                    XmlError::Malformed {
                        position,
                        message: e.to_string(),
                    }
                } else {
                    not_multistatus(body)
                });
            }
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_root = ns_of(&ns) == DAV && e.local_name().as_ref() == b"multistatus";
                if !is_root {
                    return Err(not_multistatus(body));
                }
                if matches!(event, Event::Empty(_)) {
                    return Ok(Multistatus::default());
                }
                break;
            }
            Event::Text(ref t) if t.iter().all(|b| b.is_ascii_whitespace()) => {}
            Event::Text(_) | Event::CData(_) | Event::Eof => return Err(not_multistatus(body)),
            Event::Decl(_)
            | Event::Comment(_)
            | Event::PI(_)
            | Event::DocType(_)
            | Event::End(_) => {}
        }
    }

    let mut p = Parser {
        sink,
        base: request_url,
        frames: vec![Frame::Root],
        text: String::new(),
        response: None,
        propstat: None,
        elems: Vec::new(),
        out: Multistatus::default(),
    };
    loop {
        buf.clear();
        let malformed = |reader: &NsReader<&[u8]>, e: quick_xml::Error| {
            // An unclosed construct at the end of the input is a cut-off body, not bad XML.
            if matches!(e, quick_xml::Error::Syntax(_)) {
                XmlError::Truncated {
                    position: reader.error_position(),
                    message: e.to_string(),
                }
            } else {
                XmlError::Malformed {
                    position: reader.error_position(),
                    message: e.to_string(),
                }
            }
        };
        let (ns, event) = match reader.read_resolved_event_into(&mut buf) {
            Ok(x) => x,
            Err(e) => return Err(malformed(&reader, e)),
        };
        match event {
            Event::Start(ref e) => {
                let ns = ns_of(&ns).to_owned();
                p.start(ns, e, reader.buffer_position())
                    .map_err(|e| e.into_xml(&reader))?;
            }
            Event::Empty(ref e) => {
                let ns = ns_of(&ns).to_owned();
                p.start(ns, e, reader.buffer_position())
                    .map_err(|e| e.into_xml(&reader))?;
                if p.end()? {
                    return Ok(p.out);
                }
            }
            Event::End(_) => {
                if p.end()? {
                    return Ok(p.out);
                }
            }
            Event::Text(t) => match t.unescape() {
                Ok(s) => p.push_text(&s),
                // Bytes that are not UTF-8 (servers hand out stored bytes verbatim): decode this text
                // lossily and mark the response, so the rest of the document is still read.
                Err(quick_xml::Error::Encoding(_)) => {
                    let lossy = String::from_utf8_lossy(&t);
                    let s = quick_xml::escape::unescape(&lossy)
                        .map_err(|e| malformed(&reader, quick_xml::Error::Escape(e)))?;
                    p.push_text(&s);
                    p.mark_invalid_utf8();
                }
                Err(e) => return Err(malformed(&reader, e)),
            },
            Event::CData(c) => match c.decode() {
                Ok(s) => p.push_text(&s),
                Err(_) => {
                    p.push_text(&String::from_utf8_lossy(&c));
                    p.mark_invalid_utf8();
                }
            },
            Event::Eof => {
                return Err(XmlError::Truncated {
                    position: reader.buffer_position(),
                    message: "document ended before </multistatus>".to_owned(),
                })
            }
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
}

/// How deep elements may nest inside one `DAV:prop`. Real properties nest 3–4 levels; the
/// limit keeps the recursive `Drop`, `Clone` and tree walks of [`Element`] off the stack's edge
/// (100,000 nested elements would overflow it).
const MAX_PROP_DEPTH: usize = 64;

/// Why `Parser::start` refused an element.
enum StartError {
    Xml(quick_xml::Error),
    TooDeep { position: u64 },
}

impl From<quick_xml::Error> for StartError {
    fn from(e: quick_xml::Error) -> Self {
        StartError::Xml(e)
    }
}

impl StartError {
    fn into_xml(self, reader: &NsReader<&[u8]>) -> XmlError {
        match self {
            StartError::Xml(e) => XmlError::Malformed {
                position: reader.error_position(),
                message: e.to_string(),
            },
            StartError::TooDeep { position } => XmlError::Malformed {
                position,
                message: format!(
                    "elements nested more than {MAX_PROP_DEPTH} levels deep inside a DAV:prop"
                ),
            },
        }
    }
}

impl Parser<'_, '_> {
    fn start(&mut self, ns: String, e: &BytesStart<'_>, position: u64) -> Result<(), StartError> {
        let top = self.frames.last().copied().unwrap_or(Frame::Skip);
        let local = e.local_name();
        let local = local.as_ref();
        let dav = ns == DAV;
        let frame = match top {
            Frame::Root if dav && local == b"response" => {
                self.response = Some(ResponseBuilder::default());
                Frame::Response
            }
            Frame::Root if dav && local == b"sync-token" => Frame::SyncToken,
            Frame::Response if dav && local == b"href" => Frame::Href,
            Frame::Response if dav && local == b"status" => Frame::Status,
            Frame::Response if dav && local == b"propstat" => {
                self.propstat = Some(Propstat {
                    status: 0,
                    props: Vec::new(),
                });
                Frame::Propstat
            }
            Frame::Propstat if dav && local == b"prop" => Frame::Prop,
            Frame::Propstat if dav && local == b"status" => Frame::Status,
            Frame::Prop | Frame::PropElem => {
                if self.elems.len() >= MAX_PROP_DEPTH {
                    return Err(StartError::TooDeep { position });
                }
                let mut attrs = Vec::new();
                for a in e.attributes() {
                    let a = a.map_err(quick_xml::Error::InvalidAttr)?;
                    if a.key.as_namespace_binding().is_some() {
                        continue;
                    }
                    let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
                    let value = a.unescape_value()?.into_owned();
                    attrs.push((key, value));
                }
                self.elems.push(Element {
                    ns,
                    name: String::from_utf8_lossy(local).into_owned(),
                    attrs,
                    text: String::new(),
                    children: Vec::new(),
                });
                Frame::PropElem
            }
            _ => Frame::Skip,
        };
        if matches!(frame, Frame::Href | Frame::Status | Frame::SyncToken) {
            self.text.clear();
        }
        self.frames.push(frame);
        Ok(())
    }

    /// The text just pushed was decoded lossily: note on which element of the current response.
    fn mark_invalid_utf8(&mut self) {
        let name = match self.frames.last() {
            Some(Frame::Href) => "href".to_owned(),
            Some(Frame::PropElem) => self
                .elems
                .first()
                .map(|e| e.name.clone())
                .unwrap_or_default(),
            Some(Frame::Status) => "status".to_owned(),
            _ => return,
        };
        if let Some(r) = self.response.as_mut() {
            if !r.invalid_utf8.contains(&name) {
                r.invalid_utf8.push(name);
            }
        }
    }

    fn push_text(&mut self, s: &str) {
        match self.frames.last() {
            Some(Frame::Href | Frame::Status | Frame::SyncToken) => self.text.push_str(s),
            Some(Frame::PropElem) => {
                if let Some(el) = self.elems.last_mut() {
                    el.text.push_str(s);
                }
            }
            _ => {}
        }
    }

    /// Closes the innermost element; true when that was the root.
    fn end(&mut self) -> Result<bool, XmlError> {
        let Some(frame) = self.frames.pop() else {
            return Ok(true);
        };
        let parent = self.frames.last().copied();
        match frame {
            Frame::Root => return Ok(true),
            Frame::Href => {
                if let Some(r) = self.response.as_mut() {
                    r.hrefs.push(self.text.trim().to_owned());
                }
            }
            Frame::Status => {
                let status = parse_status(&self.text);
                match parent {
                    Some(Frame::Response) => {
                        if let Some(r) = self.response.as_mut() {
                            r.status = status;
                        }
                    }
                    Some(Frame::Propstat) => {
                        if let Some(ps) = self.propstat.as_mut() {
                            ps.status = status.unwrap_or(0);
                        }
                    }
                    _ => {}
                }
            }
            Frame::SyncToken => {
                let t = self.text.trim();
                self.out.sync_token = (!t.is_empty()).then(|| t.to_owned());
            }
            Frame::PropElem => {
                if let Some(mut el) = self.elems.pop() {
                    if !el.children.is_empty() && el.text.trim().is_empty() {
                        el.text.clear();
                    }
                    if let Some(parent_el) = self.elems.last_mut() {
                        parent_el.children.push(el);
                    } else if let Some(ps) = self.propstat.as_mut() {
                        ps.props.push(el);
                    }
                }
            }
            Frame::Propstat => {
                if let (Some(ps), Some(r)) = (self.propstat.take(), self.response.as_mut()) {
                    r.propstats.push(ps);
                }
            }
            Frame::Response => {
                if let Some(r) = self.response.take() {
                    self.finish_response(r)?;
                }
            }
            Frame::Prop | Frame::Skip => {}
        }
        Ok(false)
    }

    fn finish_response(&mut self, r: ResponseBuilder) -> Result<(), XmlError> {
        if r.hrefs.is_empty() {
            // QUIRK(icloud §3.3): iCloud once sent empty hrefs. Refuse rather than guess, so a
            // listing never silently loses members.
            return Err(XmlError::BadHref {
                href: String::new(),
            });
        }
        for href in r.hrefs {
            let url = normalize_href(self.base, &href)?;
            // Several hrefs share one status (RFC 4918 §14.24); rare enough to just clone.
            let propstats = r.propstats.clone();
            (self.sink)(DavResponse {
                href,
                url,
                status: r.status,
                propstats,
                invalid_utf8: r.invalid_utf8.clone(),
            });
        }
        Ok(())
    }
}

/// "HTTP/1.1 404 Not Found" → 404.
fn parse_status(line: &str) -> Option<u16> {
    line.split_whitespace().nth(1).and_then(|s| s.parse().ok())
}

fn ns_of<'a>(r: &'a ResolveResult<'_>) -> &'a str {
    match r {
        ResolveResult::Bound(ns) => std::str::from_utf8(ns.as_ref()).unwrap_or(""),
        ResolveResult::Unbound | ResolveResult::Unknown(_) => "",
    }
}

fn trim_start_bom(body: &[u8]) -> &[u8] {
    let b = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    &b[start..]
}

/// A log-safe excerpt: at most 80 characters, control characters and runs of whitespace folded
/// into single spaces.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(trim_start_bom(body));
    let mut out = String::new();
    let mut last_space = false;
    for c in text.chars() {
        let c = if c.is_whitespace() || c.is_control() {
            ' '
        } else {
            c
        };
        if c == ' ' && last_space {
            continue;
        }
        last_space = c == ' ';
        out.push(c);
        if out.chars().count() >= 80 {
            break;
        }
    }
    out.trim_end().to_owned()
}

fn not_multistatus(body: &[u8]) -> XmlError {
    XmlError::NotMultistatus {
        snippet: snippet(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::href::MAX_HREF_BYTES;
    use crate::xml::model::{CALDAV, CS};

    fn base() -> Url {
        Url::parse("http://127.0.0.1:8443/17149682/calendars/home/").unwrap()
    }

    fn parse(body: &str) -> Result<Multistatus, XmlError> {
        parse_multistatus(body.as_bytes(), &base())
    }

    #[test]
    fn prefixed_namespaces_d_and_c() {
        let ms = parse(
            r#"<?xml version="1.0"?><D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
<D:response><D:href>a.ics</D:href><D:propstat><D:prop><D:getetag>"1"</D:getetag>
<C:calendar-data>BEGIN:VCALENDAR</C:calendar-data></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
</D:multistatus>"#,
        )
        .unwrap();
        let r = &ms.responses[0];
        assert_eq!(r.prop(DAV, "getetag").unwrap().text, "\"1\"");
        assert_eq!(
            r.prop(CALDAV, "calendar-data").unwrap().text,
            "BEGIN:VCALENDAR"
        );
        assert_eq!(r.propstats[0].status, 200);
    }

    #[test]
    fn weird_prefixes_and_redeclared_default_namespace() {
        let ms = parse(
            r#"<ns0:multistatus xmlns:ns0="DAV:" xmlns:ns1="urn:ietf:params:xml:ns:caldav"><ns0:response>
<ns0:href>/x/a.ics</ns0:href><ns0:propstat><ns0:prop>
<ns1:calendar-data>X</ns1:calendar-data><getctag xmlns="http://calendarserver.org/ns/">c1</getctag>
</ns0:prop><ns0:status>HTTP/1.1 200 OK</ns0:status></ns0:propstat></ns0:response></ns0:multistatus>"#,
        )
        .unwrap();
        let r = &ms.responses[0];
        assert_eq!(r.prop(CALDAV, "calendar-data").unwrap().text, "X");
        assert_eq!(r.prop(CS, "getctag").unwrap().text, "c1");
        assert!(r.prop(DAV, "getctag").is_none());
    }

    #[test]
    fn relative_and_absolute_hrefs_keep_port() {
        let ms = parse(
            r#"<multistatus xmlns="DAV:">
<response><href>/17149682/calendars/home/a.ics</href><status>HTTP/1.1 200 OK</status></response>
<response><href>b.ics</href><status>HTTP/1.1 200 OK</status></response>
<response><href>http://127.0.0.1:8443/17149682/calendars/home/c.ics</href><status>HTTP/1.1 200 OK</status></response>
<response><href>https://p62-caldav.icloud.com:443/17149682/calendars/home/d.ics</href><status>HTTP/1.1 200 OK</status></response>
</multistatus>"#,
        )
        .unwrap();
        let urls: Vec<_> = ms.responses.iter().map(|r| r.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "http://127.0.0.1:8443/17149682/calendars/home/a.ics",
                "http://127.0.0.1:8443/17149682/calendars/home/b.ics",
                "http://127.0.0.1:8443/17149682/calendars/home/c.ics",
                "https://p62-caldav.icloud.com/17149682/calendars/home/d.ics",
            ]
        );
        assert_eq!(ms.responses[1].href, "b.ics");
        assert_eq!(ms.responses[0].status, Some(200));
    }

    #[test]
    fn icloud_1_5_percent40_href_normalized() {
        let b = base();
        let a = normalize_href(&b, "/1/calendars/home/me%40icloud.com.ics").unwrap();
        let c = normalize_href(&b, "/1/calendars/home/me@icloud.com.ics").unwrap();
        assert_eq!(a.path(), "/1/calendars/home/me@icloud.com.ics");
        assert_eq!(a, c);
        // Unreserved escapes decoded, others kept with uppercase hex.
        let d = normalize_href(&b, "/1/%7euser/a%2db%2fc%3a%e2%82%ac.ics").unwrap();
        assert_eq!(d.path(), "/1/~user/a-b%2Fc%3A%E2%82%AC.ics");
        // Raw non-ASCII and spaces get encoded by the URL parser the same way escapes do.
        let e = normalize_href(&b, "/1/caf\u{e9} x.ics").unwrap();
        let f = normalize_href(&b, "/1/caf%c3%a9%20x.ics").unwrap();
        assert_eq!(e.path(), f.path());
        assert_eq!(e.path(), "/1/caf%C3%A9%20x.ics");
        // Idempotent.
        assert_eq!(normalize_href(&b, d.as_str()).unwrap(), d);
        // A stray '%' is a literal percent sign; decoding what follows never turns it into an
        // escape (found by tests/hostile.rs).
        for raw in ["/1/%%41a", "/1/%%34%31", "/1/100%", "/1/%zz", "/1/%4"] {
            let once = normalize_href(&b, raw).unwrap();
            assert_eq!(normalize_href(&b, once.as_str()).unwrap(), once, "{raw}");
        }
        assert_eq!(normalize_href(&b, "/1/%%41a").unwrap().path(), "/1/%25Aa");
        assert_eq!(normalize_href(&b, "/1/100%").unwrap().path(), "/1/100%25");
    }

    #[test]
    fn oversized_href_is_bad_href_with_a_short_message() {
        let long = format!("/{}", "\u{e9}".repeat(MAX_HREF_BYTES));
        let err = normalize_href(&base(), &long).unwrap_err();
        let XmlError::BadHref { href } = &err else {
            panic!("{err:?}")
        };
        assert!(
            href.len() < 120 && href.ends_with(&format!("({} bytes)", long.len())),
            "{href}"
        );
        assert!(normalize_href(&base(), &"a".repeat(MAX_HREF_BYTES)).is_ok());
    }

    #[test]
    fn empty_href_is_bad_href() {
        assert!(matches!(
            normalize_href(&base(), "  "),
            Err(XmlError::BadHref { .. })
        ));
        let err = parse(r#"<multistatus xmlns="DAV:"><response><href></href><status>HTTP/1.1 200 OK</status></response></multistatus>"#)
            .unwrap_err();
        assert!(matches!(err, XmlError::BadHref { .. }));
    }

    #[test]
    fn icloud_1_5_property_in_404_propstat() {
        let ms = parse(
            r#"<multistatus xmlns="DAV:"><response><href>/p/</href>
<propstat><prop><displayname>Work</displayname></prop><status>HTTP/1.1 200 OK</status></propstat>
<propstat><prop><current-user-principal><href>/17149682/principal/</href></current-user-principal><getetag/></prop>
<status>HTTP/1.1 404 Not Found</status></propstat></response></multistatus>"#,
        )
        .unwrap();
        let r = &ms.responses[0];
        let cup = r.prop(DAV, "current-user-principal").unwrap();
        assert_eq!(cup.child(DAV, "href").unwrap().text, "/17149682/principal/");
        // An empty element in a 404 propstat means "not found", as RFC 4918 intends.
        assert!(r.prop(DAV, "getetag").is_none());
        assert_eq!(r.prop(DAV, "displayname").unwrap().text, "Work");
    }

    #[test]
    fn cdata_and_text_concatenate_with_entities_unescaped() {
        let ms = parse(
            "<multistatus xmlns=\"DAV:\"><response><href>a</href><propstat><prop>\
<x:data xmlns:x=\"urn:x\">A &amp; <![CDATA[<B> &amp;]]> C&#13;\n</x:data>\
<x:empty xmlns:x=\"urn:x\" kind=\"k&amp;v\"/>\
</prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>",
        )
        .unwrap();
        let r = &ms.responses[0];
        assert_eq!(r.prop("urn:x", "data").unwrap().text, "A & <B> &amp; C\r\n");
        let empty = r.prop("urn:x", "empty").unwrap();
        assert_eq!(empty.attr("kind"), Some("k&v"));
        assert!(!empty.has_content());
    }

    #[test]
    fn unknown_elements_comments_and_bom_tolerated() {
        let body = "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- hi -->\n\
<multistatus xmlns=\"DAV:\" xmlns:z=\"urn:z\"><z:junk><response><href>/no</href></response></z:junk>\
<response><z:extra>1</z:extra><href>/a.ics</href><propstat><prop><getetag>\"e\"</getetag></prop>\
<status>HTTP/1.1 200 OK</status><responsedescription>fine</responsedescription></propstat>\
<error><z:x/></error></response><responsedescription>ok</responsedescription>\
<sync-token>  tok  </sync-token></multistatus>";
        let ms = parse(body).unwrap();
        assert_eq!(ms.responses.len(), 1);
        assert_eq!(ms.responses[0].url.path(), "/a.ics");
        assert_eq!(ms.sync_token.as_deref(), Some("tok"));
    }

    #[test]
    fn nested_prop_trees_and_multiple_hrefs() {
        let ms = parse(
            r#"<multistatus xmlns="DAV:"><response><href>/a/</href><href>/b/</href><status>HTTP/1.1 404 Not Found</status></response>
<response><href>/c/</href><propstat><prop><resourcetype>
  <collection/> <calendar xmlns="urn:ietf:params:xml:ns:caldav"/>
</resourcetype></prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"#,
        )
        .unwrap();
        assert_eq!(ms.responses.len(), 3);
        assert_eq!(ms.responses[1].url.path(), "/b/");
        assert_eq!(ms.responses[1].status, Some(404));
        let rt = ms.responses[2].prop(DAV, "resourcetype").unwrap();
        assert!(rt.has_child(DAV, "collection") && rt.has_child(CALDAV, "calendar"));
        assert_eq!(rt.text, "");
    }

    #[test]
    fn empty_multistatus_element() {
        assert!(parse(r#"<D:multistatus xmlns:D="DAV:"/>"#)
            .unwrap()
            .responses
            .is_empty());
    }

    #[test]
    fn html_body_is_not_multistatus() {
        let err = parse(
            "<!DOCTYPE html>\n<html><head><title>501 Not Implemented</title></head><body>"
                .repeat(3)
                .as_str(),
        )
        .unwrap_err();
        match err {
            XmlError::NotMultistatus { snippet } => {
                assert!(snippet.starts_with("<!DOCTYPE html> <html>"), "{snippet}");
                assert!(snippet.chars().count() <= 80);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn empty_and_json_bodies_are_not_multistatus() {
        for body in ["", "   \n", "{\"error\":\"nope\"}", "Bad Request"] {
            assert!(
                matches!(parse(body), Err(XmlError::NotMultistatus { .. })),
                "{body:?}"
            );
        }
    }

    #[test]
    fn multistatus_in_wrong_namespace_is_not_multistatus() {
        let err = parse(r#"<multistatus xmlns="urn:not-dav"/>"#).unwrap_err();
        assert!(matches!(err, XmlError::NotMultistatus { .. }));
    }

    #[test]
    fn truncated_xml_is_truncated_and_mismatched_tags_are_malformed() {
        let full = include_str!("../../tests/fixtures/icloud_3_1_sync_collection.xml");
        for cut in [200, 400, full.len() - 20] {
            let err = parse(&full[..cut]).unwrap_err();
            assert!(
                matches!(err, XmlError::Truncated { .. } | XmlError::Malformed { .. }),
                "cut {cut}: {err:?}"
            );
        }
        let err = parse(r#"<multistatus xmlns="DAV:"><response><href>/a</href>"#).unwrap_err();
        let XmlError::Truncated { position, .. } = err else {
            panic!("{err:?}")
        };
        assert!(position > 0);
        let err =
            parse(r#"<multistatus xmlns="DAV:"><response></href></multistatus>"#).unwrap_err();
        assert!(matches!(err, XmlError::Malformed { .. }), "{err:?}");
    }

    #[test]
    fn mismatched_tags_are_malformed() {
        let err =
            parse(r#"<multistatus xmlns="DAV:"><response></href></multistatus>"#).unwrap_err();
        assert!(matches!(err, XmlError::Malformed { .. }), "{err:?}");
        let err = parse(r#"<multistatus xmlns="DAV:"><response><href>a &bogus; b</href></response></multistatus>"#).unwrap_err();
        assert!(matches!(err, XmlError::Malformed { .. }), "{err:?}");
    }

    #[test]
    fn deep_nesting_in_prop_is_refused_before_it_can_overflow_the_stack() {
        let doc = |depth: usize| {
            format!(
                r#"<multistatus xmlns="DAV:"><response><href>/a</href><propstat><prop>{}{}</prop>
<status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"#,
                "<x:a xmlns:x=\"urn:x\">".repeat(depth),
                "</x:a>".repeat(depth)
            )
        };
        assert!(parse(&doc(MAX_PROP_DEPTH)).is_ok());
        // Run on a small stack: before the limit, 100,000 levels overflowed it on drop.
        let deep = doc(100_000);
        let err = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || parse(&deep).unwrap_err())
            .unwrap()
            .join()
            .unwrap();
        let XmlError::Malformed { message, position } = err else {
            panic!("{err:?}")
        };
        assert!(message.contains("nested more than 64 levels"), "{message}");
        assert!(position > 0);
        assert!(parse(&doc(MAX_PROP_DEPTH + 1)).is_err());
    }

    #[test]
    fn error_display_is_specific() {
        let e = XmlError::Malformed {
            position: 12,
            message: "x".into(),
        };
        assert_eq!(e.to_string(), "malformed XML from server at byte 12: x");
    }
}
