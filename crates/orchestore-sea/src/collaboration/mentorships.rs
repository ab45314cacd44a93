//! Mentorships: status moves that the database checks, sessions on active ones only, and
//! each mentor's record computed in SQL.

use orchestore_domain::{
    Description, DomainError, MentorStats, Mentorship, MentorshipCounts, MentorshipGoals,
    MentorshipId, MentorshipSession, MentorshipSessionId, MentorshipStatus, NewMentorship,
    NewMentorshipSession, OrganizationId, Participant,
};
use orchestore_repo::{
    Ctx, Cursor, MentorshipFilter, MentorshipRepo, MentorshipSessionSort, MentorshipSort, Page,
    PageRequest, RepoError, RepoResult,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
    Statement,
};
use serde_json::json;

use super::entity::{mentorship_sessions as sessions, mentorships};
use super::{
    find_shared, holder_columns, holder_entity, holder_exists, holder_of, require_holder,
    sql_backend,
};
use crate::SeaStore;
use crate::error::{corrupt, db_err, is_unique_violation};
use crate::mutation::{Audited, Verb, snapshot};
use crate::scoped::{Keyset, Lock, keyset_page, scoped, string_array};

fn to_mentorship(row: mentorships::Model) -> RepoResult<Mentorship> {
    let entity = mentorships::Entity::NAME;
    let bad = |e: DomainError| corrupt(entity, e);
    let goals = string_array(&row.goals).ok_or_else(|| corrupt(entity, "goals are not a list"))?;
    Ok(Mentorship {
        id: MentorshipId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        mentor: holder_of(entity, row.mentor_agent_id, row.mentor_user_id)?,
        mentee: holder_of(entity, row.mentee_agent_id, row.mentee_user_id)?,
        goals: MentorshipGoals::parse(&goals).map_err(bad)?,
        status: row.status.parse().map_err(bad)?,
        created_at: row.created_at,
        started_at: row.started_at,
        ended_at: row.ended_at,
    })
}

fn to_session(row: sessions::Model) -> RepoResult<MentorshipSession> {
    let entity = sessions::Entity::NAME;
    Ok(MentorshipSession {
        id: MentorshipSessionId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        mentorship_id: MentorshipId::from_uuid(row.mentorship_id),
        held_at: row.held_at,
        duration_minutes: u16::try_from(row.duration_minutes).map_err(|e| corrupt(entity, e))?,
        notes: Description::parse("notes", &row.notes).map_err(|e| corrupt(entity, e))?,
        progress: u8::try_from(row.progress).map_err(|e| corrupt(entity, e))?,
        recorded_by: row.recorded_by,
        recorded_at: row.recorded_at,
    })
}

/// A mentor's sessions and minutes, and over its mentees the latest session's progress of each
/// (by `held_at`, then id), summed and counted (`$1` organization, `$2` mentor).
const MENTOR_SESSIONS: &str = "SELECT COUNT(*) AS sessions, \
     COALESCE(SUM(duration_minutes), 0) AS minutes, \
     COALESCE(SUM(CASE WHEN latest = 1 THEN 1 ELSE 0 END), 0) AS mentees, \
     COALESCE(SUM(CASE WHEN latest = 1 THEN progress ELSE 0 END), 0) AS progress \
     FROM (SELECT s.duration_minutes, s.progress, ROW_NUMBER() OVER ( \
             PARTITION BY m.mentee_id ORDER BY s.held_at DESC, s.id DESC) AS latest \
           FROM mentorships m JOIN mentorship_sessions s \
             ON s.organization_id = m.organization_id AND s.mentorship_id = m.id \
           WHERE m.organization_id = $1 AND m.mentor_id = $2) AS held";

