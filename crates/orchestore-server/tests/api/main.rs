//! The HTTP API, tested as a client uses it: a server on port 0 over a database each test
//! owns, on SQLite and on PostgreSQL. One file per resource; `helpers` has what they share.

/// Runs each case once on a migrated SQLite file and once on a migrated PostgreSQL database, as
/// `sqlite::<case>` and `postgres::<case>`: the cases that run the built binary, which needs a
/// database another process can open.
macro_rules! on_file_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let dir = tempfile::tempdir().expect("tempdir");
                    super::$case(orchestore_testkit::TestDb::sqlite_file(dir.path()).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(db) = orchestore_testkit::TestDb::postgres().await else {
                        return;
                    };
                    super::$case(db).await;
                }
            )*
        }
    };
}

mod agents;
mod alerts;
mod analytics;
mod api_keys;
mod audit;
mod auth;
mod binary;
mod boards;
mod brainstorms;
mod cli;
mod client_admin;
mod client_agents;
mod client_collaboration;
mod client_coverage;
mod client_knowledge;
mod client_ops;
mod client_projects;
mod client_ranks;
mod client_sanctions;
mod client_tenancy;
mod client_users;
mod client_work;
mod components;
mod conditional;
mod coverage;
mod docs;
mod events;
mod health;
mod helpers;
mod idempotency;
mod invitations;
mod knowledge;
mod leaderboards;
mod marketplace;
mod matches;
mod matrix;
mod messages;
mod metrics;
mod migrate_cli;
mod openapi;
mod points;
mod problems;
mod projects;
mod prometheus;
mod proposals;
mod queue;
mod rate_limits;
mod rejections;
mod retention;
mod roles;
mod sanctions;
mod schedules;
mod seed;
mod sessions;
mod shutdown;
mod signup;
mod taskmaster;
mod tasks;
mod tasks_batch;
mod templates;
mod transfer;
mod users;
mod waits;
mod workflows;

/// Runs each case once per backend: `sqlite::<resource>::<case>` and
/// `postgres::<resource>::<case>`.
macro_rules! on_every_backend {
    ($($resource:ident { $($case:ident),* $(,)? })*) => {
        mod sqlite {
            $(mod $resource {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $case() {
                        let db = orchestore_testkit::TestDb::sqlite().await;
                        let app = crate::helpers::spawn(db).await;
                        crate::$resource::$case(&app).await;
                    }
                )*
            })*
        }

        mod postgres {
            $(mod $resource {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $case() {
                        let Some(db) = orchestore_testkit::TestDb::postgres().await else {
                            return;
                        };
                        let app = crate::helpers::spawn(db).await;
                        crate::$resource::$case(&app).await;
                    }
                )*
            })*
        }
    };
}

