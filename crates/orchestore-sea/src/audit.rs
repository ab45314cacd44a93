//! Audit rows, written by each mutation inside its own transaction.

use std::fmt::Display;

use chrono::{DateTime, Utc};
use orchestore_repo::Ctx;
use orchestore_repo::RepoResult;
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use serde::Serialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::entities::audit_logs;

pub(crate) async fn record(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    action: &str,
    entity: &str,
    entity_id: impl Display,
    changes: Value,
    at: DateTime<Utc>,
) -> RepoResult<()> {
    let row = audit_logs::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(ctx.org().as_uuid()),
        actor: Set(ctx.actor().to_string()),
        action: Set(action.to_owned()),
        entity: Set(entity.to_owned()),
        entity_id: Set(entity_id.to_string()),
        changes: Set(changes),
        request_id: Set(ctx.request_id().map(str::to_owned)),
        created_at: Set(at),
    };
    audit_logs::Entity::insert(row)
        .exec_without_returning(db)
        .await
        .map(|_| ())
        .map_err(crate::error::db_err)
}

/// The fields that differ between two serializations of an entity, as
/// `{"field": {"from": old, "to": new}}`; `updated_at` is left out.
pub(crate) fn diff(before: &impl Serialize, after: &impl Serialize) -> Value {
    let (Value::Object(before), Value::Object(after)) = (snapshot(before), snapshot(after)) else {
        return Value::Object(Map::new());
    };
    let changed: Map<String, Value> = after
        .into_iter()
        .filter(|(key, new)| key != "updated_at" && before.get(key) != Some(new))
        .map(|(key, new)| {
            let old = before.get(&key).cloned().unwrap_or(Value::Null);
            (key, json!({ "from": old, "to": new }))
        })
        .collect();
    Value::Object(changed)
}

/// A snapshot of an entity for a `create` or `delete` row.
pub(crate) fn snapshot(entity: &impl Serialize) -> Value {
    serde_json::to_value(entity).unwrap_or(Value::Null)
}
