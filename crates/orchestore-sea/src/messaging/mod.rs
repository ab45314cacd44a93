//! Messages between agents and users.

pub(crate) mod entity;
mod messages;

use orchestore_domain::{Participant, TaskId};
use orchestore_repo::{Ctx, RepoResult};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, PaginatorTrait, QueryFilter};

use crate::error::db_err;
use crate::scoped::scoped;
use entity::messages as message_rows;

crate::scoped::entities! {
    tenanted: message_rows::Entity => "message";
    audited:
}

/// Messages `participant` sent.
pub(crate) fn sent_by(participant: Participant) -> Condition {
    let column = match participant {
        Participant::Agent(_) => message_rows::Column::SenderAgentId,
        Participant::User(_) => message_rows::Column::SenderUserId,
    };
    Condition::all().add(column.eq(participant.id()))
}

/// Messages to `participant`.
pub(crate) fn sent_to(participant: Participant) -> Condition {
    let column = match participant {
        Participant::Agent(_) => message_rows::Column::RecipientAgentId,
        Participant::User(_) => message_rows::Column::RecipientUserId,
    };
    Condition::all().add(column.eq(participant.id()))
}

/// Messages `participant` sent or received.
pub(crate) fn involving(participant: Participant) -> Condition {
    Condition::any()
        .add(sent_by(participant))
        .add(sent_to(participant))
}

/// Messages about task `task`.
pub(crate) fn about_task(task: TaskId) -> Condition {
    Condition::all().add(message_rows::Column::TaskId.eq(task.as_uuid()))
}

/// How many messages of the organization match `condition`. A deletion counts those its
/// cascade takes with it, for its audit row.
pub(crate) async fn count_messages(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    condition: Condition,
) -> RepoResult<u64> {
    scoped::<message_rows::Entity>(ctx)
        .filter(condition)
        .count(db)
        .await
        .map_err(db_err)
}
