use orchestore_domain::{BatchFault, DomainError, Revision};
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
    /// A conditional change expected the row at revision `expected`, and it is at `current`:
    /// someone else wrote it since the caller read it. Nothing was written.
    #[error("{entity} {id} is at revision {current}, not {expected}")]
    RevisionMismatch {
        entity: &'static str,
        id: String,
        expected: Revision,
        current: Revision,
    },
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// The task at `index` (counted from 0) of a batch was refused for `error`, and with it
    /// the whole batch: nothing was written. `error` names the field of that task.
    #[error("task {index} of the batch: {error}")]
    InBatch { index: usize, error: Box<RepoError> },
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

    /// The task at `index` of a batch was refused for `error`.
    pub fn in_batch(index: usize, error: RepoError) -> Self {
        Self::InBatch {
            index,
            error: Box::new(error),
        }
    }

    pub fn internal(cause: impl Into<Cause>) -> Self {
        Self::Internal(cause.into())
    }

    pub fn unavailable(cause: impl Into<Cause>) -> Self {
        Self::Unavailable(cause.into())
    }
}

/// A fault of one task of a batch is [`RepoError::InBatch`] on it; a fault of the batch as a
/// whole is [`RepoError::Invalid`].
impl From<BatchFault> for RepoError {
    fn from(fault: BatchFault) -> Self {
        match fault.index {
            Some(index) => Self::in_batch(index, Self::Invalid(fault.error)),
            None => Self::Invalid(fault.error),
        }
    }
}

pub type RepoResult<T> = Result<T, RepoError>;
