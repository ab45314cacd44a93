//! Login, refresh and logout.

use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpRequest, HttpResponse, web};
use orchestore_api::auth::{LoginBody, RefreshBody, TokenResponse};
use orchestore_domain::{ClientInfo, Email, Participant, Password, Slug, User};
use orchestore_repo::{Actor, Ctx, NewSession, RepoError, SessionGrant};

use crate::auth::Authenticated;
use crate::client::client_info;
use crate::error::{ApiError, AuthFailure, Problem};
use crate::extract::ApiJson;
use crate::login_limits::LoginAttempt;
use crate::request_id::RequestId;
use crate::state::AppState;
use crate::tokens::{new_refresh_token, refresh_token_hash};

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(login, refresh, logout))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(super::resource("/auth/login", "POST").route(web::post().to(login)))
        .service(super::resource("/auth/refresh", "POST").route(web::post().to(refresh)))
        .service(super::resource("/auth/logout", "POST").route(web::post().to(logout)));
}

/// `POST /api/v1/auth/login`. A wrong password, an unknown email and a deactivated account
/// all get the same 401, after the same bcrypt work (done by the store, which keeps the hash).
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    summary = "Log in",
    tag = "auth",
    security(()),
    request_body = LoginBody,
    responses(
        (status = 200, description = "A new session's tokens", body = TokenResponse),
        (status = 401, description = "The organization, email or password is wrong, or the \
            account is deactivated", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins: try again after `Retry-After`",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = tracing::field::Empty))]
pub(crate) async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    request_id: RequestId,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    let client = client_info(&req, &state);
    let attempt = LoginAttempt::new(&body.organization, &body.email, client.address);
    // Refused before any bcrypt work, whether the password is right or not.
    if let Err(wait) = state.login_limits.admit(&attempt) {
        tracing::warn!(client_address = ?client.address, "login refused: too many failures");
        return Err(ApiError::retry_after(wait));
    }
    // A malformed slug or e-mail has no account: it gets the same answer as an unknown one.
    let password = Password::offered(&body.password);
    let verified = match (
        Slug::parse("organization", &body.organization),
        Email::parse(&body.email),
    ) {
        (Ok(organization), Ok(email)) => {
            state
                .store
                .verify_login(&organization, &email, &password)
                .await?
        }
        _ => None,
    };
    let Some(user) = verified else {
        return Err(ApiError::Unauthenticated(AuthFailure::BadCredentials));
    };
    state.login_limits.succeeded(&attempt);
    tracing::Span::current().record("user_id", tracing::field::display(user.id));
    open_session(&state, &user, client, &request_id).await
}

/// Opens a session for `user` and answers with its tokens: a login, or a sign-up or an
/// accepted invitation, which log their new user in.
pub(super) async fn open_session(
    state: &AppState,
    user: &User,
    client: ClientInfo,
    request_id: &RequestId,
) -> Result<HttpResponse, ApiError> {
    let ctx = user_ctx(user, request_id, &client);
    let refresh_token = new_refresh_token();
    let grant = state
        .store
        .create_session(
            &ctx,
            user.id,
            NewSession {
                refresh_token_hash: refresh_token_hash(&refresh_token),
                expires_at: state.tokens.refresh_expires_at()?,
                client,
            },
        )
        .await?;
    token_response(state, &ctx, &grant, refresh_token).await
}

/// `POST /api/v1/auth/refresh`: trades a refresh token for a new pair; the old one stops
/// working, and offered again it revokes the session.
#[utoipa::path(
    post,
    path = "/api/v1/auth/refresh",
    summary = "Trade a refresh token for new tokens",
    tag = "auth",
    security(()),
    request_body = RefreshBody,
    responses(
        (status = 200, description = "The session's new tokens", body = TokenResponse),
        (status = 401, description = "The refresh token is invalid, revoked or expired",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = tracing::field::Empty))]
pub(crate) async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    request_id: RequestId,
    ApiJson(body): ApiJson<RefreshBody>,
) -> Result<HttpResponse, ApiError> {
    let client = client_info(&req, &state);
    let refresh_token = new_refresh_token();
    let new_hash = refresh_token_hash(&refresh_token);
    let grant = state
        .store
        .rotate_session(
            &refresh_token_hash(&body.refresh_token),
            &new_hash,
            state.tokens.refresh_expires_at()?,
            &client,
            Some(request_id.as_str()),
        )
        .await
        .map_err(|err| match err {
            RepoError::NotFound { .. } => {
                ApiError::Unauthenticated(AuthFailure::InvalidRefreshToken)
            }
            other => other.into(),
        })?;
    // `rotate_session` refuses a deactivated user's session.
    tracing::Span::current().record("user_id", tracing::field::display(grant.user.id));
    let ctx = user_ctx(&grant.user, &request_id, &client);
    token_response(&state, &ctx, &grant, refresh_token).await
}

/// `POST /api/v1/auth/logout`: revokes the session of the access token, which stops it and
/// its refresh token at once. Any body is ignored.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    summary = "Log out",
    tag = "auth",
    responses((status = 204, description = "The session is revoked"))
)]
#[tracing::instrument(skip_all, fields(principal = %auth.principal()))]
pub(crate) async fn logout(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let (user, session) = auth.user_session()?;
    match state.store.revoke_session(auth.ctx(), user, session).await {
        Ok(()) | Err(RepoError::NotFound { .. }) => Ok(HttpResponse::NoContent().finish()),
        Err(err) => Err(err.into()),
    }
}

/// The context of a login or refresh: the user, the request, where it came from.
pub(super) fn user_ctx(user: &User, request_id: &RequestId, client: &ClientInfo) -> Ctx {
    let ctx =
        Ctx::new(user.organization_id, Actor::User(user.id)).with_request_id(request_id.as_str());
    match client.address {
        Some(address) => ctx.with_client_addr(address),
        None => ctx,
    }
}

/// A fresh access token of the granted session (with the user's current permissions, and no
/// longer lived than they are: see [`crate::tokens::TokenIssuer::access_token`]) and the given
/// refresh token.
pub(super) async fn token_response(
    state: &AppState,
    ctx: &Ctx,
    grant: &SessionGrant,
    refresh_token: String,
) -> Result<HttpResponse, ApiError> {
    let effective = state
        .store
        .effective_permissions(ctx, Participant::User(grant.user.id))
        .await?;
    let (access_token, expires_in) =
        state
            .tokens
            .access_token(grant, &effective.permissions, effective.changes_at)?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(TokenResponse {
            access_token,
            token_type: "Bearer".to_owned(),
            expires_in,
            refresh_token,
        }))
}
