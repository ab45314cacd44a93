use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, Serializer};

use super::points::short_text;
use super::ranks::word_enum;
use crate::{AgentKind, DomainError, OrganizationId, Participant, ProposalId, RoleCode};

short_text!(
    /// A proposal's title: 1 to 200 characters, trimmed.
    ProposalTitle, "title", 200
);
short_text!(
    /// The label of one option of a proposal (`yes`, `plan b`, …): 1 to 100 characters,
    /// trimmed.
    OptionLabel, "option", 100
);

/// What a proposal is about, in words: up to 20,000 characters, trimmed, possibly empty; line
/// breaks and tabs are the only control characters it may hold.
#[derive(Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct ProposalBody(String);

deserialize_by_parse!(ProposalBody, String, |raw| ProposalBody::parse(&raw));

impl ProposalBody {
    pub const MAX_CHARS: usize = 20_000;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let trimmed = raw.trim();
        if trimmed
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(DomainError::invalid(
                "body",
                "must not contain control characters other than line breaks and tabs",
            ));
        }
        let chars = trimmed.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                "body",
                format!(
                    "must be at most {} characters, got {chars}",
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn empty() -> Self {
        Self(String::new())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ProposalBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

word_enum!(
    /// How a proposal is decided.
    ProposalKind, "kind" {
        /// Two options, `yes` and `no`: it passes on the share of `yes`.
        YesNo = "yes_no",
        /// Two to twenty options named by the proposal: it passes on the share of the one that
        /// leads.
        Choice = "choice",
    }
);

word_enum!(
    /// Where a proposal is in its life.
    ProposalStatus, "status" {
        /// Takes votes between its opening and closing times.
        Open = "open",
        /// Closed by time or by hand: its result is stored.
        Closed = "closed",
        /// Withdrawn by hand before it closed: no result.
        Cancelled = "cancelled",
    }
);

word_enum!(
    /// A closed proposal's outcome.
    ProposalResult, "result" {
        Passed = "passed",
        Rejected = "rejected",
        /// Fewer votes were cast than the quorum.
        NoQuorum = "no_quorum",
    }
);

word_enum!(
    /// What closed a proposal.
    ClosedBy, "closed_by" {
        /// Its closing time passed.
        Time = "time",
        /// An administrator closed it before its closing time.
        Hand = "hand",
    }
);

/// The options of a proposal, in order: `yes`, `no` for a yes/no proposal, 2 to
/// [`ProposalChoices::MAX_OPTIONS`] labels that differ other than in case for a choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalChoices {
    kind: ProposalKind,
    options: Vec<OptionLabel>,
}

impl ProposalChoices {
    pub const MAX_OPTIONS: usize = 20;

    pub fn yes_no() -> Self {
        Self {
            kind: ProposalKind::YesNo,
            options: vec![OptionLabel("yes".to_owned()), OptionLabel("no".to_owned())],
        }
    }

    pub fn choice(options: Vec<OptionLabel>) -> Result<Self, DomainError> {
        if !(2..=Self::MAX_OPTIONS).contains(&options.len()) {
            return Err(DomainError::invalid(
                "options",
                format!(
                    "must name 2 to {} options, got {}",
                    Self::MAX_OPTIONS,
                    options.len()
                ),
            ));
        }
        let mut folded: Vec<String> = options.iter().map(|o| o.0.to_lowercase()).collect();
        folded.sort_unstable();
        folded.dedup();
        if folded.len() != options.len() {
            return Err(DomainError::invalid(
                "options",
                "must not repeat an option (case aside)",
            ));
        }
        Ok(Self {
            kind: ProposalKind::Choice,
            options,
        })
    }

    pub fn kind(&self) -> ProposalKind {
        self.kind
    }

    pub fn options(&self) -> &[OptionLabel] {
        &self.options
    }
}

/// When a proposal takes votes: from `opens_at` (its creation when not given) until just
/// before `closes_at`, which is later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProposalSchedule {
    opens_at: Option<DateTime<Utc>>,
    closes_at: DateTime<Utc>,
}

