//! The typed client's coverage of the API: every route the server serves has a method of
//! `orchestore_client::Client` that sends it, and every request the client sends is a route.
//!
//! It reads the client's source: each method sends through `self.call(Method::X, "/path")`
//! (under `/api/v1`), `self.call_root(Method::X, "/path")` (outside it), or a list's
//! `self.stream::<…>("/path", …)` (a `GET`), the path a literal or a `format!` of one whose
//! placeholders stand where the route's do.

use std::collections::BTreeSet;
use std::path::Path;

/// A route as `(method, path)` with each placeholder written `{}`.
type Route = (String, String);

#[test]
fn every_route_has_a_client_method_and_every_client_request_is_a_route() {
    let all: BTreeSet<Route> = orchestore_server::route_table()
        .into_iter()
        .map(|(method, path)| (method.to_owned(), placeholders_erased(&path)))
        .collect();
    let sent = client_requests();
    let unknown: Vec<_> = sent.difference(&all).collect();
    let missing: Vec<_> = all.difference(&sent).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "routes without a client method: {missing:#?}\nclient requests no route answers: {unknown:#?}"
    );
}

/// Every `(method, path)` the client's source sends.
fn client_requests() -> BTreeSet<Route> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../orchestore-client/src");
    let mut requests = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("the client's source") {
        let path = entry.expect("a source file").path();
        // The transport sends what the methods hand it: its own calls name no route.
        if path.file_name().is_some_and(|name| name == "transport.rs") {
            continue;
        }
        // Without whitespace, however rustfmt broke a call's lines (paths have no spaces).
        let source: String = std::fs::read_to_string(&path)
            .expect("readable source")
            .split_whitespace()
            .collect();
        for (marker, prefix, fixed_method) in [
            (".call(Method::", "/api/v1", None),
            (".call_root(Method::", "", None),
            (".stream::<", "/api/v1", Some("GET")),
        ] {
            for (at, _) in source.match_indices(marker) {
                let rest = &source[at + marker.len()..];
                let method = match fixed_method {
                    Some(method) => method.to_owned(),
                    None => rest
                        .split(|c: char| !c.is_ascii_alphabetic())
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                };
                let literal = first_literal(rest).unwrap_or_else(|| {
                    panic!("{}: a request without a path literal", path.display())
                });
                requests.insert((method, placeholders_erased(&format!("{prefix}{literal}"))));
            }
        }
    }
    requests
}

/// The first string literal in `text`: the request's path.
fn first_literal(text: &str) -> Option<&str> {
    let start = text.find('"')? + 1;
    let end = start + text[start..].find('"')?;
    Some(&text[start..end])
}

/// `path` with each `{…}` written `{}`, so that `{id}` in a route and `{task}` in a
/// `format!` compare equal.
fn placeholders_erased(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut inside = false;
    for c in path.chars() {
        match c {
            '{' => {
                inside = true;
                out.push_str("{}");
            }
            '}' => inside = false,
            _ if inside => {}
            _ => out.push(c),
        }
    }
    out
}
