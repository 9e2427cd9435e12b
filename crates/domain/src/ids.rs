//! Identifiers chosen by the merchant in configuration: brands and sources.
//! Both appear in URLs, logs and database keys, so they are restricted to
//! lowercase letters, digits, `-` and `_`.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} id {value:?} must be 1-64 characters of a-z, 0-9, '-' or '_'")]
pub struct IdError {
    pub kind: &'static str,
    pub value: String,
}

fn validate(kind: &'static str, value: &str) -> Result<(), IdError> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(IdError {
            kind,
            value: value.to_string(),
        })
    }
}

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: &str) -> Result<Self, IdError> {
                validate($kind, value)?;
                Ok(Self(value.to_string()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// A brand as named in the configuration, e.g. `mavena`.
    BrandId,
    "brand"
);
id_type!(
    /// One configured connection to a platform, e.g. `shopify-mavena` or
    /// `gorgias`. Together with a platform's own id it identifies a record.
    SourceId,
    "source"
);

id_type!(
    /// A region the merchant groups brands and countries into, e.g. `eu`.
    RegionId,
    "region"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_restricted() {
        assert!(BrandId::parse("mavena").is_ok());
        assert!(SourceId::parse("shopify-plentum_2").is_ok());
        for bad in ["", "Mavena", "a b", "x/y", &"a".repeat(65)] {
            let err = BrandId::parse(bad).unwrap_err();
            assert_eq!(err.value, bad);
        }
        let parsed: Result<BrandId, _> = serde_json::from_str("\"Bad Id\"");
        assert!(parsed.is_err());
    }
}
