//! Revisions (migration 000052): every resource a client can change carries one, 1 when its row
//! is created and one more with every write of the row, in the statement that writes it. A
//! conditional change names the revision it expects; the comparison is in the `WHERE` of its
//! `UPDATE` or `DELETE`, inside its transaction, so that a change that lost a race writes
//! nothing.

use std::fmt::Display;

use orchestore_domain::Revision;
use orchestore_repo::{Ctx, RepoError, RepoResult};
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, IntoActiveModel,
    QueryFilter,
};
use uuid::Uuid;

use crate::error::{corrupt, db_err};
use crate::mutation::Audited;
use crate::scoped::Tenanted;

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
