//! The contract suite: what every [`Store`] must do, as plain generic async functions, one
//! module per aggregate.
//!
//! Each case takes a freshly migrated store that it owns. [`contract_suite!`] expands every
//! case into `sqlite::<aggregate>::<case>`, `postgres::<aggregate>::<case>` and
//! `dyn_store::<aggregate>::<case>` tests.
//!
//! [`contract_suite!`]: crate::contract_suite

pub mod agents;
pub mod analytics;
pub mod collaboration;
pub mod idempotency;
pub mod isolation;
pub mod knowledge;
pub mod marketplace;
pub mod messaging;
pub mod observability;
pub mod retention;
pub mod revisions;
pub mod store;
pub mod templates;
pub mod tenancy;
pub mod work;
pub mod workflows;

use orchestore_domain::{
    Email, Name, NewTask, NewUser, Password, PasswordHash, ProjectId, SystemRole, Title,
};
use orchestore_repo::RepoError;

use crate::TEST_BCRYPT_COST;

/// Expands the contract cases into tests for SQLite, PostgreSQL and `Arc<dyn Store>`. A new
/// case is a `pub async fn` in its aggregate's module, named in this list. The cases after a
/// `;` in an aggregate's list also take the [`TestDb`](crate::TestDb), to change the database
/// behind the store's back.
#[macro_export]
macro_rules! contract_suite {
    () => {
        $crate::contract_suite!(@cases
            tenancy {
                organization_is_created_once_per_slug,
                organization_and_owner_are_created_together,
                users_have_unique_emails_and_role_permissions,
                emails_are_unique_per_organization_and_private,
                login_checks_the_password,
                sessions_rotate_and_revoke,
                a_replayed_refresh_token_revokes_its_session,
                sessions_are_listed_and_revoked_by_their_owner,
                the_standing_falls_when_access_shrinks,
                a_standing_falls_when_its_transaction_commits,
                passwords_change_with_the_current_one,
                instance_setting_keeps_the_first_value,
                seeded_grants_cover_every_permission,
                users_are_found_by_email_and_username,
                users_list_by_filter_and_sort,
                users_are_updated_and_audited,
                deactivation_keeps_an_active_owner,
                roles_are_assigned_and_removed,
                users_are_created_with_custom_roles,
                custom_roles_are_scoped_to_the_organization,
                system_roles_cannot_change,
                deleting_a_held_role_conflicts,
                invitations_are_issued_and_accepted_once,
                an_invitation_is_accepted_once_under_concurrency,
                expired_and_revoked_invitations_are_spent,
                invitations_check_the_address_and_the_roles,
                invitations_of_another_organization_are_invisible,
                pending_invitations_are_paged,
                agent_keys_authenticate_their_agent_until_revoked,
                user_keys_grant_their_scopes_that_the_owner_holds,
                expired_and_revoked_keys_are_refused,
                a_deactivated_users_keys_stop_at_once,
                keys_of_another_organization_are_invisible,
            }
            work {
                project_crud_is_scoped_to_the_organization,
                project_names_are_unique_per_organization,
                task_crud_and_filters,
                task_status_follows_the_state_machine,
                task_pages_are_stable_under_inserts,
                tasks_sort_by_priority_highest_first,
                task_needs_a_project_of_the_same_organization,
                deleting_a_project_deletes_its_tasks,
                tasks_carry_subtasks_agents_and_scheduling_fields,
                idempotency_keys_are_unique_per_organization,
                dependencies_block_and_release_tasks,
                a_dependency_that_closes_a_cycle_is_refused,
                a_failure_cancels_the_blocked_dependents_transitively,
                a_task_created_with_dependencies_starts_blocked,
                every_status_change_is_in_the_task_history,
                claiming_a_task_needs_an_agent_that_can_run_it,
                task_stats_count_by_status_and_priority_and_time_runs,
                a_task_with_subtasks_is_not_deleted,
                deleting_an_agent_unassigns_its_tasks,
                claims_take_the_highest_priority_oldest_tasks_the_agent_can_run,
                only_the_current_lease_token_ends_a_run,
                failures_back_off_then_land_in_the_dead_letter,
                a_cancelled_run_is_told_at_its_next_heartbeat,
                cancelling_a_task_cancels_its_subtasks_and_dependents_at_every_depth,
                a_running_descendant_learns_its_cancellation_at_its_next_heartbeat,
                cancelling_a_task_cancels_the_executions_started_from_it,
                cancelling_an_execution_cancels_its_child_executions_and_subtasks,
                a_tree_of_thousands_is_cancelled_in_one_call,
                expired_leases_return_to_the_queue_or_fail,
                a_waiting_claim_wakes_when_work_is_queued,
                a_task_reaches_the_waiting_claim_that_may_run_it,
                concurrent_claims_never_share_a_task,
                claims_arriving_together_each_get_what_their_agent_may_run,
                a_claim_is_a_heartbeat_and_an_inactive_agent_claims_nothing,
                queue_stats_count_what_waits_and_what_ran,
                queue_depth_counts_every_organization,
                a_task_alone_is_written_with_its_history_and_audit_row_or_not_at_all,
                creates_arriving_together_are_each_written_whole_and_fail_alone,
                a_batch_of_thousands_is_enqueued_in_one_call,
                re_enqueueing_answers_the_first_tasks_and_writes_nothing,
                a_fault_in_a_batch_writes_nothing,
                a_batch_waits_for_tasks_in_it_and_outside_it,
                concurrent_enqueues_of_one_key_create_one_task,
                a_batch_of_completions_ends_each_run_or_says_why_not,
                a_task_that_gains_a_dependent_while_running_queues_it_on_success,
                an_import_writes_tasks_in_their_final_state_with_their_graph,
                a_reimport_updates_in_place_and_reports_what_it_leaves,
                a_faulty_import_or_a_dry_run_writes_nothing,
                schedules_are_created_listed_changed_and_deleted,
                each_due_occurrence_fires_once,
                missed_occurrences_follow_the_misfire_policy,
                paused_schedules_do_not_fire,
                a_workflow_schedule_starts_an_execution,
                bad_schedules_are_refused_and_write_nothing,
                a_small_backlog_is_not_starved_by_a_large_one,
                shared_claims_follow_the_shares_and_stay_in_the_organization,
                organizations_join_and_leave_the_shared_fleet,
                concurrent_shared_claims_take_each_task_once,
                a_small_key_is_not_starved_by_a_large_one,
                weights_divide_the_turns_of_the_keys,
                concurrent_claimers_serve_the_keys_in_turn,
                rate_limits_are_created_listed_changed_and_deleted,
                tasks_name_buckets_that_exist_and_can_serve_them,
                claims_take_tokens_and_pass_over_tasks_whose_bucket_is_empty,
                concurrent_claims_never_overdraw_a_bucket,
                claims_never_run_more_tasks_of_a_key_than_its_limit,
                claiming_a_task_of_a_full_key_says_why,
                cancel_newest_creates_the_tasks_over_the_limit_cancelled,
                the_latest_enqueue_sets_a_keys_limit;
                concurrent_firers_fire_each_occurrence_once,
                a_bucket_refills_by_the_time_elapsed_on_a_fixed_clock,
                megabyte_payloads_round_trip_out_of_the_hot_row,
                a_batch_mixes_inline_and_large_payloads,
                a_null_payload_stays_null_on_every_create_path,
            }
            agents {
                agent_crud_is_scoped_to_the_organization,
                agent_names_are_unique_per_organization,
                agents_are_found_by_capability_status_and_kind,
                heartbeats_bring_an_agent_back_and_stats_follow,
            }
            messaging {
                messages_are_sent_counted_and_scoped_to_the_organization,
                sending_needs_participants_and_a_task_of_the_organization,
                conversations_list_by_thread_task_and_participant,
                mark_read_is_idempotent_and_unread_counts_follow,
                deleting_an_agent_or_a_task_deletes_its_messages,
            }
            workflows {
                workflow_crud_is_scoped_to_the_organization,
                workflow_names_are_unique_per_organization,
                versions_are_numbered_from_one_and_read_back,
                executions_run_the_latest_or_a_named_version,
                executions_filter_by_workflow_and_status,
                deleting_a_workflow_takes_its_versions_unless_it_has_executions,
                an_execution_runs_each_step_as_a_task_after_its_dependencies,
                an_execution_succeeds_with_the_results_of_its_steps,
                a_step_that_fails_for_good_fails_its_execution,
                an_expired_last_attempt_fails_its_execution,
                cancelling_a_step_task_cancels_its_execution,
                cancelling_an_execution_cancels_its_unfinished_tasks,
                a_refused_execution_writes_nothing,
                the_tasks_of_a_running_execution_stay,
                steps_that_end_at_once_are_all_counted,
                execution_steps_are_logged_in_order_and_filtered,
                a_step_is_recorded_only_for_a_step_of_an_execution,
                learning_records_are_written_read_and_audited,
                learning_records_are_found_by_pattern_exactly_and_by_prefix,
                learning_records_are_found_by_context_alike_on_both_backends,
                learning_records_page_by_score,
                a_signal_resumes_a_waiting_step,
                a_signal_is_refused_unless_its_step_waits,
                a_timed_out_wait_takes_its_timeout_branch,
                a_timed_out_wait_without_a_branch_fails_its_execution,
                a_wait_for_a_time_ends_once_when_it_comes,
                cancelling_an_execution_closes_its_waits,
            }
            analytics {
                ;
                workflow_analytics_count_and_time_executions_of_the_window,
                task_kinds_count_attempts_and_time_the_tasks_that_ended,
                template_analytics_follow_what_the_uses_produced,
            }
            templates {
                template_crud_is_scoped_to_the_organization,
                instantiating_a_task_template_creates_its_tasks,
                instantiating_a_workflow_template_writes_a_version,
                a_refused_workflow_instantiation_writes_nothing,
                a_workflow_template_runs_in_one_transaction,
            }
            knowledge {
                entry_crud_is_scoped_to_the_organization,
                text_search_ranks_by_relevance_and_highlights,
                text_search_applies_filters_inside_the_query,
                search_follows_updates_and_deletes,
                vectors_need_their_collections_dimension,
                vector_search_orders_by_cosine_similarity,
                hybrid_search_fuses_the_ranks,
                another_organizations_entries_never_appear_in_search,
            }
            marketplace {
                published_items_are_browsed_and_searched_by_every_organization,
                publishing_a_name_again_makes_its_next_version,
                installing_copies_the_item_and_records_its_source,
                unpublished_items_are_hidden_and_installs_keep_their_copies,
            }
            collaboration {
                points_add_up_to_totals_experience_and_levels,
                points_need_a_holder_of_the_organization,
                concurrent_point_awards_never_lose_an_update,
                match_results_move_ratings_by_elo,
                newcomers_move_by_the_provisional_k,
                a_finished_match_takes_no_second_result,
                leaderboards_rank_by_points_and_rating,
                rank_settings_are_kept_and_audited,
                reputation_decays_by_its_half_life,
                task_outcomes_feed_reliability,
                the_feeder_records_each_ending_once,
                an_ending_a_client_recorded_is_not_fed_again,
                concurrent_feeders_and_clients_count_each_ending_once,
                the_feeder_keeps_a_watermark_per_organization,
                a_reward_is_redeemed_once_by_its_recipient,
                granted_permissions_count_until_they_expire,
                an_overturned_appeal_restores_what_the_penalty_took,
                suspensions_end_by_themselves_and_are_swept,
                sanctions_are_counted_per_organization_and_holder,
                brainstorms_gather_ideas_and_votes,
                a_closed_brainstorm_takes_no_ideas_or_votes,
                brainstorm_input_is_checked,
                concurrent_votes_never_lose_an_update,
                mentorships_move_through_their_lifecycle,
                mentorship_rules_are_kept,
                mentor_stats_count_sessions_and_latest_progress,
                votes_are_tallied_changed_in_place_and_audited,
                bad_proposals_and_votes_are_refused_and_write_nothing,
                eligibility_admits_roles_and_agent_kinds,
                due_proposals_close_once_by_the_clock,
                a_vote_after_the_closing_time_is_refused_without_a_sweep,
                proposals_close_and_cancel_by_hand,
                closers_at_once_write_one_result,
                achievements_are_awarded_once_with_their_points,
                concurrent_awards_of_one_achievement_give_it_once,
                a_summary_gathers_standing_achievements_and_reputation,
                reputation_ranks_agents_as_their_reputation_reads,
                combined_ranks_by_the_weights_from_its_snapshot,
                snapshots_are_kept_and_the_hall_of_fame_counts_them,
            }
            observability {
                mutations_write_audit_rows_in_their_transaction,
                secrets_never_reach_the_audit_log,
                audit_rows_list_by_filter,
                sealing_chains_the_rows_of_each_organization,
                the_audit_backlog_counts_the_unsealed_rows_of_every_organization,
                concurrent_mutations_are_each_sealed_once,
                sealers_running_at_once_never_fork_the_chain,
                events_are_recorded_and_filtered_newest_first,
                events_name_only_rows_of_the_organization,
                components_are_registered_listed_and_changed,
                communications_are_queried_by_component_and_time_range,
                health_keeps_its_history_and_the_latest_state,
                metrics_are_bucketed_with_min_max_mean_count_and_p95,
                a_batch_of_thousands_of_samples_is_recorded_in_one_call,
                alerts_move_from_open_to_acknowledged_to_resolved,
                a_raise_while_unresolved_is_counted_not_duplicated,
                concurrent_raises_count_on_one_alert;
                an_edited_row_is_named,
                a_removed_row_is_named,
                swapped_rows_are_named,
                a_removed_tail_is_named,
                a_tampered_head_is_named,
            }
            retention {
                retention_policies_are_set_read_and_audited,
                a_purge_deletes_exactly_what_is_past_its_age,
                finished_tasks_that_live_work_refers_to_are_kept,
                reputation_outlives_the_tasks_it_came_from,
                purging_audit_rows_keeps_the_chain_verifiable,
            }
            idempotency {
                a_key_is_taken_once_and_replays_its_answer,
                keys_belong_to_their_caller,
                an_abandoned_key_runs_again,
                expired_keys_are_purged_in_batches,
            }
            isolation {
                another_organization_reaches_nothing_through_any_method,
            }
            revisions {
                every_write_moves_the_revision_on,
                a_stale_revision_writes_nothing,
                settings_are_revised_and_a_stale_write_writes_nothing,
                two_first_writes_of_settings_at_once_write_one,
                unconditional_writes_of_settings_at_once_each_diff_what_they_replaced,
            }
            store {
                health_reports_backend_and_migrations,
                transactions_commit_or_roll_back_everything,
                a_refused_call_leaves_the_transaction_usable,
                one_transaction_takes_concurrent_calls_in_turn,
                the_database_reports_its_version_pool_statements_and_tables,
            }
        );
    };
    (@cases $($aggregate:ident {
        $($case:ident),* $(,)? $(; $($db_case:ident),* $(,)?)?
    })*) => {
        mod sqlite {
            $(mod $aggregate {
                $(
                    #[tokio::test]
                    async fn $case() {
                        let db = $crate::TestDb::sqlite().await;
                        $crate::cases::$aggregate::$case(db.store()).await;
                    }
                )*
                $($(
                    #[tokio::test]
                    async fn $db_case() {
                        let db = $crate::TestDb::sqlite().await;
                        $crate::cases::$aggregate::$db_case(db.store(), &db).await;
                    }
                )*)?
            })*
        }

        mod postgres {
            $(mod $aggregate {
                $(
                    #[tokio::test]
                    async fn $case() {
                        let Some(db) = $crate::TestDb::postgres().await else {
                            return;
                        };
                        $crate::cases::$aggregate::$case(db.store()).await;
                    }
                )*
                $($(
                    #[tokio::test]
                    async fn $db_case() {
                        let Some(db) = $crate::TestDb::postgres().await else {
                            return;
                        };
                        $crate::cases::$aggregate::$db_case(db.store(), &db).await;
                    }
                )*)?
            })*
        }

        mod dyn_store {
            $(mod $aggregate {
                $(
                    #[tokio::test]
                    async fn $case() {
                        let db = $crate::TestDb::sqlite().await;
                        let store: ::std::sync::Arc<dyn ::orchestore_repo::Store> =
                            ::std::sync::Arc::new(db.store().clone());
                        $crate::cases::$aggregate::$case(store.as_ref()).await;
                    }
                )*
                $($(
                    #[tokio::test]
                    async fn $db_case() {
                        let db = $crate::TestDb::sqlite().await;
                        let store: ::std::sync::Arc<dyn ::orchestore_repo::Store> =
                            ::std::sync::Arc::new(db.store().clone());
                        $crate::cases::$aggregate::$db_case(store.as_ref(), &db).await;
                    }
                )*)?
            })*
        }
    };
}