impl ProposalSchedule {
    pub fn parse(
        opens_at: Option<DateTime<Utc>>,
        closes_at: DateTime<Utc>,
    ) -> Result<Self, DomainError> {
        if opens_at.is_some_and(|opens| closes_at <= opens) {
            return Err(DomainError::invalid(
                "closes_at",
                "must be later than opens_at",
            ));
        }
        Ok(Self {
            opens_at,
            closes_at,
        })
    }

    pub fn opens_at(self) -> Option<DateTime<Utc>> {
        self.opens_at
    }

    pub fn closes_at(self) -> DateTime<Utc> {
        self.closes_at
    }
}

/// The fewest votes a proposal needs for a result other than `no_quorum`: 1 to 1,000,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Quorum(u32);

deserialize_by_parse!(Quorum, i64, Quorum::parse);

impl Quorum {
    pub const MAX: u32 = 1_000_000;

    pub fn parse(raw: i64) -> Result<Self, DomainError> {
        match u32::try_from(raw) {
            Ok(value) if (1..=Self::MAX).contains(&value) => Ok(Self(value)),
            _ => Err(DomainError::invalid(
                "quorum",
                format!("must be from 1 to {}, got {raw}", Self::MAX),
            )),
        }
    }

    pub const fn get(self) -> u32 {
        self.0
    }
}

/// The share of the votes cast that the deciding option needs for a proposal to pass: more
/// than 0 and at most 1, in steps of 0.0001 (kept as basis points, so that the comparison is
/// exact on every backend). Serialised as the fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold(u32);

deserialize_by_parse!(Threshold, f64, Threshold::parse);

impl Threshold {
    pub const BASIS: u32 = 10_000;

    pub fn parse(raw: f64) -> Result<Self, DomainError> {
        let scaled = raw * f64::from(Self::BASIS);
        let points = scaled.round();
        if !raw.is_finite()
            || (scaled - points).abs() > 1e-6
            || !(1.0..=f64::from(Self::BASIS)).contains(&points)
        {
            return Err(DomainError::invalid(
                "threshold",
                format!("must be more than 0 and at most 1, in steps of 0.0001, got {raw}"),
            ));
        }
        Ok(Self(points as u32))
    }

    /// From its stored basis points (1 to 10,000).
    pub fn from_basis_points(points: u32) -> Result<Self, DomainError> {
        if (1..=Self::BASIS).contains(&points) {
            Ok(Self(points))
        } else {
            Err(DomainError::invalid(
                "threshold",
                format!("{points} basis points is not from 1 to {}", Self::BASIS),
            ))
        }
    }

    pub const fn basis_points(self) -> u32 {
        self.0
    }

    pub fn fraction(self) -> f64 {
        f64::from(self.0) / f64::from(Self::BASIS)
    }

    /// Whether `votes` of `cast` reach the threshold: votes / cast ≥ threshold, in integers.
    pub fn reached(self, votes: u32, cast: u32) -> bool {
        cast > 0 && u64::from(votes) * u64::from(Self::BASIS) >= u64::from(self.0) * u64::from(cast)
    }
}

impl Serialize for Threshold {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.fraction())
    }
}

/// Who may vote: users holding one of `roles`, agents of one of `agent_kinds`. With both empty,
/// every user and agent of the organization; with only one given, only that sort of voter.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, utoipa::ToSchema)]
pub struct Eligibility {
    roles: Vec<RoleCode>,
    agent_kinds: Vec<AgentKind>,
}

/// The wire form of an [`Eligibility`], checked by its parser when read.
#[derive(Deserialize)]
struct RawEligibility {
    roles: Vec<RoleCode>,
    agent_kinds: Vec<AgentKind>,
}

deserialize_by_parse!(Eligibility, RawEligibility, |raw| {
    Eligibility::parse(raw.roles, raw.agent_kinds)
});

impl Eligibility {
    pub const MAX_ROLES: usize = 20;

