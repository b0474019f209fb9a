//! The storefront API as OpenAPI 3.1, generated from the request and
//! response types and the route table (`oms_app::wiring::ROUTES`); a route
//! without a description here is a test failure, not a silent gap.

use oms_app::wiring::{Function, ROUTES};
use oms_domain::inventory::{Location, StockView};
use oms_domain::order::{Order, ReturnAuth};
use oms_domain::validation::{
    CancelRequest, LocationRequest, PlaceOrderRequest, ReturnRequest, StockRequest,
    StockSettingsRequest,
};
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// The body of every error response.
#[derive(Serialize, JsonSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, JsonSchema)]
pub struct ErrorDetail {
    /// A stable code: `MALFORMED_JSON`, `INVALID_VALUE`, `BODY_TOO_LARGE`,
    /// `NOT_FOUND`, `METHOD_NOT_ALLOWED`, `IDEMPOTENCY_CONFLICT`,
    /// `BELOW_RESERVED`, `ALREADY_SHIPPED`, `NOT_CANCELLABLE`,
    /// `NOT_RETURNABLE`, `NOT_HELD`, `NOT_HOLDABLE`, `ALREADY_HELD`,
    /// `ABOVE_REFUNDABLE`, `WRONG_CURRENCY`, `NOT_REROUTABLE`, `COUPON_TAKEN`,
    /// `UNKNOWN_COUPON`, `COUPON_NOT_APPLICABLE`, `NO_SHIPPING_RATE`,
    /// `UNAVAILABLE`.
    pub code: String,
    pub message: String,
    /// The offending field, e.g. `lines[0].quantity`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Serialize, JsonSchema)]
pub struct LocationList {
    pub locations: Vec<Location>,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReturnResponse {
    pub order_id: String,
    /// Amounts in minor units of the order's currency.
    #[serde(rename = "return")]
    pub rma: ReturnAuth<i64>,
}

struct Operation {
    summary: &'static str,
    idempotency_key: bool,
    body: Option<(&'static str, bool)>,
    responses: &'static [(u16, &'static str, &'static str)],
}

const ERR: &str = "ErrorBody";
/// A response that is CSV text, not JSON.
const CSV: &str = "text/csv";

fn operation(method: &str, path: &str) -> Option<Operation> {
    let op = |summary, idempotency_key, body, responses| Operation {
        summary,
        idempotency_key,
        body,
        responses,
    };
    Some(match (method, path) {
        ("POST", "/orders") => op(
            "Place an order",
            true,
            Some(("PlaceOrderRequest", true)),
            &[
                (201, "Placed", "Order"),
                (
                    200,
                    "The same Idempotency-Key or channel + externalId: the first order",
                    "Order",
                ),
                (400, "Malformed JSON", ERR),
                (
                    409,
                    "The key or external id was used with a different body",
                    ERR,
                ),
                (
                    422,
                    "An invalid value (see `field`), a body over 64 KiB, or a line the catalog prices otherwise (PRICE_MISMATCH, NO_PRICE, UNKNOWN_SKU), a coupon that is unknown or does not apply (UNKNOWN_COUPON, COUPON_NOT_APPLICABLE), no shipping rate for the order (NO_SHIPPING_RATE), or an account that does not exist or that the customer does not buy for (UNKNOWN_ACCOUNT, NOT_IN_ACCOUNT)",
                    ERR,
                ),
                (
                    503,
                    "Briefly unavailable: retry with the same Idempotency-Key",
                    ERR,
                ),
            ],
        ),
        ("GET", "/orders") => op(
            "Search orders, newest first: by status, customer, channel, sku, placement time, SLA risk",
            false,
            None,
            &[
                (
                    200,
                    "A page of order summaries, and a cursor to the next page",
                    "OrderPage",
                ),
                (422, "An invalid parameter (see `field`)", ERR),
            ],
        ),
        ("PUT", "/products/{sku}") => op(
            "Put a product in the catalog (operator): name, prices per currency; intake then prices its lines",
            false,
            Some(("ProductRequest", true)),
            &[
                (201, "Created", "Product"),
                (200, "Replaced", "Product"),
                (400, "Malformed JSON", ERR),
                (422, "An invalid value", ERR),
            ],
        ),
        ("GET", "/products/{sku}") => op(
            "A product of the catalog",
            false,
            None,
            &[
                (200, "The product", "Product"),
                (404, "Not in the catalog", ERR),
            ],
        ),
        ("GET", "/products") => op(
            "The catalog",
            false,
            None,
            &[(200, "Every product", "ProductList")],
        ),
        ("GET", "/locations/{locationId}/pick-lists") => op(
            "A location's open pick lists (operator): units released there and not yet shipped, with the packing slip's address",
            false,
            None,
            &[
                (
                    200,
                    "A page of pick lists, newest order first",
                    "PickListPage",
                ),
                (422, "An invalid parameter", ERR),
            ],
        ),
        ("PUT", "/promotions/{promotionId}") => op(
            "Create or replace a promotion (operator): PERCENT_OFF_ORDER, AMOUNT_OFF_ORDER, PERCENT_OFF_SKUS, BUY_X_GET_Y or FREE_SHIPPING, automatic or by coupon, in a window",
            false,
            Some(("PromotionRequest", true)),
            &[
                (201, "Created", "Promotion"),
                (200, "Replaced", "Promotion"),
                (400, "Malformed JSON", ERR),
                (
                    409,
                    "Another promotion has this coupon code (COUPON_TAKEN)",
                    ERR,
                ),
                (422, "An invalid value (see `field`)", ERR),
            ],
        ),
        ("GET", "/promotions/{promotionId}") => op(
            "A promotion",
            false,
            None,
            &[
                (200, "The promotion", "Promotion"),
                (404, "No such promotion", ERR),
            ],
        ),
        ("GET", "/promotions") => op(
            "Every promotion",
            false,
            None,
            &[(200, "The promotions", "PromotionList")],
        ),
        ("PUT", "/shipping-rates") => op(
            "Replace the shipping table (operator): a charge per ship method, destination country and weight band",
            false,
            Some(("ShippingRates", true)),
            &[
                (200, "The table set", "ShippingRates"),
                (400, "Malformed JSON", ERR),
                (422, "An invalid value (see `field`)", ERR),
            ],
        ),
        ("GET", "/shipping-rates") => op(
            "The shipping table (empty: shipping is not charged)",
            false,
            None,
            &[(200, "The table", "ShippingRates")],
        ),
        ("PUT", "/tax-rules") => op(
            "Replace the tax table (operator): a rate per destination country (and region) and tax category, inclusive or exclusive",
            false,
            Some(("TaxRules", true)),
            &[
                (200, "The table set", "TaxRules"),
                (400, "Malformed JSON", ERR),
                (422, "An invalid value (see `field`)", ERR),
            ],
        ),
        ("GET", "/tax-rules") => op(
            "The tax table (empty: no tax)",
            false,
            None,
            &[(200, "The table", "TaxRules")],
        ),
        ("POST", "/promise") => op(
            "Delivery options for a basket and a destination, before ordering: methods, ship-from locations, ship and delivery dates, shipping cost; nothing is reserved",
            false,
            Some(("PromiseRequest", true)),
            &[
                (
                    200,
                    "The options, fastest first (none, with `short`, when the network cannot cover a sku)",
                    "Promise",
                ),
                (400, "Malformed JSON", ERR),
                (422, "An invalid value (see `field`)", ERR),
            ],
        ),
        ("GET", "/orders/{orderId}/invoices") => op(
            "An order's invoices (one per shipment) and credit notes (one per refund after invoicing), in the order issued",
            false,
            None,
            &[
                (200, "Its documents", "DocumentList"),
                (404, "No such order (or not the caller's)", ERR),
            ],
        ),
        ("GET", "/invoices/{number}") => op(
            "An invoice or credit note by number; `{number}.html` is the printable page",
            false,
            None,
            &[
                (
                    200,
                    "The document (JSON, or the page for `.html`)",
                    "Document",
                ),
                (404, "No such document (or not the caller's)", ERR),
            ],
        ),
        ("PUT", "/accounts/{accountId}") => op(
            "Create or replace a business account (operator): its customers, price list, credit limit and payment terms",
            false,
            Some(("AccountRequest", true)),
            &[
                (201, "Created", "AccountView"),
                (200, "Replaced", "AccountView"),
                (400, "Malformed JSON", ERR),
                (422, "An invalid value (see `field`)", ERR),
            ],
        ),
        ("GET", "/accounts/{accountId}") => op(
            "A business account and its open balance",
            false,
            None,
            &[
                (200, "The account", "AccountView"),
                (404, "No such account", ERR),
            ],
        ),
        ("PUT", "/price-lists/{priceListId}") => op(
            "Create or replace a price list (operator): prices by sku and quantity tier, in one currency",
            false,
            Some(("PriceListRequest", true)),
            &[
                (201, "Created", "PriceList"),
                (200, "Replaced", "PriceList"),
                (400, "Malformed JSON", ERR),
                (422, "An invalid value (see `field`)", ERR),
            ],
        ),
        ("GET", "/price-lists/{priceListId}") => op(
            "A price list",
            false,
            None,
            &[
                (200, "The price list", "PriceList"),
                (404, "No such price list", ERR),
            ],
        ),
        ("GET", "/risk-rules") => op(
            "The fraud rules (operator)",
            false,
            None,
            &[(
                200,
                "The rules in force (the defaults until set)",
                "RiskRules",
            )],
        ),
        ("GET", "/routing-rules") => op(
            "How routing chooses (operator): the strategy and the cost strategy's weights",
            false,
            None,
            &[(
                200,
                "The rules in force (NEAREST until set)",
                "RoutingRules",
            )],
        ),
        ("PUT", "/routing-rules") => op(
            "Set how routing chooses (operator): NEAREST (one location, nearest; else the fewest, then the shortest distance) or COST (every plan scored by perPackage, per100Km, crossBorder, overCapacity and perPriorityPoint; the lowest wins, the routing reason naming the runner-up)",
            false,
            Some(("RoutingRules", true)),
            &[
                (200, "The rules set", "RoutingRules"),
                (400, "Malformed JSON", ERR),
                (422, "An invalid value", ERR),
            ],
        ),
        ("PUT", "/risk-rules") => op(
            "Set the fraud rules (operator): a score at or above holdScore holds the order (FRAUD_REVIEW) for an operator to release or cancel",
            false,
            Some(("RiskRules", true)),
            &[
                (200, "The rules set", "RiskRules"),
                (400, "Malformed JSON", ERR),
                (422, "An invalid value", ERR),
            ],
        ),
        ("GET", "/kpis") => op(
            "Key figures of the orders placed in a window (operator): orders, revenue, fill, rejection, cancellation, return, on-time and perfect-order rates, step times, backlog",
            false,
            None,
            &[
                (200, "The figures", "Kpis"),
                (422, "An invalid parameter (see `field`)", ERR),
            ],
        ),
        ("GET", "/reports/top") => op(
            "The top products, customers, channels, countries, days or locations by revenue, orders or units (operator)",
            false,
            None,
            &[
                (200, "The rows, highest first", "Report"),
                (422, "An invalid parameter (see `field`)", ERR),
            ],
        ),
        ("GET", "/reports/orders.csv") => op(
            "The order lines of the orders placed in a window, as CSV (operator); the `oms-next-cursor` header names the next page",
            false,
            None,
            &[
                (200, "CSV: a header, then one row per order line", CSV),
                (422, "An invalid parameter (see `field`)", ERR),
            ],
        ),
        ("GET", "/orders/{orderId}") => op(
            "Read an order: status, lines, allocations, payment, shipments, returns, history",
            false,
            None,
            &[(200, "The order", "Order"), (404, "No such order", ERR)],
        ),
        ("POST", "/orders/{orderId}/cancel") => op(
            "Cancel an order",
            false,
            Some(("CancelRequest", false)),
            &[
                (
                    200,
                    "Cancelled: stock released, any capture refunded",
                    "Order",
                ),
                (
                    202,
                    "Released to a warehouse: cancellation requested, see the order later",
                    "Order",
                ),
                (400, "Malformed JSON", ERR),
                (404, "No such order", ERR),
                (
                    409,
                    "Already shipped (request a return) or not cancellable",
                    ERR,
                ),
                (422, "An invalid value", ERR),
            ],
        ),
        ("PATCH", "/orders/{orderId}") => op(
            "Edit an order until it ships: another address, lines added, removed or changed (quantity 0 removes), coupons, ship method — priced again as a new order, re-reserved and re-routed all or nothing, money paid beyond the new total refunded; after release, the locations are asked to stop it first (202)",
            false,
            Some(("EditOrderRequest", true)),
            &[
                (200, "Edited", "Order"),
                (
                    202,
                    "Released: the edit waits for the locations to stop the order (CANCEL_REQUESTED with pendingEdit)",
                    "Order",
                ),
                (400, "Malformed JSON", ERR),
                (403, "Not the caller's to edit that way", ERR),
                (404, "No such order", ERR),
                (
                    409,
                    "Shipped or closed (NOT_EDITABLE), an edit already pending (EDIT_PENDING), or the edited lines cannot be had (EDIT_NOT_POSSIBLE)",
                    ERR,
                ),
                (
                    422,
                    "An invalid value, or pricing refused it (PRICE_MISMATCH, UNKNOWN_SKU, COUPON_NOT_APPLICABLE, …)",
                    ERR,
                ),
            ],
        ),
        ("POST", "/orders/{orderId}/lines/{sku}/cancel") => op(
            "Cancel one line before release: its stock given back, the total lowered, money paid beyond it refunded (the last line cancels the order)",
            false,
            Some(("CancelRequest", false)),
            &[
                (200, "Cancelled", "Order"),
                (400, "Malformed JSON", ERR),
                (404, "No such order", ERR),
                (
                    409,
                    "No line of that sku (NO_SUCH_LINE), or already released (NOT_CANCELLABLE)",
                    ERR,
                ),
                (422, "An invalid value", ERR),
            ],
        ),
        ("POST", "/orders/{orderId}/release") => op(
            "Release a held order (operator): it goes on, and to its locations if paid",
            false,
            None,
            &[
                (200, "Released", "Order"),
                (404, "No such order", ERR),
                (409, "The order is not held", ERR),
            ],
        ),
        ("POST", "/orders/{orderId}/hold") => op(
            "Hold an order (operator): it keeps its stock and is not released until the hold is released",
            false,
            Some(("ReasonRequest", true)),
            &[
                (200, "Held", "Order"),
                (400, "Malformed JSON", ERR),
                (404, "No such order", ERR),
                (
                    409,
                    "Already held, or already released to its locations (NOT_HOLDABLE)",
                    ERR,
                ),
                (422, "An invalid value", ERR),
            ],
        ),
        ("POST", "/orders/{orderId}/refunds") => op(
            "Refund money (operator): never more than captured less refunded; the same Idempotency-Key refunds once",
            true,
            Some(("RefundRequest", true)),
            &[
                (
                    200,
                    "Refunded (RefundIssued), or the same request replayed",
                    "Order",
                ),
                (400, "Malformed JSON", ERR),
                (404, "No such order", ERR),
                (
                    409,
                    "More than is refundable (ABOVE_REFUNDABLE) or another currency (WRONG_CURRENCY)",
                    ERR,
                ),
                (422, "An invalid value", ERR),
            ],
        ),
        ("POST", "/orders/{orderId}/reroute") => op(
            "Route an order again (operator): its allocations are released and it is routed over what is free now",
            true,
            Some(("ReasonRequest", true)),
            &[
                (200, "Sent back to PLACED to be routed again", "Order"),
                (400, "Malformed JSON", ERR),
                (404, "No such order", ERR),
                (
                    409,
                    "Not routed, or already released to its locations (NOT_REROUTABLE)",
                    ERR,
                ),
                (422, "An invalid value", ERR),
            ],
        ),
        ("POST", "/orders/{orderId}/returns") => op(
            "Authorise a return of delivered units (an RMA)",
            true,
            Some(("ReturnRequest", true)),
            &[
                (201, "Authorised", "ReturnResponse"),
                (
                    200,
                    "The same Idempotency-Key: the first authorisation",
                    "ReturnResponse",
                ),
                (400, "Malformed JSON", ERR),
                (404, "No such order", ERR),
                (409, "Nothing delivered yet", ERR),
                (422, "An invalid value, or more than is returnable", ERR),
            ],
        ),
        ("GET", "/locations") => op(
            "List locations",
            false,
            None,
            &[(200, "Every location", "LocationList")],
        ),
        ("GET", "/locations/{locationId}") => op(
            "Read a location",
            false,
            None,
            &[
                (200, "The location", "Location"),
                (404, "No such location", ERR),
            ],
        ),
        ("PUT", "/locations/{locationId}") => op(
            "Create or replace a location",
            false,
            Some(("LocationRequest", true)),
            &[
                (201, "Created", "Location"),
                (200, "Replaced", "Location"),
                (400, "Malformed JSON", ERR),
                (422, "An invalid value", ERR),
            ],
        ),
        ("GET", "/inventory/{sku}") => op(
            "Stock of a sku: the network and every location",
            false,
            None,
            &[
                (200, "Stock levels", "StockView"),
                (422, "Not a valid sku", ERR),
            ],
        ),
        ("PUT", "/inventory/{sku}") => op(
            "Split a hot sku's stock into more shards (items), so that its orders commit in parallel",
            false,
            Some(("StockSettingsRequest", true)),
            &[
                (200, "Stock levels after the split", "StockView"),
                (400, "Malformed JSON", ERR),
                (
                    409,
                    "Fewer shards than it has: shards are never merged",
                    ERR,
                ),
                (422, "An invalid value", ERR),
            ],
        ),
        ("PUT", "/inventory/{sku}/{locationId}") => op(
            "Set the units on hand at a location",
            false,
            Some(("StockRequest", true)),
            &[
                (200, "Stock levels after the change", "StockView"),
                (400, "Malformed JSON", ERR),
                (404, "No such location", ERR),
                (409, "Below what orders hold", ERR),
                (422, "An invalid value", ERR),
            ],
        ),
        ("POST", "/inventory/{sku}/{locationId}/adjustments") => op(
            "Adjust the units on hand at a location with a reason (operator): receipts, damages, counts",
            true,
            Some(("AdjustmentRequest", true)),
            &[
                (
                    201,
                    "Adjusted (or the same Idempotency-Key: the first adjustment)",
                    "Adjustment",
                ),
                (400, "Malformed JSON", ERR),
                (404, "No such location", ERR),
                (
                    409,
                    "It would leave fewer units than orders hold (BELOW_RESERVED)",
                    ERR,
                ),
                (422, "An invalid value", ERR),
            ],
        ),
        ("GET", "/replenishment") => op(
            "What to reorder at a location (operator): skus at or below their reorder point (set, or sales velocity × lead time + safety stock), with velocity, days of cover and a suggested quantity",
            false,
            None,
            &[
                (
                    200,
                    "The suggestions, fewest days of cover first",
                    "ReplenishmentList",
                ),
                (422, "An invalid parameter (see `field`)", ERR),
            ],
        ),
        ("POST", "/inventory/{sku}/{locationId}/incoming") => op(
            "Announce supply on its way to a location (operator): orders the stock cannot cover may wait for it where backorders (or preorders) are taken",
            false,
            Some(("IncomingRequest", true)),
            &[
                (200, "Announced (or the same reference again)", "StockView"),
                (400, "Malformed JSON", ERR),
                (404, "No such location", ERR),
                (
                    409,
                    "The reference names other supply (REFERENCE_TAKEN)",
                    ERR,
                ),
                (422, "An invalid value", ERR),
            ],
        ),
        ("POST", "/inventory/{sku}/{locationId}/receipts") => op(
            "Receive goods at a location (operator): on hand rises; what backorders claimed is held for them and they are filled, first placed first (`backordersFilled`)",
            false,
            Some(("ReceiptRequest", true)),
            &[
                (200, "Received (or the same reference again)", "StockView"),
                (400, "Malformed JSON", ERR),
                (404, "No such location", ERR),
                (
                    409,
                    "The reference was received with another quantity (REFERENCE_TAKEN)",
                    ERR,
                ),
                (422, "An invalid value", ERR),
            ],
        ),
        ("GET", "/inventory/{sku}/{locationId}/adjustments") => op(
            "The adjustments of a sku at a location, newest first (operator)",
            false,
            None,
            &[
                (200, "The latest 200 adjustments", "AdjustmentList"),
                (422, "An invalid sku or location id", ERR),
            ],
        ),
        _ => return None,
    })
}

/// Routes of [`ROUTES`] that have no description here.
pub fn undocumented_routes() -> Vec<String> {
    ROUTES
        .iter()
        .filter(|r| operation(r.method, r.path).is_none())
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn operation_id(method: &str, path: &str) -> String {
    format!(
        "{}{}",
        method.to_lowercase(),
        path.replace(['/', '{', '}'], "_")
    )
}

/// What a client can do next with an order it got back.
fn order_links() -> Value {
    let mut links = Map::new();
    for (name, method, path) in [
        ("GetOrder", "GET", "/orders/{orderId}"),
        ("CancelOrder", "POST", "/orders/{orderId}/cancel"),
        ("ReturnOrder", "POST", "/orders/{orderId}/returns"),
    ] {
        links.insert(
            name.to_owned(),
            json!({"operationId": operation_id(method, path), "parameters": {"orderId": "$response.body#/orderId"}}),
        );
    }
    Value::Object(links)
}

/// The query parameters of an operation.
fn query_parameters(method: &str, path: &str) -> Vec<Value> {
    let param = |name: &str, description: &str, schema: Value| json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema});
    match (method, path) {
        ("GET", "/locations/{locationId}/pick-lists") => vec![
            param(
                "status",
                "`open` (the default and only value)",
                json!({"type": "string", "enum": ["open"]}),
            ),
            param(
                "cursor",
                "`nextCursor` of the previous page",
                json!({"type": "string"}),
            ),
        ],
        ("GET", "/orders") => vec![
            param(
                "status",
                "One status or several, comma-separated",
                json!({"type": "string"}),
            ),
            param(
                "customerId",
                "A customer's orders (a customer token sees only its own)",
                json!({"type": "string"}),
            ),
            param(
                "channel",
                "A channel's orders (a storefront token sees only its channel's)",
                json!({"type": "string"}),
            ),
            param(
                "sku",
                "Orders with a line of this sku",
                json!({"type": "string"}),
            ),
            param(
                "from",
                "Placed at or after (ISO-8601; default 90 days back)",
                json!({"type": "string", "format": "date-time"}),
            ),
            param(
                "to",
                "Placed at or before (ISO-8601)",
                json!({"type": "string", "format": "date-time"}),
            ),
            param(
                "atRisk",
                "Only orders at risk of missing (or past) a service level",
                json!({"type": "boolean"}),
            ),
            param(
                "limit",
                "Results per page (default 50)",
                json!({"type": "integer", "minimum": 1, "maximum": oms_domain::search::MAX_LIMIT}),
            ),
            param(
                "cursor",
                "`nextCursor` of the previous page",
                json!({"type": "string"}),
            ),
        ],
        ("GET", "/kpis") | ("GET", "/reports/orders.csv") => {
            let mut params = vec![
                param(
                    "from",
                    "Placed at or after (ISO-8601, rounded down to the hour; default `to` less 24 h)",
                    json!({"type": "string", "format": "date-time"}),
                ),
                param(
                    "to",
                    "Placed before (ISO-8601, rounded up to the hour; default now); at most 92 days after `from`",
                    json!({"type": "string", "format": "date-time"}),
                ),
            ];
            if path.ends_with(".csv") {
                params.push(param(
                    "cursor",
                    "The `oms-next-cursor` header of the previous page",
                    json!({"type": "string"}),
                ));
            }
            params
        }
        ("GET", "/reports/top") => vec![
            {
                let mut by = param(
                    "by",
                    "What to rank (`hour`: every hour of the window, oldest first, not ranked)",
                    json!({"type": "string", "enum": ["product", "customer", "channel", "country", "day", "hour", "location"]}),
                );
                by["required"] = json!(true);
                by
            },
            param(
                "metric",
                "What to rank by (default revenue)",
                json!({"type": "string", "enum": ["revenue", "orders", "units"]}),
            ),
            param(
                "from",
                "Placed at or after (ISO-8601; default `to` less 24 h)",
                json!({"type": "string", "format": "date-time"}),
            ),
            param(
                "to",
                "Placed before (ISO-8601; default now)",
                json!({"type": "string", "format": "date-time"}),
            ),
            param(
                "limit",
                "Rows (default 10)",
                json!({"type": "integer", "minimum": 1, "maximum": oms_domain::kpi::MAX_REPORT_ROWS}),
            ),
        ],
        ("GET", "/replenishment") => vec![
            {
                let mut at = param(
                    "locationId",
                    "The location to reorder for",
                    json!({"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9_.-]+$"}),
                );
                at["required"] = json!(true);
                at
            },
            param(
                "windowDays",
                "Days of sales velocity is measured over (default 28)",
                json!({"type": "integer", "minimum": 1, "maximum": 365}),
            ),
        ],
        _ => Vec::new(),
    }
}

fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect()
}

/// The logical id of a function in `infra/template.yaml`.
pub fn function_logical_id(f: Function) -> String {
    let camel: String = f
        .name()
        .split('-')
        .map(|part| {
            let mut c = part.chars();
            c.next()
                .map(|first| first.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect();
    format!("{camel}Function")
}

/// The name of the JWT authorizer in the HTTP API.
pub const AUTHORIZER: &str = "OmsJwt";

/// The document the HTTP API in `infra/template.yaml` is built from: the
/// same as [`document`], with each operation's Lambda proxy integration.
/// CloudFormation resolves the `Fn::Sub` when it includes the file.
pub fn aws_document() -> Value {
    let mut doc = document();
    for r in ROUTES {
        let op = &mut doc["paths"][r.path][r.method.to_lowercase()];
        if op.is_object() {
            op["x-amazon-apigateway-integration"] = json!({
                "type": "aws_proxy",
                "httpMethod": "POST",
                "payloadFormatVersion": "2.0",
                "uri": {"Fn::Sub": format!(
                    "arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{{}.Arn}}/invocations",
                    function_logical_id(r.function)
                )},
            });
        }
    }
    // API Gateway imports OpenAPI 3.0 and HTTP APIs use no models: keep
    // routes, parameters, integrations and the JWT authorizer with each
    // route's scopes; the full contract is `document`.
    doc["openapi"] = json!("3.0.1");
    doc["components"] = json!({"securitySchemes": {AUTHORIZER: {
        "type": "oauth2",
        "flows": {},
        "x-amazon-apigateway-authorizer": {
            "type": "jwt",
            "identitySource": "$request.header.Authorization",
            "jwtConfiguration": {
                "issuer": {"Fn::If": ["UseOwnIssuer", {"Ref": "JwtIssuer"}, {"Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${OmsUserPool}"}]},
                "audience": {"Fn::If": ["UseOwnIssuer", {"Ref": "JwtAudience"}, [{"Ref": "OperatorClient"}, {"Ref": "StorefrontClient"}, {"Ref": "CustomerClient"}]]},
            },
        },
    }}});
    // The dashboard (served from the stack's CloudFront distribution) calls
    // the API from its own origin.
    doc["x-amazon-apigateway-cors"] = json!({
        "allowOrigins": [{"Fn::Sub": "https://${DashboardDistribution.DomainName}"}],
        "allowMethods": ["GET", "POST", "PUT"],
        "allowHeaders": ["authorization", "content-type", "idempotency-key"],
        "exposeHeaders": ["oms-next-cursor"],
        "maxAge": 3600,
    });
    for item in doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|p| p.values_mut())
    {
        for op in item
            .as_object_mut()
            .into_iter()
            .flat_map(|i| i.values_mut())
        {
            if let Some(op) = op.as_object_mut() {
                op.remove("requestBody");
                if let Some(scopes) = op
                    .get("security")
                    .and_then(|s| s[0].get("bearerAuth"))
                    .cloned()
                {
                    op.insert("security".into(), json!([{AUTHORIZER: scopes}]));
                }
                for response in op
                    .get_mut("responses")
                    .and_then(Value::as_object_mut)
                    .into_iter()
                    .flat_map(|r| r.values_mut())
                {
                    if let Some(r) = response.as_object_mut() {
                        r.remove("content");
                        r.remove("links");
                    }
                }
            }
        }
    }
    doc
}

/// The OpenAPI 3.1 document.
pub fn document() -> Value {
    let settings = SchemaSettings::draft2020_12().with(|s| {
        s.definitions_path = "/components/schemas".into();
    });
    let mut generator = SchemaGenerator::new(settings);
    // Each call registers the type (and what it uses) in the components.
    let _ = generator.subschema_for::<PlaceOrderRequest>();
    let _ = generator.subschema_for::<CancelRequest>();
    let _ = generator.subschema_for::<oms_domain::validation::IncomingRequest>();
    let _ = generator.subschema_for::<oms_domain::replenishment::ReplenishmentList>();
    let _ = generator.subschema_for::<oms_domain::validation::ReceiptRequest>();
    let _ = generator.subschema_for::<oms_domain::order::EditOrderRequest>();
    let _ = generator.subschema_for::<ReturnRequest>();
    let _ = generator.subschema_for::<LocationRequest>();
    let _ = generator.subschema_for::<StockRequest>();
    let _ = generator.subschema_for::<StockSettingsRequest>();
    let _ = generator.subschema_for::<Order>();
    let _ = generator.subschema_for::<ReturnResponse>();
    let _ = generator.subschema_for::<Location>();
    let _ = generator.subschema_for::<LocationList>();
    let _ = generator.subschema_for::<StockView>();
    let _ = generator.subschema_for::<ErrorBody>();
    let _ = generator.subschema_for::<oms_domain::search::OrderPage>();
    let _ = generator.subschema_for::<oms_domain::kpi::Kpis>();
    let _ = generator.subschema_for::<oms_domain::catalog::ProductRequest>();
    let _ = generator.subschema_for::<oms_domain::risk::RiskRules>();
    let _ = generator.subschema_for::<oms_domain::routing::RoutingRules>();
    let _ = generator.subschema_for::<oms_domain::pricing::PromotionRequest>();
    let _ = generator.subschema_for::<oms_domain::pricing::Promotion>();
    let _ = generator.subschema_for::<oms_domain::pricing::PromotionList>();
    let _ = generator.subschema_for::<oms_domain::pricing::ShippingRates>();
    let _ = generator.subschema_for::<oms_domain::pricing::TaxRules>();
    let _ = generator.subschema_for::<oms_domain::order::Document>();
    let _ = generator.subschema_for::<oms_domain::promise::PromiseRequest>();
    let _ = generator.subschema_for::<oms_domain::promise::Promise>();
    let _ = generator.subschema_for::<oms_domain::accounts::AccountRequest>();
    let _ = generator.subschema_for::<oms_domain::accounts::AccountView>();
    let _ = generator.subschema_for::<oms_domain::accounts::PriceListRequest>();
    let _ = generator.subschema_for::<oms_domain::accounts::PriceList>();
    let _ = generator.subschema_for::<oms_domain::order::DocumentList>();
    let _ = generator.subschema_for::<oms_domain::search::PickListPage>();
    let _ = generator.subschema_for::<oms_domain::catalog::Product>();
    let _ = generator.subschema_for::<oms_domain::catalog::ProductList>();
    let _ = generator.subschema_for::<oms_domain::kpi::Report>();
    let _ = generator.subschema_for::<oms_domain::validation::ReasonRequest>();
    let _ = generator.subschema_for::<oms_domain::validation::RefundRequest>();
    let _ = generator.subschema_for::<oms_domain::validation::AdjustmentRequest>();
    let _ = generator.subschema_for::<oms_domain::inventory::Adjustment>();
    let _ = generator.subschema_for::<oms_domain::inventory::AdjustmentList>();
    let schemas: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    let reference = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});

    let mut paths = Map::new();
    for r in ROUTES {
        let Some(op) = operation(r.method, r.path) else {
            continue;
        };
        let mut parameters = path_parameters(r.path);
        parameters.extend(query_parameters(r.method, r.path));
        if op.idempotency_key {
            parameters.push(json!({
                "name": "Idempotency-Key", "in": "header", "required": false,
                "description": "Makes the request safe to retry: the same key returns the first result.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            }));
        }
        let mut responses = Map::new();
        let auth: [(u16, &str, &str); 2] = [
            (401, "No bearer token, or not a valid one", ERR),
            (
                403,
                "The token's role may not call this (or act for that channel or customer)",
                ERR,
            ),
        ];
        for (status, description, schema) in op.responses.iter().chain(auth.iter()) {
            let mut response = if *schema == CSV {
                json!({"description": description, "content": {"text/csv": {"schema": {"type": "string"}}}})
            } else if *schema == "Document" {
                json!({"description": description, "content": {
                    "application/json": {"schema": reference(schema)},
                    "text/html": {"schema": {"type": "string"}},
                }})
            } else {
                json!({"description": description, "content": {"application/json": {"schema": reference(schema)}}})
            };
            if *schema == "Order" {
                response["links"] = order_links();
            }
            responses.insert(status.to_string(), response);
        }
        let roles: Vec<&str> = r.roles.iter().map(|role| role.name()).collect();
        let scopes: Vec<&str> = r.roles.iter().map(|role| role.scope()).collect();
        let mut operation = json!({
            "operationId": operation_id(r.method, r.path),
            "summary": op.summary,
            "description": format!("Roles: {}.", roles.join(", ")),
            "tags": [r.function.name()],
            "parameters": parameters,
            "responses": responses,
            "security": [{"bearerAuth": scopes}],
        });
        if let Some((body, required)) = op.body {
            operation["requestBody"] = json!({
                "required": required,
                "content": {"application/json": {"schema": reference(body)}},
            });
        }
        let item = paths.entry(r.path.to_owned()).or_insert_with(|| json!({}));
        item[r.method.to_lowercase()] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "OMS storefront API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Orders, cancellations, returns, locations and stock. Money is integer minor units of the order's ISO-4217 currency. Errors are `{\"error\": {\"code\", \"message\", \"field\"?}}`. Every operation takes a bearer JWT whose `scope` grants one of its roles (`oms/operator`, `oms/storefront` with an `oms_channel` claim, `oms/customer` whose subject is the customer id).",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "An access token: on AWS from the stack's Cognito user pool (or the issuer the stack is given), locally from `oms token --role …`. The list per operation names the scopes that may call it.",
                },
            },
        },
    })
}
