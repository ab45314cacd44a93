//! `POST /api/v1/organizations/signup`: a new organization and its owner.

use orchestore_domain::{Email, Name, NewOrganization, Password, Slug};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{FieldErrors, Invalid};

/// The owner's display name when the sign-up gives none.
pub const DEFAULT_DISPLAY_NAME: &str = "Owner";

/// The fields of a login (`organization` is the slug, as there), and the names.
// No `Debug`: it holds a password.
#[derive(Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupBody {
    /// The new organization's slug, which its users log in with.
    pub organization: String,
    /// The organization's display name; the slug when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_name: Option<String>,
    /// The owner's e-mail address.
    pub email: String,
    /// The owner's password; it must meet the password policy.
    #[schema(format = Password)]
    pub password: String,
    /// The owner's display name; `Owner` when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// A valid sign-up whose password is not hashed yet.
pub struct SignUp {
    pub organization: NewOrganization,
    pub email: Email,
    pub display_name: Name,
    pub password: Password,
}

impl SignupBody {
    pub fn into_sign_up(self) -> Result<SignUp, Invalid> {
        let mut errors = FieldErrors::default();
        let slug = errors.check(Slug::parse("organization", &self.organization));
        let name = errors.check(Name::parse(
            "organization_name",
            self.organization_name
                .as_deref()
                .unwrap_or(&self.organization),
        ));
        let email = errors.check(Email::parse(&self.email));
        let display_name = errors.check(Name::parse(
            "display_name",
            self.display_name.as_deref().unwrap_or(DEFAULT_DISPLAY_NAME),
        ));
        let password = match &email {
            Some(email) => errors.check(Password::for_account(&self.password, email)),
            None => errors.check(Password::parse(&self.password)),
        };
        let (Some(slug), Some(name), Some(email), Some(display_name), Some(password)) =
            (slug, name, email, display_name, password)
        else {
            return Err(errors.into_error());
        };
        Ok(SignUp {
            organization: NewOrganization { slug, name },
            email,
            display_name,
            password,
        })
    }
}
