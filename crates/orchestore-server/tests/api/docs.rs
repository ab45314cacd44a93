//! `/docs`: the interactive page of the API and every file it loads, served by the server
//! itself under a policy that keeps the browser on this origin. (`scripts/docs-browser-test.sh`
//! drives the page in a browser.)

use std::sync::Arc;

use reqwest::StatusCode;

use crate::helpers::*;

/// The `src` and `href` values of an HTML page, in order.
fn references(html: &str) -> Vec<&str> {
    ["src=\"", "href=\""]
        .iter()
        .flat_map(|attribute| {
            html.match_indices(attribute).filter_map(move |(at, _)| {
                let value = &html[at + attribute.len()..];
                value.find('"').map(|end| &value[..end])
            })
        })
        .collect()
}

/// The content type a file of the page must be served with, by its extension.
fn expected_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("png") => "image/png",
        _ => panic!("the page references {path}, of a kind this test does not know"),
    }
}

fn assert_no_absolute_url(what: &str, text: &str) {
    for scheme in ["http://", "https://"] {
        assert!(
            !text.contains(scheme),
            "{what} names a {scheme} URL:\n{text}"
        );
    }
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

pub async fn the_page_and_every_file_it_loads_come_from_the_server(app: &TestApp) {
    let page = app.http.get(app.url("/docs")).send().await.expect("sent");
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    let policy = header(&page, "content-security-policy").to_owned();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self' data:",
    ] {
        assert!(policy.contains(directive), "{directive} is not in {policy}");
    }
    assert!(!policy.contains("unsafe"), "{policy}");
    assert_eq!(header(&page, "x-content-type-options"), "nosniff");
    let html = page.text().await.expect("the page");
    assert_no_absolute_url("the page", &html);
    assert!(!html.contains("<script>"), "an inline script:\n{html}");

    let files = references(&html);
    for expected in ["/docs/swagger-ui-bundle.js", "/docs/initializer.js"] {
        assert!(files.contains(&expected), "{expected} is not in {files:?}");
    }
    for path in files {
        assert!(
            path.starts_with("/docs/"),
            "{path} is not one of the page's files"
        );
        let file = app.http.get(app.url(path)).send().await.expect("sent");
        assert_eq!(file.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&file, "content-type"), expected_type(path), "{path}");
        assert_eq!(header(&file, "content-security-policy"), policy, "{path}");
        assert!(!file.bytes().await.expect("the file").is_empty(), "{path}");
    }

    let initializer = app
        .http
        .get(app.url("/docs/initializer.js"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("the initializer");
    assert_no_absolute_url("the initializer", &initializer);
    for setting in [
        "url: \"/api/openapi.json\"",
        "validatorUrl: null",
        "persistAuthorization: false",
    ] {
        assert!(initializer.contains(setting), "{setting}:\n{initializer}");
    }
}

pub async fn files_are_revalidated_by_their_etag(app: &TestApp) {
    let first = app
        .http
        .get(app.url("/docs/swagger-ui.css"))
        .send()
        .await
        .expect("sent");
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(header(&first, "cache-control"), "no-cache");
    let etag = header(&first, "etag").to_owned();
    assert!(etag.starts_with('"') && etag.len() > 2, "{etag:?}");

    for sent in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"other\", {etag}"),
    ] {
        let again = app
            .http
            .get(app.url("/docs/swagger-ui.css"))
            .header("if-none-match", &sent)
            .send()
            .await
            .expect("sent");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{sent}");
        assert_eq!(header(&again, "etag"), etag);
        assert_eq!(header(&again, "cache-control"), "no-cache");
        assert!(again.bytes().await.expect("read").is_empty());
    }
    let changed = app
        .http
        .get(app.url("/docs/swagger-ui.css"))
        .header("if-none-match", "\"an older one\"")
        .send()
        .await
        .expect("sent");
    assert_eq!(changed.status(), StatusCode::OK);
    let other = app
        .http
        .get(app.url("/docs/initializer.js"))
        .send()
        .await
        .expect("sent");
    assert_ne!(header(&other, "etag"), etag, "each file has its own tag");

    let get = app.http.get(app.url("/docs")).send().await.expect("sent");
    let length = header(&get, "content-length").to_owned();
    let head = app.http.head(app.url("/docs")).send().await.expect("sent");
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(header(&head, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&head, "content-length"), length);
    assert!(head.bytes().await.expect("read").is_empty());
}

pub async fn an_unknown_file_is_a_404_problem_and_the_page_can_be_off(app: &TestApp) {
    for path in ["/docs/nothing.js", "/docs/LICENSE", "/docs/..%2FCargo.toml"] {
        let reply = Reply::from(app.http.get(app.url(path)).send().await.expect("sent")).await;
        reply.assert_problem(StatusCode::NOT_FOUND);
    }
    let post = Reply::from(app.http.post(app.url("/docs")).send().await.expect("sent")).await;
    post.assert_problem(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(post.header("allow"), "GET, HEAD");

    let mut settings = test_settings();
    settings.server.docs = false;
    let off = serve(Arc::clone(&app.store), settings).await;
    for path in ["/docs", "/docs/initializer.js"] {
        let reply = Reply::from(
            app.http
                .get(format!("{off}{path}"))
                .send()
                .await
                .expect("sent"),
        )
        .await;
        reply.assert_problem(StatusCode::NOT_FOUND);
    }
}