    /// Repeats are dropped; roles keep their first order.
    pub fn parse(roles: Vec<RoleCode>, agent_kinds: Vec<AgentKind>) -> Result<Self, DomainError> {
        let mut distinct_roles: Vec<RoleCode> = Vec::with_capacity(roles.len());
        for role in roles {
            if !distinct_roles.contains(&role) {
                distinct_roles.push(role);
            }
        }
        if distinct_roles.len() > Self::MAX_ROLES {
            return Err(DomainError::invalid(
                "eligible_roles",
                format!("must name at most {} roles", Self::MAX_ROLES),
            ));
        }
        let agent_kinds = AgentKind::ALL
            .into_iter()
            .filter(|kind| agent_kinds.contains(kind))
            .collect();
        Ok(Self {
            roles: distinct_roles,
            agent_kinds,
        })
    }

    /// Every user and agent of the organization.
    pub fn everyone() -> Self {
        Self::default()
    }

    pub fn is_everyone(&self) -> bool {
        self.roles.is_empty() && self.agent_kinds.is_empty()
    }

    pub fn roles(&self) -> &[RoleCode] {
        &self.roles
    }

    pub fn agent_kinds(&self) -> &[AgentKind] {
        &self.agent_kinds
    }

    /// Whether users may vote at all (then only those holding one of the roles, when some are
    /// named).
    pub fn admits_users(&self) -> bool {
        self.is_everyone() || !self.roles.is_empty()
    }

    /// Whether an agent of `kind` may vote.
    pub fn admits_agent(&self, kind: AgentKind) -> bool {
        self.is_everyone() || self.agent_kinds.contains(&kind)
    }
}

/// A proposal to open.
#[derive(Debug, Clone)]
pub struct NewProposal {
    pub title: ProposalTitle,
    pub body: ProposalBody,
    pub choices: ProposalChoices,
    pub schedule: ProposalSchedule,
    pub quorum: Quorum,
    pub threshold: Threshold,
    pub eligibility: Eligibility,
    /// Whether a voter may change its vote until the proposal closes.
    pub allow_vote_change: bool,
}

/// The decision on `tallies` (the votes of each option, in order): `no_quorum` when fewer than
/// `quorum` votes were cast; else `passed` when the deciding option's share reaches
/// `threshold` — `yes` (the first option) for a yes/no proposal, for a choice the option with
/// the most votes, which must lead alone — and `rejected` otherwise. The second value is the
/// position of the option that carried a passed proposal.
pub fn decide(
    kind: ProposalKind,
    quorum: Quorum,
    threshold: Threshold,
    tallies: &[u32],
) -> (ProposalResult, Option<usize>) {
    let cast: u32 = tallies.iter().sum();
    if cast < quorum.get() {
        return (ProposalResult::NoQuorum, None);
    }
    let deciding = match kind {
        ProposalKind::YesNo => tallies.first().map(|&yes| (0, yes)),
        ProposalKind::Choice => {
            let most = tallies.iter().copied().max().unwrap_or(0);
            let mut leaders = tallies.iter().enumerate().filter(|(_, v)| **v == most);
            match (leaders.next(), leaders.next()) {
                (Some((position, votes)), None) => Some((position, *votes)),
                _ => None,
            }
        }
    };
    match deciding {
        Some((position, votes)) if threshold.reached(votes, cast) => {
            (ProposalResult::Passed, Some(position))
        }
        _ => (ProposalResult::Rejected, None),
    }
}

/// One option of a proposal and the votes it holds: the current count while the proposal is
/// open, the final one once it is closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OptionTally {
    pub option: OptionLabel,
    pub votes: u32,
}

