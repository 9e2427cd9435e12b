//! The template files (every file under `templates/`, listed by
//! `build.rs`), embedded in the binary so it runs from any directory and a
//! deploy is one file. minijinja escapes HTML in every `.html`
//! template, so values from a store (a brand name, an error text) cannot
//! inject markup.

use serde::Serialize;
use std::sync::LazyLock;

static TEMPLATES: LazyLock<minijinja::Environment<'static>> = LazyLock::new(|| {
    let mut env = minijinja::Environment::new();
    // Block tags leave no blank lines behind, so the served HTML stays readable.
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    // The nav bar shows only the pages the request's role may open.
    env.add_function("nav_links", || {
        minijinja::Value::from_serialize(crate::nav::current_links())
    });
    // While a critical or high incident is live, every page shows it.
    env.add_function("incident_banner", || {
        minijinja::Value::from_serialize(crate::incidents::current_banner())
    });
    // The nav's count of approvals the viewer may decide.
    env.add_function("approvals_badge", crate::approvals::current_badge);
    // Every file under `templates/`, listed by build.rs.
    for (name, source) in include!(concat!(env!("OUT_DIR"), "/templates.rs")) {
        // The files are part of the binary; a syntax error is a bug that the
        // page tests catch before release.
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("embedded template {name} does not parse: {e}"));
    }
    env
});

/// Renders the embedded template `name` with `context`.
pub(crate) fn render(name: &str, context: impl Serialize) -> Result<String, minijinja::Error> {
    TEMPLATES.get_template(name)?.render(context)
}

/// Whether a template named `name` is embedded.
#[cfg(test)]
pub(crate) fn exists(name: &str) -> bool {
    TEMPLATES.get_template(name).is_ok()
}
