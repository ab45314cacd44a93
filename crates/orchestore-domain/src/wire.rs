//! Reading constrained values from JSON: through their parsers, never around them.

/// Implements `Deserialize` for the constrained value `$ty` through its parser: its wire form
/// `$raw` is read, then `$parse` checks it, so that a value read from JSON (a client reading
/// the server's answer, an embedder reading its own files) holds the same invariants as one
/// built in code. A value the parser refuses is a deserialization error naming the reason.
macro_rules! deserialize_by_parse {
    ($ty:ty, $raw:ty, $parse:expr) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let parse: fn($raw) -> Result<$ty, crate::DomainError> = $parse;
                let raw = <$raw as serde::Deserialize>::deserialize(deserializer)?;
                parse(raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use std::fmt::Debug;

    use chrono::{Duration, Utc};
    use serde::Serialize;
    use serde::de::DeserializeOwned;
    use serde_json::{Value, json};

    use crate::*;

    /// `json` reads back as `expected`.
    fn reads<T: DeserializeOwned + PartialEq + Debug>(json: Value, expected: T) {
        let read: T = serde_json::from_value(json.clone())
            .unwrap_or_else(|error| panic!("{json} should read: {error}"));
        assert_eq!(read, expected, "{json}");
    }

    /// `json` is refused with a message holding `reason`.
    fn refuses<T: DeserializeOwned + Debug>(json: Value, reason: &str) {
        match serde_json::from_value::<T>(json.clone()) {
            Ok(read) => panic!("{json} should be refused, read {read:?}"),
            Err(error) => assert!(
                error.to_string().contains(reason),
                "{json}: {error:?} does not say {reason:?}"
            ),
        }
    }

    /// `value` serialized as the server answers it reads back equal.
    fn round_trips<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T) {
        let text = serde_json::to_string(value).expect("serialize");
        let read: T = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("{text} should read back: {error}"));
        assert_eq!(&read, value, "{text}");
    }

    fn ok<T>(parsed: Result<T, DomainError>) -> T {
        parsed.unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn constrained_values_read_through_their_parsers() {
        // Strings: trimmed, normalised, checked.
        reads(json!("  fix it "), ok(Title::parse("fix it")));
        reads(json!("cafe\u{301}"), ok(Name::parse("name", "café")));
        reads(
            json!(" Ada@Example.ORG "),
            ok(Email::parse("ada@example.org")),
        );
        reads(json!("ADA"), ok(Username::parse("ada")));
        reads(json!("acme-2"), ok(Slug::parse("slug", "acme-2")));
        reads(
            json!("claude-sonnet-4"),
            ok(ModelName::parse("claude-sonnet-4")),
        );
        reads(
            json!("http.latency_ms"),
            ok(MetricName::parse("http.latency_ms")),
        );
        reads(json!("wiki"), ok(EntrySource::parse("wiki")));
        reads(json!("the reason"), ok(PointReason::parse("the reason")));
        reads(json!("build"), ok(StepName::parse("build")));
        reads(
            json!("tasks:write"),
            ok("tasks:write".parse::<Permission>()),
        );
        refuses::<Title>(json!("   "), "title: must not be empty");
        refuses::<Name>(json!(""), "name: must not be empty");
        refuses::<Email>(json!("ada"), "email: must be an address");
        refuses::<Slug>(json!("-acme"), "slug: must be 1 to 63");
        refuses::<MetricName>(json!("a b"), "name: must be 1 to 100");
        refuses::<EntryTitle>(json!(""), "title: must not be empty");
        refuses::<Permission>(json!("tasks:fly"), "is not a permission");
        refuses::<ProviderName>(json!("a\u{0}b"), "control characters");
        // Numbers: bounded.
        reads(json!(5), ok(Priority::parse(5)));
        reads(json!(3), ok(Revision::parse(3)));
        reads(json!(8), ok(ConcurrencyLimit::parse(8)));
        reads(json!(1.5), ok(Measure::parse("value", 1.5)));
        reads(json!(0.25), ok(Threshold::parse(0.25)));
        reads(json!(0.5), ok(Score::parse(0.5)));
        refuses::<Priority>(json!(1_000_001), "priority: must be between");
        refuses::<Revision>(json!(0), "revision: must be 1 or more");
        refuses::<ConcurrencyLimit>(json!(0), "concurrency");
        refuses::<Dimension>(json!(5000), "dimension: must be between 1 and 4096");
        refuses::<PointAmount>(json!(0), "points: must not be zero");
        refuses::<Threshold>(json!(1.5), "threshold: must be more than 0");
        refuses::<Score>(json!(2), "score: must be a number from 0 to 1");
        refuses::<TokenCount>(json!(0), "capacity: must be 1 to");
        // Lists and maps: each item checked, the whole bounded.
        reads(
            json!(["rust", "code.review", "rust"]),
            ok(Capabilities::parse(&["code.review", "rust"])),
        );
        reads(json!([" a ", "b"]), ok(Tags::parse(&["a", "b"])));
        reads(
            json!([{"name": "api", "units": 2}]),
            ok(RateLimitUses::parse(&[RawRateLimitUse {
                name: "api".into(),
                units: 2,
            }])),
        );
        refuses::<Capabilities>(json!(["Has Space"]), "is not a capability");
        refuses::<Tags>(json!([""]), "tags: must not be empty");
        refuses::<MentorshipGoals>(json!([]), "goals: must list 1 to 20 goals");
        refuses::<LevelThresholds>(
            json!([{"experience": 5, "tier": "bronze"}]),
            "the first step must start at 0 experience",
        );
        refuses::<RateLimitUses>(
            json!([{"name": "api"}, {"name": "api"}]),
            "api is named twice",
        );
        refuses::<MetricTags>(json!({"bad key": "v"}), "tags: must be 1 to 64");
        // JSON documents: made canonical, bounded.
        reads(
            json!({"n": 1e2}),
            ok(Metadata::parse("metadata", json!({"n": 100.0}))),
        );
        reads(json!(null), ok(Payload::parse(json!(null))));
        refuses::<Metadata>(json!([1]), "metadata: must be a JSON object");
        refuses::<Payload>(json!({"k": "a\u{0}b"}), "payload");
        refuses::<WorkflowDefinition>(json!({"steps": "no"}), "steps");
        // Cron patterns, time zones, ages.
        reads(json!("*/5 * * * *"), ok(CronSchedule::parse("*/5 * * * *")));
        reads(json!("Europe/Paris"), ok(TimeZone::parse("Europe/Paris")));
        reads(json!("90d"), ok(RetentionAge::parse("max_age", "90d")));
        reads(json!("events"), ok("events".parse::<RetentionTarget>()));
        refuses::<CronSchedule>(json!("0 0 30 2 *"), "cron: the pattern never fires");
        refuses::<CronSchedule>(json!("not a cron"), "cron:");
        refuses::<TimeZone>(
            json!("Mars/Olympus"),
            "time_zone: \"Mars/Olympus\" is not an IANA",
        );
        refuses::<RetentionAge>(json!("5m"), "max_age: must be at least 1h");
        // Several fields checked together.
        refuses::<LeaderboardWeights>(
            json!({"points": 0.0, "rating": 0.0, "reputation": 0.0}),
            "at least one weight must be above 0",
        );
        refuses::<EloSettings>(
            json!({"k_factor": 0, "provisional_k_factor": 1, "provisional_matches": 1}),
            "k_factor: must be from 1 to 100",
        );
        let now = Utc::now();
        refuses::<AnalyticsWindow>(
            json!({"since": now, "until": now}),
            "since: must be before until",
        );
        refuses::<KeyScopes>(json!([]), "scopes: name at least one permission");
        reads(json!(null), KeyScopes::owners());
        refuses::<ApiKeySecret>(json!("osk_short"), "secret: is not an API key");
        refuses::<InvitationToken>(json!("osi_!!"), "token: is not an invitation token");
    }

    #[test]
    fn secrets_read_back_and_stay_redacted() {
        let secret = ApiKeySecret::new(OrganizationId::new(), ApiKeyId::new(), [7; 32]);
        round_trips(&secret);
        let read: ApiKeySecret = serde_json::from_value(json!(secret.expose())).expect("secret");
        assert!(!format!("{read:?}").contains(&secret.expose()[4..]));
        let token = InvitationToken::new([9; 32]);
        round_trips(&token);
        let read: InvitationToken = serde_json::from_value(json!(token.expose())).expect("token");
        assert!(!format!("{read:?}").contains(&token.expose()[4..]));
    }

    #[test]
    fn entities_read_back_equal() {
        let now = Utc::now();
        let org = OrganizationId::new();
        let project = ProjectId::new();
        let agent_id = AgentId::new();
        let user_id = UserId::new();

        round_trips(&Organization {
            id: org,
            slug: ok(Slug::parse("slug", "acme")),
            name: ok(Name::parse("name", "Acme")),
            created_at: now,
            updated_at: now,
        });
        round_trips(&User {
            id: user_id,
            organization_id: org,
            email: ok(Email::parse("ada@example.org")),
            username: Some(ok(Username::parse("ada"))),
            display_name: ok(Name::parse("name", "Ada")),
            active: true,
            created_at: now,
            updated_at: now,
            revision: Revision::FIRST,
        });
        round_trips(&Agent {
            id: agent_id,
            organization_id: org,
            name: ok(Name::parse("name", "planner")),
            kind: AgentKind::Ai,
            capabilities: ok(Capabilities::parse(&["rust"])),
            status: AgentStatus::Busy,
            config: ok(Metadata::parse("config", json!({"temperature": 0.2}))),
            model: Some(ok(ModelName::parse("claude-sonnet-4"))),
            provider: None,
            last_heartbeat_at: Some(now),
            tasks_completed: 3,
            tasks_failed: 1,
            messages_sent: 0,
            total_task_millis: 12_000,
            created_at: now,
            updated_at: now,
            revision: ok(Revision::parse(4)),
        });
        let task = Task {
            id: TaskId::new(),
            organization_id: org,
            project_id: project,
            parent_id: None,
            title: ok(Title::parse("Review")),
            description: ok(Description::parse("description", "the PR")),
            status: TaskStatus::Running,
            priority: ok(Priority::parse(-3)),
            payload: ok(Payload::parse(json!({"repo": "acme/api", "n": [1, 2.5]}))),
            required_capabilities: ok(Capabilities::parse(&["review"])),
            metadata: Metadata::default(),
            assigned_agent_id: Some(agent_id),
            estimated_minutes: Some(ok(Effort::parse(30))),
            progress: ok(Progress::parse(40)),
            tags: ok(Tags::parse(&["urgent"])),
            attempts: 1,
            max_attempts: MaxAttempts::default(),
            run_after: None,
            rate_limits: ok(RateLimitUses::parse(&[RawRateLimitUse {
                name: "api".into(),
                units: 1,
            }])),
            idempotency_key: Some(ok(IdempotencyKey::parse("run-1"))),
            concurrency: Some(TaskConcurrency {
                key: ok(ConcurrencyKey::parse("repo:acme")),
                limit: ok(ConcurrencyLimit::parse(2)),
                strategy: ConcurrencyStrategy::CancelNewest,
            }),
            fairness: Some(TaskFairness {
                key: ok(FairnessKey::parse("tenant-1")),
                weight: ok(FairnessWeight::parse(3)),
            }),
            result: None,
            error: None,
            payload_bytes: None,
            result_bytes: None,
            lease_expires_at: Some(now + Duration::minutes(5)),
            started_at: Some(now),
            finished_at: None,
            created_at: now,
            updated_at: now,
            revision: ok(Revision::parse(2)),
        };
        round_trips(&task);
        // A large payload is left out of the answer and its size given instead.
        round_trips(&Task {
            payload: Payload::default(),
            payload_bytes: Some(5_000_000),
            ..task
        });
        round_trips(&WorkflowExecution {
            id: WorkflowExecutionId::new(),
            organization_id: org,
            workflow_id: WorkflowId::new(),
            version_id: WorkflowVersionId::new(),
            version: 2,
            status: ExecutionStatus::Succeeded,
            input: ok(Payload::parse(json!({"branch": "main"}))),
            output: Some(ok(Payload::parse(json!([1, 2])))),
            error: None,
            parent_task_id: None,
            started_at: Some(now),
            finished_at: Some(now),
            created_at: now,
            updated_at: now,
            revision: ok(Revision::parse(3)),
        });
        round_trips(&WorkflowVersion {
            id: WorkflowVersionId::new(),
            organization_id: org,
            workflow_id: WorkflowId::new(),
            version: 1,
            definition: ok(WorkflowDefinition::parse(json!({"steps": [
                {"name": "build"},
                {"name": "test", "depends_on": ["build"]},
            ]}))),
            created_at: now,
        });
        let parameters = ok(TemplateParameters::from_json(json!([
            {"name": "repo", "required": true},
            {"name": "prio", "default": 5, "description": "how urgent"},
        ])));
        let body = ok(TemplateBody::parse(
            TemplateKind::Task,
            &parameters,
            json!({"tasks": [{"title": "Review {{repo}}", "priority": "{{prio}}"}]}),
        ));
        let template = Template {
            id: TemplateId::new(),
            organization_id: org,
            name: ok(Name::parse("name", "review")),
            description: Description::empty(),
            kind: TemplateKind::Task,
            parameters: parameters.clone(),
            body: body.clone(),
            usage_count: 7,
            created_at: now,
            updated_at: now,
            revision: Revision::FIRST,
        };
        round_trips(&template);
        round_trips(&MarketplaceItem {
            id: MarketplaceItemId::new(),
            name: ok(Name::parse("name", "review")),
            version: 1,
            kind: MarketplaceKind::Template,
            description: Description::empty(),
            tags: Tags::default(),
            readme: ok(Description::parse("readme", "# Review")),
            content: MarketplaceContent::Template {
                template_kind: TemplateKind::Task,
                parameters,
                body,
            },
            publisher: ok(Name::parse("name", "Acme")),
            published_by_caller: true,
            published_at: now,
            unpublished_at: None,
        });
        round_trips(&MarketplaceContent::Workflow {
            definition: ok(WorkflowDefinition::parse(json!({"steps": [{"name": "a"}]}))),
        });
        round_trips(&KnowledgeEntry {
            id: KnowledgeEntryId::new(),
            organization_id: org,
            title: ok(EntryTitle::parse("Deploys")),
            content: ok(EntryContent::parse("  Run make deploy.\n")),
            tags: ok(Tags::parse(&["ops"])),
            source: Some(ok(EntrySource::parse("wiki"))),
            project_id: Some(project),
            metadata: Metadata::default(),
            created_by: format!("user:{user_id}"),
            embeddings: vec![ok(CollectionName::parse("text-embedding-3-small"))],
            created_at: now,
            updated_at: now,
            revision: Revision::FIRST,
        });
        round_trips(&Alert {
            id: AlertId::new(),
            organization_id: org,
            severity: AlertSeverity::Critical,
            source: ok(SourceName::parse("scheduler")),
            fingerprint: ok(Fingerprint::parse("disk full")),
            message: ok(AlertMessage::parse("disk full")),
            details: ok(Metadata::parse("details", json!({"free": 0}))),
            status: AlertStatus::Acknowledged,
            occurrences: 2,
            first_raised_at: now,
            last_raised_at: now,
            acknowledged_by: Some("system".into()),
            acknowledged_at: Some(now),
            resolved_by: None,
            resolved_at: None,
            updated_at: now,
        });
        round_trips(&Schedule {
            id: ScheduleId::new(),
            organization_id: org,
            name: ok(Name::parse("name", "nightly")),
            cron: ok(CronSchedule::parse("0 30 2 * * MON-FRI")),
            time_zone: ok(TimeZone::parse("Europe/Paris")),
            misfire_policy: MisfirePolicy::CatchUpOne,
            target: ScheduleTarget::Task(ScheduledTask {
                project_id: project,
                title: ok(Title::parse("Nightly build")),
                description: Description::empty(),
                priority: Priority::default(),
                payload: Payload::default(),
                required_capabilities: Capabilities::default(),
                tags: Tags::default(),
                max_attempts: MaxAttempts::default(),
            }),
            enabled: true,
            next_run_at: Some(now),
            last_run_at: None,
            last_outcome: None,
            created_at: now,
            updated_at: now,
            revision: Revision::FIRST,
        });
        let secret = ApiKeySecret::new(org, ApiKeyId::new(), [1; 32]);
        let key = ApiKey {
            id: secret.id(),
            organization_id: org,
            owner: KeyOwner::Agent(agent_id),
            name: ok(Name::parse("name", "worker-1")),
            scopes: ok(KeyScopes::parse(&["tasks:write", "tasks:read"])),
            created_by: format!("user:{user_id}"),
            created_at: now,
            expires_at: Some(now + Duration::days(30)),
            last_used_at: None,
            revoked_at: None,
        };
        round_trips(&key);
        round_trips(&ApiKey {
            owner: KeyOwner::User(user_id),
            scopes: KeyScopes::owners(),
            ..key.clone()
        });
        let issued: IssuedApiKey = serde_json::from_str(
            &serde_json::to_string(&IssuedApiKey {
                key: key.clone(),
                secret: secret.clone(),
            })
            .expect("serialize"),
        )
        .expect("read back");
        assert_eq!((issued.key, issued.secret), (key, secret));
        refuses::<KeyOwner>(json!({"agent_id": null, "user_id": null}), "exactly one");
    }

    #[test]
    fn collaboration_records_read_back_equal() {
        let now = Utc::now();
        let org = OrganizationId::new();
        let agent = Participant::Agent(AgentId::new());
        let user = Participant::User(UserId::new());

        round_trips(&Proposal {
            id: ProposalId::new(),
            organization_id: org,
            title: ok(ProposalTitle::parse("Adopt Rust")),
            body: ok(ProposalBody::parse("Why:\n\tspeed")),
            kind: ProposalKind::YesNo,
            tallies: vec![OptionTally {
                option: ok(OptionLabel::parse("yes")),
                votes: 3,
            }],
            votes_cast: 3,
            quorum: ok(Quorum::parse(2)),
            threshold: ok(Threshold::parse(0.6667)),
            eligibility: ok(Eligibility::parse(
                vec![ok(RoleCode::parse("roles", "developer"))],
                vec![AgentKind::Ai],
            )),
            allow_vote_change: false,
            opens_at: now,
            closes_at: now + Duration::days(1),
            status: ProposalStatus::Closed,
            result: Some(ProposalResult::Passed),
            winning_option: Some(ok(OptionLabel::parse("yes"))),
            closed_by: Some(ClosedBy::Time),
            closed_at: Some(now),
            created_at: now,
        });
        round_trips(&Reward {
            id: RewardId::new(),
            organization_id: org,
            recipient: agent,
            value: RewardValue::Permission {
                permission: ok("tasks:write".parse()),
                duration_seconds: 3600,
            },
            reason: ok(SanctionReason::parse("shipped")),
            status: RewardStatus::Allocated,
            allocated_by: "system".into(),
            allocated_at: now,
            expires_at: None,
            redeemed_at: None,
            redeemed_by: None,
        });
        round_trips(&Penalty {
            id: PenaltyId::new(),
            organization_id: org,
            violation_id: ViolationId::new(),
            holder: user,
            value: PenaltyValue::Points {
                points: -50,
                point_award_id: PointAwardId::new(),
            },
            reason: ok(SanctionReason::parse("spam")),
            status: PenaltyStatus::Applied,
            applied_by: "system".into(),
            applied_at: now,
            ended_at: None,
            restored_award_id: None,
        });
        let mentorship = Mentorship {
            id: MentorshipId::new(),
            organization_id: org,
            mentor: user,
            mentee: agent,
            goals: ok(MentorshipGoals::parse(&["review".into(), "tests".into()])),
            status: MentorshipStatus::Active,
            created_at: now,
            started_at: Some(now),
            ended_at: None,
        };
        round_trips(&mentorship);
        round_trips(&LeaderboardEntry {
            rank: 1,
            holder: agent,
            score: 75.0,
        });
        round_trips(&LeaderboardEntry {
            rank: 2,
            holder: user,
            score: 2.125,
        });
        round_trips(&ok(LevelThresholds::parse(
            LevelThresholds::standard().steps().to_vec(),
        )));
        round_trips(&ok(LeaderboardWeights::parse(1.0, 0.5, 2.0)));
        round_trips(&EloSettings::standard());
        round_trips(&ok(Placements::parse(
            [(AgentId::new(), 1), (AgentId::new(), 1)]
                .into_iter()
                .collect(),
        )));
        round_trips(&MatchSubject::Challenge(ok(Challenge::parse("chess"))));
        round_trips(&ok(AnalyticsWindow::parse(None, None, now)));
    }
}
