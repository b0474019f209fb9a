//! What each function may do on AWS: the IAM actions its code calls, which
//! the template grants and a test keeps equal.

use oms_app::wiring::Function;

/// The DynamoDB actions the function's code calls (IAM names; a
/// `TransactWriteItems` is authorised per contained Put/Update).
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
        Function::OrderIntake | Function::Payment | Function::Shipment | Function::Returns => {
            ORDERS
        }
        Function::Reservation | Function::Routing | Function::Inventory => ORDERS_AND_STOCK_QUERIES,
    }
}

/// Whether the function publishes events (`events:PutEvents`).
pub fn publishes(f: Function) -> bool {
    !matches!(f, Function::Inventory | Function::Notifications)
}

/// Whether the function schedules the payment-window timer (an SQS
/// message with a delay on the payment queue).
pub fn schedules(f: Function) -> bool {
    matches!(f, Function::OrderIntake | Function::Payment)
}
