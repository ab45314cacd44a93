//! The [`Authenticated`] extractor: who calls, checked from the bearer token.

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use orchestore_domain::{Permission, UserId};
use orchestore_repo::{Actor, Ctx};

use crate::error::{ApiError, AuthFailure};
use crate::request_id::RequestId;
use crate::state::AppState;

/// The caller of an authenticated route: the context its repository calls run in and the
/// permissions its token grants.
#[derive(Debug)]
pub(crate) struct Authenticated {
    ctx: Ctx,
    user_id: UserId,
    permissions: Vec<Permission>,
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

    pub(crate) fn user_id(&self) -> UserId {
        self.user_id
    }
}

impl FromRequest for Authenticated {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(authenticate(req).map_err(Into::into))
    }
}

fn authenticate(req: &HttpRequest) -> Result<Authenticated, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("the application state is not registered"))?;
    let claims = state.tokens.verify(bearer_token(req)?)?;
    let mut ctx = Ctx::new(claims.org, Actor::User(claims.sub));
    if let Some(request_id) = RequestId::of(req) {
        ctx = ctx.with_request_id(request_id.as_str());
    }
    Ok(Authenticated {
        ctx,
        user_id: claims.sub,
        // A code this build does not know grants nothing.
        permissions: claims
            .perms
            .iter()
            .filter_map(|code| Permission::from_code(code))
            .collect(),
    })
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
