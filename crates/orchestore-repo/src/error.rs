use orchestore_domain::DomainError;
use thiserror::Error;

/// The cause an [`RepoError::Internal`] or [`RepoError::Unavailable`] carries.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a repository call can fail with. A row of another organization is `NotFound`.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RepoError {
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    /// A unique value is taken (`field` names it), or the row is referred to by others and
    /// cannot go (`field` is `None`); `reason` says which, for the client.
    #[error("{entity}: {reason}")]
    Conflict {
        entity: &'static str,
        field: Option<&'static str>,
        reason: String,
    },
    /// The input refers to a row that does not exist in this organization: a missing or
    /// foreign parent. `field` names the input.
    #[error("{field}: {entity} {id} does not exist")]
    Reference {
        field: &'static str,
        entity: &'static str,
        id: String,
    },
    /// A lease token that is no longer the row's: another worker owns it now, or it ended.
    #[error("{entity} {id}: {reason}")]
    Stale {
        entity: &'static str,
        id: String,
        reason: String,
    },
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// The database cannot be reached or timed out; worth retrying.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] Cause),
    /// Anything else: a bug or a corrupt row. The message is for logs, not for clients.
    #[error("internal error: {0}")]
    Internal(#[source] Cause),
}

impl RepoError {
    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        Self::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    /// A unique value of `field` is taken.
    pub fn taken(entity: &'static str, field: &'static str, reason: impl Into<String>) -> Self {
        Self::Conflict {
            entity,
            field: Some(field),
            reason: reason.into(),
        }
    }

    /// The row cannot change or go as asked, for `reason`.
    pub fn conflict(entity: &'static str, reason: impl Into<String>) -> Self {
        Self::Conflict {
            entity,
            field: None,
            reason: reason.into(),
        }
    }

    /// Input `field` names `entity` `id`, which this organization does not have.
    pub fn reference(field: &'static str, entity: &'static str, id: impl ToString) -> Self {
        Self::Reference {
            field,
            entity,
            id: id.to_string(),
        }
    }

    pub fn internal(cause: impl Into<Cause>) -> Self {
        Self::Internal(cause.into())
    }

    pub fn unavailable(cause: impl Into<Cause>) -> Self {
        Self::Unavailable(cause.into())
    }
}

pub type RepoResult<T> = Result<T, RepoError>;
