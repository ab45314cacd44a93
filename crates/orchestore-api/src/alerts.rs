//! `/api/v1/alerts`: raised (and counted while unresolved), listed, acknowledged, resolved.

use orchestore_domain::{
    AlertMessage, AlertSeverity, AlertStatus, Fingerprint, Metadata, NewAlert, SourceName,
};
use orchestore_repo::{AlertFilter, AlertSort, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{FieldErrors, Invalid, page_request};

// `POST /api/v1/alerts`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RaiseAlertBody {
    #[schema(value_type = AlertSeverity)]
    pub severity: String,
    /// Who raises it, e.g. a component's name.
    pub source: String,
    pub message: String,
    /// What makes two raises the same alert; the message when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// A JSON object.
    #[schema(value_type = Option<Object>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl RaiseAlertBody {
    pub fn into_new_alert(self) -> Result<NewAlert, Invalid> {
        let mut errors = FieldErrors::default();
        let severity = errors.check(self.severity.parse::<AlertSeverity>());
        let source = errors.check(SourceName::parse(&self.source));
        let message = errors.check(AlertMessage::parse(&self.message));
        let fingerprint = errors.check(
            self.fingerprint
                .as_deref()
                .map(Fingerprint::parse)
                .transpose(),
        );
        let details = errors.check(
            self.details
                .map_or(Ok(Metadata::default()), |d| Metadata::parse("details", d)),
        );
        let (Some(severity), Some(source), Some(message), Some(fingerprint), Some(details)) =
            (severity, source, message, fingerprint, details)
        else {
            return Err(errors.into_error());
        };
        Ok(NewAlert {
            fingerprint: fingerprint.unwrap_or_else(|| Fingerprint::of_message(&message)),
            severity,
            source,
            message,
            details,
        })
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListAlertsQuery {
    #[param(value_type = Option<AlertStatus>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[param(value_type = Option<AlertSeverity>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// Only alerts from this source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<AlertSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl ListAlertsQuery {
    pub fn into_filter_and_page(self) -> Result<(AlertFilter, PageRequest<AlertSort>), Invalid> {
        let mut errors = FieldErrors::default();
        let status = errors.check(self.status.as_deref().map(str::parse).transpose());
        let severity = errors.check(self.severity.as_deref().map(str::parse).transpose());
        let source = errors.check(self.source.as_deref().map(SourceName::parse).transpose());
        let page = page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(status), Some(severity), Some(source), Some(page)) =
            (status, severity, source, page)
        else {
            return Err(errors.into_error());
        };
        Ok((
            AlertFilter {
                status,
                severity,
                source,
            },
            page,
        ))
    }
}
