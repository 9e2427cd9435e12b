//! [`ShopifyApi`]: which of Shopify's two Admin APIs a shop is read by, a
//! per-source setting that the sync chooses by and that the store keeps
//! each API's answering version under.

/// Which Admin API a shop's runs read by (`api = "rest" | "graphql"`).
/// Both store the same records through the same checkpoints. GraphQL is
/// the default: Shopify made REST legacy in 2024-10, and returns, disputes,
/// customers' totals and abandoned checkouts exist only in GraphQL. REST
/// stays selectable for the benchmark that compares the two backfills.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ShopifyApi {
    Rest,
    #[default]
    Graphql,
}

impl ShopifyApi {
    pub const ALL: [ShopifyApi; 2] = [ShopifyApi::Rest, ShopifyApi::Graphql];

    /// The setting's spelling: `rest` or `graphql`; anything else is `None`.
    pub fn parse(setting: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == setting)
    }

    /// The setting's (and the store's) spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ShopifyApi::Rest => "rest",
            ShopifyApi::Graphql => "graphql",
        }
    }

    /// How a person names it: "REST", "GraphQL".
    pub fn label(self) -> &'static str {
        match self {
            ShopifyApi::Rest => "REST",
            ShopifyApi::Graphql => "GraphQL",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for api in ShopifyApi::ALL {
            assert_eq!(ShopifyApi::parse(api.as_str()), Some(api));
        }
        assert_eq!(ShopifyApi::parse("GraphQL"), None);
    }
}
