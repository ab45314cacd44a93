//! `/api/v1/components`: the registry of the system's components, each one's health, and
//! the communications between them (`/api/v1/component-communications`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use orchestore_domain::{
    CommunicationId, CommunicationKind, ComponentId, ComponentKind, ComponentPatch,
    ComponentStatus, ComponentVersion, Endpoint, HealthStatus, Measure, Metadata, Name,
    NewCommunication, NewComponent, NewHealthCheck, Outcome, ResourceUse,
};
use orchestore_repo::{
    CommunicationFilter, CommunicationSort, ComponentFilter, ComponentSort, HealthFilter,
    HealthSort, PageRequest,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{FieldErrors, Invalid, PatchField, page_request};

// `POST /api/v1/components`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateComponentBody {
    /// Unique in the organization, ignoring case.
    pub name: String,
    /// What the component is, e.g. `worker` or `api`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Where the component answers, e.g. a URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// `active` when left out.
    #[schema(value_type = Option<ComponentStatus>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// A JSON object.
    #[schema(value_type = Option<Object>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
}

impl CreateComponentBody {
    pub fn into_new_component(self) -> Result<NewComponent, Invalid> {
        let mut errors = FieldErrors::default();
        let name = errors.check(Name::parse("name", &self.name));
        let kind = errors.check(ComponentKind::parse(&self.kind));
        let version = errors.check(
            self.version
                .as_deref()
                .map(ComponentVersion::parse)
                .transpose(),
        );
        let endpoint = errors.check(self.endpoint.as_deref().map(Endpoint::parse).transpose());
        let status = errors.check(
            self.status
                .as_deref()
                .map_or(Ok(ComponentStatus::Active), str::parse),
        );
        let metadata = errors.check(
            self.metadata
                .map_or(Ok(Metadata::default()), |m| Metadata::parse("metadata", m)),
        );
        let (Some(name), Some(kind), Some(version), Some(endpoint), Some(status), Some(metadata)) =
            (name, kind, version, endpoint, status, metadata)
        else {
            return Err(errors.into_error());
        };
        Ok(NewComponent {
            name,
            kind,
            version,
            endpoint,
            status,
            metadata,
        })
    }
}

/// Absent fields stay as they are; `version: null` and `endpoint: null` clear them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchComponentBody {
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = String)]
    pub name: PatchField<String>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = String)]
    pub kind: PatchField<String>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = Option<String>)]
    pub version: PatchField<String>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = Option<String>)]
    pub endpoint: PatchField<String>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = ComponentStatus)]
    pub status: PatchField<String>,
    /// A JSON object.
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = Object)]
    pub metadata: PatchField<serde_json::Value>,
}

impl PatchComponentBody {
    pub fn into_patch(self) -> Result<ComponentPatch, Invalid> {
        let mut errors = FieldErrors::default();
        let name = errors.check(
            self.name
                .parse_required("name", |n| Name::parse("name", &n)),
        );
        let kind = errors.check(
            self.kind
                .parse_required("kind", |k| ComponentKind::parse(&k)),
        );
        let version = errors.check(self.version.parse_nullable(|v| ComponentVersion::parse(&v)));
        let endpoint = errors.check(self.endpoint.parse_nullable(|e| Endpoint::parse(&e)));
        let status = errors.check(
            self.status
                .parse_required("status", |s| s.parse::<ComponentStatus>()),
        );
        let metadata = errors.check(
            self.metadata
                .parse_required("metadata", |m| Metadata::parse("metadata", m)),
        );
        let (Some(name), Some(kind), Some(version), Some(endpoint), Some(status), Some(metadata)) =
            (name, kind, version, endpoint, status, metadata)
        else {
            return Err(errors.into_error());
        };
        Ok(ComponentPatch {
            name,
            kind,
            version,
            endpoint,
            status,
            metadata,
        })
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListComponentsQuery {
    /// Only components of this kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[param(value_type = Option<ComponentStatus>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<ComponentSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl ListComponentsQuery {
    pub fn into_filter_and_page(
        self,
    ) -> Result<(ComponentFilter, PageRequest<ComponentSort>), Invalid> {
        let mut errors = FieldErrors::default();
        let kind = errors.check(self.kind.as_deref().map(ComponentKind::parse).transpose());
        let status = errors.check(self.status.as_deref().map(str::parse).transpose());
        let page = page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(kind), Some(status), Some(page)) = (kind, status, page) else {
            return Err(errors.into_error());
        };
        Ok((ComponentFilter { kind, status }, page))
    }
}

// `POST /api/v1/components/{id}/health`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthCheckBody {
    #[schema(value_type = HealthStatus)]
    pub status: String,
    /// A JSON object: what the check saw.
    #[schema(value_type = Option<Object>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
    /// Figures by name, e.g. `{"cpu_percent": 12.5, "memory_bytes": 104857600}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<BTreeMap<String, f64>>,
    /// RFC 3339; now when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<DateTime<Utc>>,
}

