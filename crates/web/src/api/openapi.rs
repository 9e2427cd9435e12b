//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of this API.
//!
//! Written by hand in `docs/openapi.json` (a generator would cost compile
//! time on every build) and embedded, so the served document is always the
//! one in the repository. A test below keeps it honest: every route in
//! [`super::routes`] must be described.

use super::ApiRoute;
use crate::auth::rules::Access;
use crate::params::{NoParams, Params};
use crate::Error;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

/// The OpenAPI document, as served.
pub const OPENAPI_DOCUMENT: &str = include_str!("../../../../docs/openapi.json");

pub(super) fn route() -> ApiRoute {
    ApiRoute {
        path: "/api/v1/openapi.json",
        method: "get",
        access: Access::Public,
        handler: get(openapi_document),
    }
}

async fn openapi_document(
    Params(NoParams {}): Params<NoParams>,
) -> Result<impl IntoResponse, Error> {
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        OPENAPI_DOCUMENT,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> serde_json::Value {
        serde_json::from_str(OPENAPI_DOCUMENT).expect("docs/openapi.json is JSON")
    }

    #[test]
    fn document_is_openapi_3_1() {
        let doc = document();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        assert!(doc["info"]["title"].is_string());
    }

    #[test]
    fn every_api_route_is_described() {
        let doc = document();
        for route in super::super::routes() {
            let operation = &doc["paths"][route.path][route.method];
            assert!(
                operation.is_object(),
                "docs/openapi.json does not describe {} {}",
                route.method.to_uppercase(),
                route.path
            );
            assert!(
                operation["responses"]["200"].is_object(),
                "{} has no 200 response",
                route.path
            );
        }
    }

    #[test]
    fn every_described_api_path_is_routed() {
        // Any route of the application (incidents declare theirs in their
        // own module), not only this module's.
        let routed: Vec<&str> = crate::auth::rules::table()
            .all()
            .iter()
            .map(|r| r.path)
            .collect();
        let doc = document();
        for path in doc["paths"].as_object().unwrap().keys() {
            if path.starts_with("/api/") {
                assert!(
                    routed.contains(&path.as_str()),
                    "{path} is described but not routed"
                );
            }
        }
    }

    #[test]
    fn every_schema_reference_resolves() {
        let doc = document();
        let mut refs = Vec::new();
        collect_refs(&doc, &mut refs);
        assert!(!refs.is_empty());
        for r in refs {
            let pointer = r
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("$ref {r} is not local"));
            assert!(doc.pointer(pointer).is_some(), "$ref {r} points nowhere");
        }
    }

    fn collect_refs(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v.as_str()) {
                        ("$ref", Some(target)) => out.push(target.to_string()),
                        _ => collect_refs(v, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
            _ => {}
        }
    }
}
