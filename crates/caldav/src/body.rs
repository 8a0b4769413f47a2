//! Writing request bodies. Hand-written XML: the bodies are small and fixed in shape.

use crate::xml::{CALDAV, CS, DAV, ICAL};

/// Escapes text for an XML element or attribute value.
pub(crate) fn escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// Namespace → prefix table for one document; DAV: is always `D`.
pub(crate) struct Namespaces {
    list: Vec<(&'static str, String)>,
}

impl Namespaces {
    pub(crate) fn new() -> Self {
        Namespaces {
            list: vec![(DAV, "D".to_owned())],
        }
    }

    /// Prefix for `ns`, declaring it on first use.
    pub(crate) fn prefix(&mut self, ns: &'static str) -> String {
        if let Some((_, p)) = self.list.iter().find(|(n, _)| *n == ns) {
            return p.clone();
        }
        let p = match ns {
            CALDAV => "C".to_owned(),
            CS => "CS".to_owned(),
            ICAL => "I".to_owned(),
            _ => format!("x{}", self.list.len()),
        };
        self.list.push((ns, p.clone()));
        p
    }

    /// `xmlns:..` attributes for the root element.
    pub(crate) fn declarations(&self) -> String {
        self.list
            .iter()
            .map(|(ns, p)| format!(" xmlns:{p}=\"{}\"", escape(ns)))
            .collect()
    }
}

/// `<D:prop>` with one empty element per property.
pub(crate) fn prop_element(ns: &mut Namespaces, props: &[(&'static str, &'static str)]) -> String {
    let mut s = String::from("<D:prop>");
    for (n, name) in props {
        let p = ns.prefix(n);
        s.push_str(&format!("<{p}:{name}/>"));
    }
    s.push_str("</D:prop>");
    s
}

/// A whole document: declaration, root `prefix:root` with the namespace declarations, `inner`.
pub(crate) fn document(ns: &Namespaces, root: &str, inner: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<{root}{}>{inner}</{root}>",
        ns.declarations()
    )
    .into_bytes()
}

/// A PROPFIND body asking for `props`.
pub(crate) fn propfind(props: &[(&'static str, &'static str)]) -> Vec<u8> {
    let mut ns = Namespaces::new();
    let inner = prop_element(&mut ns, props);
    document(&ns, "D:propfind", &inner)
}
