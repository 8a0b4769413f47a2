//! `DAV:multistatus`: the model ([`model`]), href normalisation ([`href`]) and the streaming parser
//! ([`parser`]). The items are re-exported here, so `caldav::xml::X` paths stay as they were.

pub mod href;
pub mod model;
pub mod parser;

pub(crate) use href::normalize_escapes;
pub use href::normalize_href;
pub use model::{DavResponse, Element, Multistatus, Propstat, CALDAV, CS, DAV, ICAL};
pub use parser::{parse_multistatus, parse_multistatus_each};
