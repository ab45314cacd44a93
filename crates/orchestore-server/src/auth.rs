//! The [`Authenticated`] extractor: who calls, checked from the bearer token — a user's access
//! token (a JWT, whose session's standing is checked against a short-lived cache, see
//! [`crate::standing`]) or an API key (`osk_…`) of an agent or a user, looked up by its hash on
//! every request, so that a revocation, an expiry or a permission its owner loses counts at the
//! next one.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use chrono::{DateTime, Utc};
use orchestore_domain::{AgentId, ApiKeyId, ApiKeySecret, KeyOwner, Permission, SessionId, UserId};
use orchestore_repo::{Actor, Credential, Ctx, RepoError};

use crate::client::client_address;
use crate::error::{ApiError, AuthFailure};
use crate::request_id::RequestId;
use crate::state::AppState;

/// The caller of an authenticated route: the context its repository calls run in and the
/// permissions its token grants.
#[derive(Debug, Clone)]
pub(crate) struct Authenticated {
    ctx: Ctx,
    principal: Principal,
    /// The session of a user's access token.
    session: Option<SessionId>,
    /// The API key the caller presented, when it did.
    key: Option<PresentedKey>,
    permissions: Vec<Permission>,
}

/// The API key a request presented: which one, and when it expires (a key it creates must
/// expire no later).
#[derive(Debug, Clone)]
pub(crate) struct PresentedKey {
    pub(crate) id: ApiKeyId,
    pub(crate) expires_at: Option<DateTime<Utc>>,
}

/// Who authenticated: a user by their access token, or an agent by one of its API keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Principal {
    User(UserId),
    Agent(AgentId),
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(id) => write!(f, "user:{id}"),
            Self::Agent(id) => write!(f, "agent:{id}"),
        }
    }
}

impl Authenticated {
    /// The context, when the token grants `permission`; 403 otherwise.
    pub(crate) fn require(&self, permission: Permission) -> Result<&Ctx, ApiError> {
        if self.permissions.contains(&permission) {
            Ok(&self.ctx)
        } else {
            Err(ApiError::Forbidden(permission))
        }
    }

    /// The context, for routes every authenticated user may call.
    pub(crate) fn ctx(&self) -> &Ctx {
        &self.ctx
    }

    pub(crate) fn principal(&self) -> Principal {
        self.principal
    }

    /// What the caller's token grants now (for a key: its scopes that its owner holds).
    pub(crate) fn permissions(&self) -> &[Permission] {
        &self.permissions
    }

    /// The API key the caller presented; `None` for an access token.
    pub(crate) fn presented_key(&self) -> Option<&PresentedKey> {
        self.key.as_ref()
    }

    /// The calling user and the session their access token belongs to. A key is refused (403)
    /// on these routes (sessions, logout, the password): they are for a person who logged in.
    pub(crate) fn user_session(&self) -> Result<(UserId, SessionId), ApiError> {
        let user = self.user_id()?;
        match (self.session, &self.key) {
            (Some(session), None) => Ok((user, session)),
            (None, Some(_)) => Err(ApiError::NotAllowed(
                "this route needs a login: an API key cannot call it".to_owned(),
            )),
            _ => Err(ApiError::internal(
                "a user's access token without its session",
            )),
        }
    }

    /// The calling user; an agent's key is refused (403) on routes that act as a person.
    pub(crate) fn user_id(&self) -> Result<UserId, ApiError> {
        match self.principal {
            Principal::User(id) => Ok(id),
            Principal::Agent(_) => Err(ApiError::NotAllowed(
                "this route acts as a user: an agent's API key cannot call it".to_owned(),
            )),
        }
    }

    /// The agent a queue call acts for: an agent's key acts for its own agent only (403 for
    /// another); a user names one (422 on `agent_id` when absent).
    pub(crate) fn acting_agent(&self, named: Option<AgentId>) -> Result<AgentId, ApiError> {
        match (self.principal, named) {
            (Principal::Agent(own), None) => Ok(own),
            (Principal::Agent(own), Some(named)) if named == own => Ok(own),
            (Principal::Agent(_), Some(_)) => Err(ApiError::NotAllowed(
                "an agent's API key acts for its own agent only".to_owned(),
            )),
            (Principal::User(_), Some(named)) => Ok(named),
            (Principal::User(_), None) => Err(ApiError::Invalid(vec![
                orchestore_domain::DomainError::invalid(
                    "agent_id",
                    "name the agent the tasks run on",
                )
                .into(),
            ])),
        }
    }
}

