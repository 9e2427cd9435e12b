//! The template files, embedded in the binary so it runs from any directory
//! and a deploy is one file. minijinja escapes HTML in every `.html`
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
    for (name, source) in [
        ("base.html", include_str!("../templates/base.html")),
        (
            "dashboard.html",
            include_str!("../templates/dashboard.html"),
        ),
        ("error.html", include_str!("../templates/error.html")),
        ("login.html", include_str!("../templates/login.html")),
        ("logout.html", include_str!("../templates/logout.html")),
        (
            "login_notice.html",
            include_str!("../templates/login_notice.html"),
        ),
        ("audit.html", include_str!("../templates/audit.html")),
        ("alerts.html", include_str!("../templates/alerts.html")),
        ("alert.html", include_str!("../templates/alert.html")),
        (
            "inventory.html",
            include_str!("../templates/inventory.html"),
        ),
        ("wismo.html", include_str!("../templates/wismo.html")),
        ("pulse.html", include_str!("../templates/pulse.html")),
        ("sources.html", include_str!("../templates/sources.html")),
        ("catalog.html", include_str!("../templates/catalog.html")),
        ("tickets.html", include_str!("../templates/tickets.html")),
        ("order.html", include_str!("../templates/order.html")),
        (
            "tiles/frame.html",
            include_str!("../templates/tiles/frame.html"),
        ),
    ] {
        // The files are part of the binary; a syntax error is a bug that the
        // page tests catch before release.
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("embedded template {name} does not parse: {e}"));
    }
    // Each tile's body, embedded where the tile is declared.
    for &tile in crate::pages::tiles::Tile::ALL {
        let name = tile.template_name();
        env.add_template_owned(name.clone(), tile.template())
            .unwrap_or_else(|e| panic!("embedded template {name} does not parse: {e}"));
    }
    env
});

/// Renders the embedded template `name` with `context`.
pub(crate) fn render(name: &str, context: impl Serialize) -> Result<String, minijinja::Error> {
    TEMPLATES.get_template(name)?.render(context)
}
