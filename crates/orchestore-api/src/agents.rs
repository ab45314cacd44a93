//! `/api/v1/agents`.

use orchestore_domain::{
    AgentKind, AgentPatch, AgentStatus, Capabilities, Metadata, ModelName, Name, NewAgent,
    ProviderName, agent_capabilities,
};
use orchestore_repo::{AgentFilter, AgentSort, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{FieldErrors, Invalid, PatchField, page_request};

// `POST /api/v1/agents`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgentBody {
    pub name: String,
    /// `ai`, `human` or `bot`.
    #[schema(value_type = AgentKind)]
    pub kind: String,
    /// What the agent can do: a task it claims requires none it lacks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Vec<String>>,
    /// `active` (the default), `inactive`, `busy` or `offline`.
    #[schema(value_type = Option<AgentStatus>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
}

impl CreateAgentBody {
    pub fn into_new_agent(self) -> Result<NewAgent, Invalid> {
        let mut errors = FieldErrors::default();
        let name = errors.check(Name::parse("name", &self.name));
        let kind = errors.check(self.kind.parse::<AgentKind>());
        let capabilities = errors.check(
            self.capabilities
                .map_or(Ok(Capabilities::default()), |c| agent_capabilities(&c)),
        );
        let status = errors.check(
            self.status
                .map_or(Ok(AgentStatus::Active), |s| s.parse::<AgentStatus>()),
        );
        let config = errors.check(
            self.config
                .map_or(Ok(Metadata::default()), |c| Metadata::parse("config", c)),
        );
        let model = errors.check(self.model.as_deref().map(ModelName::parse).transpose());
        let provider = errors.check(
            self.provider
                .as_deref()
                .map(ProviderName::parse)
                .transpose(),
        );
        let (
            Some(name),
            Some(kind),
            Some(capabilities),
            Some(status),
            Some(config),
            Some(model),
            Some(provider),
        ) = (name, kind, capabilities, status, config, model, provider)
        else {
            return Err(errors.into_error());
        };
        Ok(NewAgent {
            name,
            kind,
            capabilities,
            status,
            config,
            model,
            provider,
        })
    }
}

/// Absent fields stay as they are; `model: null` and `provider: null` clear them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchAgentBody {
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = String)]
    pub name: PatchField<String>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = AgentKind)]
    pub kind: PatchField<String>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = Vec<String>)]
    pub capabilities: PatchField<Vec<String>>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = AgentStatus)]
    pub status: PatchField<String>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = Object)]
    pub config: PatchField<serde_json::Value>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = Option<String>)]
    pub model: PatchField<String>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = Option<String>)]
    pub provider: PatchField<String>,
}

impl PatchAgentBody {
    pub fn into_patch(self) -> Result<AgentPatch, Invalid> {
        let mut errors = FieldErrors::default();
        let name = errors.check(
            self.name
                .parse_required("name", |n| Name::parse("name", &n)),
        );
        let kind = errors.check(self.kind.parse_required("kind", |k| k.parse::<AgentKind>()));
        let capabilities = errors.check(
            self.capabilities
                .parse_required("capabilities", |c| agent_capabilities(&c)),
        );
        let status = errors.check(
            self.status
                .parse_required("status", |s| s.parse::<AgentStatus>()),
        );
        let config = errors.check(
            self.config
                .parse_required("config", |c| Metadata::parse("config", c)),
        );
        let model = errors.check(self.model.parse_nullable(|m| ModelName::parse(&m)));
        let provider = errors.check(self.provider.parse_nullable(|p| ProviderName::parse(&p)));
        let (
            Some(name),
            Some(kind),
            Some(capabilities),
            Some(status),
            Some(config),
            Some(model),
            Some(provider),
        ) = (name, kind, capabilities, status, config, model, provider)
        else {
            return Err(errors.into_error());
        };
        Ok(AgentPatch {
            name,
            kind,
            capabilities,
            status,
            config,
            model,
            provider,
        })
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListAgentsQuery {
    #[param(value_type = Option<AgentStatus>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[param(value_type = Option<AgentKind>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Comma-separated: agents having every one of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<String>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<AgentSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl ListAgentsQuery {
    pub fn into_filter_and_page(self) -> Result<(AgentFilter, PageRequest<AgentSort>), Invalid> {
        let mut errors = FieldErrors::default();
        let status = errors.check(self.status.map(|s| s.parse::<AgentStatus>()).transpose());
        let kind = errors.check(self.kind.map(|k| k.parse::<AgentKind>()).transpose());
        let capabilities = errors.check(self.capabilities.map_or(
            Ok(Capabilities::default()),
            |list| {
                let names: Vec<&str> = list.split(',').map(str::trim).collect();
                agent_capabilities(&names)
            },
        ));
        let page = page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(status), Some(kind), Some(capabilities), Some(page)) =
            (status, kind, capabilities, page)
        else {
            return Err(errors.into_error());
        };
        Ok((
            AgentFilter {
                status,
                kind,
                capabilities,
            },
            page,
        ))
    }
}
