//! The [`Authenticated`] extractor: who calls, checked from the bearer token — a user's access
//! token (a JWT, checked without the database) or an agent's API key (`osk_…`, looked up by its
//! hash).

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use orchestore_domain::{AgentId, ApiKeySecret, Permission, UserId};
use orchestore_repo::{Actor, Credential, Ctx, RepoError};

use crate::error::{ApiError, AuthFailure};
use crate::request_id::RequestId;
use crate::state::AppState;

/// The caller of an authenticated route: the context its repository calls run in and the
/// permissions its token grants.
#[derive(Debug)]
pub(crate) struct Authenticated {
    ctx: Ctx,
    principal: Principal,
    permissions: Vec<Permission>,
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
        let req = req.clone();
        Box::pin(async move { authenticate(&req).await.map_err(Into::into) })
    }
}

async fn authenticate(req: &HttpRequest) -> Result<Authenticated, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("the application state is not registered"))?;
    let token = bearer_token(req)?;
    let (ctx, principal, permissions) = if ApiKeySecret::is_key(token) {
        let key = ApiKeySecret::parse(token)
            .ok_or(ApiError::Unauthenticated(AuthFailure::InvalidToken))?;
        let grant = state
            .store
            .authenticate_agent_api_key(&key)
            .await
            .map_err(|e| match e {
                RepoError::NotFound { .. } => ApiError::Unauthenticated(AuthFailure::InvalidToken),
                other => other.into(),
            })?;
        (
            Ctx::new(grant.organization_id, Actor::Agent(grant.agent_id))
                .with_credential(Credential::ApiKey(grant.key_id)),
            Principal::Agent(grant.agent_id),
            grant.permissions,
        )
    } else {
        let claims = state.tokens.verify(token)?;
        (
            Ctx::new(claims.org, Actor::User(claims.sub)),
            Principal::User(claims.sub),
            // A code this build does not know grants nothing.
            claims
                .perms
                .iter()
                .filter_map(|code| Permission::from_code(code))
                .collect(),
        )
    };
    let ctx = match RequestId::of(req) {
        Some(request_id) => ctx.with_request_id(request_id.as_str()),
        None => ctx,
    };
    let ctx = match client_addr(req) {
        Some(addr) => ctx.with_client_addr(addr),
        None => ctx,
    };
    Ok(Authenticated {
        ctx,
        principal,
        permissions,
    })
}

/// The address a request came from, for the audit log: the peer of its connection. Headers
/// such as `X-Forwarded-For` are not read: any client can send them, so behind a proxy the
/// proxy's address is recorded.
pub(crate) fn client_addr(req: &HttpRequest) -> Option<IpAddr> {
    req.peer_addr().map(|addr| addr.ip())
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
