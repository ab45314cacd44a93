//! Revisions (migration 000052): every resource a client can change carries one, 1 when its row
//! is created and one more with every write of the row, in the statement that writes it. A
//! conditional change names the revision it expects; the comparison is in the `WHERE` of its
//! `UPDATE` or `DELETE`, inside its transaction, so that a change that lost a race writes
//! nothing. An organization's settings carry one too (migration 000053, [`replace_settings`]).

use std::fmt::Display;

use orchestore_domain::Revision;
use orchestore_repo::{Ctx, RepoError, RepoResult};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, SimpleExpr};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr,
    IntoActiveModel, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use crate::error::{corrupt, db_err};
use crate::mutation::Audited;
use crate::scoped::{Lock, Tenanted};

/// An entity whose rows carry a revision.
pub(crate) trait Revised: Audited {
    fn revision_column() -> Self::Column;

    /// `revision + 1`: what a statement that writes rows of the entity sets the column to.
    fn next_revision() -> SimpleExpr {
        Expr::col(Self::revision_column()).add(1)
    }
}

/// Declares entities as revised: their `revision` column is the one of migration 000052.
macro_rules! revised {
    ($($entity:path),* $(,)?) => {
        $(
            impl $crate::revision::Revised for $entity {
                fn revision_column() -> <Self as ::sea_orm::EntityTrait>::Column {
                    <Self as ::sea_orm::EntityTrait>::Column::Revision
                }
            }
        )*
    };
}
pub(crate) use revised;

/// The revision a stored row of `entity` carries.
pub(crate) fn to_revision(entity: &'static str, stored: i64) -> RepoResult<Revision> {
    Revision::parse(stored).map_err(|e| corrupt(entity, e))
}

/// The refusal of a change of `E` row `id` that expected revision `expected` of a row at
/// `current`.
fn mismatch<E: Audited>(id: impl Display, expected: Revision, current: i64) -> RepoError {
    match to_revision(E::NAME, current) {
        Ok(current) => RepoError::RevisionMismatch {
            entity: E::NAME,
            id: id.to_string(),
            expected,
            current,
        },
        Err(corrupt) => corrupt,
    }
}

/// Refuses a change of `E` row `id`, read at revision `current` under the transaction's lock,
/// when the caller expects another one: checked first, so that a stale change is refused
/// before anything else is checked, even when it would write nothing (an empty patch). The
/// statements that write compare again ([`update_revised`], [`delete_revised`]).
pub(crate) fn expect_revision<E: Audited>(
    id: impl Display,
    current: i64,
    expected: Option<Revision>,
) -> RepoResult<()> {
    match expected {
        Some(expected) if expected.get() != current => Err(mismatch::<E>(id, expected, current)),
        _ => Ok(()),
    }
}

/// Writes `change` to `E` row `id`, read at revision `read` under the transaction's lock, as
/// one `UPDATE` that also moves the row to the next revision, and, when the caller expects a
/// revision, only if the row is at it (else [`RepoError::RevisionMismatch`], nothing written).
/// Any other database error goes through `on_error`.
pub(crate) async fn update_revised<E, A>(
    db: &impl ConnectionTrait,
    id: impl Display,
    mut change: A,
    read: i64,
    expected: Option<Revision>,
    on_error: impl FnOnce(DbErr) -> RepoError,
) -> RepoResult<E::Model>
where
    E: Revised,
    A: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
    E::Model: IntoActiveModel<A>,
{
    change.set(E::revision_column(), (read + 1).into());
    let mut update = E::update(change).validate().map_err(db_err)?;
    if let Some(expected) = expected {
        update = update.filter(E::revision_column().eq(expected.get()));
    }
    match (update.exec(db).await, expected) {
        (Ok(row), _) => Ok(row),
        // The row is locked and exists: only its revision can have kept it out.
        (Err(DbErr::RecordNotUpdated), Some(expected)) => Err(mismatch::<E>(id, expected, read)),
        (Err(e), _) => Err(on_error(e)),
    }
}

/// Deletes `E` row `id` of the context's organization, read at revision `read` under the
/// transaction's lock, and, when the caller expects a revision, only if the row is at it (else
/// [`RepoError::RevisionMismatch`], nothing deleted).
pub(crate) async fn delete_revised<E: Tenanted + Revised>(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    id: impl Into<Uuid> + Display + Copy,
    read: i64,
    expected: Option<Revision>,
) -> RepoResult<()> {
    let mut delete = E::delete_many()
        .filter(E::organization_column().eq(ctx.org().as_uuid()))
        .filter(E::id_column().eq(id.into()));
    if let Some(expected) = expected {
        delete = delete.filter(E::revision_column().eq(expected.get()));
    }
    let result = delete.exec(db).await.map_err(db_err)?;
    match (result.rows_affected, expected) {
        (0, Some(expected)) => Err(mismatch::<E>(id, expected, read)),
        (0, None) => Err(RepoError::not_found(E::NAME, id)),
        _ => Ok(()),
    }
}

