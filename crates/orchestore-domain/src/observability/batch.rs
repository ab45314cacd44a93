use crate::DomainError;

/// The records one call appends: 1 to [`Records::MAX`] of them, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub struct Records<T>(Vec<T>);

impl<T> Records<T> {
    pub const MAX: usize = 10_000;

    /// `records`, or a [`DomainError`] on `field` (the list's name in a request) when there
    /// are none or too many.
    pub fn parse(field: &'static str, records: Vec<T>) -> Result<Self, DomainError> {
        if records.is_empty() {
            return Err(DomainError::invalid(field, "must hold at least one record"));
        }
        if records.len() > Self::MAX {
            return Err(DomainError::invalid(
                field,
                format!(
                    "must hold at most {} records, got {}",
                    Self::MAX,
                    records.len()
                ),
            ));
        }
        Ok(Self(records))
    }

    pub fn one(record: T) -> Self {
        Self(vec![record])
    }

    pub fn as_slice(&self) -> &[T] {
        &self.0
    }

    pub fn into_vec(self) -> Vec<T> {
        self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never true: a batch holds at least one record.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_bounded() {
        assert_eq!(
            Records::<u8>::parse("samples", vec![]).unwrap_err().field(),
            Some("samples")
        );
        assert!(Records::parse("samples", vec![0u8; Records::<u8>::MAX]).is_ok());
        assert!(Records::parse("samples", vec![0u8; Records::<u8>::MAX + 1]).is_err());
        assert_eq!(Records::one(3).as_slice(), &[3]);
    }
}
