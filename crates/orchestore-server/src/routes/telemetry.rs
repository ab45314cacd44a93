//! What the telemetry routes share: a body of one record or of a batch, and the errors of a
//! refused batch.

use orchestore_domain::Records;
use orchestore_repo::RepoError;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldErrors, deserialize_error};

/// A body of a batch of records: `{"<key>": [...]}`.
pub(super) trait BatchOf<T>: DeserializeOwned {
    /// The name of the list in the body, e.g. `samples`.
    const KEY: &'static str;
    fn items(self) -> Vec<T>;
}

/// What a `POST` that takes one record or a batch was sent.
pub(super) enum Sent<T> {
    One(T),
    Batch(Vec<T>),
}

/// A body holding one record (`T`), or a batch (`B`, an object with the list under its key):
/// the body's shape decides, and a field of the wrong type names its path (`samples[3].value`).
pub(super) fn one_or_batch<T: DeserializeOwned, B: BatchOf<T>>(
    body: serde_json::Value,
) -> Result<Sent<T>, ApiError> {
    if body
        .as_object()
        .is_some_and(|object| object.contains_key(B::KEY))
    {
        serde_path_to_error::deserialize::<_, B>(body)
            .map(|batch| Sent::Batch(batch.items()))
            .map_err(|err| deserialize_error("body", err))
    } else {
        serde_path_to_error::deserialize::<_, T>(body)
            .map(Sent::One)
            .map_err(|err| deserialize_error("body", err))
    }
}

/// What was sent, each record parsed: the records of one call, or a 422 naming every bad field
/// (`samples[3].value` in a batch, `value` for one record).
pub(super) fn parse_records<T, R>(
    sent: Sent<T>,
    key: &'static str,
    parse: impl Fn(T) -> Result<R, FieldErrors>,
) -> Result<(Records<R>, bool), ApiError> {
    match sent {
        Sent::One(body) => Ok((
            Records::one(parse(body).map_err(FieldErrors::into_error)?),
            false,
        )),
        Sent::Batch(bodies) => {
            let mut errors = FieldErrors::default();
            let mut records = Vec::with_capacity(bodies.len());
            for (index, body) in bodies.into_iter().enumerate() {
                match parse(body) {
                    Ok(record) => records.push(record),
                    Err(bad) => errors.extend_within(&format!("{key}[{index}]"), bad),
                }
            }
            if !errors.is_empty() {
                return Err(errors.into_error().into());
            }
            Ok((Records::parse(key, records)?, true))
        }
    }
}

/// A refused call's error; a record of a batch at fault is named under `key[index]`, a record
/// sent alone by its own fields.
pub(super) fn refused(err: RepoError, key: &str, batch: bool) -> ApiError {
    match err {
        RepoError::InBatch { index, error } if batch => {
            ApiError::from(*error).within(&format!("{key}[{index}]"))
        }
        RepoError::InBatch { error, .. } => ApiError::from(*error),
        other => ApiError::from(other),
    }
}
