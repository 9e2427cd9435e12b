//! Which changes need a second person, and whose: the approval types of
//! the playbook, each with its threshold, approver role and time to
//! decide. Configuration (`[approvals]`) builds an [`ApprovalPolicy`];
//! [`ApprovalPolicy::playbook`] is the default.

use jiff::SignedDuration;
use opsdeck_domain::Money;
use opsdeck_store::{ApprovalKind, Role};
use std::collections::HashMap;

/// When a change of a kind needs approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threshold {
    /// Every change (a price change, a new product, a content update).
    Any,
    /// A discount over this many basis points (2000 = 20 %).
    PercentOver { basis_points: i64 },
    /// An amount over this many whole units of its own currency (500 =
    /// 500.00 EUR for a EUR brand, 500 JPY for a JPY one).
    AmountOver { major_units: i64 },
}

impl Threshold {
    /// The threshold in words, as the request form shows it.
    pub fn describe(&self) -> String {
        match *self {
            Threshold::Any => "every change".into(),
            Threshold::PercentOver { basis_points } => {
                format!("over {}.{:02} %", basis_points / 100, basis_points % 100)
                    .replace(".00 %", " %")
            }
            Threshold::AmountOver { major_units } => {
                format!("over {major_units} in the brand's currency")
            }
        }
    }
}

/// The rule of one kind.
#[derive(Debug, Clone, PartialEq)]
pub struct KindPolicy {
    pub threshold: Threshold,
    /// Who decides: a named role, checked against the known roles when
    /// the configuration is loaded.
    pub approver_role: Role,
    /// How long a request waits for a decision before it expires.
    pub expires_after: SignedDuration,
}

/// Every kind's rule.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalPolicy {
    kinds: HashMap<ApprovalKind, KindPolicy>,
}

/// Why a request cannot be weighed against its threshold.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ThresholdError {
    #[error("a {kind} request needs `{field}` to be weighed against its threshold")]
    Missing {
        kind: ApprovalKind,
        field: &'static str,
    },
}

impl ApprovalPolicy {
    /// The playbook's rules: price change (any change), discount over 20 %,
    /// refund over 500 in the brand's currency, new product, content
    /// update; 24 hours to decide. A freeze switch-on of a flag that
    /// requires approval always waits.
    ///
    /// The playbook names finance, regional, product and content leads,
    /// and the leads hold `decide_approvals`; but only the named role
    /// decides a kind, and a fresh install has an admin and no lead, so
    /// every kind's approver stays `admin` until `[approvals.approvers]`
    /// names the lead (the example configuration shows which).
    pub fn playbook() -> Self {
        let day = SignedDuration::from_hours(24);
        let rule = |threshold| KindPolicy {
            threshold,
            approver_role: Role::Admin,
            expires_after: day,
        };
        ApprovalPolicy {
            kinds: HashMap::from([
                (ApprovalKind::PriceChange, rule(Threshold::Any)),
                (
                    ApprovalKind::Discount,
                    rule(Threshold::PercentOver { basis_points: 2000 }),
                ),
                (
                    ApprovalKind::Refund,
                    rule(Threshold::AmountOver { major_units: 500 }),
                ),
                (ApprovalKind::NewProduct, rule(Threshold::Any)),
                (ApprovalKind::ContentUpdate, rule(Threshold::Any)),
                // Only the flags `[flags] requires_approval` names come
                // here, and each of their switch-ons waits.
                (ApprovalKind::FlagChange, rule(Threshold::Any)),
            ]),
        }
    }

    /// Replaces the rule of `kind`.
    pub fn with(mut self, kind: ApprovalKind, rule: KindPolicy) -> Self {
        self.kinds.insert(kind, rule);
        self
    }

    /// The rule of `kind` (every kind has one).
    pub fn rule(&self, kind: ApprovalKind) -> &KindPolicy {
        self.kinds
            .get(&kind)
            .expect("the playbook gives every kind a rule and `with` only replaces")
    }

    /// The rule when a change of `kind` of this size needs approval, `None`
    /// when it is under the threshold.
    pub fn requires(
        &self,
        kind: ApprovalKind,
        amount: Option<Money>,
        percent_bp: Option<i64>,
    ) -> Result<Option<&KindPolicy>, ThresholdError> {
        let rule = self.rule(kind);
        let needed = match rule.threshold {
            Threshold::Any => true,
            Threshold::PercentOver { basis_points } => {
                percent_bp.ok_or(ThresholdError::Missing {
                    kind,
                    field: "percent",
                })? > basis_points
            }
            Threshold::AmountOver { major_units } => {
                let amount = amount.ok_or(ThresholdError::Missing {
                    kind,
                    field: "amount",
                })?;
                let scale = 10_i64.pow(u32::from(amount.currency.exponent()));
                i128::from(amount.minor) > i128::from(major_units) * i128::from(scale)
            }
        };
        Ok(needed.then_some(rule))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsdeck_domain::Currency;

    fn eur(minor: i64) -> Option<Money> {
        Some(Money::new(minor, Currency::parse("EUR").unwrap()))
    }

    #[test]
    fn playbook_thresholds() {
        let p = ApprovalPolicy::playbook();
        assert!(p
            .requires(ApprovalKind::PriceChange, None, None)
            .unwrap()
            .is_some());
        assert!(
            p.requires(ApprovalKind::Refund, eur(50_000), None)
                .unwrap()
                .is_none(),
            "500.00 is not over 500"
        );
        assert!(p
            .requires(ApprovalKind::Refund, eur(50_001), None)
            .unwrap()
            .is_some());
        let jpy = Some(Money::new(501, Currency::parse("JPY").unwrap()));
        assert!(p
            .requires(ApprovalKind::Refund, jpy, None)
            .unwrap()
            .is_some());
        assert!(p
            .requires(ApprovalKind::Discount, None, Some(2000))
            .unwrap()
            .is_none());
        assert!(p
            .requires(ApprovalKind::Discount, None, Some(2001))
            .unwrap()
            .is_some());
        assert_eq!(
            p.requires(ApprovalKind::Discount, None, None)
                .unwrap_err()
                .to_string(),
            "a discount request needs `percent` to be weighed against its threshold"
        );
    }
}