pub(crate) const PASSWORD: &str = "correct horse battery";

pub(crate) fn title(text: &str) -> Title {
    Title::parse(text).expect("test title")
}

pub(crate) fn task(project: ProjectId, text: &str) -> NewTask {
    NewTask::titled(project, title(text))
}

pub(crate) fn new_user(email: &str, roles: Vec<SystemRole>) -> NewUser {
    let password = Password::parse(PASSWORD).expect("test password");
    NewUser {
        email: Email::parse(email).expect("test email"),
        username: None,
        display_name: Name::parse("display_name", "Someone").expect("test name"),
        password_hash: PasswordHash::hash(&password, TEST_BCRYPT_COST).expect("hash"),
        roles: roles.into_iter().map(Into::into).collect(),
    }
}

pub(crate) fn assert_not_found<T: std::fmt::Debug>(result: Result<T, RepoError>, entity: &str) {
    match result {
        Err(RepoError::NotFound { entity: found, .. }) => assert_eq!(found, entity),
        other => panic!("expected {entity} not found, got {other:?}"),
    }
}

/// Asserts a conflict on `field` (a taken unique value), or on the row itself when `None`.
pub(crate) fn assert_conflict<T: std::fmt::Debug>(
    result: Result<T, RepoError>,
    field: Option<&str>,
) {
    match result {
        Err(RepoError::Conflict { field: found, .. }) => assert_eq!(found, field),
        other => panic!("expected a conflict on {field:?}, got {other:?}"),
    }
}

/// Asserts a reference error: input `field` names a row this organization does not have.
pub(crate) fn assert_reference<T: std::fmt::Debug>(result: Result<T, RepoError>, field: &str) {
    match result {
        Err(RepoError::Reference { field: found, .. }) => assert_eq!(found, field),
        other => panic!("expected a reference error on {field}, got {other:?}"),
    }
}

/// Asserts a refused value: a [`DomainError`](orchestore_domain::DomainError) on `field`.
pub(crate) fn assert_invalid<T: std::fmt::Debug>(result: Result<T, RepoError>, field: &str) {
    match result {
        Err(RepoError::Invalid(error)) => assert_eq!(error.field(), Some(field), "{error}"),
        other => panic!("expected an invalid {field}, got {other:?}"),
    }
}

/// Asserts a refused edge that closes a cycle on `field`; returns the cycle's path.
pub(crate) fn assert_cycle<T: std::fmt::Debug>(
    result: Result<T, RepoError>,
    field: &str,
) -> Vec<String> {
    match result {
        Err(RepoError::Invalid(orchestore_domain::DomainError::Cycle { field: found, path })) => {
            assert_eq!(found, field);
            path
        }
        other => panic!("expected a cycle on {field}, got {other:?}"),
    }
}
