//! Conditional requests on the resources that carry a revision (every resource with a `PATCH`
//! route, and an organization's settings, replaced by `PUT`): their `GET` sends
//! `ETag: "<revision>"`, and answers `304 Not Modified` when `If-None-Match` names it; their
//! `PATCH`, `PUT`, `DELETE` and cancellations take `If-Match`, which
//! the repository compares in the statement that writes (a mismatch is a 412 problem, see
//! [`crate::error`]).

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderMap};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use orchestore_domain::Revision;
use orchestore_repo::RepoError;
use serde::Serialize;

use crate::error::ApiError;

/// The `ETag` of `revision`: the number in quotes, `"7"`. Strong: two answers with the same
/// tag are the same bytes, since every write of the row moves its revision.
pub(crate) fn etag(revision: Revision) -> String {
    format!("\"{revision}\"")
}

/// The revision an entity tag of [`etag`]'s form names; `None` for any other tag.
fn revision_of(tag: &str) -> Option<Revision> {
    let digits = tag.strip_prefix('"')?.strip_suffix('"')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Revision::parse(digits.parse().ok()?).ok()
}

/// What `If-Match` asks of a change: nothing (no header, or `*`: any existing resource), or
/// that the resource still be at a revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IfMatch(Option<Revision>);

impl IfMatch {
    /// The revision the change expects the resource at, for the repository.
    pub(crate) fn expected(self) -> Option<Revision> {
        self.0
    }

    /// The revision a change expects when its body may name one too (a settings body sent back
    /// as `GET` showed it): either, or both when they agree; two different ones are a 400.
    pub(crate) fn with_body(self, body: Option<Revision>) -> Result<Option<Revision>, ApiError> {
        match (self.0, body) {
            (Some(header), Some(body)) if header != body => Err(ApiError::BadRequest {
                detail: format!(
                    "If-Match names revision {header} and the body's revision is {body}: send \
                     one, or the same in both"
                ),
                errors: Vec::new(),
            }),
            (header, body) => Ok(header.or(body)),
        }
    }

    /// Refuses a change that writes nothing (an empty `PATCH`) of `entity` `id`, now at
    /// `current`, when another revision was expected: the same 412 as a refused write.
    pub(crate) fn check(
        self,
        entity: &'static str,
        id: impl ToString,
        current: Revision,
    ) -> Result<(), ApiError> {
        match self.0 {
            Some(expected) if expected != current => Err(RepoError::RevisionMismatch {
                entity,
                id: id.to_string(),
                expected,
                current,
            }
            .into()),
            _ => Ok(()),
        }
    }

    /// Reads the header: absent or `*` asks nothing; one tag of [`etag`]'s form asks for its
    /// revision; anything else (a weak tag, a list, another form) is malformed.
    fn parse(headers: &HeaderMap) -> Result<Self, ApiError> {
        let mut values = headers.get_all(header::IF_MATCH);
        let Some(value) = values.next() else {
            return Ok(Self(None));
        };
        let malformed = || ApiError::BadRequest {
            detail: "If-Match must be * or one ETag of this API, such as \"7\"".to_owned(),
            errors: Vec::new(),
        };
        if values.next().is_some() {
            return Err(malformed());
        }
        let text = value.to_str().map_err(|_| malformed())?.trim();
        if text == "*" {
            return Ok(Self(None));
        }
        revision_of(text)
            .map(|r| Self(Some(r)))
            .ok_or_else(malformed)
    }
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::parse(req.headers()))
    }
}

/// Whether `If-None-Match` of `req` names `revision` (or is `*`): the client holds this very
/// answer. Compared weakly, as RFC 9110 has it (`W/"7"` names revision 7 too); a tag this API
/// does not make names nothing.
fn not_modified(req: &HttpRequest, revision: Revision) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|tag| {
            tag == "*" || revision_of(tag.strip_prefix("W/").unwrap_or(tag)) == Some(revision)
        })
}

/// The answer to a `GET` of a resource at `revision`: `304 Not Modified` with its `ETag` and no
/// body when `If-None-Match` names it, else `200` with `body` and the `ETag`.
pub(crate) fn read(req: &HttpRequest, revision: Revision, body: &impl Serialize) -> HttpResponse {
    if not_modified(req, revision) {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag(revision)))
            .finish();
    }
    tagged(revision, body)
}

/// `200` with `body`, a resource at `revision`, and its `ETag`: the answer to a change.
pub(crate) fn tagged(revision: Revision, body: &impl Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(revision)))
        .json(body)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn revision(n: i64) -> Revision {
        Revision::parse(n).expect("a revision")
    }

    fn if_match(value: Option<&str>) -> Result<IfMatch, ApiError> {
        let mut req = TestRequest::default();
        if let Some(value) = value {
            req = req.insert_header((header::IF_MATCH, value));
        }
        IfMatch::parse(req.to_http_request().headers())
    }

    #[test]
    fn a_body_revision_stands_in_for_if_match_or_agrees_with_it() {
        let (two, three) = (revision(2), revision(3));
        assert_eq!(IfMatch(None).with_body(None).ok(), Some(None));
        assert_eq!(IfMatch(Some(two)).with_body(None).ok(), Some(Some(two)));
        assert_eq!(IfMatch(None).with_body(Some(two)).ok(), Some(Some(two)));
        assert_eq!(
            IfMatch(Some(two)).with_body(Some(two)).ok(),
            Some(Some(two))
        );
        assert!(matches!(
            IfMatch(Some(two)).with_body(Some(three)),
            Err(ApiError::BadRequest { .. })
        ));
    }

    #[test]
    fn if_match_takes_a_star_or_one_strong_tag() {
        assert_eq!(if_match(None).ok(), Some(IfMatch(None)));
        assert_eq!(if_match(Some("*")).ok(), Some(IfMatch(None)));
        assert_eq!(
            if_match(Some("\"7\"")).ok(),
            Some(IfMatch(Some(revision(7))))
        );
        for bad in [
            "7",
            "W/\"7\"",
            "\"7\", \"8\"",
            "\"0\"",
            "\"-1\"",
            "\"x\"",
            "\"\"",
            "",
        ] {
            assert!(
                matches!(if_match(Some(bad)), Err(ApiError::BadRequest { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists() {
        let asks = |value: &str| {
            let req = TestRequest::default()
                .insert_header((header::IF_NONE_MATCH, value))
                .to_http_request();
            not_modified(&req, revision(3))
        };
        assert!(asks("\"3\""));
        assert!(asks("W/\"3\""));
        assert!(asks("\"1\", \"3\""));
        assert!(asks("*"));
        assert!(!asks("\"4\""));
        assert!(!asks("garbage"));
        assert!(!not_modified(
            &TestRequest::default().to_http_request(),
            revision(3)
        ));
    }
}
