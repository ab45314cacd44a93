//! The OpenAPI document: served without credentials, and describing exactly the routes the
//! server answers, each with its parameters, its answers and who may call it.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;
use crate::matrix::{Needs, rows};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn document() -> Value {
    orchestore_server::openapi_document().clone()
}

/// Every `(METHOD, path)` the document describes, with its operation.
fn operations(document: &Value) -> BTreeMap<(String, String), &Value> {
    let paths = document["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS.iter().filter_map(move |method| {
                item.get(*method)
                    .map(|operation| ((method.to_uppercase(), path.clone()), operation))
            })
        })
        .collect()
}

pub async fn the_document_is_served_without_credentials(app: &TestApp) {
    let response = app
        .http
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .expect("sent");
    let reply = Reply::from(response).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body_excerpt());
    assert!(reply.header("content-type").starts_with("application/json"));
    assert_eq!(reply.body["openapi"], "3.1.0");
    assert_eq!(reply.body, document());
}

#[test]
fn the_document_describes_every_route_and_no_other() {
    let document = document();
    let documented: BTreeSet<(String, String)> = operations(&document).into_keys().collect();
    let served: BTreeSet<(String, String)> = orchestore_server::route_table()
        .into_iter()
        .map(|(method, path)| (method.to_owned(), path))
        .collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "routes the document does not describe: {undocumented:#?}"
    );
    assert!(
        unserved.is_empty(),
        "operations the server does not answer: {unserved:#?}"
    );
}

#[test]
fn every_reference_resolves() {
    fn references<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    found.push(target);
                }
                map.values().for_each(|v| references(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| references(v, found)),
            _ => {}
        }
    }
    let document = document();
    let mut found = Vec::new();
    references(&document, &mut found);
    let dangling: BTreeSet<&str> = found
        .into_iter()
        .filter(|target| {
            let pointer = target.strip_prefix('#').unwrap_or(target);
            document.pointer(pointer).is_none()
        })
        .collect();
    assert!(dangling.is_empty(), "references to nothing: {dangling:#?}");
}

#[test]
fn each_operation_names_its_parameters_answers_and_callers() {
    let document = document();
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["bearer_jwt"]["scheme"], "bearer");
    assert_eq!(schemes["bearer_jwt"]["bearerFormat"], "JWT");
    assert_eq!(schemes["api_key"]["scheme"], "bearer");

    let public: BTreeSet<(String, String)> = rows()
        .into_iter()
        .filter(|row| matches!(row.needs, Needs::Nothing))
        .map(|row| (row.method.to_string(), row.route.to_owned()))
        .collect();
    let mut operation_ids = BTreeSet::new();
    for ((method, path), operation) in operations(&document) {
        let at = format!("{method} {path}");
        let id = operation["operationId"].as_str().unwrap_or_default();
        assert!(
            operation_ids.insert(id.to_owned()),
            "{at}: operationId {id:?} twice"
        );
        let summary = operation["summary"].as_str().unwrap_or_default();
        assert!(
            !summary.is_empty() && !summary.starts_with('`'),
            "{at}: a summary says what the operation does, not its route: {summary:?}"
        );
        assert!(operation["tags"][0].is_string(), "{at}: no tag");

        let declared: BTreeSet<&str> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "path" && p["required"] == true)
            .filter_map(|p| p["name"].as_str())
            .collect();
        let in_template: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        assert_eq!(declared, in_template, "{at}: path parameters");

        let answers = operation["responses"].as_object().expect("responses");
        assert!(
            answers.keys().any(|status| status.starts_with('2')),
            "{at}: no success answer"
        );
        for status in ["500", "503"] {
            assert!(answers.contains_key(status), "{at}: no {status}");
        }

        let requirements = operation["security"].as_array().expect("security");
        let anonymous = requirements
            .iter()
            .all(|r| r.as_object().is_some_and(|r| r.is_empty()));
        let is_public = public.contains(&(method.clone(), path.clone()));
        assert_eq!(
            anonymous, is_public,
            "{at}: security against the route matrix"
        );
        if !anonymous {
            let names: BTreeSet<&str> = requirements
                .iter()
                .filter_map(|r| r.as_object()?.keys().next().map(String::as_str))
                .collect();
            assert_eq!(names, BTreeSet::from(["api_key", "bearer_jwt"]), "{at}");
            assert!(
                answers.contains_key("401") && answers.contains_key("403"),
                "{at}"
            );
        }
    }
}
