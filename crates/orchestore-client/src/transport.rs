//! The client, its credential and errors, and the one way every operation is sent.

use std::fmt;

use futures_util::{Stream, TryStreamExt, stream};
use orchestore_api::Problem;
use orchestore_domain::Revision;
use orchestore_repo::{ListSort, Page};
use reqwest::header::{HeaderValue, IF_MATCH};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// How the client authenticates.
#[derive(Clone)]
pub enum Credential {
    /// An API key (`osk_…`) of a user or of an agent.
    ApiKey(String),
    /// An access token from `POST /api/v1/auth/login`.
    Bearer(String),
    /// None: only the public routes (sign-up, login, health) answer.
    Anonymous,
}

// The secret stays out of logs.
impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ApiKey(_) => "ApiKey(<redacted>)",
            Self::Bearer(_) => "Bearer(<redacted>)",
            Self::Anonymous => "Anonymous",
        })
    }
}

/// Why a call did not give its answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server refused the request; its problem document says why (`status`, `detail`, and
    /// `errors` naming each field at fault).
    #[error("{} ({}): {}", .0.title, .0.status, .0.detail)]
    Problem(Box<Problem>),
    /// The request did not reach the server, or its answer did not arrive whole.
    #[error("the request failed: {0}")]
    Transport(#[from] reqwest::Error),
    /// The server answered something this client does not read: a body that is not the type
    /// the operation answers, or a refusal without a problem document.
    #[error("unexpected answer ({status}): {detail}")]
    Unexpected { status: u16, detail: String },
    /// The base URL given to [`Client::new`] is not an `http://` or `https://` URL.
    #[error("not a base URL: {0}")]
    BaseUrl(String),
}

impl Error {
    /// The HTTP status of a refusal or an unexpected answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Problem(problem) => Some(problem.status),
            Self::Unexpected { status, .. } => Some(*status),
            Self::Transport(err) => err.status().map(|s| s.as_u16()),
            Self::BaseUrl(_) => None,
        }
    }

    /// The problem document of a refusal.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Self::Problem(problem) => Some(problem),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A client of one Orchestore server. Cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    /// `http://host:port`, without a trailing slash.
    root: String,
    credential: Credential,
}

impl Client {
    /// A client of the server at `base_url` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base_url: &str, credential: Credential) -> Result<Self> {
        Self::with_http(reqwest::Client::new(), base_url, credential)
    }

    /// The same with a `reqwest` client of your own (timeouts, proxies, TLS).
    pub fn with_http(
        http: reqwest::Client,
        base_url: &str,
        credential: Credential,
    ) -> Result<Self> {
        let trimmed = base_url.trim_end_matches('/');
        if !(trimmed.starts_with("http://") || trimmed.starts_with("https://")) {
            return Err(Error::BaseUrl(base_url.to_owned()));
        }
        Ok(Self {
            http,
            root: trimmed.to_owned(),
            credential,
        })
    }

    /// The same client with another credential (e.g. the access token a login answered).
    pub fn with_credential(&self, credential: Credential) -> Self {
        Self {
            credential,
            ..self.clone()
        }
    }

    /// A request to `path` under `/api/v1` (`path` starts with `/`).
    pub(crate) fn call(&self, method: Method, path: impl fmt::Display) -> Call {
        self.call_root(method, format!("/api/v1{path}"))
    }

    /// A request to `path` outside `/api/v1` (`/health/ready`, `/api/openapi.json`).
    pub(crate) fn call_root(&self, method: Method, path: impl fmt::Display) -> Call {
        let mut builder = self.http.request(method, format!("{}{path}", self.root));
        builder = match &self.credential {
            Credential::ApiKey(key) | Credential::Bearer(key) => builder.bearer_auth(key),
            Credential::Anonymous => builder,
        };
        Call { builder }
    }

    /// Every item of a list, page after page: the first page with `query`, each next one with
    /// the `cursor` the page before answered.
    pub(crate) fn stream<T, S>(
        &self,
        path: String,
        query: &impl Serialize,
    ) -> impl Stream<Item = Result<T>> + Send + 'static
    where
        T: DeserializeOwned + Send + 'static,
        S: ListSort,
    {
        let client = self.clone();
        let first = pairs(query);
        stream::try_unfold(Some(first), move |next| {
            let (client, path) = (client.clone(), path.clone());
            async move {
                let Some(query) = next else {
                    return Ok::<_, Error>(None);
                };
                let query = query?;
                let page: Page<T, S> = client.call(Method::GET, &path).query(&query).send().await?;
                let next = page.next_cursor.map(|cursor| {
                    let mut query: Vec<(String, String)> =
                        query.into_iter().filter(|(k, _)| k != "cursor").collect();
                    query.push(("cursor".to_owned(), cursor.to_string()));
                    Ok(query)
                });
                Ok(Some((stream::iter(page.items.into_iter().map(Ok)), next)))
            }
        })
        .try_flatten()
    }
}

