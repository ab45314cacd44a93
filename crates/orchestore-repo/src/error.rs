use orchestore_domain::DomainError;
use thiserror::Error;

/// What a repository call can fail with. A row of another organization is `NotFound`.
#[derive(Debug, Error)]
pub enum RepoError {
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    /// A unique value is taken, or the row changed under the caller.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// The database cannot be reached or timed out; worth retrying.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or a corrupt row. The message is for logs, not for clients.
    #[error("internal error: {0}")]
    Internal(String),
}

impl RepoError {
    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        Self::NotFound {
            entity,
            id: id.to_string(),
        }
    }
}

pub type RepoResult<T> = Result<T, RepoError>;
