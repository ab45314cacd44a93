//! The `application/problem+json` document (RFC 9457) and the field errors a 422 lists.

use orchestore_domain::DomainError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One input at fault, as listed in a problem's `errors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error about element `prefix` of a list in the request (`tasks[3]`): its field
    /// becomes `prefix.field`, or `prefix` when it names none.
    pub fn within(self, prefix: &str) -> Self {
        let field = if self.field.is_empty() {
            prefix.to_owned()
        } else {
            format!("{prefix}.{}", self.field)
        };
        Self::new(field, self.message)
    }
}

impl From<DomainError> for FieldError {
    fn from(err: DomainError) -> Self {
        let message = match &err {
            DomainError::Invalid { reason, .. } => reason.clone(),
            _ => err.to_string(),
        };
        Self::new(err.field().unwrap_or_default(), message)
    }
}

/// The `application/problem+json` document (RFC 9457): the body of every refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// The kind of problem, in words.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// This occurrence, in words.
    pub detail: String,
    /// Each field at fault, for invalid input; else empty.
    #[serde(default)]
    pub errors: Vec<FieldError>,
}

/// Input whose fields do not hold: every field at fault, for a 422.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    /// The same errors about element `prefix` of a list in the request (`tasks[3]`).
    pub fn within(self, prefix: &str) -> Self {
        Self(self.0.into_iter().map(|e| e.within(prefix)).collect())
    }
}

impl From<DomainError> for Invalid {
    fn from(err: DomainError) -> Self {
        Self(vec![err.into()])
    }
}

/// Collects the field errors of one conversion from a request body into domain values, so
/// that a response lists every bad field, not only the first.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// The value when `result` is valid; otherwise records the error and gives `None`.
    pub fn check<T>(&mut self, result: Result<T, DomainError>) -> Option<T> {
        result.map_err(|err| self.0.push(err.into())).ok()
    }

    /// Records `error`.
    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Records the errors of element `prefix` of a list (`tasks[3]`), each field under it.
    pub fn extend_within(&mut self, prefix: &str, errors: FieldErrors) {
        self.0
            .extend(errors.0.into_iter().map(|error| error.within(prefix)));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every recorded error.
    pub fn into_error(self) -> Invalid {
        Invalid(self.0)
    }
}
