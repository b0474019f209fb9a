//! What each function may do on AWS: the IAM actions its code calls, which
//! the template grants and a test keeps equal.

use oms_app::wiring::{Function, SUBSCRIPTIONS, TIMER_QUEUE};

/// The DynamoDB actions the function's code calls (IAM names; a
/// `TransactWriteItems` is authorised per contained Put/Update). The relay
/// reads the table's stream through its event source mapping, and adds to
/// the KPI sums.
pub fn table_actions(f: Function) -> &'static [&'static str] {
    const ORDERS: &[&str] = &[
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ];
    const ORDERS_AND_STOCK_QUERIES: &[&str] = &[
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ];
    match f {
        Function::Notifications => &[],
        // The KPI sums: added to with a marker per group of records.
        Function::Relay => ORDERS,
        Function::Payment | Function::Shipment | Function::Returns => ORDERS,
        // Intake reserves as it places: it reads the locations. The SLA
        // sweep reads its position and changes orders.
        // Marketplace submissions go through intake (which reserves).
        Function::OrderIntake
        | Function::Reservation
        | Function::Inventory
        | Function::Sla
        | Function::Marketplace => ORDERS_AND_STOCK_QUERIES,
    }
}

/// The actions the function's code calls on the table's indexes
/// (`…/index/*`): order search queries them.
pub fn index_actions(f: Function) -> &'static [&'static str] {
    match f {
        Function::OrderIntake | Function::Sla => &["dynamodb:Query"],
        _ => &[],
    }
}

/// Whether the function puts events on the bus (`events:PutEvents`): only
/// the relay; every other function commits its events to the outbox.
pub fn publishes(f: Function) -> bool {
    f == Function::Relay
}

/// The queues the function sends messages to (`sqs:SendMessage`): the relay
/// to every OMS consumer's queue and the timers' queue; the payment
/// function to the timers' queue, to set again a timer that came early.
pub fn sends_to(f: Function) -> Vec<&'static str> {
    match f {
        Function::Relay => {
            let mut queues: Vec<&'static str> = SUBSCRIPTIONS
                .iter()
                .filter(|s| s.is_internal() || !s.timers.is_empty())
                .map(|s| s.queue)
                .collect();
            queues.sort_unstable();
            queues.dedup();
            queues
        }
        Function::Payment => vec![TIMER_QUEUE],
        _ => Vec::new(),
    }
}
