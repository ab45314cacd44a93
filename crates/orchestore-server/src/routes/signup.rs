//! `POST /api/v1/organizations/signup`: anyone creates an organization and becomes its owner,
//! logged in at once — when the server allows it (`auth.open_signup`, off by default).

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, LOCATION};
use actix_web::{HttpRequest, HttpResponse, web};
use orchestore_api::auth::TokenResponse;
use orchestore_api::signup::SignupBody;
use orchestore_domain::{
    ClientInfo, NewUser, OrganizationId, Password, PasswordHash, SystemRole, User,
};
use orchestore_repo::{Ctx, RepoError};

use crate::client::client_info;
use crate::error::{ApiError, FieldError, Problem};
use crate::extract::ApiJson;
use crate::request_id::RequestId;
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(signup))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(super::resource("/organizations/signup", "POST").route(web::post().to(signup)));
}

/// `POST /api/v1/organizations/signup` → 201 with a token pair, as a login answers, and the
/// `Location` of the organization. Closed, it is a 403 whatever the body, and reads and writes
/// nothing; open, each client address may sign up `auth.signups_per_address` times per
/// `auth.signup_window` (429 past that, before any bcrypt work).
#[utoipa::path(
    post,
    path = "/api/v1/organizations/signup",
    summary = "Sign up an organization and its owner",
    tag = "signup",
    security(()),
    request_body = SignupBody,
    responses(
        (status = 201, description = "The owner's session tokens",
            body = TokenResponse,
            headers(("Location" = String, description = "The organization's URL"))),
        (status = 403, description = "Sign-up is closed on this server", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "An organization has this slug", body = Problem,
            content_type = "application/problem+json"),
        (status = 429, description = "Too many sign-ups from this address: try again after \
            `Retry-After`", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[tracing::instrument(skip_all, fields(organization = tracing::field::Empty))]
pub(crate) async fn signup(
    state: web::Data<AppState>,
    req: HttpRequest,
    request_id: RequestId,
    body: Result<ApiJson<SignupBody>, actix_web::Error>,
) -> actix_web::Result<HttpResponse> {
    // 403 rather than 404: the route is documented, and the client should learn that this
    // server does not take sign-ups, not that it mistyped the path.
    if !state.open_signup {
        return Err(ApiError::NotAllowed("sign-up is closed on this server".to_owned()).into());
    }
    let ApiJson(body) = body?;
    let sign_up = body.into_sign_up().map_err(ApiError::from)?;
    let client = client_info(&req, &state);
    if let Err(wait) = state.signup_limits.admit(client.address) {
        tracing::warn!(client_address = ?client.address, "sign-up refused: too many from this address");
        return Err(ApiError::retry_after(wait).into());
    }
    let password_hash = hash_password(&state, sign_up.password).await?;
    let owner = NewUser {
        email: sign_up.email,
        username: None,
        display_name: sign_up.display_name,
        password_hash,
        roles: vec![SystemRole::Owner.into()],
    };
    // Nobody is logged in yet: the system creates the organization (the audit rows carry the
    // request id), and the owner then logs in.
    let ctx = Ctx::system(OrganizationId::new()).with_request_id(request_id.as_str());
    let (organization, owner) = state
        .store
        .create_organization_with_owner(&ctx, sign_up.organization, owner)
        .await
        .map_err(|err| match err {
            // The body names the slug `organization`.
            RepoError::Conflict {
                field: Some("slug"),
                reason,
                ..
            } => ApiError::Conflict {
                errors: vec![FieldError::new("organization", reason.clone())],
                detail: reason,
            },
            other => other.into(),
        })?;
    tracing::Span::current().record("organization", tracing::field::display(&organization.slug));
    tracing::info!(organization_id = %organization.id, "an organization signed up");
    Ok(logged_in(&state, &owner, client, &request_id, "/api/v1/organization").await?)
}

/// Hashes a new password off the async threads, at the server's bcrypt cost.
pub(super) async fn hash_password(
    state: &AppState,
    password: Password,
) -> Result<PasswordHash, ApiError> {
    let cost = state.password_cost;
    tokio::task::spawn_blocking(move || PasswordHash::hash(&password, cost))
        .await
        .map_err(|e| ApiError::internal(format!("hashing a password: {e}")))?
        .map_err(ApiError::from)
}

/// Opens a session for `user`, whom this request created, and answers as a login does, but
/// with 201 and the `Location` of what was created.
pub(super) async fn logged_in(
    state: &AppState,
    user: &User,
    client: ClientInfo,
    request_id: &RequestId,
    location: &str,
) -> Result<HttpResponse, ApiError> {
    let mut response = super::auth::open_session(state, user, client, request_id).await?;
    *response.status_mut() = StatusCode::CREATED;
    let location = HeaderValue::from_str(location).map_err(ApiError::internal)?;
    response.headers_mut().insert(LOCATION, location);
    Ok(response)
}
