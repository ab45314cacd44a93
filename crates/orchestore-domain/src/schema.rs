//! OpenAPI schemas of the types that serialize by hand. Every other domain type derives
//! `utoipa::ToSchema` beside its serde derives, so the document follows the code.

use utoipa::PartialSchema;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{RefOr, schema::SchemaType};

use crate::{
    ApiKeySecret, CronSchedule, InvitationToken, KeyOwner, KeyScopes, Permission, RetentionAge,
    RetentionTarget, Score, Threshold, TimeZone, WorkflowDefinition,
};

/// `impl ToSchema` for a type whose JSON is the schema `$schema` builds.
macro_rules! schema_of {
    ($ty:ty => $schema:expr) => {
        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                $schema.into()
            }
        }

        impl utoipa::ToSchema for $ty {}
    };
}

fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
}

fn nullable_uuid(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Uuid,
        )))
        .description(Some(description))
}

schema_of!(Score => ObjectBuilder::new()
    .schema_type(Type::Number)
    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
        utoipa::openapi::KnownFormat::Double,
    )))
    .description(Some("A score in millionths' precision")));

schema_of!(Threshold => ObjectBuilder::new()
.schema_type(Type::Number)
.exclusive_minimum(Some(0.0))
.maximum(Some(1.0))
.description(Some(
    "The share of the votes cast the deciding option needs, in steps of 0.0001",
)));

schema_of!(RetentionTarget => string("What a retention age applies to")
    .enum_values(Some(RetentionTarget::ALL.iter().map(|target| target.as_str()))));

schema_of!(RetentionAge => string(
    "How long rows are kept: a number and a unit (`d`, `h`, `m`, `s`), at least an hour"
)
.pattern(Some("^[0-9]+[dhms]$"))
.examples(["30d"]));

schema_of!(TimeZone => string("An IANA time zone, such as `Europe/Paris` or `UTC`")
    .examples(["Europe/Paris"]));

schema_of!(CronSchedule => string(
    "A cron pattern of five fields (minute hour day-of-month month day-of-week), or six with \
     seconds first"
)
.examples(["0 9 * * 1-5"]));

schema_of!(Permission => string("A permission code")
    .enum_values(Some(Permission::ALL.iter().map(|permission| permission.code()))));

schema_of!(InvitationToken => string("The invitation's secret token, shown once"));

schema_of!(ApiKeySecret => string("The key's secret (`osk_…`), shown once"));

schema_of!(KeyScopes => ArrayBuilder::new()
.schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
.items(Permission::schema())
.description(Some(
    "The permissions the key is limited to; `null`: whatever its owner holds",
)));

schema_of!(KeyOwner => ObjectBuilder::new()
    .property("agent_id", nullable_uuid("The agent the key acts as, or `null`"))
    .required("agent_id")
    .property("user_id", nullable_uuid("The user the key acts as, or `null`"))
    .required("user_id"));

schema_of!(WorkflowDefinition => ObjectBuilder::new()
    .property(
        "steps",
        ArrayBuilder::new()
            .items(ObjectBuilder::new().description(Some(
                "A step: `name`, `depends_on`, and what it runs (docs/waits.md and the \
                 workflow section of the README)",
            )))
            .min_items(Some(1)),
    )
    .required("steps")
    .description(Some("A workflow's steps: a DAG named by `depends_on`")));