#[async_trait::async_trait]
impl MentorshipRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn create_mentorship(&self, ctx: &Ctx, new: NewMentorship) -> RepoResult<Mentorship> {
        self.mutate(ctx, async |m| {
            require_holder(m.txn(), ctx, "mentor", new.mentor()).await?;
            require_holder(m.txn(), ctx, "mentee", new.mentee()).await?;
            let (mentor_agent_id, mentor_user_id) = holder_columns(new.mentor());
            let (mentee_agent_id, mentee_user_id) = holder_columns(new.mentee());
            let row = mentorships::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(MentorshipId::new().as_uuid()),
                mentor_id: Set(new.mentor().id()),
                mentor_agent_id: Set(mentor_agent_id),
                mentor_user_id: Set(mentor_user_id),
                mentee_id: Set(new.mentee().id()),
                mentee_agent_id: Set(mentee_agent_id),
                mentee_user_id: Set(mentee_user_id),
                goals: Set(snapshot(new.goals())),
                status: Set(MentorshipStatus::Proposed.as_str().to_owned()),
                created_at: Set(m.at()),
                started_at: Set(None),
                ended_at: Set(None),
            }
            .insert(m.txn())
            .await
            .map_err(db_err)?;
            let created = to_mentorship(row)?;
            m.audit::<mentorships::Entity>(Verb::Create, created.id, snapshot(&created))
                .await?;
            Ok(created)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), mentorship = %id))]
    async fn get_mentorship(&self, ctx: &Ctx, id: MentorshipId) -> RepoResult<Mentorship> {
        self.find_scoped::<mentorships::Entity>(&self.db().await, ctx, id, Lock::None)
            .await
            .and_then(to_mentorship)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_mentorships(
        &self,
        ctx: &Ctx,
        filter: MentorshipFilter,
        page: PageRequest<MentorshipSort>,
    ) -> RepoResult<Page<Mentorship, MentorshipSort>> {
        let mut query = scoped::<mentorships::Entity>(ctx);
        if let Some(mentor) = filter.mentor {
            query = query.filter(mentorships::Column::MentorId.eq(mentor.id()));
        }
        if let Some(mentee) = filter.mentee {
            query = query.filter(mentorships::Column::MenteeId.eq(mentee.id()));
        }
        if let Some(status) = filter.status {
            query = query.filter(mentorships::Column::Status.eq(status.as_str()));
        }
        // Ids are UUIDv7 taken when the mentorship is proposed: id order is creation order.
        let keyset = match page.sort() {
            MentorshipSort::CreatedAt => Keyset::OldestFirst,
            MentorshipSort::CreatedAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(query, &page, keyset)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let items = rows
            .into_iter()
            .map(to_mentorship)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(items, &page, |m: &Mentorship| {
            Cursor::after(page.sort(), m.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), mentorship = %id, to = %to))]
    async fn set_mentorship_status(
        &self,
        ctx: &Ctx,
        id: MentorshipId,
        to: MentorshipStatus,
    ) -> RepoResult<Mentorship> {
        self.mutate(ctx, async |m| {
            let row = self
                .find_scoped::<mentorships::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            let from: MentorshipStatus = row
                .status
                .parse()
                .map_err(|e| corrupt(mentorships::Entity::NAME, e))?;
            if !from.can_become(to) {
                return Err(RepoError::conflict(
                    mentorships::Entity::NAME,
                    format!("a mentorship that is {from} cannot become {to}"),
                ));
            }
            // Conditional on the status read, as well as locked: a move never lands on a
            // status it was not checked against.
            let mut update = mentorships::Entity::update_many()
                .col_expr(mentorships::Column::Status, Expr::value(to.as_str()))
                .filter(mentorships::Column::OrganizationId.eq(ctx.org().as_uuid()))
                .filter(mentorships::Column::Id.eq(id.as_uuid()))
                .filter(mentorships::Column::Status.eq(from.as_str()));
            update = match to {
                MentorshipStatus::Active => {
                    update.col_expr(mentorships::Column::StartedAt, Expr::value(m.at()))
                }
                _ if to.is_final() => {
                    update.col_expr(mentorships::Column::EndedAt, Expr::value(m.at()))
                }
                _ => update,
            };
            let moved = match update.exec(m.txn()).await {
                // The unique index of the active mentorships.
                Err(err) if is_unique_violation(&err) => {
                    return Err(RepoError::taken(
                        mentorships::Entity::NAME,
                        "status",
                        "the mentor and the mentee have an active mentorship already",
                    ));
                }
                other => other.map_err(db_err)?,
            };
            if moved.rows_affected != 1 {
                return Err(RepoError::conflict(
                    mentorships::Entity::NAME,
                    "the mentorship changed meanwhile",
                ));
            }
            let after = to_mentorship(
                self.find_scoped::<mentorships::Entity>(m.txn(), ctx, id, Lock::None)
                    .await?,
            )?;
            m.audit::<mentorships::Entity>(
                Verb::Status(to.as_str()),
                id,
                json!({"status": {"from": from, "to": to}, "at": m.at()}),
            )
            .await?;
            Ok(after)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), mentorship = %id))]
    async fn record_mentorship_session(
        &self,
        ctx: &Ctx,
        id: MentorshipId,
        new: NewMentorshipSession,
    ) -> RepoResult<MentorshipSession> {
        self.mutate(ctx, async |m| {
            // Share-locked: sessions go on together, and a completion waits for them.
            let row = find_shared::<mentorships::Entity>(self, m.txn(), ctx, id).await?;
            if row.status != MentorshipStatus::Active.as_str() {
                return Err(RepoError::conflict(
                    mentorships::Entity::NAME,
                    format!(
                        "the mentorship is {}: sessions are recorded only while it is active",
                        row.status
                    ),
                ));
            }
            let session = sessions::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(MentorshipSessionId::new().as_uuid()),
                mentorship_id: Set(id.as_uuid()),
                held_at: Set(new.held_at),
                duration_minutes: Set(i32::from(new.duration.get())),
                notes: Set(new.notes.as_str().to_owned()),
                progress: Set(i32::from(new.progress.get())),
                recorded_by: Set(ctx.actor().to_string()),
                recorded_at: Set(m.at()),
            }
            .insert(m.txn())
            .await
            .map_err(db_err)?;
            let session = to_session(session)?;
            m.audit::<sessions::Entity>(Verb::Create, session.id, snapshot(&session))
                .await?;
            Ok(session)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), mentorship = %id))]
    async fn list_mentorship_sessions(
        &self,
        ctx: &Ctx,
        id: MentorshipId,
        page: PageRequest<MentorshipSessionSort>,
    ) -> RepoResult<Page<MentorshipSession, MentorshipSessionSort>> {
        let db = self.db().await;
        self.find_scoped::<mentorships::Entity>(&db, ctx, id, Lock::None)
            .await?;
        let query =
            scoped::<sessions::Entity>(ctx).filter(sessions::Column::MentorshipId.eq(id.as_uuid()));
        let keyset = match page.sort() {
            MentorshipSessionSort::RecordedAt => Keyset::OldestFirst,
            MentorshipSessionSort::RecordedAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(query, &page, keyset)?
            .all(&db)
            .await
            .map_err(db_err)?;
        let items = rows
            .into_iter()
            .map(to_session)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(items, &page, |s: &MentorshipSession| {
            Cursor::after(page.sort(), s.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), mentor = %mentor))]
    async fn mentor_stats(&self, ctx: &Ctx, mentor: Participant) -> RepoResult<MentorStats> {
        let db = self.db().await;
        if !holder_exists(&db, ctx, mentor).await? {
            return Err(RepoError::not_found(holder_entity(mentor), mentor.id()));
        }
        let by_status: Vec<(String, i64)> = scoped::<mentorships::Entity>(ctx)
            .filter(mentorships::Column::MentorId.eq(mentor.id()))
            .select_only()
            .column(mentorships::Column::Status)
            .column_as(Expr::cust("COUNT(*)"), "count")
            .group_by(mentorships::Column::Status)
            .into_tuple()
            .all(&db)
            .await
            .map_err(db_err)?;
        let mut mentorships = MentorshipCounts::default();
        for (status, count) in by_status {
            let status: MentorshipStatus = status
                .parse()
                .map_err(|e| corrupt(mentorships::Entity::NAME, e))?;
            mentorships.add(status, count);
        }
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                sql_backend(self),
                MENTOR_SESSIONS,
                [ctx.org().as_uuid().into(), mentor.id().into()],
            ))
            .await
            .map_err(db_err)?
            .ok_or_else(|| RepoError::internal("the mentor's sessions query returned no row"))?;
        let number = |column: &str| row.try_get::<i64>("", column).map_err(db_err);
        let mentees = number("mentees")?;
        let progress = number("progress")?;
        Ok(MentorStats {
            mentor,
            mentorships,
            sessions: number("sessions")?,
            total_minutes: number("minutes")?,
            mentees_with_sessions: mentees,
            mean_latest_progress: (mentees > 0)
                .then(|| (progress as f64 / mentees as f64 * 100.0).round() / 100.0),
        })
    }
}
