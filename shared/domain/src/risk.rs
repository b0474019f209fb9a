//! Fraud review: a rule-based risk score computed at intake. Each rule
//! that fires adds points; at `holdScore` or above the order is held
//! (`FRAUD_REVIEW`: its stock stays reserved, nothing is released) until an
//! operator releases it (`POST /orders/{id}/release`) or cancels it. The
//! score and the rules that fired are kept on the order.

use crate::validation::FieldError;
use serde::{Deserialize, Serialize};

/// The rules, as `PUT /risk-rules` sets them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RiskRules {
    /// A score at or above it holds the order for review.
    pub hold_score: u32,
    #[serde(default)]
    pub blocklist: Blocklist,
    /// A customer's first order above this total (minor units of its
    /// currency) scores `firstOrderPoints`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_order_amount_over: Option<i64>,
    /// More orders than this from one customer within an hour score
    /// `velocityPoints`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_orders_per_customer_per_hour: Option<u32>,
    /// Any order above this total scores `highValuePoints`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high_value_over: Option<i64>,
    #[serde(default = "first_points")]
    pub first_order_points: u32,
    #[serde(default = "velocity_points")]
    pub velocity_points: u32,
    #[serde(default = "high_value_points")]
    pub high_value_points: u32,
    /// An order above this many times the average total of the customer's
    /// latest earlier orders (up to 10) scores `historyPoints`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_multiple_over: Option<u32>,
    #[serde(default = "history_points")]
    pub history_points: u32,
    /// An order billed in one country and shipped to another scores this
    /// (0: the rule is off).
    #[serde(default = "mismatch_points")]
    pub country_mismatch_points: u32,
}

fn history_points() -> u32 {
    30
}
fn mismatch_points() -> u32 {
    25
}

fn first_points() -> u32 {
    30
}
fn velocity_points() -> u32 {
    40
}
fn high_value_points() -> u32 {
    20
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Blocklist {
    /// Emails (compared without case) whose orders are held.
    #[serde(default)]
    pub emails: Vec<String>,
    /// Postal codes (compared without spaces or case) whose orders are held.
    #[serde(default)]
    pub postal_codes: Vec<String>,
}

impl Default for RiskRules {
    fn default() -> Self {
        Self {
            hold_score: 50,
            blocklist: Blocklist::default(),
            first_order_amount_over: None,
            max_orders_per_customer_per_hour: None,
            high_value_over: None,
            first_order_points: first_points(),
            velocity_points: velocity_points(),
            high_value_points: high_value_points(),
            history_multiple_over: None,
            history_points: history_points(),
            country_mismatch_points: mismatch_points(),
        }
    }
}

/// Most blocklist entries of each kind.
pub const MAX_BLOCKLIST: usize = 10_000;

impl RiskRules {
    /// Rules as sent, checked.
    pub fn validate(self) -> Result<Self, FieldError> {
        if self.hold_score == 0 || self.hold_score > 1000 {
            return Err(FieldError::new("holdScore", "must be 1 to 1000"));
        }
        if self
            .history_multiple_over
            .is_some_and(|m| m == 0 || m > 1000)
        {
            return Err(FieldError::new("historyMultipleOver", "must be 1 to 1000"));
        }
        if self.blocklist.emails.len() > MAX_BLOCKLIST {
            return Err(FieldError::new("blocklist.emails", "at most 10,000"));
        }
        if self.blocklist.postal_codes.len() > MAX_BLOCKLIST {
            return Err(FieldError::new("blocklist.postalCodes", "at most 10,000"));
        }
        for (field, v) in [
            ("firstOrderAmountOver", self.first_order_amount_over),
            ("highValueOver", self.high_value_over),
        ] {
            if v.is_some_and(|v| v < 0) {
                return Err(FieldError::new(field, "must not be negative"));
            }
        }
        Ok(self)
    }

    /// Whether scoring needs the customer's earlier orders.
    pub fn needs_history(&self) -> bool {
        self.first_order_amount_over.is_some()
            || self.max_orders_per_customer_per_hour.is_some()
            || self.history_multiple_over.is_some()
    }
}

/// The window of the velocity rule.
pub const VELOCITY_WINDOW_MS: u64 = 3_600_000;

/// (earlier orders, of which in the velocity window) from the placement
/// times of a customer's earlier orders.
pub fn history(placed: &[crate::time::Timestamp], now: crate::time::Timestamp) -> (u64, u64) {
    let since = now.millis().saturating_sub(VELOCITY_WINDOW_MS);
    let recent = placed.iter().filter(|t| t.millis() >= since).count();
    (placed.len() as u64, recent as u64)
}

/// What is known of an order when it is scored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskInput<'a> {
    pub total: i64,
    pub email: Option<&'a str>,
    pub postal_code: Option<&'a str>,
    /// The customer's orders placed before this one (as far as looked).
    pub earlier_orders: u64,
    /// Of those, the ones placed in the last hour.
    pub orders_last_hour: u64,
    /// The average total of the customer's latest earlier orders in this
    /// order's currency, when the history rule asked for it.
    pub earlier_average: Option<i64>,
    /// The countries it is billed in and shipped to.
    pub bill_country: Option<&'a str>,
    pub ship_country: &'a str,
}

/// A rule that fired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FiredRule {
    pub rule: String,
    pub points: u32,
    pub detail: String,
}

/// The score of an order and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RiskAssessment {
    pub score: u32,
    pub fired: Vec<FiredRule>,
    /// At or above the hold score: held for review.
    pub review: bool,
}

