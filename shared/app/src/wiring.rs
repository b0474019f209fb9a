//! Which function serves which route and consumes which events: declared
//! once, read by the services, the local runtime, the AWS provisioning and
//! the tests that keep `infra/template.yaml` in step.

use oms_domain::access::Role;
use oms_domain::events::OMS_SOURCE;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Function {
    OrderIntake,
    Reservation,
    Inventory,
    Payment,
    Shipment,
    Returns,
    Notifications,
    /// Delivers committed outboxes (the table's stream).
    Relay,
    /// Raises service-level alerts (a schedule).
    Sla,
    /// Places marketplaces' submitted orders.
    Marketplace,
}

impl Function {
    pub const ALL: [Function; 10] = [
        Function::OrderIntake,
        Function::Reservation,
        Function::Inventory,
        Function::Payment,
        Function::Shipment,
        Function::Returns,
        Function::Notifications,
        Function::Relay,
        Function::Sla,
        Function::Marketplace,
    ];

    /// Whether one of the function's subscriptions takes `detail_type`, by
    /// a rule or as a timer.
    pub fn consumes(self, detail_type: &str) -> bool {
        SUBSCRIPTIONS.iter().any(|s| {
            s.function == self
                && (s.detail_types.contains(&detail_type) || s.timers.contains(&detail_type))
        })
    }

    /// The crate, binary and Lambda function name.
    pub fn name(self) -> &'static str {
        match self {
            Function::OrderIntake => "order-intake",
            Function::Reservation => "reservation",
            Function::Inventory => "inventory",
            Function::Payment => "payment",
            Function::Shipment => "shipment",
            Function::Returns => "returns",
            Function::Notifications => "notifications",
            Function::Relay => "relay",
            Function::Sla => "sla",
            Function::Marketplace => "marketplace",
        }
    }
}

/// An HTTP API route (API Gateway route key `METHOD path`).
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub function: Function,
    /// The roles whose tokens may call it (their scopes are the route's
    /// authorization scopes in the HTTP API).
    pub roles: &'static [Role],
}

const ANYONE: &[Role] = &[Role::Operator, Role::Storefront, Role::Customer];
const BUSINESS: &[Role] = &[Role::Operator, Role::Storefront];
const OPERATOR: &[Role] = &[Role::Operator];

