//! `/api/v1/messages`.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use orchestore_domain::{
    DomainError, Message, MessageContent, MessageId, MessageIds, Metadata, NewMessage, Participant,
    ParticipantKind, Permission, TaskId, ThreadId,
};
use orchestore_repo::{MarkRead, MessageFilter, MessageSort, Page, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

use crate::auth::{Authenticated, Principal};
use crate::error::{ApiError, FieldErrors, Problem};
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

/// One end of a message: `{"kind": "agent" | "user", "id": "…"}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ParticipantBody {
    #[schema(value_type = ParticipantKind)]
    kind: String,
    id: Uuid,
}

impl ParticipantBody {
    /// The participant; a bad kind is named `kind_field`.
    pub(crate) fn parse(self, kind_field: &'static str) -> Result<Participant, DomainError> {
        let kind = self.kind.parse::<ParticipantKind>().map_err(|_| {
            DomainError::invalid(
                kind_field,
                format!("{:?} is not one of agent, user", self.kind),
            )
        })?;
        Ok(Participant::from_parts(kind, self.id))
    }
}

/// A participant given in a query string as `<prefix>_kind` and `<prefix>_id`, both or
/// neither.
pub(crate) fn participant_param(
    kind_field: &'static str,
    id_field: &'static str,
    kind: Option<String>,
    id: Option<Uuid>,
) -> Result<Option<Participant>, DomainError> {
    match (kind, id) {
        (None, None) => Ok(None),
        (Some(kind), Some(id)) => ParticipantBody { kind, id }.parse(kind_field).map(Some),
        (Some(_), None) => Err(DomainError::invalid(
            id_field,
            format!("must be given with {kind_field}"),
        )),
        (None, Some(_)) => Err(DomainError::invalid(
            kind_field,
            format!("must be given with {id_field}"),
        )),
    }
}

/// A user token sends as its user or as an agent of the organization; an agent's API key as
/// its agent only.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SendMessageBody {
    /// The caller when left out.
    sender: Option<ParticipantBody>,
    recipient: ParticipantBody,
    content: String,
    /// The task the message is about.
    task_id: Option<TaskId>,
    /// The conversation the message belongs to.
    thread_id: Option<ThreadId>,
    metadata: Option<serde_json::Value>,
}

impl SendMessageBody {
    fn into_new_message(self, caller: Principal) -> Result<NewMessage, ApiError> {
        let mut errors = FieldErrors::default();
        let own = match caller {
            Principal::User(user) => Participant::User(user),
            Principal::Agent(agent) => Participant::Agent(agent),
        };
        let sender = errors.check(self.sender.map_or(Ok(own), |s| s.parse("sender.kind")));
        let recipient = errors.check(self.recipient.parse("recipient.kind"));
        let content = errors.check(MessageContent::parse(&self.content));
        let metadata = errors.check(
            self.metadata
                .map_or(Ok(Metadata::default()), |m| Metadata::parse("metadata", m)),
        );
        let (Some(sender), Some(recipient), Some(content), Some(metadata)) =
            (sender, recipient, content, metadata)
        else {
            return Err(errors.into_error().into());
        };
        // A user token speaks for its user and for the organization's agents, never for
        // another user; an agent's key speaks for its agent only.
        match (caller, sender) {
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
        Ok(NewMessage::new(sender, recipient, content)?
            .with_task(self.task_id)
            .with_thread(self.thread_id)
            .with_metadata(metadata))
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListMessagesQuery {
    thread_id: Option<ThreadId>,
    task_id: Option<TaskId>,
    /// Messages this participant sent or received (with `participant_id`).
    #[param(value_type = Option<ParticipantKind>)]
    participant_kind: Option<String>,
    /// With `participant_kind`.
    participant_id: Option<Uuid>,
    /// Messages to this participant (with `recipient_id`).
    #[param(value_type = Option<ParticipantKind>)]
    recipient_kind: Option<String>,
    /// With `recipient_kind`.
    recipient_id: Option<Uuid>,
    /// `true`: only messages not read yet.
    unread: Option<bool>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u64>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
    #[param(value_type = Option<MessageSort>)]
    sort: Option<String>,
}

impl ListMessagesQuery {
    fn into_filter_and_page(self) -> Result<(MessageFilter, PageRequest<MessageSort>), ApiError> {
        let mut errors = FieldErrors::default();
        let participant = errors.check(participant_param(
            "participant_kind",
            "participant_id",
            self.participant_kind,
            self.participant_id,
        ));
        let recipient = errors.check(participant_param(
            "recipient_kind",
            "recipient_id",
            self.recipient_kind,
            self.recipient_id,
        ));
        let page = super::page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(participant), Some(recipient), Some(page)) = (participant, recipient, page)
        else {
            return Err(errors.into_error().into());
        };
        Ok((
            MessageFilter {
                thread_id: self.thread_id,
                task_id: self.task_id,
                participant,
                recipient,
                unread_only: self.unread.unwrap_or(false),
            },
            page,
        ))
    }
}

/// Either `{ids}` or `{recipient, thread_id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MarkReadBody {
    /// These messages.
    ids: Option<Vec<MessageId>>,
    /// The messages of `thread_id` to this participant.
    recipient: Option<ParticipantBody>,
    thread_id: Option<ThreadId>,
}

impl MarkReadBody {
    fn into_mark_read(self) -> Result<MarkRead, ApiError> {
        let mut errors = FieldErrors::default();
        let which = match (self.ids, self.recipient, self.thread_id) {
            (Some(ids), None, None) => errors.check(MessageIds::parse(ids).map(MarkRead::Messages)),
            (None, Some(recipient), Some(thread_id)) => errors.check(
                recipient
                    .parse("recipient.kind")
                    .map(|recipient| MarkRead::Thread {
                        recipient,
                        thread_id,
                    }),
            ),
            (None, Some(_), None) => errors.check(Err(DomainError::invalid(
                "thread_id",
                "must be given with recipient",
            ))),
            (None, None, Some(_)) => errors.check(Err(DomainError::invalid(
                "recipient",
                "must be given with thread_id",
            ))),
            (None, None, None) | (Some(_), _, _) => errors.check(Err(DomainError::invalid(
                "ids",
                "give either ids, or recipient and thread_id",
            ))),
        };
        which.ok_or_else(|| errors.into_error().into())
    }
}

/// The recipient, both or neither; the caller when left out.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct UnreadCountQuery {
    #[param(value_type = Option<ParticipantKind>)]
    recipient_kind: Option<String>,
    recipient_id: Option<Uuid>,
}

/// How many messages a call marked read.
#[derive(Debug, Serialize, ToSchema)]
struct Marked {
    /// Those not read before; a message read already keeps its first `read_at`.
    marked: u64,
}

/// How many messages to a participant are unread.
#[derive(Debug, Serialize, ToSchema)]
struct UnreadCount {
    recipient: Participant,
    unread: u64,
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
    let new = body.into_new_message(auth.principal())?;
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
    let recipient = participant_param(
        "recipient_kind",
        "recipient_id",
        query.recipient_kind,
        query.recipient_id,
    )?
    .unwrap_or(match auth.principal() {
        Principal::User(user) => Participant::User(user),
        Principal::Agent(agent) => Participant::Agent(agent),
    });
    let unread = state.store.unread_count(ctx, recipient).await?;
    Ok(HttpResponse::Ok().json(UnreadCount { recipient, unread }))
}