/// A table of one kind of an organization's settings (migration 000053): at most one row per
/// organization, keyed by it, none until the settings are first written. Settings without a
/// row are the defaults at [`Revision::FIRST`]; a row is at 2 or more.
pub(crate) trait SettingsTable: Revised {
    /// What a row holds.
    type Settings;

    fn organization_column() -> Self::Column;
    /// The settings `row` holds with its revision, or the defaults at [`Revision::FIRST`]
    /// without one.
    fn settings_of(
        row: Option<Self::Model>,
    ) -> RepoResult<orchestore_domain::Revised<Self::Settings>>;
}

/// The revision the organization's settings of table `E` are at.
async fn settings_revision<E: SettingsTable>(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
) -> RepoResult<Revision> {
    let stored: Option<i64> = E::find()
        .select_only()
        .column(E::revision_column())
        .filter(E::organization_column().eq(ctx.org().as_uuid()))
        .into_tuple()
        .one(db)
        .await
        .map_err(db_err)?;
    stored.map_or(Ok(Revision::FIRST), |stored| to_revision(E::NAME, stored))
}

/// The organization's settings of table `E`: its row's, or the defaults at
/// [`Revision::FIRST`]; the row locked on PostgreSQL when `lock` says so (SQLite's write
/// transaction already excludes every other writer).
pub(crate) async fn read_settings<E: SettingsTable>(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    lock: Lock,
) -> RepoResult<orchestore_domain::Revised<E::Settings>> {
    let mut select = E::find().filter(E::organization_column().eq(ctx.org().as_uuid()));
    if lock == Lock::ForUpdate && db.get_database_backend() == DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    E::settings_of(select.one(db).await.map_err(db_err)?)
}

/// Replaces the organization's settings of table `E` by `row` (every column but the revision
/// set), and returns what they were and the revision they are at now. What is read is what is
/// replaced, so the audit diff is against it: on PostgreSQL the row is locked as it is read
/// (SQLite's write transaction already excludes every other writer), and a write without
/// `expected` is made at the revision read. Only a first row inserted by another transaction
/// meanwhile, while there was none to lock, makes that write miss; it then reads again, the row
/// there to lock, and writes after it (once is enough: a settings row is never deleted).
pub(crate) async fn replace_settings<E, A>(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    row: A,
    expected: Option<Revision>,
) -> RepoResult<(E::Settings, Revision)>
where
    E: SettingsTable,
    A: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send + Clone,
{
    let mut retried = false;
    loop {
        let before = read_settings::<E>(db, ctx, Lock::ForUpdate).await?;
        let at = expected.unwrap_or(before.revision);
        match write_settings(db, ctx, row.clone(), at).await {
            Err(RepoError::RevisionMismatch { .. }) if expected.is_none() && !retried => {
                retried = true;
            }
            written => return written.map(|revision| (before.value, revision)),
        }
    }
}

/// Writes the organization's settings `row` (every column but the revision set) to table `E`
/// if they are at revision `expected`, and returns the revision they are at then: at
/// [`Revision::FIRST`] (the defaults, no row), an insert that a row already there keeps out;
/// at a later revision, an `UPDATE` of the row at it. Each is one statement, so that of two
/// writes expecting the same revision one loses ([`RepoError::RevisionMismatch`], nothing
/// written), with or without a row to lock beforehand.
async fn write_settings<E, A>(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    mut row: A,
    expected: Revision,
) -> RepoResult<Revision>
where
    E: SettingsTable,
    A: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
{
    let written = if expected == Revision::FIRST {
        row.set(E::revision_column(), (Revision::FIRST.get() + 1).into());
        E::insert(row)
            .on_conflict(
                OnConflict::column(E::organization_column())
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await
            .map_err(db_err)?
    } else {
        // The key is the filter's, not the change's (a distributed table's key is not
        // assigned).
        row.not_set(E::organization_column());
        E::update_many()
            .set(row)
            .col_expr(E::revision_column(), E::next_revision())
            .filter(E::organization_column().eq(ctx.org().as_uuid()))
            .filter(E::revision_column().eq(expected.get()))
            .exec(db)
            .await
            .map_err(db_err)?
            .rows_affected
    };
    if written == 0 {
        let current = settings_revision::<E>(db, ctx).await?;
        return Err(mismatch::<E>(ctx.org(), expected, current.get()));
    }
    // Written, so a row was at `expected`: a stored revision, which has a next.
    let next = expected
        .get()
        .checked_add(1)
        .ok_or_else(|| corrupt(E::NAME, format!("revision {expected} has no next")))?;
    to_revision(E::NAME, next)
}