pub const ROUTES: &[Route] = &[
    Route {
        method: "POST",
        path: "/orders",
        function: Function::OrderIntake,
        roles: ANYONE,
    },
    Route {
        method: "GET",
        path: "/orders",
        function: Function::OrderIntake,
        roles: ANYONE,
    },
    Route {
        method: "GET",
        path: "/locations/{locationId}/pick-lists",
        function: Function::OrderIntake,
        roles: OPERATOR,
    },
    Route {
        method: "GET",
        path: "/risk-rules",
        function: Function::OrderIntake,
        roles: OPERATOR,
    },
    Route {
        method: "PUT",
        path: "/risk-rules",
        function: Function::OrderIntake,
        roles: OPERATOR,
    },
    Route {
        method: "GET",
        path: "/routing-rules",
        function: Function::OrderIntake,
        roles: OPERATOR,
    },
    Route {
        method: "PUT",
        path: "/routing-rules",
        function: Function::OrderIntake,
        roles: OPERATOR,
    },
    Route {
        method: "GET",
        path: "/kpis",
        function: Function::OrderIntake,
        roles: OPERATOR,
    },
    Route {
        method: "GET",
        path: "/reports/top",
        function: Function::OrderIntake,
        roles: OPERATOR,
    },
    Route {
        method: "GET",
        path: "/reports/orders.csv",
        function: Function::OrderIntake,
        roles: OPERATOR,
    },
    Route {
        method: "GET",
        path: "/orders/{orderId}",
        function: Function::OrderIntake,
        roles: ANYONE,
    },
    Route {
        method: "POST",
        path: "/promise",
        function: Function::OrderIntake,
        roles: ANYONE,
    },
    Route {
        method: "GET",
        path: "/orders/{orderId}/invoices",
        function: Function::OrderIntake,
        roles: ANYONE,
    },
    Route {
        method: "GET",
        path: "/invoices/{number}",
        function: Function::OrderIntake,
        roles: ANYONE,
    },
    Route {
        method: "POST",
        path: "/orders/{orderId}/cancel",
        function: Function::OrderIntake,
        roles: ANYONE,
    },
    Route {
        method: "PATCH",
        path: "/orders/{orderId}",
        function: Function::OrderIntake,
        roles: ANYONE,
    },
    Route {
        method: "POST",
        path: "/orders/{orderId}/lines/{sku}/cancel",
        function: Function::OrderIntake,
        roles: ANYONE,
    },
    Route {
        method: "POST",
        path: "/orders/{orderId}/release",
        function: Function::OrderIntake,
        roles: OPERATOR,
    },
    Route {
        method: "POST",
        path: "/orders/{orderId}/hold",
        function: Function::OrderIntake,
        roles: OPERATOR,
    },
    Route {
        method: "POST",
        path: "/orders/{orderId}/refunds",
        function: Function::OrderIntake,
        roles: OPERATOR,
    },
    Route {
        method: "POST",
        path: "/orders/{orderId}/reroute",
        function: Function::OrderIntake,
        roles: OPERATOR,
    },
    Route {
        method: "POST",
        path: "/orders/{orderId}/returns",
        function: Function::Returns,
        roles: ANYONE,
    },
    Route {
        method: "GET",
        path: "/locations",
        function: Function::Inventory,
        roles: BUSINESS,
    },
    Route {
        method: "GET",
        path: "/locations/{locationId}",
        function: Function::Inventory,
        roles: BUSINESS,
    },
    Route {
        method: "PUT",
        path: "/locations/{locationId}",
        function: Function::Inventory,
        roles: OPERATOR,
    },
    Route {
        method: "PUT",
        path: "/products/{sku}",
        function: Function::Inventory,
        roles: OPERATOR,
    },
    Route {
        method: "GET",
        path: "/products/{sku}",
        function: Function::Inventory,
        roles: ANYONE,
    },
    Route {
        method: "GET",
        path: "/products",
        function: Function::Inventory,
        roles: ANYONE,
    },
    Route {
        method: "PUT",
        path: "/accounts/{accountId}",
        function: Function::Inventory,
        roles: OPERATOR,
    },
    Route {
        method: "GET",
        path: "/accounts/{accountId}",
        function: Function::Inventory,
        roles: BUSINESS,
    },
    Route {
        method: "PUT",
        path: "/price-lists/{priceListId}",
        function: Function::Inventory,
        roles: OPERATOR,
    },
    Route {
        method: "GET",
        path: "/price-lists/{priceListId}",
        function: Function::Inventory,
        roles: BUSINESS,
    },
    Route {
        method: "PUT",
        path: "/promotions/{promotionId}",
        function: Function::Inventory,
        roles: OPERATOR,
    },
    Route {
        method: "GET",
        path: "/promotions/{promotionId}",
        function: Function::Inventory,
        roles: BUSINESS,
    },
    Route {
        method: "GET",
        path: "/promotions",
        function: Function::Inventory,
        roles: BUSINESS,
    },
    Route {
        method: "PUT",
        path: "/shipping-rates",
        function: Function::Inventory,
        roles: OPERATOR,
    },
    Route {
        method: "GET",
        path: "/shipping-rates",
        function: Function::Inventory,
        roles: BUSINESS,
    },
    Route {
        method: "PUT",
        path: "/tax-rules",
        function: Function::Inventory,
        roles: OPERATOR,
    },
    Route {
        method: "GET",
        path: "/tax-rules",
        function: Function::Inventory,
        roles: BUSINESS,
    },
    Route {
        method: "GET",
        path: "/inventory/{sku}",
        function: Function::Inventory,
        roles: BUSINESS,
    },
    Route {
        method: "PUT",
        path: "/inventory/{sku}",
        function: Function::Inventory,
        roles: OPERATOR,
    },
    Route {
        method: "PUT",
        path: "/inventory/{sku}/{locationId}",
        function: Function::Inventory,
        roles: OPERATOR,
    },
    Route {
        method: "POST",
        path: "/inventory/{sku}/{locationId}/adjustments",
        function: Function::Inventory,
        roles: OPERATOR,
    },
    Route {
        method: "GET",
        path: "/inventory/{sku}/{locationId}/adjustments",
        function: Function::Inventory,
        roles: OPERATOR,
    },
    Route {
        method: "GET",
        path: "/replenishment",
        function: Function::Inventory,
        roles: OPERATOR,
    },
    Route {
        method: "POST",
        path: "/inventory/{sku}/{locationId}/incoming",
        function: Function::Inventory,
        roles: OPERATOR,
    },
    Route {
        method: "POST",
        path: "/inventory/{sku}/{locationId}/receipts",
        function: Function::Inventory,
        roles: OPERATOR,
    },
];

/// An EventBridge rule feeding an SQS queue that triggers a function.
#[derive(Debug, Clone, Copy)]
pub struct Subscription {
    /// Rule name and queue name (the dead-letter queue adds `-dlq`).
    pub queue: &'static str,
    pub function: Function,
    /// Sources the rule matches; empty matches any source. Partner events
    /// are matched on any source so that the handler can refuse (and
    /// record) senders that are not on the partner allow-list.
    pub sources: &'static [&'static str],
    /// The event types the rule matches.
    pub detail_types: &'static [&'static str],
    /// Timers the OMS sends straight to this queue (an SQS delay message),
    /// never through the bus: nobody who can put events can forge them.
    pub timers: &'static [&'static str],
    /// The step was already taken in the commit that made the event when
    /// that commit also carries one of these: the event is not delivered
    /// here (intake reserves an order as it places it when it can).
    pub done_with: &'static [&'static str],
}

