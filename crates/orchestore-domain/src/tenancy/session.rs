use std::fmt;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{DomainError, SessionId, UserId};

/// A login, as its owner sees it in the list of their sessions. The refresh token is not part
/// of it: only its hash is stored, and that never leaves the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    /// The last refresh; `None` until the first. An access token lives a few minutes, so the
    /// session was last used at most that long after this.
    pub refreshed_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    /// The address of the last login or refresh, as the server saw it.
    #[schema(value_type = Option<String>)]
    pub client_address: Option<IpAddr>,
    /// The `User-Agent` of the login.
    pub user_agent: Option<UserAgent>,
}

/// Where a login or a refresh comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub address: Option<IpAddr>,
    pub user_agent: Option<UserAgent>,
}

/// A client's `User-Agent`, kept to show the user which device a session is: control
/// characters dropped, at most [`UserAgent::MAX_BYTES`] (cut at a character boundary), never
/// empty.
#[derive(Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct UserAgent(String);

deserialize_by_parse!(UserAgent, String, |raw| {
    UserAgent::parse(&raw)
        .ok_or_else(|| DomainError::invalid("user_agent", "must hold a printable character"))
});

impl UserAgent {
    pub const MAX_BYTES: usize = 512;

    /// `None` when nothing printable is left.
    pub fn parse(raw: &str) -> Option<Self> {
        let mut value = String::with_capacity(raw.len().min(Self::MAX_BYTES));
        for c in raw.trim().chars().filter(|c| !c.is_control()) {
            if value.len() + c.len_utf8() > Self::MAX_BYTES {
                break;
            }
            value.push(c);
        }
        (!value.is_empty()).then_some(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for UserAgent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_are_printable_and_bounded() {
        assert_eq!(
            UserAgent::parse(" curl/8.5\u{7}\n ").map(|ua| ua.as_str().to_owned()),
            Some("curl/8.5".to_owned())
        );
        assert_eq!(UserAgent::parse(" \t\r\n"), None);
        let long = "é".repeat(UserAgent::MAX_BYTES);
        let cut = UserAgent::parse(&long).expect("user agent");
        assert_eq!(cut.as_str().len(), UserAgent::MAX_BYTES);
        assert!(cut.as_str().chars().all(|c| c == 'é'));
    }
}