impl FromRequest for Authenticated {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        // Checked already by a middleware (see `crate::idempotency`).
        if let Some(checked) = req.extensions().get::<Self>().cloned() {
            return Box::pin(std::future::ready(Ok(checked)));
        }
        let req = req.clone();
        Box::pin(async move { authenticate(&req).await.map_err(Into::into) })
    }
}

/// Checks the request's bearer token: who calls, and what it may do.
pub(crate) async fn authenticate(req: &HttpRequest) -> Result<Authenticated, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("the application state is not registered"))?
        .clone();
    let token = bearer_token(req)?;
    let (ctx, principal, session, key, permissions) = if ApiKeySecret::is_key(token) {
        let key = ApiKeySecret::parse(token)
            .ok_or(ApiError::Unauthenticated(AuthFailure::InvalidToken))?;
        let store = Arc::clone(&state.store);
        // Unknown, revoked, expired, or its owner deactivated: all one 401.
        let grant = detached(async move { store.authenticate_api_key(&key).await })
            .await?
            .map_err(|e| match e {
                RepoError::NotFound { .. } => ApiError::Unauthenticated(AuthFailure::InvalidToken),
                other => other.into(),
            })?;
        let (actor, principal) = match grant.owner {
            KeyOwner::Agent(id) => (Actor::Agent(id), Principal::Agent(id)),
            KeyOwner::User(id) => (Actor::User(id), Principal::User(id)),
        };
        (
            Ctx::new(grant.organization_id, actor)
                .with_credential(Credential::ApiKey(grant.key_id)),
            principal,
            None,
            Some(PresentedKey {
                id: grant.key_id,
                expires_at: grant.expires_at,
            }),
            grant.permissions,
        )
    } else {
        let claims = state.tokens.verify(token)?;
        let ctx = Ctx::new(claims.org, Actor::User(claims.sub))
            .with_credential(Credential::Session(claims.sid));
        let revoked = ApiError::Unauthenticated(AuthFailure::RevokedToken);
        let standing = match state.standings.cached(state.store.as_ref(), claims.sid) {
            Some(standing) => standing,
            None => {
                let (checking, asking, session) = (state.clone(), ctx.clone(), claims.sid);
                detached(async move {
                    checking
                        .standings
                        .of(checking.store.as_ref(), &asking, session)
                        .await
                })
                .await?
                .map_err(|e| match e {
                    RepoError::NotFound { .. } => revoked,
                    other => other.into(),
                })?
            }
        };
        if !standing.live || standing.user_id != claims.sub || standing.access_version != claims.ver
        {
            return Err(ApiError::Unauthenticated(AuthFailure::RevokedToken));
        }
        (
            ctx,
            Principal::User(claims.sub),
            Some(claims.sid),
            None,
            claims.permissions.clone(),
        )
    };
    let ctx = match RequestId::of(req) {
        Some(request_id) => ctx.with_request_id(request_id.as_str()),
        None => ctx,
    };
    // The address only: every request passes here, the user agent matters to logins alone.
    let ctx = match client_address(req, &state.trusted_proxies) {
        Some(addr) => ctx.with_client_addr(addr),
        None => ctx,
    };
    Ok(Authenticated {
        ctx,
        principal,
        session,
        key,
        permissions,
    })
}

/// Runs a store call of the extractor on a task of its own. actix drops an extractor's future
/// when another extractor of the same handler fails first (a body too large, say), and a query
/// dropped halfway can cost its connection — with an in-memory SQLite database, the database.
async fn detached<T: Send + 'static>(
    call: impl Future<Output = T> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::spawn(call)
        .await
        .map_err(|e| ApiError::internal(format!("authenticating: {e}")))
}

fn bearer_token(req: &HttpRequest) -> Result<&str, ApiError> {
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .ok_or(ApiError::Unauthenticated(AuthFailure::MissingToken))?;
    let invalid = ApiError::Unauthenticated(AuthFailure::InvalidToken);
    let (scheme, token) = header
        .to_str()
        .ok()
        .and_then(|value| value.split_once(' '))
        .ok_or(invalid)?;
    let token = token.trim();
    if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() {
        Ok(token)
    } else {
        Err(ApiError::Unauthenticated(AuthFailure::InvalidToken))
    }
}