on_every_backend! {
    openapi {
        the_document_is_served_without_credentials,
    }
    docs {
        the_page_and_every_file_it_loads_come_from_the_server,
        files_are_revalidated_by_their_etag,
        an_unknown_file_is_a_404_problem_and_the_page_can_be_off,
    }
    analytics {
        workers_record_the_steps_of_an_execution,
        learning_records_are_searched_by_pattern_and_context,
        analytics_report_over_a_bounded_window,
        the_database_is_shown_to_the_operating_organization_only,
    }
    events {
        events_are_recorded_one_or_by_the_batch_and_filtered,
        event_input_is_checked,
    }
    components {
        components_are_registered_and_changed,
        health_is_reported_and_read_latest_first,
        communications_are_recorded_and_queried,
    }
    metrics {
        samples_are_recorded_and_read_in_buckets,
        metric_input_and_ranges_are_checked,
    }
    alerts {
        alert_lifecycle,
        an_agents_key_reports_but_does_not_register,
    }
    points {
        points_are_awarded_listed_and_summed,
        bad_awards_are_refused_and_nothing_is_written,
    }
    sanctions {
        rewards_are_redeemed_once_and_appeals_restore_points,
        suspensions_and_grants_rule_an_agents_key_and_a_users_token,
    }
    matches {
        a_match_result_moves_ratings_once,
        bad_matches_and_results_are_refused,
        reputation_events_and_task_outcomes,
        the_server_feeds_task_outcomes_into_reputation,
    }
    leaderboards {
        leaderboards_rank_holders,
        settings_are_read_and_replaced,
    }
    retention {
        the_retention_policy_is_read_replaced_and_checked,
    }
    boards {
        achievements_are_awarded_once_and_summarised,
        snapshots_weights_and_the_hall_of_fame,
        the_server_takes_scheduled_snapshots,
    }
    auth {
        login_issues_tokens_and_refuses_bad_credentials_alike,
        routes_need_a_valid_bearer_token,
        missing_permission_is_forbidden,
        replicas_share_the_generated_jwt_key,
        failed_logins_are_limited_per_account_and_address,
    }
    api_keys {
        personal_keys_are_created_listed_and_revoked,
        scopes_bound_what_a_key_may_do,
        expired_revoked_and_malformed_keys_are_unauthenticated,
        a_key_cannot_do_what_needs_a_login,
        administrators_list_and_revoke_users_keys,
        agent_keys_take_scopes_and_an_expiry,
    }
    sessions {
        a_replayed_refresh_token_ends_the_session,
        logout_stops_both_tokens_at_once,
        sessions_are_listed_and_revoked,
        deactivation_and_cut_permissions_stop_tokens_at_once,
        another_replica_learns_of_a_revocation_within_the_interval,
        passwords_change_with_the_current_one_and_the_policy,
        bytes_past_the_72nd_never_log_in,
        new_users_get_the_password_policy,
    }
    queue {
        workers_claim_heartbeat_and_complete,
        concurrency_keys_limit_claims_over_http,
        fairness_keys_spread_claims_over_http,
        failures_retry_then_dead_letter_and_cancel,
        claims_check_their_input,
        a_waiting_claim_answers_when_work_arrives,
        a_worker_authenticates_with_its_agents_api_key,
        a_dead_workers_late_completion_is_refused,
        a_worker_completes_what_it_claimed_in_one_call,
        megabyte_payloads_round_trip,
    }
    conditional {
        a_read_is_tagged_and_a_repeated_read_is_not_modified,
        a_stale_if_match_is_refused_and_writes_nothing,
        a_task_is_cancelled_only_at_the_revision_read,
        every_patchable_resource_is_tagged,
        settings_are_tagged_and_replaced_only_at_the_revision_read,
        a_settings_reply_sent_back_applies_only_at_its_revision,
    }
    projects {
        project_crud,
        duplicate_project_name_conflicts,
        another_organization_is_not_found,
    }
    tasks {
        nul_characters_are_refused_on_every_backend,
        tasks_list_by_priority_and_empty_parameters_are_absent,
        task_pages_neither_skip_nor_repeat,
        tasks_filter_by_status_and_project,
        task_patch_follows_the_state_machine,
        task_graph_fields_are_written_read_and_filtered,
        dependencies_block_release_and_refuse_cycles,
        task_stats_for_the_organization_and_a_project,
    }
    idempotency {
        a_retry_gets_the_first_answer_and_creates_nothing,
        the_same_key_for_another_request_is_refused,
        two_requests_at_once_make_one_creation,
        keys_belong_to_their_caller_and_refusals_are_kept,
    }
    rate_limits {
        rate_limits_are_managed_and_hold_back_claims,
        bad_rate_limits_are_refused_naming_the_field,
    }
    schedules {
        schedules_are_created_paused_resumed_and_previewed,
        bad_schedules_are_refused_naming_the_field,
        two_replicas_fire_each_occurrence_once,
    }
    tasks_batch {
        a_batch_is_enqueued_and_answered_in_order,
        batch_errors_name_the_task_and_write_nothing,
        large_batches_fit_and_need_the_permission,
    }
    audit {
        audit_logs_list_by_filter,
        audit_logs_need_audit_read,
        another_organization_sees_none_of_our_audit_rows,
        the_chain_is_verified_for_its_organization,
        the_server_seals_the_log,
    }
    agents {
        agent_lifecycle,
        agent_input_is_checked,
    }
    signup {
        sign_up_is_closed_by_default,
        sign_up_creates_an_organization_and_logs_its_owner_in,
        sign_up_input_is_checked,
        sign_ups_are_limited_per_address,
    }
    invitations {
        invitation_lifecycle,
        revoked_expired_and_unknown_tokens_are_one_404,
        invitation_input_is_checked,
        another_organization_sees_no_invitations,
    }
    users {
        user_lifecycle,
        user_input_is_checked,
        the_last_owner_stays,
        user_routes_need_their_permissions,
        users_are_looked_up_by_email_or_username,
        another_organization_sees_no_users,
    }
    roles {
        role_lifecycle,
        role_input_is_checked,
    }
    messages {
        message_lifecycle,
        message_input_is_checked,
    }
    workflows {
        workflow_lifecycle,
        bad_definitions_name_the_steps,
        executions_and_paths_are_checked,
        workflows_need_their_permissions,
        executions_follow_their_tasks,
        cancelling_a_task_reaches_its_subtasks_and_child_executions,
    }
    knowledge {
        entries_are_written_searched_and_highlighted,
        bad_searches_and_vectors_are_422,
    }
    marketplace {
        items_are_published_found_and_installed_elsewhere,
    }
    templates {
        template_lifecycle,
        template_input_is_checked,
        workflow_template_lifecycle,
        workflow_instantiation_input_is_checked,
        a_workflow_template_is_run_in_one_call,
    }
    rejections {
        an_unknown_route_is_404,
        a_wrong_method_is_405_with_allow,
        a_body_over_the_limit_is_413,
        a_body_that_is_not_json_is_415,
        unparsable_json_is_400,
        a_wrong_type_is_400_naming_the_field,
        a_json_array_for_an_object_is_400,
        an_unparsable_path_is_400,
        an_unparsable_query_is_400,
        head_answers_as_get_without_a_body,
        a_malformed_header_is_400,
        too_many_headers_are_431,
    }
    problems {
        malformed_requests_are_problems,
        invalid_fields_are_all_reported_and_nothing_is_written,
        list_parameters_are_checked,
    }
    health {
        health_reports_and_recovers,
        request_ids_are_echoed,
    }
    prometheus {
        a_scrape_shows_requests_the_pool_and_the_queue,
        a_token_guards_the_scrape_and_metrics_can_be_off,
    }
    matrix {
        every_path_answers_only_its_methods,
        each_role_gets_what_its_permissions_allow,
        another_organization_reaches_none_of_our_data,
    }
    brainstorms {
        brainstorms_take_ideas_and_votes_until_closed,
        brainstorm_input_and_callers_are_checked,
        mentorships_pair_and_record_sessions,
        mentorship_input_and_callers_are_checked,
    }
    proposals {
        a_proposal_is_voted_on_and_closed_once,
        bad_proposals_and_votes_are_refused,
    }
    client_projects {
        projects_are_managed_through_the_client,
        a_refusal_carries_its_problem_document,
    }
    client_work {
        tasks_and_their_runs_go_through_the_client,
        workflows_run_through_the_client,
        templates_schedules_and_rate_limits_go_through_the_client,
    }
    client_collaboration {
        brainstorms_gather_ideas_and_votes_through_the_client,
        mentorships_pair_and_record_sessions_through_the_client,
        proposals_are_voted_on_and_closed_through_the_client,
    }
    client_ranks {
        points_and_leaderboards_through_the_client,
        snapshots_and_the_hall_of_fame_through_the_client,
        achievements_are_awarded_and_summarised_through_the_client,
        reputation_and_matches_through_the_client,
    }
    client_sanctions {
        rewards_penalties_and_appeals_through_the_client,
    }
    client_agents {
        agents_are_managed_through_the_client,
        messages_are_sent_and_read_through_the_client,
        an_agent_key_lets_its_worker_act_as_the_agent,
    }
    client_ops {
        components_are_managed_through_the_client,
        events_are_recorded_and_listed_through_the_client,
        metrics_are_recorded_and_queried_through_the_client,
        alerts_are_raised_and_resolved_through_the_client,
        analytics_report_through_the_client,
    }
    client_knowledge {
        knowledge_is_managed_and_searched_through_the_client,
        learning_records_are_kept_through_the_client,
        marketplace_items_are_published_and_installed_through_the_client,
    }
    client_tenancy {
        a_session_is_opened_refreshed_and_ended_through_the_client,
        sessions_and_the_password_are_managed_through_the_client,
        an_organization_signs_up_through_the_client,
    }
    client_admin {
        the_organization_and_the_instance_are_read_through_the_client,
        the_audit_log_is_listed_and_verified_through_the_client,
        the_retention_policy_is_read_and_replaced_through_the_client,
    }
    client_users {
        users_and_their_roles_are_managed_through_the_client,
        roles_are_managed_through_the_client,
        api_keys_are_created_listed_and_revoked_through_the_client,
        an_invitation_is_issued_accepted_and_revoked_through_the_client,
    }
}
