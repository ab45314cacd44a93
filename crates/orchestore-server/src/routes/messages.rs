//! `/api/v1/messages`.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use orchestore_api::messages::{
    ListMessagesQuery, MarkReadBody, Marked, SendMessageBody, UnreadCount, UnreadCountQuery,
};
use orchestore_domain::{Message, MessageId, MessageIds, Participant, Permission};
use orchestore_repo::{MarkRead, MessageSort, Page};
use utoipa::OpenApi;

use crate::auth::{Authenticated, Principal};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(mark_read, unread_count, send, list, get, read_one))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    // The fixed paths first: `/messages/{id}` would otherwise take them.
    cfg.service(super::resource("/messages/read", "POST").route(web::post().to(mark_read)))
        .service(
            super::resource("/messages/unread-count", "GET").route(web::get().to(unread_count)),
        )
        .service(
            super::resource("/messages", "GET, POST")
                .route(web::get().to(list))
                .route(web::post().to(send)),
        )
        .service(super::resource("/messages/{id}", "GET").route(web::get().to(get)))
        .service(super::resource("/messages/{id}/read", "POST").route(web::post().to(read_one)));
}

/// `POST /api/v1/messages` → 201 with `Location`.
#[utoipa::path(
    post,
    path = "/api/v1/messages",
    summary = "Send a message",
    tag = "messages",
    request_body = SendMessageBody,
    responses((status = 201, description = "The message, sent", body = Message,
        headers(("Location" = String, description = "The message's URL"))))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn send(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<SendMessageBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::MessagesWrite)?;
    let caller = auth.principal();
    let new = body.into_new_message(as_participant(caller))?;
    // A user token speaks for its user and for the organization's agents, never for another
    // user; an agent's key speaks for its agent only.
    match (caller, new.sender()) {
        (Principal::User(user), Participant::User(as_user)) if as_user != user => {
            return Err(ApiError::NotAllowed(
                "a user may send messages only as itself or as an agent of its organization"
                    .to_owned(),
            ));
        }
        (Principal::Agent(agent), sender) if sender != Participant::Agent(agent) => {
            return Err(ApiError::NotAllowed(
                "an agent's API key sends messages as its agent only".to_owned(),
            ));
        }
        _ => {}
    }
    let message = state.store.send_message(ctx, new).await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/messages/{}", message.id)))
        .json(message))
}

/// `GET /api/v1/messages?thread_id=&task_id=&participant_kind=&participant_id=&recipient_kind=
/// &recipient_id=&unread=&limit=&cursor=&sort=`.
#[utoipa::path(
    get,
    path = "/api/v1/messages",
    summary = "List messages",
    tag = "messages",
    params(ListMessagesQuery),
    responses((status = 200, description = "A page of messages",
        body = Page<Message, MessageSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListMessagesQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::MessagesRead)?;
    let (filter, page) = query.into_filter_and_page()?;
    Ok(HttpResponse::Ok().json(state.store.list_messages(ctx, filter, page).await?))
}

/// `GET /api/v1/messages/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/messages/{id}",
    summary = "Get a message",
    tag = "messages",
    params(("id" = MessageId, Path, description = "The message's id")),
    responses((status = 200, description = "The message", body = Message))
)]
#[tracing::instrument(skip_all, fields(message_id = %id))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<MessageId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::MessagesRead)?;
    Ok(HttpResponse::Ok().json(state.store.get_message(ctx, id.into_inner()).await?))
}

/// `POST /api/v1/messages/{id}/read` → the message, read (at its first `read_at`).
#[utoipa::path(
    post,
    path = "/api/v1/messages/{id}/read",
    summary = "Mark a message read",
    tag = "messages",
    params(("id" = MessageId, Path, description = "The message's id")),
    responses((status = 200, description = "The message, read", body = Message))
)]
#[tracing::instrument(skip_all, fields(message_id = %id))]
pub(crate) async fn read_one(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<MessageId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::MessagesWrite)?;
    let id = id.into_inner();
    state
        .store
        .mark_read(ctx, MarkRead::Messages(MessageIds::one(id)))
        .await?;
    Ok(HttpResponse::Ok().json(state.store.get_message(ctx, id).await?))
}

/// `POST /api/v1/messages/read` with `{ids}` or `{recipient, thread_id}` → `{"marked": n}`.
/// An id that names no message of the organization is a 404, and nothing is marked.
#[utoipa::path(
    post,
    path = "/api/v1/messages/read",
    summary = "Mark messages read",
    tag = "messages",
    request_body = MarkReadBody,
    responses(
        (status = 200, description = "How many messages were marked", body = Marked),
        (status = 404, description = "An id names no message of the organization",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn mark_read(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<MarkReadBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::MessagesWrite)?;
    let marked = state.store.mark_read(ctx, body.into_mark_read()?).await?;
    Ok(HttpResponse::Ok().json(Marked { marked }))
}

/// `GET /api/v1/messages/unread-count?recipient_kind=&recipient_id=` (the caller when left
/// out) → `{"recipient": {kind, id}, "unread": n}`.
#[utoipa::path(
    get,
    path = "/api/v1/messages/unread-count",
    summary = "Count a participant's unread messages",
    tag = "messages",
    params(UnreadCountQuery),
    responses((status = 200, description = "The recipient and its unread count",
        body = UnreadCount))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn unread_count(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<UnreadCountQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::MessagesRead)?;
    let recipient = query
        .into_recipient()?
        .unwrap_or_else(|| as_participant(auth.principal()));
    let unread = state.store.unread_count(ctx, recipient).await?;
    Ok(HttpResponse::Ok().json(UnreadCount { recipient, unread }))
}

/// The caller as one end of a message.
fn as_participant(caller: Principal) -> Participant {
    match caller {
        Principal::User(user) => Participant::User(user),
        Principal::Agent(agent) => Participant::Agent(agent),
    }
}