fn normal_postal(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// Scores an order.
pub fn assess(rules: &RiskRules, input: &RiskInput<'_>) -> RiskAssessment {
    let mut fired = Vec::new();
    let mut fire = |rule: &str, points: u32, detail: String| {
        fired.push(FiredRule {
            rule: rule.to_owned(),
            points,
            detail,
        })
    };
    if let Some(email) = input.email
        && rules
            .blocklist
            .emails
            .iter()
            .any(|b| b.eq_ignore_ascii_case(email.trim()))
    {
        fire(
            "BLOCKLISTED_EMAIL",
            rules.hold_score,
            format!("{email} is blocklisted"),
        );
    }
    if let Some(code) = input.postal_code {
        let code = normal_postal(code);
        if rules
            .blocklist
            .postal_codes
            .iter()
            .any(|b| normal_postal(b) == code)
        {
            fire(
                "BLOCKLISTED_POSTAL_CODE",
                rules.hold_score,
                format!("postal code {code} is blocklisted"),
            );
        }
    }
    if let Some(over) = rules.first_order_amount_over
        && input.earlier_orders == 0
        && input.total > over
    {
        fire(
            "FIRST_ORDER_ABOVE",
            rules.first_order_points,
            format!("a first order of {} (over {over})", input.total),
        );
    }
    if let Some(max) = rules.max_orders_per_customer_per_hour
        && input.orders_last_hour >= u64::from(max)
    {
        fire(
            "VELOCITY",
            rules.velocity_points,
            format!(
                "{} orders from the customer in the last hour (at most {max})",
                input.orders_last_hour + 1
            ),
        );
    }
    if let Some(over) = rules.high_value_over
        && input.total > over
    {
        fire(
            "HIGH_VALUE",
            rules.high_value_points,
            format!("a total of {} (over {over})", input.total),
        );
    }
    if let (Some(times), Some(average)) = (rules.history_multiple_over, input.earlier_average)
        && average > 0
        && input.total > average.saturating_mul(i64::from(times))
    {
        fire(
            "ABOVE_HISTORY",
            rules.history_points,
            format!(
                "a total of {} (over {times} × the customer's average {average})",
                input.total
            ),
        );
    }
    if rules.country_mismatch_points > 0
        && let Some(billed) = input.bill_country
        && billed != input.ship_country
    {
        fire(
            "COUNTRY_MISMATCH",
            rules.country_mismatch_points,
            format!("billed in {billed}, shipped to {}", input.ship_country),
        );
    }
    let score = fired.iter().map(|f| f.points).sum();
    RiskAssessment {
        score,
        review: score >= rules.hold_score,
        fired,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(total: i64, earlier: u64, last_hour: u64) -> RiskInput<'static> {
        RiskInput {
            total,
            email: Some("Ana@Example.com"),
            postal_code: Some("20000-000"),
            earlier_orders: earlier,
            orders_last_hour: last_hour,
            earlier_average: None,
            bill_country: None,
            ship_country: "BR",
        }
    }

    #[test]
    fn an_order_far_above_the_customers_history_or_billed_abroad_scores() {
        let rules = RiskRules {
            history_multiple_over: Some(5),
            ..RiskRules::default()
        };
        let mut i = input(6_000, 3, 0);
        i.earlier_average = Some(1_000);
        let a = assess(&rules, &i);
        assert_eq!(
            a.fired.iter().map(|f| f.rule.as_str()).collect::<Vec<_>>(),
            ["ABOVE_HISTORY"]
        );
        assert_eq!(a.score, 30);
        i.total = 5_000;
        assert!(assess(&rules, &i).fired.is_empty(), "not above 5 ×");
        i.bill_country = Some("US");
        let a = assess(&rules, &i);
        assert_eq!(
            (a.score, a.fired[0].rule.as_str()),
            (25, "COUNTRY_MISMATCH")
        );
        i.bill_country = Some("BR");
        assert!(assess(&rules, &i).fired.is_empty());
    }

    #[test]
    fn a_blocklisted_email_alone_reaches_the_hold_score() {
        let rules = RiskRules {
            blocklist: Blocklist {
                emails: vec!["ana@example.com".into()],
                postal_codes: vec![],
            },
            ..RiskRules::default()
        };
        let a = assess(&rules, &input(100, 3, 0));
        assert_eq!((a.score, a.review), (50, true));
        assert_eq!(a.fired[0].rule, "BLOCKLISTED_EMAIL");
    }

    #[test]
    fn points_add_up_to_a_review() {
        let rules = RiskRules {
            first_order_amount_over: Some(100_000),
            max_orders_per_customer_per_hour: Some(5),
            high_value_over: Some(50_000),
            blocklist: Blocklist {
                emails: vec![],
                postal_codes: vec!["20000 000".into()],
            },
            ..RiskRules::default()
        };
        let calm = assess(&rules, &input(1_000, 2, 1));
        assert_eq!((calm.score, calm.review), (50, true), "the postal code");
        let rules = RiskRules {
            blocklist: Blocklist::default(),
            ..rules
        };
        assert_eq!(assess(&rules, &input(1_000, 2, 1)).score, 0);
        let first_big = assess(&rules, &input(150_000, 0, 0));
        assert_eq!(
            (first_big.score, first_big.review),
            (50, true),
            "first order 30 + high value 20"
        );
        let fast = assess(&rules, &input(1_000, 9, 5));
        assert_eq!((fast.score, fast.review), (40, false));
        assert!(
            RiskRules {
                hold_score: 0,
                ..RiskRules::default()
            }
            .validate()
            .is_err()
        );
    }
}
