//! `LearningRepo`: learning records, found by pattern and by context.

use orchestore_domain::{
    ContextFilter, ContextValue, LearningRecord, LearningRecordId, Metadata, NewLearningRecord,
    OrganizationId, Pattern, PatternQuery, Score,
};
use orchestore_repo::{
    Ctx, Cursor, LearningFilter, LearningRepo, LearningSort, Page, PageRequest, RepoResult,
};
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, QueryFilter, Set, Value};

use super::entity::learning_records;
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::mutation::{Verb, snapshot};
use crate::scoped::{Keyset, Lock, keyset_page, scoped};

fn to_record(row: learning_records::Model) -> RepoResult<LearningRecord> {
    let bad = |e: String| corrupt("learning_record", e);
    Ok(LearningRecord {
        id: LearningRecordId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        pattern: Pattern::parse(&row.pattern).map_err(|e| bad(e.to_string()))?,
        context: Metadata::parse("context", row.context).map_err(|e| bad(e.to_string()))?,
        outcome: row.outcome.parse().map_err(|e| bad(format!("{e}")))?,
        score: Score::from_millionths(row.score_millionths)
            .ok_or_else(|| bad(format!("score {} is out of range", row.score_millionths)))?,
        created_by: row.created_by,
        created_at: row.created_at,
    })
}

impl SeaStore {
    /// The pattern column as the index orders it: bytewise (`COLLATE "C"` on PostgreSQL, whose
    /// default collation follows the locale; SQLite compares bytes already).
    fn pattern_bytes(&self) -> SimpleExpr {
        let column = Expr::col((learning_records::Entity, learning_records::Column::Pattern));
        if self.is_postgres() {
            Expr::cust_with_expr(r#"$1 COLLATE "C""#, column)
        } else {
            column
        }
    }

    fn pattern_condition(&self, query: &PatternQuery) -> Condition {
        let pattern = self.pattern_bytes();
        match query {
            PatternQuery::Exact(exact) => Condition::all().add(pattern.eq(exact.as_str())),
            PatternQuery::Prefix(prefix) => {
                let from = Condition::all().add(pattern.clone().gte(prefix.as_str()));
                match prefix.upper_bound() {
                    Some(upper) => from.add(pattern.lt(upper)),
                    None => from,
                }
            }
        }
    }

    /// Containment of the filter's top-level keys: `@>` on PostgreSQL (the GIN index); on
    /// SQLite, for each key, an entry of `json_each` with that key and an equal value of the
    /// same JSON type — what `@>` means for a scalar under a top-level key.
    fn context_condition(&self, filter: &ContextFilter) -> Condition {
        if self.is_postgres() {
            return Condition::all().add(Expr::cust_with_values(
                "learning_records.context @> $1",
                [Value::from(filter.to_value())],
            ));
        }
        let mut all = Condition::all();
        for (key, value) in filter.entries() {
            const EACH: &str =
                "EXISTS (SELECT 1 FROM json_each(learning_records.context) AS e WHERE e.key = ?";
            let entry = match value {
                ContextValue::Text(text) => Expr::cust_with_values(
                    format!("{EACH} AND e.type = 'text' AND e.value = ?)"),
                    [Value::from(key.clone()), Value::from(text.clone())],
                ),
                ContextValue::Number(number) => Expr::cust_with_values(
                    format!("{EACH} AND e.type IN ('integer', 'real') AND e.value = ?)"),
                    [Value::from(key.clone()), Value::from(*number)],
                ),
                ContextValue::Bool(flag) => Expr::cust_with_values(
                    format!(
                        "{EACH} AND e.type = '{}')",
                        if *flag { "true" } else { "false" }
                    ),
                    [Value::from(key.clone())],
                ),
            };
            all = all.add(entry);
        }
        all
    }
}

#[async_trait::async_trait]
impl LearningRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org(), pattern = %new.pattern))]
    async fn create_learning_record(
        &self,
        ctx: &Ctx,
        new: NewLearningRecord,
    ) -> RepoResult<LearningRecord> {
        self.mutate(ctx, async |m| {
            let row = learning_records::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(LearningRecordId::new().as_uuid()),
                pattern: Set(new.pattern.as_str().to_owned()),
                context: Set(new.context.to_value()),
                outcome: Set(new.outcome.as_str().to_owned()),
                score_millionths: Set(new.score.millionths()),
                created_by: Set(ctx.actor().to_string()),
                created_at: Set(m.at()),
            }
            .insert(m.txn())
            .await
            .map_err(db_err)?;
            let record = to_record(row)?;
            m.audit::<learning_records::Entity>(Verb::Create, record.id, snapshot(&record))
                .await?;
            Ok(record)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), record = %id))]
    async fn get_learning_record(
        &self,
        ctx: &Ctx,
        id: LearningRecordId,
    ) -> RepoResult<LearningRecord> {
        self.find_scoped::<learning_records::Entity>(&self.db().await, ctx, id, Lock::None)
            .await
            .and_then(to_record)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_learning_records(
        &self,
        ctx: &Ctx,
        filter: LearningFilter,
        page: PageRequest<LearningSort>,
    ) -> RepoResult<Page<LearningRecord, LearningSort>> {
        let mut query = scoped::<learning_records::Entity>(ctx);
        if let Some(pattern) = &filter.pattern {
            query = query.filter(self.pattern_condition(pattern));
        }
        if let Some(context) = &filter.context {
            query = query.filter(self.context_condition(context));
        }
        if let Some(outcome) = filter.outcome {
            query = query.filter(learning_records::Column::Outcome.eq(outcome.as_str()));
        }
        let keyset = match page.sort() {
            LearningSort::CreatedAtDesc => Keyset::NewestFirst,
            LearningSort::CreatedAt => Keyset::OldestFirst,
            LearningSort::ScoreDesc => Keyset::IntDesc(learning_records::Column::ScoreMillionths),
        };
        let rows = keyset_page(query, &page, keyset)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let records = rows
            .into_iter()
            .map(to_record)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(records, &page, |record| {
            match page.sort() {
                LearningSort::ScoreDesc => {
                    Cursor::after_key(page.sort(), record.score.millionths(), record.id)
                }
                sort => Cursor::after(sort, record.id),
            }
        }))
    }
}
