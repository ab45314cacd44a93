//! Rewards, violations, penalties and appeals through the typed client.

use futures_util::TryStreamExt;
use orchestore_client::Credential;
use orchestore_client::api::sanctions::{
    AppealBody, DecisionBody, ListAppealsQuery, ListPenaltiesQuery, ListRewardsQuery,
    ListViolationsQuery, PenaltyBody, RewardBody, ViolationBody,
};
use orchestore_domain::{AppealStatus, Participant, PenaltyStatus, RewardStatus, UserId};

use crate::helpers::*;

pub async fn rewards_penalties_and_appeals_through_the_client(app: &TestApp) {
    let admin = app.admin_client().await;
    let token = app.admin_token().await;
    let dev: UserId = app
        .create_user(&token, "dev@example.test", &["developer"])
        .await["id"]
        .as_str()
        .expect("the user's id")
        .parse()
        .expect("a user id");
    let developer = app.client(Credential::Bearer(
        app.token("dev@example.test", USER_PASSWORD).await,
    ));
    let holder = Participant::User(dev);

    let reward = admin
        .allocate_reward(&RewardBody {
            recipient: holder.into(),
            kind: "points".into(),
            points: Some(40),
            badge: None,
            permission: None,
            duration_seconds: None,
            reason: "fixed the build".into(),
            expires_at: None,
        })
        .await
        .expect("allocated");
    assert_eq!(reward.status, RewardStatus::Allocated);
    assert_eq!(admin.get_reward(reward.id).await.expect("read"), reward);
    let redeemed = developer.redeem_reward(reward.id).await.expect("redeemed");
    assert_eq!(redeemed.reward.status, RewardStatus::Redeemed);
    assert_eq!(redeemed.point_award.map(|award| award.points), Some(40));
    let twice = developer
        .redeem_reward(reward.id)
        .await
        .expect_err("redeemed already");
    assert_eq!(twice.status(), Some(409));
    let rewards = admin
        .list_rewards(&ListRewardsQuery {
            status: Some("redeemed".into()),
            ..Default::default()
        })
        .await
        .expect("a page");
    assert_eq!(rewards.items, std::slice::from_ref(&redeemed.reward));
    let every: Vec<_> = admin
        .list_rewards_stream(&ListRewardsQuery {
            recipient_kind: Some("user".into()),
            recipient_id: Some(dev.as_uuid()),
            limit: Some(1),
            ..Default::default()
        })
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(every, [redeemed.reward]);

    let violation = admin
        .record_violation(&ViolationBody {
            offender: holder.into(),
            rule: "tests pass before merge".into(),
            severity: "medium".into(),
            evidence: "CI run 42 was red".into(),
        })
        .await
        .expect("recorded");
    assert_eq!(
        admin.get_violation(violation.id).await.expect("read"),
        violation
    );
    let by_offender = ListViolationsQuery {
        offender_kind: Some("user".into()),
        offender_id: Some(dev.as_uuid()),
        ..Default::default()
    };
    let violations = admin.list_violations(&by_offender).await.expect("a page");
    assert_eq!(violations.items, std::slice::from_ref(&violation));
    let every: Vec<_> = admin
        .list_violations_stream(&by_offender)
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(every, std::slice::from_ref(&violation));

    let penalty_body = PenaltyBody {
        violation_id: violation.id,
        kind: "points".into(),
        points: Some(15),
        permission: None,
        duration_seconds: None,
        reason: "merged on red".into(),
    };
    let bad = admin
        .apply_penalty(&PenaltyBody {
            points: Some(-3),
            ..penalty_body.clone()
        })
        .await
        .expect_err("refused");
    assert_eq!(bad.status(), Some(422));
    assert!(
        bad.problem()
            .is_some_and(|p| p.errors.iter().any(|e| e.field == "points"))
    );
    let penalty = admin.apply_penalty(&penalty_body).await.expect("applied");
    assert_eq!(penalty.status, PenaltyStatus::Applied);
    assert_eq!(penalty.holder, holder);
    let by_holder = ListPenaltiesQuery {
        holder_kind: Some("user".into()),
        holder_id: Some(dev.as_uuid()),
        ..Default::default()
    };
    let penalties = admin.list_penalties(&by_holder).await.expect("a page");
    assert_eq!(
        penalties.items,
        std::slice::from_ref(&penalty),
        "the refused one wrote nothing"
    );
    let every: Vec<_> = admin
        .list_penalties_stream(&by_holder)
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(every, std::slice::from_ref(&penalty));

    // Only the penalty's holder appeals it.
    let by_admin = admin
        .file_appeal(&AppealBody {
            penalty_id: penalty.id,
            reason: "not mine to appeal".into(),
        })
        .await
        .expect_err("not the holder");
    assert_eq!(by_admin.status(), Some(422));
    let appeal = developer
        .file_appeal(&AppealBody {
            penalty_id: penalty.id,
            reason: "the run was a flake".into(),
        })
        .await
        .expect("filed");
    assert_eq!(appeal.status, AppealStatus::Open);
    assert_eq!(admin.get_appeal(appeal.id).await.expect("read"), appeal);
    let open = ListAppealsQuery {
        penalty_id: Some(penalty.id),
        status: Some("open".into()),
        ..Default::default()
    };
    assert_eq!(
        admin.list_appeals(&open).await.expect("a page").items,
        std::slice::from_ref(&appeal)
    );
    let overturn = DecisionBody {
        outcome: "overturned".into(),
        reason: "the rerun passed".into(),
    };
    let by_developer = developer
        .decide_appeal(appeal.id, &overturn)
        .await
        .expect_err("an administrator decides");
    assert_eq!(by_developer.status(), Some(403));
    let decided = admin
        .decide_appeal(appeal.id, &overturn)
        .await
        .expect("decided");
    assert_eq!(decided.status, AppealStatus::Overturned);
    let again = admin
        .decide_appeal(appeal.id, &overturn)
        .await
        .expect_err("decided already");
    assert_eq!(again.status(), Some(409));
    let every: Vec<_> = admin
        .list_appeals_stream(&ListAppealsQuery::default())
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(every, [decided]);
    assert_eq!(
        admin.get_penalty(penalty.id).await.expect("read").status,
        PenaltyStatus::Overturned
    );

    let summary = admin.sanctions_summary().await.expect("a summary");
    assert_eq!((summary.points_deducted, summary.points_restored), (15, 15));
    assert_eq!(summary.appeals_by_status.get("overturned"), Some(&1));
    let mine = developer.user_sanctions(dev).await.expect("the user's");
    assert_eq!(mine.holder, holder);
    assert_eq!(mine.rewards_by_status.get("redeemed"), Some(&1));
    assert_eq!(mine.violations, 1);
    let swept = admin.sweep_sanctions().await.expect("swept");
    assert_eq!(swept, Default::default(), "nothing has expired");
    let ada: orchestore_domain::AgentId = crate::points::create_agent(app, &token, "ada")
        .await
        .parse()
        .expect("an agent id");
    let agents = admin.agent_sanctions(ada).await.expect("the agent's");
    assert_eq!(agents.violations, 0);
}
