//! `orchestore queue share …`: the operator's side of the shared worker fleet — which
//! organizations it serves, as which of their agents, with which share.

use orchestore_domain::{AgentId, OrganizationId, QueueShare, QueueShareWeight};
use orchestore_repo::{RepoResult, Store};

/// What `orchestore queue` does.
#[derive(Debug, clap::Subcommand)]
pub enum QueueAction {
    /// Manage the organizations on the shared worker fleet and their shares.
    Share {
        #[command(subcommand)]
        action: ShareAction,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum ShareAction {
    /// Put an organization on the shared fleet, or change its agent or share.
    Set {
        /// The organization (its id).
        #[arg(long, value_name = "ID")]
        organization: OrganizationId,
        /// The organization's agent that the fleet's claims run as (its id).
        #[arg(long, value_name = "ID")]
        agent: AgentId,
        /// Its weight in the rotation, 1 to 1000.
        #[arg(long, default_value_t = 1,
              value_parser = clap::value_parser!(i64).range(1..=i64::from(QueueShareWeight::MAX)))]
        share: i64,
    },
    /// Take an organization off the shared fleet; its agent and tasks stay.
    Remove {
        /// The organization (its id).
        #[arg(long, value_name = "ID")]
        organization: OrganizationId,
    },
    /// List the organizations on the shared fleet, in the order they would be served.
    List {
        /// Print one JSON array instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `action` and answers what to print.
pub async fn run(store: &dyn Store, action: QueueAction) -> RepoResult<String> {
    let QueueAction::Share { action } = action;
    match action {
        ShareAction::Set {
            organization,
            agent,
            share,
        } => {
            let share = QueueShareWeight::parse(share)?;
            let member = store.set_queue_share(organization, agent, share).await?;
            Ok(format!("{}\n", share_line(&member)))
        }
        ShareAction::Remove { organization } => {
            store.remove_queue_share(organization).await?;
            Ok(format!("{organization}  removed from the shared fleet\n"))
        }
        ShareAction::List { json } => {
            let members = store.list_queue_shares().await?;
            if json {
                return Ok(serde_json::to_string_pretty(&members)
                    .map_err(orchestore_repo::RepoError::internal)?
                    + "\n");
            }
            if members.is_empty() {
                return Ok("no organization is on the shared fleet\n".to_owned());
            }
            Ok(members
                .iter()
                .map(|member| share_line(member) + "\n")
                .collect())
        }
    }
}

/// `<organization>  agent <id>  share <n>  pass <p>  last served <time|never>`.
pub fn share_line(member: &QueueShare) -> String {
    let served = member
        .last_served_at
        .map_or_else(|| "never".to_owned(), |at| at.to_rfc3339());
    format!(
        "{}  agent {}  share {}  pass {}  last served {served}",
        member.organization_id,
        member.agent_id,
        member.share.get(),
        member.pass,
    )
}