/// A proposal as stored, with its tallies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Proposal {
    pub id: ProposalId,
    pub organization_id: OrganizationId,
    pub title: ProposalTitle,
    pub body: ProposalBody,
    pub kind: ProposalKind,
    pub tallies: Vec<OptionTally>,
    pub votes_cast: u32,
    pub quorum: Quorum,
    pub threshold: Threshold,
    pub eligibility: Eligibility,
    pub allow_vote_change: bool,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub status: ProposalStatus,
    /// Set when the proposal closes, never again.
    pub result: Option<ProposalResult>,
    /// The option that carried a passed proposal.
    pub winning_option: Option<OptionLabel>,
    pub closed_by: Option<ClosedBy>,
    /// When it closed (its closing time, when closed by time) or was cancelled.
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Proposal {
    /// The options, in order.
    pub fn options(&self) -> impl Iterator<Item = &OptionLabel> {
        self.tallies.iter().map(|t| &t.option)
    }
}

/// A voter's vote on a proposal: one per voter, changed in place when the proposal allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Vote {
    pub proposal_id: ProposalId,
    pub voter: Participant,
    pub option: OptionLabel,
    pub cast_at: DateTime<Utc>,
    /// When the vote was last changed.
    pub changed_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(quorum: i64, threshold: f64) -> (Quorum, Threshold) {
        (
            Quorum::parse(quorum).unwrap_or(Quorum(1)),
            Threshold::parse(threshold).unwrap_or(Threshold(5_000)),
        )
    }

    #[test]
    fn yes_no_passes_on_the_share_of_yes() {
        let (quorum, half) = rule(3, 0.5);
        let yes_no = ProposalKind::YesNo;
        assert_eq!(
            decide(yes_no, quorum, half, &[1, 1]),
            (ProposalResult::NoQuorum, None)
        );
        // 2 of 4 is exactly one half: reached.
        assert_eq!(
            decide(yes_no, quorum, half, &[2, 2]),
            (ProposalResult::Passed, Some(0))
        );
        assert_eq!(
            decide(yes_no, quorum, half, &[1, 3]),
            (ProposalResult::Rejected, None)
        );
        // Two thirds as 0.6667: 2 of 3 (0.66666…) falls short.
        let (_, two_thirds) = rule(1, 0.6667);
        assert_eq!(
            decide(yes_no, quorum, two_thirds, &[2, 1]).0,
            ProposalResult::Rejected
        );
    }

    #[test]
    fn a_choice_passes_on_a_sole_leader_with_enough_share() {
        let (quorum, share) = rule(1, 0.4);
        let choice = ProposalKind::Choice;
        assert_eq!(
            decide(choice, quorum, share, &[1, 4, 5]),
            (ProposalResult::Passed, Some(2))
        );
        assert_eq!(
            decide(choice, quorum, share, &[3, 3, 1]),
            (ProposalResult::Rejected, None)
        );
        // A sole leader short of the share: 4 of 13.
        assert_eq!(
            decide(choice, quorum, share, &[3, 3, 4, 3]),
            (ProposalResult::Rejected, None)
        );
        assert_eq!(
            decide(choice, quorum, share, &[0, 0]),
            (ProposalResult::NoQuorum, None)
        );
    }

    #[test]
    fn values_are_checked() {
        assert!(Threshold::parse(0.0).is_err());
        assert!(Threshold::parse(1.5).is_err());
        assert!(Threshold::parse(0.123_45).is_err());
        assert!(Threshold::parse(f64::NAN).is_err());
        assert_eq!(
            Threshold::parse(1.0).map(Threshold::basis_points),
            Ok(10_000)
        );
        assert_eq!(Threshold::parse(0.0001).map(Threshold::basis_points), Ok(1));
        assert!(Quorum::parse(0).is_err());
        let label = |s: &str| OptionLabel::parse(s).unwrap_or(OptionLabel("x".into()));
        assert!(ProposalChoices::choice(vec![label("a")]).is_err());
        assert!(ProposalChoices::choice(vec![label("a"), label("A")]).is_err());
        assert!(ProposalChoices::choice(vec![label("a"), label("b")]).is_ok());
        let now = Utc::now();
        assert!(ProposalSchedule::parse(Some(now), now).is_err());
        assert!(ProposalBody::parse("a\u{0}b").is_err());
        assert!(ProposalBody::parse("line\nbreak").is_ok());
    }
}