/// Characters a path segment carries as they are (RFC 3986 `pchar` without `%`): everything
/// else, `/` above all, is percent-encoded, so a name like `openai/requests` stays one segment.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b':')
    .remove(b'@');

/// `value` as one segment of a request's path.
pub(crate) fn segment(value: &str) -> percent_encoding::PercentEncode<'_> {
    percent_encoding::utf8_percent_encode(value, SEGMENT)
}

/// A query string as its pairs, so that a page's `cursor` can replace the one before.
fn pairs(query: &impl Serialize) -> Result<Vec<(String, String)>> {
    let encoded = serde_urlencoded::to_string(query).map_err(|err| Error::Unexpected {
        status: 0,
        detail: format!("the query does not encode: {err}"),
    })?;
    serde_urlencoded::from_str(&encoded).map_err(|err| Error::Unexpected {
        status: 0,
        detail: format!("the query does not encode: {err}"),
    })
}

/// One request being built.
pub(crate) struct Call {
    builder: reqwest::RequestBuilder,
}

impl Call {
    pub(crate) fn query(self, query: &impl Serialize) -> Self {
        Self {
            builder: self.builder.query(query),
        }
    }

    pub(crate) fn json(self, body: &impl Serialize) -> Self {
        Self {
            builder: self.builder.json(body),
        }
    }

    /// `If-Match` with the resource's revision, when given: the server changes nothing and
    /// answers 412 when the resource has moved on since.
    pub(crate) fn if_match(self, revision: Option<Revision>) -> Self {
        match revision {
            Some(revision) => Self {
                builder: self.builder.header(
                    IF_MATCH,
                    HeaderValue::from_str(&format!("\"{}\"", revision.get()))
                        .expect("a number in quotes is a header value"),
                ),
            },
            None => self,
        }
    }

    /// Sends the request and reads the answer's JSON body as `T`.
    pub(crate) async fn send<T: DeserializeOwned>(self) -> Result<T> {
        self.send_with_status().await.map(|(_, body)| body)
    }

    /// Sends the request and reads the answer's status with its JSON body: for the creating
    /// calls whose `200` says that an earlier request with the same key created the resource.
    pub(crate) async fn send_with_status<T: DeserializeOwned>(self) -> Result<(StatusCode, T)> {
        let response = self.answered().await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        let body = serde_json::from_slice(&bytes).map_err(|err| Error::Unexpected {
            status: status.as_u16(),
            detail: format!("the body is not what the operation answers: {err}"),
        })?;
        Ok((status, body))
    }

    /// Sends the request for an answer without a body (`204 No Content`).
    pub(crate) async fn send_empty(self) -> Result<()> {
        self.answered().await.map(drop)
    }

    /// The response when it is a success; the problem document as the error when not.
    async fn answered(self) -> Result<reqwest::Response> {
        let response = self.builder.send().await?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        Err(refusal(status, &response.bytes().await?))
    }
}

fn refusal(status: StatusCode, body: &[u8]) -> Error {
    match serde_json::from_slice::<Problem>(body) {
        Ok(problem) => Error::Problem(Box::new(problem)),
        Err(_) => Error::Unexpected {
            status: status.as_u16(),
            detail: String::from_utf8_lossy(body).chars().take(200).collect(),
        },
    }
}
