//! `POST /api/v1/organizations/signup`: anyone creates an organization and becomes its owner,
//! logged in at once — when the server allows it (`auth.open_signup`, off by default).

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, LOCATION};
use actix_web::{HttpRequest, HttpResponse, web};
use orchestore_domain::{
    ClientInfo, Email, Name, NewOrganization, NewUser, OrganizationId, Password, PasswordHash,
    Slug, SystemRole, User,
};
use orchestore_repo::{Ctx, RepoError};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::client::client_info;
use crate::error::{ApiError, FieldError, FieldErrors, Problem};
use crate::extract::ApiJson;
use crate::request_id::RequestId;
use crate::state::AppState;

/// The owner's display name when the sign-up gives none.
const DEFAULT_DISPLAY_NAME: &str = "Owner";

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(signup))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(super::resource("/organizations/signup", "POST").route(web::post().to(signup)));
}

/// The fields of a login (`organization` is the slug, as there), and the names.
// No `Debug`: it holds a password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignupBody {
    /// The new organization's slug, which its users log in with.
    organization: String,
    /// The organization's display name; the slug when left out.
    organization_name: Option<String>,
    /// The owner's e-mail address.
    email: String,
    /// The owner's password; it must meet the password policy.
    #[schema(format = Password)]
    password: String,
    /// The owner's display name; `Owner` when left out.
    display_name: Option<String>,
}

/// A valid sign-up whose password is not hashed yet.
struct SignUp {
    organization: NewOrganization,
    email: Email,
    display_name: Name,
    password: Password,
}

impl SignupBody {
    fn parse(self) -> Result<SignUp, ApiError> {
        let mut errors = FieldErrors::default();
        let slug = errors.check(Slug::parse("organization", &self.organization));
        let name = errors.check(Name::parse(
            "organization_name",
            self.organization_name
                .as_deref()
                .unwrap_or(&self.organization),
        ));
        let email = errors.check(Email::parse(&self.email));
        let display_name = errors.check(Name::parse(
            "display_name",
            self.display_name.as_deref().unwrap_or(DEFAULT_DISPLAY_NAME),
        ));
        let password = match &email {
            Some(email) => errors.check(Password::for_account(&self.password, email)),
            None => errors.check(Password::parse(&self.password)),
        };
        let (Some(slug), Some(name), Some(email), Some(display_name), Some(password)) =
            (slug, name, email, display_name, password)
        else {
            return Err(errors.into_error().into());
        };
        Ok(SignUp {
            organization: NewOrganization { slug, name },
            email,
            display_name,
            password,
        })
    }
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
            body = super::auth::TokenResponse,
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
    let sign_up = body.parse()?;
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
