//! Metafields on the shop itself (`metafieldsSet` with the shop as
//! owner): how opsdeck mirrors a freeze flag where a theme block
//! (`shop.metafields.opsdeck.freeze_checkout.value`) or a checkout
//! validation function reads it. The shop's id is asked first (`shop {
//! id }`, one point); a refusal comes back as [`GraphqlError::UserErrors`]
//! naming Shopify's codes.

use super::client::{GraphqlClient, GraphqlStats};
use super::error::{GraphqlError, UserError};
use super::query::GraphqlQuery;
use serde_json::{json, Value};

/// One metafield to set on the shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopMetafield {
    pub namespace: String,
    pub key: String,
    /// Shopify's metafield type: `boolean`, `json`, `single_line_text_field`, …
    pub kind: String,
    /// The value as Shopify takes it: always a string (`"true"`, JSON text).
    pub value: String,
}

impl GraphqlClient {
    /// The shop's global id (`gid://shopify/Shop/…`).
    pub async fn shop_id(&self, stats: &mut GraphqlStats) -> Result<String, GraphqlError> {
        let request = GraphqlQuery::new("ShopId", "query ShopId { shop { id } }", 1);
        let answer = self.execute(&request, stats).await?;
        answer
            .data
            .pointer("/shop/id")
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| GraphqlError::Missing {
                operation: "ShopId".into(),
                what: "`shop.id`".into(),
            })
    }

    /// Sets `metafields` on the shop, all or none.
    pub async fn set_shop_metafields(
        &self,
        metafields: &[ShopMetafield],
        stats: &mut GraphqlStats,
    ) -> Result<(), GraphqlError> {
        const OPERATION: &str = "ShopMetafieldsSet";
        let owner = self.shop_id(stats).await?;
        let inputs: Vec<Value> = metafields
            .iter()
            .map(|m| {
                json!({ "ownerId": owner, "namespace": m.namespace, "key": m.key,
                        "type": m.kind, "value": m.value })
            })
            .collect();
        let document = "mutation ShopMetafieldsSet($metafields: [MetafieldsSetInput!]!) { \
             metafieldsSet(metafields: $metafields) { metafields { key namespace value } \
             userErrors { field message code } } }";
        // A mutation costs 10 points.
        let request =
            GraphqlQuery::new(OPERATION, document, 10).variable("metafields", Value::Array(inputs));
        let answer = self.execute(&request, stats).await?;
        let payload = answer
            .data
            .get("metafieldsSet")
            .ok_or_else(|| GraphqlError::Missing {
                operation: OPERATION.into(),
                what: "`metafieldsSet`".into(),
            })?;
        let errors: Vec<UserError> = match payload.get("userErrors") {
            Some(list) => {
                serde_json::from_value(list.clone()).map_err(|e| GraphqlError::Missing {
                    operation: OPERATION.into(),
                    what: format!("readable `userErrors` ({e})"),
                })?
            }
            None => Vec::new(),
        };
        if errors.is_empty() {
            Ok(())
        } else {
            Err(GraphqlError::UserErrors {
                operation: OPERATION.into(),
                errors,
            })
        }
    }
}
