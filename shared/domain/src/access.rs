//! Who is asking, and what they may see and do.
//!
//! Every API caller presents a bearer token (a JWT: API Gateway's JWT
//! authorizer verifies it on AWS, the local front verifies it locally); its
//! claims become a [`Caller`]:
//! - `operator` — everything: stock, locations, every order, the operator
//!   actions;
//! - `storefront` — places orders for any customer on its own channel, and
//!   reads, cancels and returns that channel's orders;
//! - `customer` — places orders only for itself (`customer.id` = the token's
//!   subject) and reads, cancels and returns only its own orders.
//!
//! An order a caller may not see does not exist for it (404, never a hint).

use crate::ids::{Channel, CustomerId};
use crate::order::{NewOrder, Order};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A caller's role: which OAuth scope its token carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Operator,
    Storefront,
    Customer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Operator, Role::Storefront, Role::Customer];

    pub fn name(self) -> &'static str {
        match self {
            Self::Operator => "operator",
            Self::Storefront => "storefront",
            Self::Customer => "customer",
        }
    }

    /// The OAuth scope that grants the role (`oms/operator`, …), as the
    /// HTTP API's routes require it.
    pub fn scope(self) -> &'static str {
        match self {
            Self::Operator => "oms/operator",
            Self::Storefront => "oms/storefront",
            Self::Customer => "oms/customer",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }

    fn from_scope(scope: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.scope() == scope)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub role: Role,
    /// The token's subject: a user, an app client, a customer id.
    pub subject: String,
    /// The channel a storefront acts for.
    pub channel: Option<Channel>,
    /// The customer a customer token is (its subject).
    pub customer_id: Option<CustomerId>,
}

/// The request is authenticated but not allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Forbidden(pub String);

/// The claims of a verified token that say who the caller is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claims {
    pub subject: String,
    /// The token's scopes (`scope`, space-separated in the JWT).
    pub scopes: Vec<String>,
    /// `oms_channel`: the channel of a storefront token.
    pub channel: Option<String>,
}

impl Caller {
    /// The caller a verified token describes; the most powerful role among
    /// its scopes wins.
    pub fn from_claims(claims: &Claims) -> Result<Caller, Forbidden> {
        let role = claims
            .scopes
            .iter()
            .filter_map(|s| Role::from_scope(s))
            .min()
            .ok_or_else(|| Forbidden("the token grants no OMS role".into()))?;
        let subject = crate::ids::clip(&claims.subject, 128);
        match role {
            Role::Operator => Ok(Caller::operator(&subject)),
            Role::Storefront => {
                let channel = claims
                    .channel
                    .as_deref()
                    .ok_or_else(|| Forbidden("a storefront token must name its channel".into()))
                    .and_then(|c| {
                        Channel::parse(c).map_err(|e| Forbidden(format!("oms_channel: {e}")))
                    })?;
                Ok(Caller {
                    role,
                    subject,
                    channel: Some(channel),
                    customer_id: None,
                })
            }
            Role::Customer => {
                let customer = CustomerId::parse(&claims.subject).map_err(|e| {
                    Forbidden(format!(
                        "a customer token's subject must be a customer id: {e}"
                    ))
                })?;
                Ok(Caller {
                    role,
                    subject,
                    channel: None,
                    customer_id: Some(customer),
                })
            }
        }
    }

    pub fn operator(subject: &str) -> Caller {
        Caller {
            role: Role::Operator,
            subject: subject.to_owned(),
            channel: None,
            customer_id: None,
        }
    }

    pub fn is_operator(&self) -> bool {
        self.role == Role::Operator
    }

    /// How the caller appears in an order's history: `operator:alice`.
    pub fn actor(&self) -> String {
        format!("{}:{}", self.role, self.subject)
    }

    /// Whether the order exists for this caller.
    pub fn can_see(&self, order: &Order) -> bool {
        match self.role {
            Role::Operator => true,
            Role::Storefront => self.channel.as_ref() == Some(&order.channel),
            Role::Customer => self.customer_id.as_ref() == Some(&order.customer.id),
        }
    }

    /// Whether the caller may place this order.
    pub fn may_place(&self, order: &NewOrder) -> Result<(), Forbidden> {
        match self.role {
            Role::Operator => Ok(()),
            Role::Storefront if self.channel.as_ref() == Some(&order.channel) => Ok(()),
            Role::Storefront => Err(Forbidden(format!(
                "this storefront places orders for channel {}, not {}",
                self.channel
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                order.channel
            ))),
            Role::Customer if self.customer_id.as_ref() == Some(&order.customer.id) => Ok(()),
            Role::Customer => Err(Forbidden(
                "a customer places orders only for itself (customer.id must be the token's subject)"
                    .into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(scope: &str, sub: &str, channel: Option<&str>) -> Claims {
        Claims {
            subject: sub.into(),
            scopes: scope.split(' ').map(str::to_owned).collect(),
            channel: channel.map(str::to_owned),
        }
    }

    #[test]
    fn roles_come_from_scopes_and_need_their_claims() {
        let op = Caller::from_claims(&claims("openid oms/operator", "ana", None)).unwrap();
        assert_eq!(
            (op.role, op.actor().as_str()),
            (Role::Operator, "operator:ana")
        );
        let sf = Caller::from_claims(&claims("oms/storefront", "app-1", Some("web"))).unwrap();
        assert_eq!(sf.channel.as_ref().map(|c| c.as_str()), Some("web"));
        assert!(Caller::from_claims(&claims("oms/storefront", "app-1", None)).is_err());
        let c = Caller::from_claims(&claims("oms/customer", "c-1", None)).unwrap();
        assert_eq!(c.customer_id.as_ref().map(|c| c.as_str()), Some("c-1"));
        assert!(Caller::from_claims(&claims("oms/customer", "not valid!", None)).is_err());
        assert!(Caller::from_claims(&claims("email", "x", None)).is_err());
        // Several roles: the most powerful.
        let both = Caller::from_claims(&claims("oms/customer oms/operator", "c-1", None)).unwrap();
        assert_eq!(both.role, Role::Operator);
    }
}
