//! The tables of the templates aggregate.

pub(crate) mod template_usages;
pub(crate) mod templates;