pub const SUBSCRIPTIONS: &[Subscription] = &[
    Subscription {
        queue: "reservation",
        function: Function::Reservation,
        sources: &[OMS_SOURCE],
        detail_types: &["OrderPlaced", "RerouteRequested"],
        timers: &[],
        done_with: &["InventoryReserved", "OrderRejected"],
    },
    Subscription {
        queue: "payment",
        function: Function::Payment,
        sources: &[],
        detail_types: &["PaymentConfirmed", "PaymentAuthorized", "PaymentFailed"],
        timers: &["PaymentWindowExpired"],
        done_with: &[],
    },
    Subscription {
        queue: "shipment",
        function: Function::Shipment,
        sources: &[],
        detail_types: &[
            "ShipmentStatusChanged",
            "CancellationResponse",
            "FulfillmentRejected",
            "ReadyForPickup",
            "PickedUp",
        ],
        timers: &[],
        done_with: &[],
    },
    Subscription {
        queue: "returns",
        function: Function::Returns,
        sources: &[],
        detail_types: &["ReturnReceived"],
        timers: &[],
        done_with: &[],
    },
    Subscription {
        queue: "marketplace",
        function: Function::Marketplace,
        sources: &[],
        detail_types: &["OrderSubmitted"],
        timers: &[],
        done_with: &[],
    },
    Subscription {
        queue: "notifications",
        function: Function::Notifications,
        sources: &[OMS_SOURCE],
        detail_types: &["CustomerNotificationRequested"],
        timers: &[],
        done_with: &[],
    },
];

/// The queue the payment-window timer is delivered to.
pub const TIMER_QUEUE: &str = "payment";

/// The queue a timer of this type goes to.
pub fn timer_queue(detail_type: &str) -> Option<&'static str> {
    SUBSCRIPTIONS
        .iter()
        .find(|s| s.timers.contains(&detail_type))
        .map(|s| s.queue)
}

/// SQS receives before a message moves to the dead-letter queue.
pub const MAX_RECEIVES: u32 = 3;
/// How long a received message stays hidden: six times the function
/// timeout, as AWS recommends for SQS event sources.
pub const VISIBILITY_TIMEOUT_SECS: u32 = 60;
/// Dead-letter queues keep messages for the SQS maximum, 14 days.
pub const DEAD_LETTER_RETENTION_SECS: u32 = 14 * 24 * 3600;
/// Messages handed to a function in one invocation.
pub const BATCH_SIZE: usize = 10;

impl Subscription {
    /// Fed by the outbox relay with the OMS's own events (straight to the
    /// queue), not by a rule on the bus.
    pub fn is_internal(&self) -> bool {
        self.sources == [OMS_SOURCE]
    }

    pub fn matches(&self, source: &str, detail_type: &str) -> bool {
        (self.sources.is_empty() || self.sources.contains(&source))
            && self.detail_types.contains(&detail_type)
    }
}

/// Finds the route for a method and path, with its path parameters.
pub fn match_route(method: &str, path: &str) -> Option<(&'static Route, Vec<(String, String)>)> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    ROUTES.iter().filter(|r| r.method == method).find_map(|r| {
        let template: Vec<&str> = r.path.trim_matches('/').split('/').collect();
        if template.len() != segments.len() {
            return None;
        }
        let mut params = Vec::new();
        for (t, s) in template.iter().zip(&segments) {
            match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                Some(name) if !s.is_empty() => params.push((name.to_owned(), (*s).to_owned())),
                Some(_) => return None,
                None if t == s => {}
                None => return None,
            }
        }
        Some((r, params))
    })
}

/// True when some route has this path with another method (→ 405, not 404).
pub fn path_exists(path: &str) -> bool {
    ["GET", "PUT", "POST", "DELETE", "PATCH"]
        .iter()
        .any(|m| match_route(m, path).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_with_parameters() {
        let (r, p) = match_route("PUT", "/inventory/SKU-1/wh-1").unwrap();
        assert_eq!(r.function, Function::Inventory);
        assert_eq!(
            p,
            [
                ("sku".into(), "SKU-1".into()),
                ("locationId".into(), "wh-1".into())
            ]
        );
        assert!(match_route("DELETE", "/orders").is_none());
        assert!(path_exists("/orders"));
        assert!(match_route("POST", "/orders//cancel").is_none());
        assert!(!path_exists("/nope"));
    }

    #[test]
    fn functions_consume_what_their_subscriptions_take() {
        assert!(Function::Payment.consumes("PaymentConfirmed"));
        assert!(Function::Payment.consumes("PaymentWindowExpired"));
        assert!(!Function::Payment.consumes("ReturnReceived"));
        assert!(Function::Returns.consumes("ReturnReceived"));
    }

    #[test]
    fn every_emitted_event_consumed_here_is_in_the_catalog() {
        for s in SUBSCRIPTIONS {
            for t in s.detail_types {
                let partner = oms_domain::partner::PARTNER_EVENTS
                    .iter()
                    .any(|(p, _)| p == t);
                assert!(
                    oms_domain::events::EVENT_TYPES.contains(t) || partner,
                    "{t}"
                );
            }
        }
    }
}
