//! Telemetry: events, the components of the system with their traffic and health, metric
//! samples, and alerts. (The audit log, also part of observability, is written by every
//! mutation and has no domain types of its own.)
//!
//! Events, communications, health checks and metric samples are appended and never changed;
//! components are a registry; alerts move through their states.

mod alert;
mod batch;
mod component;
mod event;
mod metric;
mod values;

pub use alert::{Alert, AlertMessage, AlertSeverity, AlertStatus, Fingerprint, NewAlert, Raised};
pub use batch::Records;
pub use component::{
    Communication, Component, ComponentHealth, ComponentPatch, ComponentStatus, HealthCheck,
    HealthStatus, NewCommunication, NewComponent, NewHealthCheck, Outcome,
};
pub use event::{Event, NewEvent};
pub use metric::{
    Bucket, MetricBucket, MetricQuery, NewMetricSample, p95_between, p95_ranks, percentile_95,
};
pub use values::{
    CommunicationKind, ComponentKind, ComponentVersion, CorrelationId, Endpoint, EventKind,
    Measure, MetricName, MetricTags, MetricUnit, ResourceUse, SourceName,
};
