//! The Group Policy templates (packaging/windows/policy/) against the policy reader: every policy writes
//! one of the documented keys under the registry key the app reads, with the type the reader accepts,
//! and every string and presentation the ADMX names exists in the ADML.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use connector::policy::{Policy, RegistryValue, KEYS, REGISTRY_KEY};
use quick_xml::events::Event;

/// A parsed element: name (without prefix), attributes, children.
#[derive(Debug, Default)]
struct El {
    name: String,
    attrs: BTreeMap<String, String>,
    children: Vec<El>,
}

impl El {
    fn all<'a>(&'a self, name: &str, out: &mut Vec<&'a El>) {
        if self.name == name {
            out.push(self);
        }
        for c in &self.children {
            c.all(name, out);
        }
    }
    fn find_all(&self, name: &str) -> Vec<&El> {
        let mut v = Vec::new();
        self.all(name, &mut v);
        v
    }
    fn attr(&self, k: &str) -> &str {
        self.attrs.get(k).map(String::as_str).unwrap_or("")
    }
}

fn parse(rel: &str) -> El {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut r = quick_xml::Reader::from_str(&text);
    let mut stack = vec![El::default()];
    let el = |e: &quick_xml::events::BytesStart| El {
        name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
        attrs: e
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                (
                    String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned(),
                    a.unescape_value().unwrap().into_owned(),
                )
            })
            .collect(),
        children: vec![],
    };
    loop {
        match r.read_event().unwrap() {
            Event::Start(e) => stack.push(el(&e)),
            Event::Empty(e) => stack.last_mut().unwrap().children.push(el(&e)),
            Event::End(_) => {
                let done = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(done);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "{rel}: unbalanced");
    stack.pop().unwrap()
}

fn refs(s: &str, kind: &str) -> Option<String> {
    s.strip_prefix(&format!("$({kind}."))
        .and_then(|r| r.strip_suffix(')'))
        .map(str::to_owned)
}

#[test]
fn admx_value_names_are_exactly_the_documented_keys_with_the_types_the_reader_takes() {
    let admx = parse("packaging/windows/policy/CalendarConnector.admx");
    let mut names = BTreeSet::new();
    for p in admx.find_all("policy") {
        assert_eq!(p.attr("key"), REGISTRY_KEY, "policy {}", p.attr("name"));
        assert_eq!(p.attr("class"), "Machine", "policy {}", p.attr("name"));
        if !p.attr("valueName").is_empty() {
            // An on/off policy: enabled writes 1, disabled 0 (REG_DWORD), which the reader takes as bool.
            let key = p.attr("valueName").to_owned();
            let on = &p.find_all("enabledValue")[0].find_all("decimal")[0];
            let off = &p.find_all("disabledValue")[0].find_all("decimal")[0];
            assert_eq!((on.attr("value"), off.attr("value")), ("1", "0"), "{key}");
            for (v, want) in [(1, true), (0, false)] {
                let got =
                    Policy::from_registry_values([(key.clone(), RegistryValue::Dword(v))], "t")
                        .unwrap();
                assert_eq!(got.value_of(&key), Some(serde_json::json!(want)), "{key}");
            }
            assert!(names.insert(key));
        }
        for e in p
            .find_all("elements")
            .iter()
            .flat_map(|e| e.children.iter())
        {
            let key = e.attr("valueName").to_owned();
            let sample = match e.name.as_str() {
                "text" => RegistryValue::Text(if key == "server_url" {
                    "https://caldav.example.com/".into()
                } else {
                    "someone@example.com".into()
                }),
                "decimal" => {
                    let (lo, hi) = (e.attr("minValue"), e.attr("maxValue"));
                    assert_eq!((lo, hi), ("1", "1440"), "{key}: the reader's range");
                    RegistryValue::Dword(hi.parse().unwrap())
                }
                other => panic!("{key}: element {other} is not a type the reader takes"),
            };
            let got = Policy::from_registry_values([(key.clone(), sample)], "t")
                .unwrap_or_else(|e| panic!("{key}: {e}"));
            assert!(got.value_of(&key).is_some(), "{key}");
            assert!(names.insert(key));
        }
    }
    let keys: BTreeSet<String> = KEYS.iter().map(|k| (*k).to_owned()).collect();
    assert_eq!(names, keys);
}

#[test]
fn every_string_and_presentation_the_admx_names_is_in_the_adml() {
    let admx = parse("packaging/windows/policy/CalendarConnector.admx");
    let adml = parse("packaging/windows/policy/en-US/CalendarConnector.adml");
    let strings: BTreeSet<&str> = adml
        .find_all("string")
        .iter()
        .map(|s| s.attr("id"))
        .collect();
    let presentations: BTreeMap<&str, &El> = adml
        .find_all("presentation")
        .into_iter()
        .map(|p| (p.attr("id"), p))
        .collect();
    let mut used = 0;
    let mut stack = vec![&admx];
    while let Some(e) = stack.pop() {
        for v in e.attrs.values() {
            if let Some(id) = refs(v, "string") {
                assert!(strings.contains(id.as_str()), "ADML lacks string {id}");
                used += 1;
            }
        }
        stack.extend(e.children.iter());
    }
    assert!(used >= 11, "{used}");
    for p in admx.find_all("policy") {
        let element_ids: BTreeSet<&str> = p
            .find_all("elements")
            .iter()
            .flat_map(|e| e.children.iter().map(|c| c.attr("id")))
            .collect();
        match refs(p.attr("presentation"), "presentation") {
            Some(id) => {
                let pres = presentations
                    .get(id.as_str())
                    .unwrap_or_else(|| panic!("ADML lacks presentation {id}"));
                let ref_ids: BTreeSet<&str> =
                    pres.children.iter().map(|c| c.attr("refId")).collect();
                assert_eq!(ref_ids, element_ids, "presentation {id}");
            }
            None => assert!(element_ids.is_empty(), "policy {}", p.attr("name")),
        }
    }
}
