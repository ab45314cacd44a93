//! Workflows: named, versioned DAGs of steps, and their executions.
//!
//! A workflow holds only a name and a description; its steps live in numbered versions that
//! never change once written, so an execution always knows exactly what it ran. Each step of an
//! execution runs as a task ([`NewWorkflowExecution::step_tasks`]) that waits for the tasks of
//! the steps it depends on; the definition is checked to be acyclic up front because a cycle
//! would leave its steps waiting forever.

mod definition;
mod execution;
mod learning;
mod steps;
mod waits;
mod workflow;

pub(crate) use definition::{STEP_KEYS, json_within};
pub use definition::{StepName, WorkflowDefinition, WorkflowStep};
pub use execution::{
    ExecutionStatus, ExecutionTask, NewWorkflowExecution, StepTasks, WorkflowExecution,
};
pub use learning::{
    ContextFilter, ContextValue, LearningOutcome, LearningRecord, NewLearningRecord, Pattern,
    PatternPrefix, PatternQuery, Score,
};
pub use steps::{
    ByteCount, ExecutionStep, NewExecutionStep, OperationName, StepOutcome, StepTiming,
};
pub use waits::{SignalName, StepWait, WaitStatus, WorkflowWait};
pub use workflow::{NewWorkflow, Workflow, WorkflowPatch, WorkflowVersion, WorkflowVersionRef};
