//! `/api/v1/invitations`: a one-time token by which one person joins the organization, and its
//! acceptance, which logs the new user in.

use chrono::{DateTime, Utc};
use orchestore_domain::{Email, Name, Password, RoleCode, Username};
use orchestore_repo::NewInvitation;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{FieldErrors, Invalid};

// `POST /api/v1/invitations`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvitationBody {
    /// The invited person's address.
    pub email: String,
    /// Role codes: system roles (`developer`, …) or the organization's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
}

impl CreateInvitationBody {
    /// The invitation, pending until `expires_at`.
    pub fn into_new_invitation(self, expires_at: DateTime<Utc>) -> Result<NewInvitation, Invalid> {
        let mut errors = FieldErrors::default();
        let email = errors.check(Email::parse(&self.email));
        let roles = errors.check(
            self.roles
                .unwrap_or_default()
                .iter()
                .map(|code| RoleCode::parse("roles", code))
                .collect::<Result<Vec<_>, _>>(),
        );
        let (Some(email), Some(roles)) = (email, roles) else {
            return Err(errors.into_error());
        };
        Ok(NewInvitation {
            email,
            roles,
            expires_at,
        })
    }
}

// `POST /api/v1/invitations/accept`. No `Debug`: it holds a password and a token.
#[derive(Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    /// The invitation's token, from the link the invited person received.
    pub token: String,
    /// The new user's display name.
    pub display_name: String,
    /// The new user's password; it must meet the password policy.
    #[schema(format = Password)]
    pub password: String,
    /// The new user's username, unique in the organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// A valid acceptance whose password is not hashed yet.
pub struct NewMember {
    pub display_name: Name,
    pub username: Option<Username>,
    pub password: Password,
}

impl AcceptBody {
    /// The new user's fields; the password policy applies against `invited`, the address the
    /// invitation names.
    pub fn new_member(&self, invited: &Email) -> Result<NewMember, Invalid> {
        let mut errors = FieldErrors::default();
        let display_name = errors.check(Name::parse("display_name", &self.display_name));
        let username = errors.check(self.username.as_deref().map(Username::parse).transpose());
        let password = errors.check(Password::for_account(&self.password, invited));
        let (Some(display_name), Some(username), Some(password)) =
            (display_name, username, password)
        else {
            return Err(errors.into_error());
        };
        Ok(NewMember {
            display_name,
            username,
            password,
        })
    }
}
