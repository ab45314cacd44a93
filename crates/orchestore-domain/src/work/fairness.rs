//! Fairness across organizations on a shared worker fleet: each organization that joins the
//! fleet has a share, and shared claims serve the organizations with claimable work in
//! proportion to their shares.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ClaimLimit, ClaimedTask, LeaseDuration};
use crate::{AgentId, DomainError, OrganizationId};

/// An organization's weight on the shared fleet: 1 to 1,000. With shares 3 and 1, two
/// organizations with backlogs get three tasks and one task of every four.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct QueueShareWeight(u16);

deserialize_by_parse!(QueueShareWeight, i64, QueueShareWeight::parse);

impl QueueShareWeight {
    pub const MAX: u16 = 1000;

    pub fn parse(raw: i64) -> Result<Self, DomainError> {
        match u16::try_from(raw) {
            Ok(n) if (1..=Self::MAX).contains(&n) => Ok(Self(n)),
            _ => Err(DomainError::invalid(
                "share",
                format!("must be between 1 and {}", Self::MAX),
            )),
        }
    }

    pub const fn get(self) -> u16 {
        self.0
    }
}

impl Default for QueueShareWeight {
    fn default() -> Self {
        Self(1)
    }
}

/// An organization on the shared fleet: the agent of its own that the fleet's claims run as,
/// its share, and where it stands in the fleet's rotation (`pass`: tasks taken divided by the
/// share; the organization with work and the lowest pass is served next).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QueueShare {
    pub organization_id: OrganizationId,
    pub agent_id: AgentId,
    pub share: QueueShareWeight,
    pub pass: f64,
    pub last_served_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a shared claim asks for: up to `limit` tasks of one organization, each leased for
/// `lease`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedClaimRequest {
    pub limit: ClaimLimit,
    pub lease: LeaseDuration,
}

impl SharedClaimRequest {
    /// One task, the default lease.
    pub fn one() -> Self {
        Self {
            limit: ClaimLimit::one(),
            lease: LeaseDuration::default(),
        }
    }
}

/// What a shared claim took: tasks of one organization, running on its fleet agent. The worker
/// ends each run in that organization, as the agent (`Ctx` of `organization_id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SharedClaim {
    pub organization_id: OrganizationId,
    pub agent_id: AgentId,
    pub tasks: Vec<ClaimedTask>,
}
