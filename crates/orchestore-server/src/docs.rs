//! `GET /docs`: an interactive page of the API — Swagger UI on `/api/openapi.json` — served
//! from files embedded in the binary, so that the page needs no network but its own server.
//!
//! The files are Swagger UI's, vendored from the npm package `swagger-ui-dist` by
//! `scripts/vendor-swagger-ui.sh` (see `assets/docs/README.md`), and the page's own two: its
//! HTML and the script that starts Swagger UI. Every answer carries a Content-Security-Policy
//! that lets the page load from this server only, so the browser itself refuses a request
//! elsewhere, should anything in the vendored code try one.

use std::sync::LazyLock;

use actix_web::http::header::{
    self, CACHE_CONTROL, CONTENT_SECURITY_POLICY, ETAG, HeaderValue, IF_NONE_MATCH,
    REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use sha2::{Digest as _, Sha256};

use crate::error::ApiError;

/// Everything from this server only: no inline script or style, no frame around the page.
/// Images may also be `data:` URIs, which Swagger UI's stylesheet uses for its icons: they are
/// part of the stylesheet, not requests.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                      img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
                      form-action 'self'; frame-ancestors 'none'";

/// The file `GET /docs` answers.
const PAGE: &str = "index.html";

const HTML: &str = "text/html; charset=utf-8";
const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const PNG: &str = "image/png";

/// The files under `/docs/`: name, content type, bytes.
const FILES: [(&str, &str, &[u8]); 6] = [
    (PAGE, HTML, include_bytes!("../assets/docs/index.html")),
    (
        "initializer.js",
        JAVASCRIPT,
        include_bytes!("../assets/docs/initializer.js"),
    ),
    (
        "swagger-ui-bundle.js",
        JAVASCRIPT,
        include_bytes!("../assets/docs/vendor/swagger-ui-bundle.js"),
    ),
    (
        "swagger-ui.css",
        CSS,
        include_bytes!("../assets/docs/vendor/swagger-ui.css"),
    ),
    (
        "index.css",
        CSS,
        include_bytes!("../assets/docs/vendor/index.css"),
    ),
    (
        "favicon-32x32.png",
        PNG,
        include_bytes!("../assets/docs/vendor/favicon-32x32.png"),
    ),
];

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    /// A strong validator: the start of the SHA-256 of the body, quoted.
    etag: String,
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|&(name, content_type, body)| Asset {
            name,
            content_type,
            body,
            etag: format!("\"{}\"", hex::encode(&Sha256::digest(body)[..16])),
        })
        .collect()
});

/// Registers `GET /docs` and `GET /docs/{file}` when `enabled` (`server.docs`). They are a page
/// and its files, not API resources, so they stay out of `routes::scopes()`: that table is what
/// the OpenAPI document and the route matrix describe.
pub(crate) fn configure(cfg: &mut web::ServiceConfig, enabled: bool) {
    if !enabled {
        return;
    }
    cfg.service(
        web::resource("/docs")
            .route(web::get().to(page))
            .default_service(web::to(get_only)),
    )
    .service(
        web::resource("/docs/{file}")
            .route(web::get().to(file))
            .default_service(web::to(get_only)),
    );
}

async fn get_only() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed { allow: "GET" })
}

async fn page(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    serve(&req, PAGE)
}

async fn file(req: HttpRequest, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    serve(&req, &name)
}

fn serve(req: &HttpRequest, name: &str) -> Result<HttpResponse, ApiError> {
    let asset = ASSETS
        .iter()
        .find(|asset| asset.name == name)
        .ok_or_else(|| ApiError::NotFound(format!("no file {name} under /docs")))?;
    let unchanged = req
        .headers()
        .get_all(IF_NONE_MATCH)
        .any(|value| matches_etag(value, &asset.etag));
    let mut response = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    with_headers(&mut response, &asset.etag);
    Ok(if unchanged {
        response.finish()
    } else {
        response
            .insert_header((header::CONTENT_TYPE, asset.content_type))
            .body(asset.body)
    })
}

fn with_headers(response: &mut HttpResponseBuilder, etag: &str) {
    response
        .insert_header((ETAG, etag))
        // The paths carry no version: a browser asks again each time, and gets a 304 while the
        // binary is the same.
        .insert_header((CACHE_CONTROL, "no-cache"))
        .insert_header((CONTENT_SECURITY_POLICY, POLICY))
        .insert_header((X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((REFERRER_POLICY, "no-referrer"));
}

/// Whether an `If-None-Match` value names `etag`: `*`, or a list of entity tags compared weakly
/// (RFC 9110, 13.1.2).
fn matches_etag(value: &HeaderValue, etag: &str) -> bool {
    let Ok(value) = value.to_str() else {
        return false;
    };
    value.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists() {
        let etag = "\"abc\"";
        for sent in ["\"abc\"", "W/\"abc\"", "\"x\", \"abc\"", "*"] {
            assert!(
                matches_etag(&HeaderValue::from_static(sent), etag),
                "{sent}"
            );
        }
        for sent in ["\"abcd\"", "abc", "\"x\""] {
            assert!(
                !matches_etag(&HeaderValue::from_static(sent), etag),
                "{sent}"
            );
        }
    }
}
