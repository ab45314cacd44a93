use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use super::StepWait;
use crate::{Capabilities, DomainError, Payload, Title, find_cycle};

/// The field every error about the steps names; the reason says which step and what.
const STEPS: &str = "definition.steps";

/// A step's name, unique within its definition and used by `depends_on`: 1 to 100 of `a-z`,
/// `0-9`, `_` and `-`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct StepName(String);

impl StepName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let valid = !raw.is_empty()
            && raw.len() <= Self::MAX_CHARS
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-'));
        if !valid {
            return Err(DomainError::invalid(
                "name",
                format!("{raw:?} is not a step name (1 to 100 of a-z, 0-9, '_' and '-')"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for StepName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl fmt::Debug for StepName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl AsRef<str> for StepName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

deserialize_by_parse!(StepName, String, |raw| StepName::parse(&raw));

/// One step of a workflow: run as a task once every step it depends on has succeeded.
///
/// Steps are only reachable through a parsed [`WorkflowDefinition`], so a step's `depends_on`
/// always names other steps of the same definition.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowStep {
    pub name: StepName,
    /// The title of the task the step runs as; the step's name when not given.
    pub title: Title,
    pub required_capabilities: Capabilities,
    pub payload: Payload,
    /// Distinct, in the order written.
    pub depends_on: Vec<StepName>,
    pub max_attempts: u32,
    /// A waiting step: its task is never claimed; the step succeeds when its signal comes or
    /// its time does (see [`StepWait`]).
    pub wait: Option<StepWait>,
}

impl WorkflowStep {
    fn to_value(&self) -> Value {
        let mut value = serde_json::json!({
            "name": self.name.as_str(),
            "title": self.title.as_str(),
            "required_capabilities": self.required_capabilities.to_strings(),
            "payload": self.payload.as_value(),
            "depends_on": self.depends_on.iter().map(StepName::as_str).collect::<Vec<_>>(),
            "max_attempts": self.max_attempts,
        });
        // Only a waiting step has the key, so a definition without waits prints as before.
        if let (Some(wait), Some(object)) = (&self.wait, value.as_object_mut()) {
            object.insert("wait".into(), wait.to_value());
        }
        value
    }
}

/// A workflow's steps: a directed acyclic graph, checked when parsed.
///
/// The shape is `{"steps": [{"name": "fetch", "title": "…", "required_capabilities": […],
/// "payload": …, "depends_on": ["other-step"], "max_attempts": 3}]}`; only `name` is required.
/// Unknown keys are refused so that a misspelt `depends_on` cannot silently drop an edge. A
/// cycle is refused because no step on it could ever start; the reason spells the cycle out
/// (`a → b` reads "a depends on b").
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowDefinition {
    steps: Vec<WorkflowStep>,
    /// Indices into `steps`, dependencies first.
    order: Vec<usize>,
}

/// The keys a step may have.
pub(crate) const STEP_KEYS: [&str; 7] = [
    "name",
    "title",
    "required_capabilities",
    "payload",
    "depends_on",
    "max_attempts",
    "wait",
];

impl WorkflowDefinition {
    pub const MAX_STEPS: usize = 1000;
    /// The whole definition, serialised.
    pub const MAX_BYTES: usize = 4 * 1024 * 1024;
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
    pub const MAX_ATTEMPTS: u32 = 100;

    pub fn parse(raw: Value) -> Result<Self, DomainError> {
        if !json_within(&raw, Self::MAX_BYTES) {
            return Err(DomainError::invalid(
                "definition",
                format!("must be at most {} bytes of JSON", Self::MAX_BYTES),
            ));
        }
        let Value::Object(mut top) = raw else {
            return Err(DomainError::invalid("definition", "must be a JSON object"));
        };
        if let Some(key) = top.keys().find(|key| key.as_str() != "steps") {
            return Err(DomainError::invalid(
                "definition",
                format!("unknown key {key:?} (allowed: steps)"),
            ));
        }
        let Some(Value::Array(items)) = top.remove("steps") else {
            return Err(DomainError::invalid(STEPS, "must be a list of steps"));
        };
        if items.is_empty() || items.len() > Self::MAX_STEPS {
            return Err(DomainError::invalid(
                STEPS,
                format!(
                    "must hold 1 to {} steps, got {}",
                    Self::MAX_STEPS,
                    items.len()
                ),
            ));
        }
        let steps = items
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                parse_step(item).map_err(|reason| {
                    DomainError::invalid(STEPS, format!("steps[{index}]{reason}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let order = checked_order(&steps)?;
        Ok(Self { steps, order })
    }

    /// The steps in the order written.
    pub fn steps(&self) -> &[WorkflowStep] {
        &self.steps
    }

    pub fn step(&self, name: &str) -> Option<&WorkflowStep> {
        self.steps.iter().find(|step| step.name.as_str() == name)
    }

    /// The steps in an order where each comes after everything it depends on. Among steps
    /// ready at the same time, the one written first comes first, so the order is stable.
    pub fn execution_order(&self) -> Vec<&WorkflowStep> {
        self.order
            .iter()
            .filter_map(|&index| self.steps.get(index))
            .collect()
    }

    /// The definition as JSON, every key present, steps in the order written: parsing it again
    /// gives an equal definition.
    pub fn to_value(&self) -> Value {
        serde_json::json!({
            "steps": self.steps.iter().map(WorkflowStep::to_value).collect::<Vec<_>>(),
        })
    }
}

impl Serialize for WorkflowDefinition {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}

deserialize_by_parse!(WorkflowDefinition, Value, WorkflowDefinition::parse);

/// Parses one step. An error is the end of a reason that the caller prefixes with the step's
/// place, `steps[3]`: either `: what is wrong` or `.key: what is wrong`.
fn parse_step(item: Value) -> Result<WorkflowStep, String> {
    let Value::Object(mut fields) = item else {
        return Err(": must be a JSON object".to_owned());
    };
    if let Some(key) = fields.keys().find(|key| !STEP_KEYS.contains(&key.as_str())) {
        return Err(format!(
            ": unknown key {key:?} (allowed: {})",
            STEP_KEYS.join(", ")
        ));
    }
    parse_step_fields(&mut fields).map_err(|error| format!(".{error}"))
}

fn parse_step_fields(
    fields: &mut serde_json::Map<String, Value>,
) -> Result<WorkflowStep, DomainError> {
    let name = match fields.remove("name") {
        Some(Value::String(name)) => StepName::parse(&name)?,
        _ => {
            return Err(DomainError::invalid(
                "name",
                "is required and must be a string",
            ));
        }
    };
    let title = match fields.remove("title") {
        None | Some(Value::Null) => Title::parse(name.as_str())?,
        Some(Value::String(title)) => Title::parse(&title)?,
        Some(_) => return Err(DomainError::invalid("title", "must be a string")),
    };
    let required_capabilities = match fields.remove("required_capabilities") {
        None | Some(Value::Null) => Capabilities::default(),
        Some(value) => Capabilities::parse(&strings("required_capabilities", value)?)?,
    };
    let payload = Payload::parse(fields.remove("payload").unwrap_or(Value::Null))?;
    let mut depends_on: Vec<StepName> = Vec::new();
    if let Some(value) = fields.remove("depends_on").filter(|value| !value.is_null()) {
        for raw in strings("depends_on", value)? {
            let dependency = StepName::parse(&raw)
                .map_err(|error| DomainError::invalid("depends_on", error_reason(error)))?;
            if !depends_on.contains(&dependency) {
                depends_on.push(dependency);
            }
        }
    }
    let max_attempts = match fields.remove("max_attempts") {
        None | Some(Value::Null) => WorkflowDefinition::DEFAULT_MAX_ATTEMPTS,
        Some(value) => value
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| (1..=WorkflowDefinition::MAX_ATTEMPTS).contains(n))
            .ok_or_else(|| {
                DomainError::invalid(
                    "max_attempts",
                    format!(
                        "must be a whole number from 1 to {}",
                        WorkflowDefinition::MAX_ATTEMPTS
                    ),
                )
            })?,
    };
    let wait = match fields.remove("wait") {
        None | Some(Value::Null) => None,
        Some(value) => Some(StepWait::parse(value)?),
    };
    Ok(WorkflowStep {
        name,
        title,
        required_capabilities,
        payload,
        depends_on,
        max_attempts,
        wait,
    })
}

fn strings(field: &'static str, value: Value) -> Result<Vec<String>, DomainError> {
    let Value::Array(items) = value else {
        return Err(DomainError::invalid(field, "must be a list of strings"));
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::String(text) => Ok(text),
            _ => Err(DomainError::invalid(field, "must be a list of strings")),
        })
        .collect()
}

pub(super) fn error_reason(error: DomainError) -> String {
    match error {
        DomainError::Invalid { reason, .. } => reason,
        other => other.to_string(),
    }
}

/// Checks names and edges, reports a cycle through the shared search ([`find_cycle`]), then
/// orders the steps.
fn checked_order(steps: &[WorkflowStep]) -> Result<Vec<usize>, DomainError> {
    let mut index_of: HashMap<&str, usize> = HashMap::with_capacity(steps.len());
    for (index, step) in steps.iter().enumerate() {
        if let Some(first) = index_of.insert(step.name.as_str(), index) {
            return Err(DomainError::invalid(
                STEPS,
                format!(
                    "step name {:?} is used by steps[{first}] and steps[{index}]",
                    step.name.as_str()
                ),
            ));
        }
    }
    let mut depends_on = Vec::with_capacity(steps.len());
    for step in steps {
        let mut on = Vec::with_capacity(step.depends_on.len());
        for dependency in &step.depends_on {
            if dependency == &step.name {
                return Err(DomainError::invalid(
                    STEPS,
                    format!("step {:?} depends on itself", step.name.as_str()),
                ));
            }
            let Some(&index) = index_of.get(dependency.as_str()) else {
                return Err(DomainError::invalid(
                    STEPS,
                    format!(
                        "step {:?} depends on unknown step {:?}",
                        step.name.as_str(),
                        dependency.as_str()
                    ),
                ));
            };
            on.push(index);
        }
        depends_on.push(on);
    }
    check_waits(steps)?;
    // Nodes are the steps' indices, so the search starts from the step written first.
    let edges = depends_on
        .iter()
        .enumerate()
        .flat_map(|(step, on)| on.iter().map(move |&dependency| (step, dependency)));
    if let Some(cycle) = find_cycle(0..steps.len(), edges) {
        let path: Vec<&str> = cycle
            .iter()
            .filter_map(|&index| steps.get(index))
            .map(|step| step.name.as_str())
            .collect();
        return Err(DomainError::invalid(
            STEPS,
            format!("steps form a cycle: {}", path.join(" → ")),
        ));
    }
    Ok(dependencies_first(&depends_on))
}

/// Checks the waiting steps: each signal names one step, and a timeout branch names steps that
/// depend on its waiting step.
fn check_waits(steps: &[WorkflowStep]) -> Result<(), DomainError> {
    let mut signals: HashMap<&str, &str> = HashMap::new();
    for step in steps {
        let Some(StepWait::Signal {
            signal, on_timeout, ..
        }) = &step.wait
        else {
            continue;
        };
        if let Some(first) = signals.insert(signal.as_str(), step.name.as_str()) {
            return Err(DomainError::invalid(
                STEPS,
                format!(
                    "steps {first:?} and {:?} both wait for signal {:?}",
                    step.name.as_str(),
                    signal.as_str()
                ),
            ));
        }
        for branch in on_timeout {
            let depends = steps
                .iter()
                .any(|other| &other.name == branch && other.depends_on.contains(&step.name));
            if !depends {
                return Err(DomainError::invalid(
                    STEPS,
                    format!(
                        "step {:?} names {:?} in on_timeout, which must be a step that depends on it",
                        step.name.as_str(),
                        branch.as_str()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Orders an acyclic graph given as, for each node, the distinct nodes it depends on (Kahn's
/// algorithm, lowest index first among ready nodes). The graph is checked for cycles before:
/// the nodes of a cycle would be left out. No recursion, so chains of any length are safe.
fn dependencies_first(depends_on: &[Vec<usize>]) -> Vec<usize> {
    let count = depends_on.len();
    let mut waiting: Vec<usize> = depends_on.iter().map(Vec::len).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (node, on) in depends_on.iter().enumerate() {
        for &dependency in on {
            if let Some(list) = dependents.get_mut(dependency) {
                list.push(node);
            }
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..count)
        .filter(|&node| waiting[node] == 0)
        .map(Reverse)
        .collect();
    let mut order = Vec::with_capacity(count);
    while let Some(Reverse(node)) = ready.pop() {
        order.push(node);
        for &next in &dependents[node] {
            waiting[next] -= 1;
            if waiting[next] == 0 {
                ready.push(Reverse(next));
            }
        }
    }
    order
}

/// Whether `value` serialises to at most `max_bytes`, without building the text.
pub(crate) fn json_within(value: &Value, max_bytes: usize) -> bool {
    struct Budget(usize);
    impl std::io::Write for Budget {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 = self
                .0
                .checked_sub(buf.len())
                .ok_or_else(|| std::io::Error::other("over budget"))?;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    serde_json::to_writer(Budget(max_bytes), value).is_ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn reason(raw: Value) -> (Option<&'static str>, String) {
        match WorkflowDefinition::parse(raw) {
            Ok(_) => (None, "accepted".to_owned()),
            Err(error) => (error.field(), error.to_string()),
        }
    }

    fn names(steps: &[&WorkflowStep]) -> Vec<String> {
        steps.iter().map(|step| step.name.to_string()).collect()
    }

    #[test]
    fn parses_steps_with_defaults() {
        let definition = WorkflowDefinition::parse(json!({"steps": [
            {"name": "build", "depends_on": ["fetch", "fetch"], "max_attempts": 5},
            {"name": "fetch", "title": "Fetch the repo", "required_capabilities": ["git"],
             "payload": {"url": "x"}},
        ]}))
        .unwrap_or_else(|error| panic!("{error}"));
        let build = definition.step("build").unwrap_or_else(|| unreachable!());
        assert_eq!(build.title.as_str(), "build");
        assert_eq!(build.depends_on.len(), 1);
        assert_eq!(build.max_attempts, 5);
        let fetch = definition.step("fetch").unwrap_or_else(|| unreachable!());
        assert_eq!(fetch.max_attempts, WorkflowDefinition::DEFAULT_MAX_ATTEMPTS);
        assert_eq!(
            fetch.required_capabilities.to_strings(),
            vec!["git".to_owned()]
        );
        assert_eq!(names(&definition.execution_order()), ["fetch", "build"]);
        assert_eq!(
            names(&definition.steps().iter().collect::<Vec<_>>()),
            ["build", "fetch"]
        );
    }

    #[test]
    fn serialisation_is_stable() {
        let definition = WorkflowDefinition::parse(json!({"steps": [
            {"name": "a"}, {"name": "b", "depends_on": ["a"], "payload": [1, 2]},
        ]}))
        .unwrap_or_else(|error| panic!("{error}"));
        let value = definition.to_value();
        assert_eq!(
            value["steps"][1],
            json!({"name": "b", "title": "b", "required_capabilities": [], "payload": [1, 2],
                   "depends_on": ["a"], "max_attempts": 3})
        );
        let again = WorkflowDefinition::parse(value.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again, definition);
        assert_eq!(again.to_value(), value);
        assert_eq!(serde_json::to_value(&definition).ok(), Some(value.clone()));
        assert_eq!(
            serde_json::from_value::<WorkflowDefinition>(value).ok(),
            Some(definition)
        );
    }

    #[test]
    fn execution_order_prefers_the_order_written() {
        let definition = WorkflowDefinition::parse(json!({"steps": [
            {"name": "report", "depends_on": ["test", "lint"]},
            {"name": "test", "depends_on": ["build"]},
            {"name": "lint"},
            {"name": "build"},
        ]}))
        .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(
            names(&definition.execution_order()),
            ["lint", "build", "test", "report"]
        );
    }

    #[test]
    fn malformed_definitions_name_the_fault() {
        let cases = [
            (json!([]), "definition", "must be a JSON object"),
            (json!({"steps": [], }), STEPS, "1 to 1000 steps"),
            (json!({"step": []}), "definition", "unknown key \"step\""),
            (json!({}), STEPS, "must be a list of steps"),
            (
                json!({"steps": [{"name": "a", "dependsOn": ["b"]}]}),
                STEPS,
                "steps[0]: unknown key \"dependsOn\"",
            ),
            (
                json!({"steps": [1]}),
                STEPS,
                "steps[0]: must be a JSON object",
            ),
            (
                json!({"steps": [{"title": "x"}]}),
                STEPS,
                "steps[0].name: is required",
            ),
            (
                json!({"steps": [{"name": "A"}]}),
                STEPS,
                "steps[0].name: \"A\" is not a step name",
            ),
            (
                json!({"steps": [{"name": "a", "title": " "}]}),
                STEPS,
                "steps[0].title: must not be empty",
            ),
            (
                json!({"steps": [{"name": "a", "max_attempts": 0}]}),
                STEPS,
                "steps[0].max_attempts",
            ),
            (
                json!({"steps": [{"name": "a", "max_attempts": 1.5}]}),
                STEPS,
                "steps[0].max_attempts",
            ),
            (
                json!({"steps": [{"name": "a", "payload": "\u{0}"}]}),
                STEPS,
                "steps[0].payload",
            ),
            (
                json!({"steps": [{"name": "a", "required_capabilities": "x"}]}),
                STEPS,
                "required_capabilities: must be a list",
            ),
            (
                json!({"steps": [{"name": "a", "depends_on": ["B"]}]}),
                STEPS,
                "steps[0].depends_on",
            ),
            (
                json!({"steps": [{"name": "a"}, {"name": "a"}]}),
                STEPS,
                "used by steps[0] and steps[1]",
            ),
            (
                json!({"steps": [{"name": "a", "depends_on": ["a"]}]}),
                STEPS,
                "step \"a\" depends on itself",
            ),
            (
                json!({"steps": [{"name": "a", "depends_on": ["x"]}]}),
                STEPS,
                "depends on unknown step \"x\"",
            ),
        ];
        for (raw, field, expected) in cases {
            let (got_field, message) = reason(raw.clone());
            assert_eq!(got_field, Some(field), "{raw}: {message}");
            assert!(message.contains(expected), "{raw}: {message}");
        }
    }

    #[test]
    fn a_cycle_is_reported_as_a_path() {
        let (field, message) = reason(json!({"steps": [
            {"name": "start"},
            {"name": "a", "depends_on": ["start", "b"]},
            {"name": "b", "depends_on": ["c"]},
            {"name": "c", "depends_on": ["a"]},
            {"name": "after", "depends_on": ["c"]},
        ]}));
        assert_eq!(field, Some(STEPS));
        assert!(
            message.ends_with("steps form a cycle: a → b → c → a"),
            "{message}"
        );
    }

    #[test]
    fn step_count_and_size_are_bounded() {
        let chain = |count: usize| {
            let steps: Vec<Value> = (0..count)
                .map(|i| match i {
                    0 => json!({"name": "s0"}),
                    _ => json!({"name": format!("s{i}"), "depends_on": [format!("s{}", i - 1)]}),
                })
                .collect();
            json!({ "steps": steps })
        };
        let longest = WorkflowDefinition::parse(chain(1000)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(longest.execution_order().len(), 1000);
        assert_eq!(
            longest
                .execution_order()
                .last()
                .map(|step| step.name.as_str()),
            Some("s999")
        );
        assert!(reason(chain(1001)).1.contains("1 to 1000 steps"));
        let big =
            json!({"steps": [{"name": "a", "payload": "x".repeat(WorkflowDefinition::MAX_BYTES)}]});
        assert_eq!(reason(big).0, Some("definition"));
    }

    #[test]
    fn long_chains_do_not_recurse() {
        const LENGTH: usize = 10_000;
        // More steps than a definition may hold, so built here and checked directly: step i
        // depends on step i + 1, so the last one runs first.
        let step = |i: usize| WorkflowStep {
            name: StepName::parse(&format!("s{i}")).unwrap_or_else(|e| panic!("{e}")),
            title: Title::parse(&format!("s{i}")).unwrap_or_else(|e| panic!("{e}")),
            required_capabilities: Capabilities::default(),
            payload: Payload::default(),
            depends_on: Vec::new(),
            max_attempts: WorkflowDefinition::DEFAULT_MAX_ATTEMPTS,
            wait: None,
        };
        let mut chain: Vec<WorkflowStep> = (0..LENGTH).map(step).collect();
        for i in 0..LENGTH - 1 {
            let next = chain[i + 1].name.clone();
            chain[i].depends_on.push(next);
        }
        let order = checked_order(&chain).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(order.len(), LENGTH);
        assert_eq!(order.first(), Some(&(LENGTH - 1)));
        assert_eq!(order.last(), Some(&0));

        // Close the chain into one cycle through every step.
        let first = chain[0].name.clone();
        chain[LENGTH - 1].depends_on.push(first);
        let error = checked_order(&chain).expect_err("a cycle");
        assert_eq!(error.field(), Some(STEPS));
        let message = error.to_string();
        let path = message
            .split_once("steps form a cycle: ")
            .map(|(_, path)| path.split(" → ").collect::<Vec<_>>())
            .unwrap_or_default();
        assert_eq!(path.len(), LENGTH + 1);
        assert_eq!(path.first(), Some(&"s0"));
        assert_eq!(path.last(), Some(&"s0"));
        assert_eq!(path.get(1), Some(&"s1"));
    }

    #[test]
    fn waiting_steps_parse_and_are_checked() {
        let raw = json!({"steps": [
            {"name": "approval", "wait": {"signal": "approve", "timeout_seconds": 60,
                                          "on_timeout": ["escalate"]}},
            {"name": "ship", "depends_on": ["approval"]},
            {"name": "escalate", "depends_on": ["approval"]},
        ]});
        let definition = WorkflowDefinition::parse(raw).unwrap_or_else(|e| panic!("{e}"));
        let approval = definition
            .step("approval")
            .unwrap_or_else(|| unreachable!());
        assert_eq!(
            approval
                .wait
                .as_ref()
                .and_then(StepWait::signal)
                .map(|s| s.as_str()),
            Some("approve")
        );
        let again =
            WorkflowDefinition::parse(definition.to_value()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again, definition);
        assert!(definition.to_value()["steps"][1].get("wait").is_none());

        let (field, message) = reason(json!({"steps": [
            {"name": "a", "wait": {"signal": "go"}},
            {"name": "b", "wait": {"signal": "go"}},
        ]}));
        assert_eq!(field, Some(STEPS));
        assert!(message.contains("both wait for signal \"go\""), "{message}");
        let (_, message) = reason(json!({"steps": [
            {"name": "a", "wait": {"signal": "go", "timeout_seconds": 1, "on_timeout": ["b"]}},
            {"name": "b"},
        ]}));
        assert!(
            message.contains("must be a step that depends on it"),
            "{message}"
        );
        let (_, message) = reason(json!({"steps": [{"name": "a", "wait": {"sleep_seconds": -1}}]}));
        assert!(message.contains("steps[0].wait.sleep_seconds"), "{message}");
    }

    #[test]
    fn step_names_are_checked() {
        assert!(StepName::parse("fetch_repo-2").is_ok());
        assert!(StepName::parse(&"a".repeat(100)).is_ok());
        for bad in ["", "Fetch", "a b", "a.b", &"a".repeat(101)] {
            assert!(StepName::parse(bad).is_err(), "{bad:?}");
        }
    }
}
