//! `/api/v1/workflows/{id}/executions/{execution_id}/steps`: an execution's step log.

use chrono::{DateTime, Utc};
use orchestore_domain::{
    ByteCount, NewExecutionStep, OperationName, StepName, StepOutcome, StepTiming,
    WorkflowExecutionId,
};
use orchestore_repo::{ExecutionStepFilter, ExecutionStepSort, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{FieldErrors, Invalid, page_request};

/// One operation a worker ran.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordStepBody {
    /// The name of the workflow step it ran in.
    pub step: String,
    /// What it was, as an identifier, e.g. `call_model` or `git.clone`.
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,200}$")]
    pub operation: String,
    /// The size of what it read.
    pub input_bytes: u64,
    /// The size of what it produced.
    pub output_bytes: u64,
    #[schema(value_type = StepOutcome)]
    pub outcome: String,
    pub started_at: DateTime<Utc>,
    /// Not before `started_at`.
    pub finished_at: DateTime<Utc>,
}

impl RecordStepBody {
    pub fn into_new_step(
        self,
        execution_id: WorkflowExecutionId,
    ) -> Result<NewExecutionStep, Invalid> {
        let mut errors = FieldErrors::default();
        let step = errors.check(StepName::parse(&self.step).map_err(|e| e.for_field("step")));
        let operation = errors.check(OperationName::parse(&self.operation));
        let input_bytes = errors.check(ByteCount::parse("input_bytes", self.input_bytes));
        let output_bytes = errors.check(ByteCount::parse("output_bytes", self.output_bytes));
        let outcome = errors.check(self.outcome.parse::<StepOutcome>());
        let timing = errors.check(StepTiming::new(self.started_at, self.finished_at));
        let (
            Some(step),
            Some(operation),
            Some(input_bytes),
            Some(output_bytes),
            Some(outcome),
            Some(timing),
        ) = (step, operation, input_bytes, output_bytes, outcome, timing)
        else {
            return Err(errors.into_error());
        };
        Ok(NewExecutionStep {
            execution_id,
            step,
            operation,
            input_bytes,
            output_bytes,
            outcome,
            timing,
        })
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListStepsQuery {
    /// The entries of this workflow step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    #[param(value_type = Option<StepOutcome>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<ExecutionStepSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl ListStepsQuery {
    pub fn into_filter_and_page(
        self,
    ) -> Result<(ExecutionStepFilter, PageRequest<ExecutionStepSort>), Invalid> {
        let mut errors = FieldErrors::default();
        let step = errors.check(
            self.step
                .as_deref()
                .map(|s| StepName::parse(s).map_err(|e| e.for_field("step")))
                .transpose(),
        );
        let outcome = errors.check(self.outcome.as_deref().map(str::parse).transpose());
        let page = page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(step), Some(outcome), Some(page)) = (step, outcome, page) else {
            return Err(errors.into_error());
        };
        Ok((ExecutionStepFilter { step, outcome }, page))
    }
}