impl HealthCheckBody {
    pub fn into_new_health_check(self) -> Result<NewHealthCheck, Invalid> {
        let mut errors = FieldErrors::default();
        let status = errors.check(self.status.parse::<HealthStatus>());
        let details = errors.check(
            self.details
                .map_or(Ok(Metadata::default()), |d| Metadata::parse("details", d)),
        );
        let resources = errors.check(ResourceUse::parse(self.resources.unwrap_or_default()));
        let (Some(status), Some(details), Some(resources)) = (status, details, resources) else {
            return Err(errors.into_error());
        };
        Ok(NewHealthCheck {
            status,
            details,
            resources,
            checked_at: self.checked_at,
        })
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HealthHistoryQuery {
    /// RFC 3339: checks made at or after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// RFC 3339: checks made before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<HealthSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl HealthHistoryQuery {
    pub fn into_filter_and_page(self) -> Result<(HealthFilter, PageRequest<HealthSort>), Invalid> {
        let mut errors = FieldErrors::default();
        let page = page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        )
        .ok_or_else(|| errors.into_error())?;
        let filter = HealthFilter {
            since: self.since,
            until: self.until,
        };
        Ok((filter, page))
    }
}

// `POST /api/v1/component-communications`, one communication alone or in a batch.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommunicationBody {
    pub from_component_id: ComponentId,
    pub to_component_id: ComponentId,
    /// What passed between them, e.g. `http` or `queue`.
    pub kind: String,
    pub payload_bytes: u64,
    /// Not negative.
    #[schema(minimum = 0)]
    pub latency_ms: f64,
    #[schema(value_type = Outcome)]
    pub outcome: String,
    /// RFC 3339; now when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<DateTime<Utc>>,
}

impl CommunicationBody {
    /// The communication, or every bad field.
    pub fn parse(self) -> Result<NewCommunication, FieldErrors> {
        let mut errors = FieldErrors::default();
        let kind = errors.check(CommunicationKind::parse(&self.kind));
        let payload_bytes = errors.check(NewCommunication::payload_bytes(self.payload_bytes));
        let latency_ms = errors.check(Measure::parse_non_negative("latency_ms", self.latency_ms));
        let outcome = errors.check(self.outcome.parse::<Outcome>());
        let (Some(kind), Some(payload_bytes), Some(latency_ms), Some(outcome)) =
            (kind, payload_bytes, latency_ms, outcome)
        else {
            return Err(errors);
        };
        Ok(NewCommunication {
            from_component_id: self.from_component_id,
            to_component_id: self.to_component_id,
            kind,
            payload_bytes,
            latency_ms,
            outcome,
            occurred_at: self.occurred_at,
        })
    }
}

/// `{"communications": [...]}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommunicationBatchBody {
    /// Up to 10,000 communications, recorded all or none.
    #[schema(min_items = 1, max_items = 10_000)]
    pub communications: Vec<CommunicationBody>,
}

/// The answer to a batch of communications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecordedCommunications {
    /// How many communications were recorded.
    pub recorded: usize,
    /// Their ids, in the order of the batch.
    pub ids: Vec<CommunicationId>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListCommunicationsQuery {
    /// Communications from or to this component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component_id: Option<ComponentId>,
    /// Communications from this component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_component_id: Option<ComponentId>,
    /// Communications to this component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_component_id: Option<ComponentId>,
    /// Only communications of this kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[param(value_type = Option<Outcome>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// RFC 3339: communications that happened at or after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// RFC 3339: communications that happened before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<CommunicationSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl ListCommunicationsQuery {
    pub fn into_filter_and_page(
        self,
    ) -> Result<(CommunicationFilter, PageRequest<CommunicationSort>), Invalid> {
        let mut errors = FieldErrors::default();
        let kind = errors.check(
            self.kind
                .as_deref()
                .map(CommunicationKind::parse)
                .transpose(),
        );
        let outcome = errors.check(self.outcome.as_deref().map(str::parse).transpose());
        let page = page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(kind), Some(outcome), Some(page)) = (kind, outcome, page) else {
            return Err(errors.into_error());
        };
        Ok((
            CommunicationFilter {
                component_id: self.component_id,
                from_component_id: self.from_component_id,
                to_component_id: self.to_component_id,
                kind,
                outcome,
                since: self.since,
                until: self.until,
            },
            page,
        ))
    }
}
