//! `/api/v1/invitations`: a one-time token by which one person joins the organization with the
//! roles the inviter chose, and its acceptance, which logs the new user in.

use actix_web::http::header::{CACHE_CONTROL, LOCATION};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use orchestore_api::auth::TokenResponse;
use orchestore_api::invitations::{AcceptBody, CreateInvitationBody};
use orchestore_domain::{Invitation, InvitationId, InvitationToken, IssuedInvitation, Permission};
use orchestore_repo::{InvitationAcceptance, InvitationSort, Page, RepoError};

use super::PageQuery;
use super::signup::{hash_password, logged_in};
use crate::auth::Authenticated;
use crate::client::client_info;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::request_id::RequestId;
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(create, list, get, revoke, accept))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/invitations", "GET, POST")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    // Before `/invitations/{id}`, which would take `accept` for an id.
    .service(super::resource("/invitations/accept", "POST").route(web::post().to(accept)))
    .service(
        super::resource("/invitations/{id}", "GET, DELETE")
            .route(web::get().to(get))
            .route(web::delete().to(revoke)),
    );
}

/// The one answer for a token that cannot be accepted: unknown, used, revoked or expired
/// alike. 404 rather than 410, which would say the token once existed.
fn no_invitation() -> ApiError {
    ApiError::NotFound("no pending invitation has this token".to_owned())
}

fn or_no_invitation(err: RepoError) -> ApiError {
    match err {
        RepoError::NotFound { .. } => no_invitation(),
        other => other.into(),
    }
}

/// `POST /api/v1/invitations` → 201 with the invitation and its `token`, shown this once (the
/// link the client sends to the invited person carries it). Granting roles needs
/// `roles:write` too, as creating a user with roles does.
#[utoipa::path(
    post,
    path = "/api/v1/invitations",
    summary = "Invite a person",
    tag = "invitations",
    request_body = CreateInvitationBody,
    responses(
        (status = 201, description = "The invitation, with its token shown this once",
            body = IssuedInvitation,
            headers(("Location" = String, description = "The invitation's URL"))),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateInvitationBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::UsersWrite)?;
    let expires_at = chrono::Duration::from_std(state.invitation_ttl)
        .ok()
        .and_then(|ttl| Utc::now().checked_add_signed(ttl))
        .ok_or_else(|| ApiError::internal("auth.invitation_ttl is out of range"))?;
    let invitation = body.into_new_invitation(expires_at)?;
    if !invitation.roles.is_empty() {
        auth.require(Permission::RolesWrite)?;
    }
    let issued = state.store.create_invitation(ctx, invitation).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            LOCATION,
            format!("/api/v1/invitations/{}", issued.invitation.id),
        ))
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(issued))
}

/// `GET /api/v1/invitations?limit=&cursor=&sort=`: the pending invitations, without tokens.
#[utoipa::path(
    get,
    path = "/api/v1/invitations",
    summary = "List pending invitations",
    tag = "invitations",
    params(
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 200,
            description = "Rows per page (50 when absent)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the page before"),
        ("sort" = Option<InvitationSort>, Query),
    ),
    responses((status = 200, description = "A page of pending invitations",
        body = Page<Invitation, InvitationSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::UsersRead)?;
    let page = query.into_page_request::<InvitationSort>()?;
    Ok(HttpResponse::Ok().json(state.store.list_invitations(ctx, page).await?))
}

/// `GET /api/v1/invitations/{id}`: pending or not, without its token.
#[utoipa::path(
    get,
    path = "/api/v1/invitations/{id}",
    summary = "Get an invitation",
    tag = "invitations",
    params(("id" = InvitationId, Path, description = "The invitation's id")),
    responses((status = 200, description = "The invitation", body = Invitation))
)]
#[tracing::instrument(skip_all, fields(invitation_id = %id))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<InvitationId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::UsersRead)?;
    Ok(HttpResponse::Ok().json(state.store.get_invitation(ctx, id.into_inner()).await?))
}

/// `DELETE /api/v1/invitations/{id}` → 204: the token stops working; again, nothing changes.
#[utoipa::path(
    delete,
    path = "/api/v1/invitations/{id}",
    summary = "Revoke an invitation",
    tag = "invitations",
    params(("id" = InvitationId, Path, description = "The invitation's id")),
    responses((status = 204, description = "The invitation is revoked"))
)]
#[tracing::instrument(skip_all, fields(invitation_id = %id))]
pub(crate) async fn revoke(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<InvitationId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::UsersWrite)?;
    state.store.revoke_invitation(ctx, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/v1/invitations/accept` (no token needed but the invitation's) → 201 with a token
/// pair, as a login answers, and the `Location` of the new user. The password policy applies
/// against the invited address.
#[utoipa::path(
    post,
    path = "/api/v1/invitations/accept",
    summary = "Accept an invitation",
    tag = "invitations",
    security(()),
    request_body = AcceptBody,
    responses(
        (status = 201, description = "The new user's session tokens",
            body = TokenResponse,
            headers(("Location" = String, description = "The new user's URL"))),
        (status = 404, description = "No pending invitation has this token", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = tracing::field::Empty))]
pub(crate) async fn accept(
    state: web::Data<AppState>,
    req: HttpRequest,
    request_id: RequestId,
    ApiJson(body): ApiJson<AcceptBody>,
) -> Result<HttpResponse, ApiError> {
    let token = InvitationToken::parse(&body.token).ok_or_else(no_invitation)?;
    // Looked up first (no bcrypt work for a bad token), and for the address the password must
    // not be.
    let invitation = state
        .store
        .find_pending_invitation(&token)
        .await
        .map_err(or_no_invitation)?;
    let member = body.new_member(&invitation.email)?;
    let password_hash = hash_password(&state, member.password).await?;
    let user = state
        .store
        .accept_invitation(
            &token,
            InvitationAcceptance {
                display_name: member.display_name,
                username: member.username,
                password_hash,
            },
            Some(request_id.as_str()),
        )
        .await
        .map_err(or_no_invitation)?;
    tracing::Span::current().record("user_id", tracing::field::display(user.id));
    let location = format!("/api/v1/users/{}", user.id);
    logged_in(
        &state,
        &user,
        client_info(&req, &state),
        &request_id,
        &location,
    )
    .await
}
