//! Idempotent requests (`idempotent_requests`): each key is taken by one request with a
//! single-statement insert that does nothing on conflict, so that of two requests racing with
//! one key exactly one runs; every later change of the row is a compare-and-set on what was
//! read, so that a takeover of an expired or abandoned key happens once.

mod entity;

use chrono::{DateTime, Utc};
use orchestore_domain::IdempotencyKey;
use orchestore_repo::{
    Ctx, IdempotencyRepo, IdempotencyWindow, IdempotentStart, RepoError, RepoResult,
    RequestFingerprint, StoredResponse,
};
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict, Query};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use self::entity::{ActiveModel, Column, Entity, Model};
use crate::SeaStore;
use crate::error::{corrupt, db_err};

const PENDING: &str = "pending";
const DONE: &str = "done";

/// How often a begin reads and retries when the row it read changed under it: each retry
/// follows another request's completed change, so two are only needed in a race with a purge.
const BEGIN_ATTEMPTS: usize = 4;

fn hex(fingerprint: &RequestFingerprint) -> String {
    fingerprint.iter().map(|b| format!("{b:02x}")).collect()
}

/// The caller's keys are its own: another user or agent of the organization sending the same
/// key does not see its answers.
fn caller(ctx: &Ctx) -> String {
    ctx.actor().to_string()
}

fn this_key(ctx: &Ctx, key: &IdempotencyKey) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(Column::OrganizationId.eq(ctx.org().as_uuid()))
        .add(Column::Caller.eq(caller(ctx)))
        .add(Column::Key.eq(key.as_str()))
}

fn replayed(row: Model) -> RepoResult<StoredResponse> {
    let status = row
        .response_status
        .and_then(|status| u16::try_from(status).ok())
        .ok_or_else(|| corrupt("idempotent request", "an answered request has no status"))?;
    Ok(StoredResponse {
        status,
        content_type: row.response_content_type,
        location: row.response_location,
        body: row.response_body.unwrap_or_default(),
    })
}

#[async_trait::async_trait]
impl IdempotencyRepo for SeaStore {
    async fn begin_idempotent_request(
        &self,
        ctx: &Ctx,
        key: &IdempotencyKey,
        fingerprint: &RequestFingerprint,
        now: DateTime<Utc>,
        window: IdempotencyWindow,
    ) -> RepoResult<IdempotentStart> {
        let fingerprint = hex(fingerprint);
        let db = self.db().await;
        for _ in 0..BEGIN_ATTEMPTS {
            let taken = Entity::insert(ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                caller: Set(caller(ctx)),
                key: Set(key.as_str().to_owned()),
                fingerprint: Set(fingerprint.clone()),
                state: Set(PENDING.to_owned()),
                response_status: Set(None),
                response_content_type: Set(None),
                response_location: Set(None),
                response_body: Set(None),
                created_at: Set(now),
                expires_at: Set(now + window.keep_for),
            })
            .on_conflict(
                OnConflict::columns([Column::OrganizationId, Column::Caller, Column::Key])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&db)
            .await
            .map_err(db_err)?;
            if taken == 1 {
                return Ok(IdempotentStart::Started);
            }
            let Some(row) = Entity::find()
                .filter(this_key(ctx, key))
                .one(&db)
                .await
                .map_err(db_err)?
            else {
                // Purged between the insert and the read: insert again.
                continue;
            };
            let same = row.fingerprint == fingerprint;
            let expired = row.expires_at <= now;
            let abandoned = row.state == PENDING && row.created_at <= now - window.pending_for;
            if !(expired || same && abandoned) {
                return Ok(match (same, row.state.as_str()) {
                    (false, _) => IdempotentStart::Mismatch,
                    (true, PENDING) => IdempotentStart::InProgress,
                    (true, _) => IdempotentStart::Replay(replayed(row)?),
                });
            }
            // Take the key over, if nobody changed the row since it was read.
            let took = Entity::update_many()
                .col_expr(Column::Fingerprint, Expr::value(fingerprint.clone()))
                .col_expr(Column::State, Expr::value(PENDING))
                .col_expr(Column::ResponseStatus, Expr::value(Option::<i16>::None))
                .col_expr(
                    Column::ResponseContentType,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(
                    Column::ResponseLocation,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(Column::ResponseBody, Expr::value(Option::<Vec<u8>>::None))
                .col_expr(Column::CreatedAt, Expr::value(now))
                .col_expr(Column::ExpiresAt, Expr::value(now + window.keep_for))
                .filter(this_key(ctx, key))
                .filter(Column::Fingerprint.eq(row.fingerprint))
                .filter(Column::State.eq(row.state))
                .filter(Column::CreatedAt.eq(row.created_at))
                .exec(&db)
                .await
                .map_err(db_err)?;
            if took.rows_affected == 1 {
                return Ok(IdempotentStart::Started);
            }
        }
        Err(RepoError::conflict(
            "idempotency_key",
            "the key kept changing while this request tried to take it; retry",
        ))
    }

    async fn finish_idempotent_request(
        &self,
        ctx: &Ctx,
        key: &IdempotencyKey,
        fingerprint: &RequestFingerprint,
        response: &StoredResponse,
    ) -> RepoResult<()> {
        let status = i16::try_from(response.status)
            .map_err(|_| RepoError::internal(format!("status {} out of range", response.status)))?;
        Entity::update_many()
            .col_expr(Column::State, Expr::value(DONE))
            .col_expr(Column::ResponseStatus, Expr::value(status))
            .col_expr(
                Column::ResponseContentType,
                Expr::value(response.content_type.clone()),
            )
            .col_expr(
                Column::ResponseLocation,
                Expr::value(response.location.clone()),
            )
            .col_expr(Column::ResponseBody, Expr::value(response.body.clone()))
            .filter(this_key(ctx, key))
            .filter(Column::Fingerprint.eq(hex(fingerprint)))
            .filter(Column::State.eq(PENDING))
            .exec(&self.db().await)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn abandon_idempotent_request(
        &self,
        ctx: &Ctx,
        key: &IdempotencyKey,
        fingerprint: &RequestFingerprint,
    ) -> RepoResult<()> {
        Entity::delete_many()
            .filter(this_key(ctx, key))
            .filter(Column::Fingerprint.eq(hex(fingerprint)))
            .filter(Column::State.eq(PENDING))
            .exec(&self.db().await)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn purge_expired_idempotent_requests(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> RepoResult<u64> {
        let expired = Query::select()
            .columns([Column::OrganizationId, Column::Caller, Column::Key])
            .from(Entity)
            .and_where(Column::ExpiresAt.lte(now))
            .order_by(Column::ExpiresAt, sea_orm::Order::Asc)
            .limit(u64::from(limit))
            .to_owned();
        let deleted = Entity::delete_many()
            .filter(
                Expr::tuple([
                    Expr::col(Column::OrganizationId),
                    Expr::col(Column::Caller),
                    Expr::col(Column::Key),
                ])
                .in_subquery(expired),
            )
            .exec(&self.db().await)
            .await
            .map_err(db_err)?;
        Ok(deleted.rows_affected)
    }
}
