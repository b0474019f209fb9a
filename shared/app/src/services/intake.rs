//! Order intake: placing an order (validated, deduplicated by its claims,
//! reserved and routed from the stock it reads — see
//! [`crate::services::reservation`] — and stored with its claims, its stock
//! moves and its events — `OrderPlaced`, the reservation's, the payment
//! window's timer — in one commit), reading one, cancelling one, releasing
//! one from a hold. When the stock cannot be read, or keeps moving under
//! the order, the order is stored `PLACED` and the reservation step
//! reserves it from its `OrderPlaced`.

use crate::Deps;
use crate::change::{ChangeError, change_order};
use crate::repo::{Created, InventoryRepo};
use crate::services::reservation::{stock_seen_by, whole_stock};
use crate::store::StoreError;
use oms_domain::access::{Caller, Forbidden, Role};
use oms_domain::ids::{IdempotencyKey, OrderId, Sku};
use oms_domain::intake::{ClaimKind, fingerprint};
use oms_domain::kpi::Contribution;
use oms_domain::order::{
    CancelCode, CancelError, Cause, NewOrder, Order, OrderStatus, Outcome, TransitionError,
};
use oms_domain::routing::Availability;
use oms_domain::time::Timestamp;
use oms_domain::validation::{FieldError, PlaceOrderRequest};
use tracing::instrument;

/// A request to place an order.
pub struct PlaceOrder {
    pub caller: Caller,
    pub body: PlaceOrderRequest,
    pub key: Option<IdempotencyKey>,
    /// The request id, recorded as the cause of the placement.
    pub trigger: String,
    /// The order's id, when the caller's submission fixes it; else a new one.
    pub order_id: Option<OrderId>,
    /// Answer the submission on the bus (`OrderAccepted`, committed with
    /// the order).
    pub answer: bool,
}

/// A placed order: new, or the one an earlier identical request placed.
#[derive(Debug)]
pub enum Placed {
    New(Order),
    Replayed(Order),
}

#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    #[error(transparent)]
    Invalid(FieldError),
    #[error(transparent)]
    Forbidden(Forbidden),
    /// The claim was taken by `order_id` with a different request.
    #[error("{} for order {order_id} with a different body", .kind.conflict())]
    Conflict { kind: ClaimKind, order_id: OrderId },
    /// A line the catalog prices differently, or not at all.
    #[error("{}: {}", .0.code, .0.field.message)]
    Pricing(oms_domain::catalog::PricingError),
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl From<StoreError> for PlaceError {
    fn from(e: StoreError) -> Self {
        PlaceError::Unavailable(e.to_string())
    }
}

/// Places an order, or finds the one the same request placed before.
#[instrument(skip_all, fields(trigger = %request.trigger, order_id))]
pub async fn place(deps: &Deps, mut request: PlaceOrder) -> Result<Placed, PlaceError> {
    let mut new = priced(deps, request.caller.role, &mut request.body).await?;
    keep_promise(deps, &mut new).await?;
    // A clean score (nothing fired) is not kept: an order records risk
    // only when some rule saw one.
    let risk = assess_risk(deps, &new).await?;
    new.risk = (risk.score > 0 || risk.review || !risk.fired.is_empty()).then_some(risk);
    request
        .caller
        .may_place(&new)
        .map_err(PlaceError::Forbidden)?;
    let canonical = serde_json::to_vec(&request.body).unwrap_or_default();
    let now = deps.clock.now();
    let claims = new.claims(request.key.as_ref(), &fingerprint(&canonical), now);
    let cause = deps.cause(
        &format!("order-intake:{}:{}", new.channel, request.caller.actor()),
        &request.trigger,
    );
    // Paid on delivery: no payment window; a bank transfer: a longer one.
    let due = deps
        .config
        .payment_window_ms(new.payment_method)
        .map(|ms| now.plus_millis(ms));
    let order_id = request
        .order_id
        .clone()
        .unwrap_or_else(|| deps.ids.order_id());
    tracing::Span::current().record("order_id", tracing::field::display(&order_id));
    let mut skus: Vec<Sku> = new.lines.iter().map(|l| l.sku.clone()).collect();
    skus.sort();
    skus.dedup();
    // Reserved in the commit that stores it when the stock can be read and
    // holds still; otherwise stored `PLACED`, and the reservation step
    // reserves it from its `OrderPlaced`.
    let mut attempts = 0;
    let (order, created) = loop {
        attempts += 1;
        let reserve = attempts <= PLACEMENT_ATTEMPTS;
        let (mut order, outcome) = placement(
            deps,
            &order_id,
            &new,
            due,
            &cause,
            &skus,
            reserve,
            attempts == 1,
        )
        .await;
        if request.answer
            && let Some(external_id) = &new.external_id
        {
            order.outbox.push(oms_domain::events::DomainEvent {
                event_id: format!("{order_id}.accepted"),
                order_id: order_id.clone(),
                occurred_at: cause.at,
                data: oms_domain::events::EventData::OrderAccepted {
                    channel: new.channel.clone(),
                    external_id: external_id.clone(),
                },
            });
        }
        let writes = InventoryRepo::writes(&outcome.stock);
        let kpi = Contribution::delta(
            &Contribution::none(),
            &Contribution::of(&order, &deps.config.sla),
        );
        match deps
            .orders()
            .create(&mut order, &claims, writes, kpi.as_ref())
            .await?
        {
            // The stock moved since it was read: read it again.
            Created::StockShort => continue,
            created => break (order, created),
        }
    };
    match created {
        Created::New => {
            tracing::info!(status = %order.status, "order placed");
            Ok(Placed::New(order))
        }
        // Not met: the last attempt moves no stock.
        Created::StockShort => Err(PlaceError::Unavailable("stock kept changing".into())),
        Created::Existing {
            order_id,
            same_request: true,
            kind,
        } => {
            let existing = deps
                .orders()
                .get(&order_id)
                .await?
                .ok_or_else(|| PlaceError::Unavailable("claimed order not found".into()))?;
            if !request.caller.can_see(&existing) {
                // Another caller's order under the same claim: not a replay.
                return Err(PlaceError::Conflict { kind, order_id });
            }
            Ok(Placed::Replayed(existing))
        }
        Created::Existing { order_id, kind, .. } => Err(PlaceError::Conflict { kind, order_id }),
    }
}

/// A placement request priced as intake prices it — located, priced by
/// the account's price list and the catalog, validated, bundles made
/// lines, promotions, shipping and tax applied, checked against its
/// account — before risk and stock: a new order, or an order edited.
pub(crate) async fn priced(
    deps: &Deps,
    role: Role,
    body: &mut PlaceOrderRequest,
) -> Result<NewOrder, PlaceError> {
    locate_ship_to(deps, body).await?;
    let account = account_of(deps, body).await?;
    let price_list = match account.as_ref().and_then(|a| a.price_list_id.as_deref()) {
        Some(id) => deps.inventory().price_list(id).await?,
        None => None,
    };
    // Prices from the account's price list, then the catalog (as read at
    // most `OMS_LOCATIONS_TTL_SECS` ago).
    let mut catalog = deps
        .products_of(&oms_domain::catalog::skus_of(body))
        .await?;
    let parts = oms_domain::catalog::components_of(&catalog);
    if !parts.is_empty() {
        catalog.extend(deps.products_of(&parts).await?);
    }
    oms_domain::catalog::price_lines(
        body,
        &catalog,
        role,
        deps.config.require_catalog,
        price_list.as_ref(),
    )
    .map_err(PlaceError::Pricing)?;
    let mut new = body.validate().map_err(PlaceError::Invalid)?;
    if new.fulfillment.pickup_at().is_some() {
        new.fulfillment
            .check_store(&deps.locations().await?)
            .map_err(PlaceError::Pricing)?;
    }
    oms_domain::catalog::expand_bundles(&mut new, &catalog).map_err(PlaceError::Pricing)?;
    price(deps, &mut new, &catalog).await?;
    if let Some(account) = &account {
        if !account.customers.contains(&new.customer.id) {
            return Err(PlaceError::Pricing(oms_domain::catalog::PricingError {
                code: "NOT_IN_ACCOUNT",
                field: FieldError::new(
                    "customer.id",
                    format!(
                        "{} does not buy for account {}",
                        new.customer.id, account.account_id
                    ),
                ),
            }));
        }
        if new.payment_method == oms_domain::order::PaymentMethod::OnAccount {
            // The balance as the additions so far made it (a moment behind
            // on AWS): a soft limit, held for an operator beyond it.
            let open = deps
                .inventory()
                .open_balance(&account.account_id)
                .await?
                .get(new.currency().as_str())
                .copied()
                .unwrap_or(0);
            new.credit_hold = oms_domain::accounts::credit_hold(account, open, new.total);
        }
    }
    Ok(new)
}

/// A delivery promise chosen at checkout must still be one the OMS can
/// keep: an option of its method delivering by its date now (else 422
/// `PROMISE_UNAVAILABLE` or `PROMISE_EXPIRED`, naming the earliest date).
/// Kept, it is dated from now.
async fn keep_promise(deps: &Deps, new: &mut NewOrder) -> Result<(), PlaceError> {
    use oms_domain::promise::{PromiseLine, PromiseRequest, PromiseShipTo};
    let Some(chosen) = new.promise.clone() else {
        return Ok(());
    };
    let ask = PromiseRequest {
        lines: Some(
            oms_domain::inventory::merged(new.lines.iter().map(|l| {
                oms_domain::inventory::LineQty {
                    sku: l.sku.clone(),
                    quantity: l.quantity,
                }
            }))
            .into_iter()
            .map(|l| PromiseLine {
                sku: Some(l.sku.to_string()),
                quantity: Some(i64::from(l.quantity.get())),
            })
            .collect(),
        ),
        ship_to: Some(PromiseShipTo {
            country: Some(new.ship_to.country.clone()),
            postal_code: new.ship_to.postal_code.clone(),
            lat: Some(new.ship_to.point.lat),
            lon: Some(new.ship_to.point.lon),
        }),
        currency: Some(new.currency().to_string()),
    };
    let options = match crate::services::promise::promise(deps, &ask).await {
        Ok(p) => p.options,
        Err(crate::services::promise::PromiseError::Store(e)) => return Err(e.into()),
        Err(crate::services::promise::PromiseError::Invalid(e)) => {
            return Err(PlaceError::Invalid(e));
        }
    };
    oms_domain::promise::still_kept(&chosen, &options).map_err(PlaceError::Pricing)?;
    new.promise = oms_domain::order::ChosenPromise::new(
        chosen.method,
        &chosen.delivery_date,
        deps.clock.now(),
        deps.config.sla.risk_percent,
    );
    Ok(())
}

/// The business account the order names, if any (`UNKNOWN_ACCOUNT`).
async fn account_of(
    deps: &Deps,
    body: &PlaceOrderRequest,
) -> Result<Option<oms_domain::accounts::Account>, PlaceError> {
    let Some(id) = body.account_id.as_deref() else {
        return Ok(None);
    };
    match deps.inventory().account(id).await? {
        Some(a) => Ok(Some(a)),
        None => Err(PlaceError::Pricing(oms_domain::catalog::PricingError {
            code: "UNKNOWN_ACCOUNT",
            field: FieldError::new("accountId", format!("no account {id}")),
        })),
    }
}

/// Shipping, promotions and tax (see [`oms_domain::pricing`]), with the
/// rules as read at most `OMS_LOCATIONS_TTL_SECS` ago.
async fn price(
    deps: &Deps,
    new: &mut NewOrder,
    products: &std::collections::BTreeMap<Sku, oms_domain::catalog::Product>,
) -> Result<(), PlaceError> {
    use oms_domain::pricing;
    let rules = deps.pricing().await?;
    let book = pricing::PriceBook {
        promotions: &rules.promotions,
        shipping: &rules.shipping,
        products,
    };
    let basket = pricing::prepare(new, &book, deps.clock.now()).map_err(PlaceError::Pricing)?;
    let quote = deps
        .tax
        .quote(&basket, &rules.tax)
        .await
        .map_err(PlaceError::Pricing)?;
    pricing::finish(new, &quote).map_err(PlaceError::Pricing)
}

/// The order's risk score under the fraud rules (with the customer's
/// earlier orders, from the search index, when a rule needs them).
async fn assess_risk(
    deps: &Deps,
    new: &NewOrder,
) -> Result<oms_domain::risk::RiskAssessment, StoreError> {
    let rules = deps.risk_rules().await?;
    let (mut earlier, mut last_hour) = (0, 0);
    let mut earlier_average = None;
    if rules.needs_history() {
        let now = deps.clock.now();
        let mut listed = deps
            .orders()
            .list(
                &crate::repo::Listing::Customer(new.customer.id.clone()),
                &oms_domain::search::Position::first_at(Timestamp::from_millis(0)),
                &oms_domain::search::Position::last_at(now),
                100,
            )
            .await?;
        let placed: Vec<Timestamp> = listed.iter().map(|(p, _)| p.placed_at()).collect();
        (earlier, last_hour) = oms_domain::risk::history(&placed, now);
        if rules.history_multiple_over.is_some() {
            // The latest ten, read only for this rule.
            listed.sort_by_key(|(p, _)| std::cmp::Reverse(p.placed_at()));
            let mut totals = Vec::new();
            for (_, id) in listed.iter().take(10) {
                if let Some(o) = deps.orders().read(id, crate::store::Read::Eventual).await?
                    && o.currency == new.currency()
                {
                    totals.push(o.total.amount);
                }
            }
            earlier_average =
                (!totals.is_empty()).then(|| totals.iter().sum::<i64>() / totals.len() as i64);
        }
    }
    Ok(oms_domain::risk::assess(
        &rules,
        &oms_domain::risk::RiskInput {
            total: new.total.amount,
            email: new.customer.email.as_deref(),
            postal_code: new.ship_to.postal_code.as_deref(),
            earlier_orders: earlier,
            orders_last_hour: last_hour,
            earlier_average,
            bill_country: new.bill_to.as_ref().map(|b| b.country.as_str()),
            ship_country: &new.ship_to.country,
        },
    ))
}

/// The new order as it will be stored: reserved and routed over the stock
/// as the order sees it — over the whole stock, read strongly, when that
/// view (partial for a split sku; read eventually on the `first` attempt,
/// at half the price) would reject it — or only placed, when `reserve` is
/// false or the stock cannot be read. A view that over-states the stock
/// fails the commit's stock conditions, and the next attempt reads
/// strongly.
#[allow(clippy::too_many_arguments)]
async fn placement(
    deps: &Deps,
    id: &OrderId,
    new: &NewOrder,
    due: Option<Timestamp>,
    cause: &Cause,
    skus: &[Sku],
    reserve: bool,
    first: bool,
) -> (Order, Outcome) {
    let place = |stock: Option<&Availability>| match stock {
        Some(stock) => Order::place_and_reserve(id.clone(), new.clone(), due, stock, cause),
        None => Order::place(id.clone(), new.clone(), due, cause),
    };
    if !reserve {
        return place(None);
    }
    let read = if first {
        crate::store::Read::Eventual
    } else {
        crate::store::Read::Strong
    };
    let seen = match stock_seen_by(deps, id, skus, read).await {
        Ok(seen) => seen,
        Err(e) => {
            tracing::warn!(error = %e, "stock not read; reserved after placement");
            return place(None);
        }
    };
    let (order, outcome) = place(Some(&seen.stock));
    let confirm = seen.partial || read == crate::store::Read::Eventual;
    if !(confirm && order.status == OrderStatus::Rejected) {
        return (order, outcome);
    }
    match whole_stock(deps, skus).await {
        Ok(stock) => place(Some(&stock)),
        Err(e) => {
            tracing::warn!(error = %e, "stock not read; reserved after placement");
            place(None)
        }
    }
}

/// An address without coordinates gets those of its postal region or
/// country from the geocoder; one it cannot locate is refused, naming what
/// to send.
async fn locate_ship_to(deps: &Deps, body: &mut PlaceOrderRequest) -> Result<(), PlaceError> {
    let Some(to) = body.ship_to.as_mut() else {
        return Ok(());
    };
    let (Some(country), None, None) = (to.country.as_deref(), to.lat, to.lon) else {
        return Ok(());
    };
    match deps
        .geocoder
        .locate(country, to.postal_code.as_deref())
        .await
    {
        Some(p) => {
            to.lat = Some(p.lat);
            to.lon = Some(p.lon);
            Ok(())
        }
        None => Err(PlaceError::Invalid(FieldError::new(
            "shipTo.lat",
            format!(
                "no coordinates, and an address in {country} cannot be located: send shipTo.lat and shipTo.lon"
            ),
        ))),
    }
}

/// Reads of the stock for a reservation on placement before the order is
/// stored without one.
const PLACEMENT_ATTEMPTS: usize = 3;

/// The order, if it exists for this caller.
#[instrument(skip(deps, caller))]
pub async fn get(
    deps: &Deps,
    caller: &Caller,
    order_id: &OrderId,
) -> Result<Option<Order>, StoreError> {
    Ok(deps
        .orders()
        .get(order_id)
        .await?
        .filter(|o| caller.can_see(o)))
}

/// An order's invoices and credit notes, as the caller may see them
/// (`None`: no such order for this caller).
pub async fn documents(
    deps: &Deps,
    caller: &Caller,
    order_id: &OrderId,
) -> Result<Option<Vec<oms_domain::order::Document>>, StoreError> {
    let Some(order) = get(deps, caller, order_id).await? else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(order.documents.len());
    for d in &order.documents {
        if let Some(doc) = deps.orders().document(&d.number).await? {
            out.push(doc);
        }
    }
    Ok(Some(out))
}

/// An invoice or credit note by number, if the caller may see its order.
pub async fn document(
    deps: &Deps,
    caller: &Caller,
    number: &str,
) -> Result<Option<oms_domain::order::Document>, StoreError> {
    let Some(doc) = deps.orders().document(number).await? else {
        return Ok(None);
    };
    Ok(get(deps, caller, &doc.order_id).await?.map(|_| doc))
}

#[derive(Debug, thiserror::Error)]
pub enum CancelFailure {
    #[error("the order does not exist")]
    NotFound,
    #[error(transparent)]
    Refused(CancelError),
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// Cancels an order: at once before release to a warehouse, by asking the
/// warehouse after, never after shipment (that is a return). A repeated
/// request answers with the order as it is.
/// Sets the fraud rules (operator).
pub async fn set_risk_rules(
    deps: &Deps,
    rules: oms_domain::risk::RiskRules,
) -> Result<oms_domain::risk::RiskRules, PlaceError> {
    let rules = rules.validate().map_err(PlaceError::Invalid)?;
    deps.orders().put_risk_rules(&rules).await?;
    deps.risk_rules_changed();
    Ok(rules)
}

/// Sets how routing chooses (operator).
pub async fn set_routing_rules(
    deps: &Deps,
    rules: oms_domain::routing::RoutingRules,
) -> Result<oms_domain::routing::RoutingRules, PlaceError> {
    let rules = rules.validate().map_err(PlaceError::Invalid)?;
    deps.orders().put_routing_rules(&rules).await?;
    deps.routing_changed();
    Ok(rules)
}

#[instrument(skip(deps, caller, reason))]
pub async fn cancel(
    deps: &Deps,
    caller: &Caller,
    order_id: &OrderId,
    reason: String,
    trigger: &str,
) -> Result<Order, CancelFailure> {
    let code = match caller.role {
        Role::Operator => CancelCode::OperatorRequest,
        Role::Storefront | Role::Customer => CancelCode::CustomerRequest,
    };
    let actor = format!("order-intake:cancel:{}", caller.actor());
    let result = change_order(deps, order_id, &actor, trigger, |order, cause| {
        if !caller.can_see(order) {
            return Err(Hidden::Hidden);
        }
        order
            .cancel(code, reason.clone(), cause)
            .map_err(Hidden::Shown)
    })
    .await;
    match result {
        Ok(order) => Ok(order),
        // A retried cancel: answered with the order as it is.
        Err(ChangeError::Denied(Hidden::Shown(CancelError::AlreadyAsked))) => {
            get(deps, caller, order_id)
                .await
                .map_err(|e| CancelFailure::Unavailable(e.to_string()))?
                .ok_or(CancelFailure::NotFound)
        }
        Err(ChangeError::Denied(Hidden::Shown(e))) => Err(CancelFailure::Refused(e)),
        Err(ChangeError::Denied(Hidden::Hidden) | ChangeError::NotFound) => {
            Err(CancelFailure::NotFound)
        }
        Err(e) => Err(CancelFailure::Unavailable(e.to_string())),
    }
}

/// Why a line was not cancelled.
#[derive(Debug, thiserror::Error)]
pub enum LineCancelFailure {
    #[error("the order does not exist")]
    NotFound,
    #[error(transparent)]
    Refused(oms_domain::order::LineCancelError),
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// Cancels one line of an order before its release (the last line cancels
/// the order). A repeated request finds no such line any more.
pub async fn cancel_line(
    deps: &Deps,
    caller: &Caller,
    order_id: &OrderId,
    sku: &Sku,
    reason: String,
    trigger: &str,
) -> Result<Order, LineCancelFailure> {
    let actor = format!("order-intake:cancel-line:{}", caller.actor());
    let result = change_order(deps, order_id, &actor, trigger, |order, cause| {
        if !caller.can_see(order) {
            return Err(Hidden::Hidden);
        }
        order
            .cancel_line(sku, reason.clone(), cause)
            .map_err(Hidden::Shown)
    })
    .await;
    match result {
        Ok(order) => Ok(order),
        Err(ChangeError::Denied(Hidden::Shown(e))) => Err(LineCancelFailure::Refused(e)),
        Err(ChangeError::Denied(Hidden::Hidden) | ChangeError::NotFound) => {
            Err(LineCancelFailure::NotFound)
        }
        Err(e) => Err(LineCancelFailure::Unavailable(e.to_string())),
    }
}

/// A refusal, or an order the caller may not see (which, for it, does not
/// exist).
#[derive(Debug, thiserror::Error)]
pub enum Hidden<E> {
    #[error("not found")]
    Hidden,
    #[error(transparent)]
    Shown(E),
}

#[derive(Debug, thiserror::Error)]
pub enum ReleaseFailure {
    #[error("the order does not exist")]
    NotFound,
    #[error(transparent)]
    Refused(TransitionError),
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// An operator lifts an order's hold: the order goes on, released to its
/// locations if it is paid.
#[instrument(skip(deps, caller))]
pub async fn release(
    deps: &Deps,
    caller: &Caller,
    order_id: &OrderId,
    trigger: &str,
) -> Result<Order, ReleaseFailure> {
    let actor = format!("order-intake:release:{}", caller.actor());
    let result = change_order(deps, order_id, &actor, trigger, |order, cause| {
        if !caller.can_see(order) {
            return Err(Hidden::Hidden);
        }
        order.release_hold(cause).map_err(Hidden::Shown)
    })
    .await;
    match result {
        Ok(order) => Ok(order),
        Err(ChangeError::Denied(Hidden::Shown(e))) => Err(ReleaseFailure::Refused(e)),
        Err(ChangeError::Denied(Hidden::Hidden) | ChangeError::NotFound) => {
            Err(ReleaseFailure::NotFound)
        }
        Err(e) => Err(ReleaseFailure::Unavailable(e.to_string())),
    }
}

/// Why an edit was not made.
#[derive(Debug, thiserror::Error)]
pub enum EditFailure {
    #[error("the order does not exist")]
    NotFound,
    /// The edited order does not price or validate (as a new one would not).
    #[error(transparent)]
    Invalid(PlaceError),
    #[error(transparent)]
    Refused(oms_domain::order::EditError),
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl From<StoreError> for EditFailure {
    fn from(e: StoreError) -> Self {
        EditFailure::Unavailable(e.to_string())
    }
}

/// Edits an order (`PATCH /orders/{id}`): the order with the edit is priced
/// again as a new one would be, then re-reserved and re-routed all or
/// nothing over the stock as read now (see `oms_domain::order::Edit`).
#[instrument(skip(deps, caller, request))]
pub async fn edit(
    deps: &Deps,
    caller: &Caller,
    order_id: &OrderId,
    request: oms_domain::order::EditOrderRequest,
    trigger: &str,
) -> Result<Order, EditFailure> {
    let Some(order) = get(deps, caller, order_id).await? else {
        return Err(EditFailure::NotFound);
    };
    let mut named: Vec<Sku> = order.lines.iter().map(|l| l.sku.clone()).collect();
    named.extend(
        request
            .lines
            .iter()
            .flatten()
            .filter_map(|l| l.sku.as_deref().and_then(|s| Sku::parse(s).ok())),
    );
    let catalog = deps.products_of(&named).await?;
    let (mut body, reason) = order
        .edit_request(&request, |sku| catalog.contains_key(sku))
        .map_err(|e| EditFailure::Invalid(PlaceError::Invalid(e)))?;
    let edited = priced(deps, caller.role, &mut body)
        .await
        .map_err(EditFailure::Invalid)?;
    caller
        .may_place(&edited)
        .map_err(|e| EditFailure::Invalid(PlaceError::Forbidden(e)))?;
    let mut skus: Vec<Sku> = order
        .lines
        .iter()
        .chain(&edited.lines)
        .map(|l| l.sku.clone())
        .collect();
    skus.sort();
    skus.dedup();
    let actor = format!("order-intake:edit:{}", caller.actor());
    let result = crate::change::change_order_with(
        deps,
        order_id,
        &actor,
        trigger,
        crate::change::OnStockShort::Retry,
        |_| whole_stock(deps, &skus),
        |order, cause, stock| {
            if !caller.can_see(order) {
                return Err(Hidden::Hidden);
            }
            order
                .edit(edited.clone(), &stock, reason.clone(), cause)
                .map_err(Hidden::Shown)
        },
    )
    .await;
    match result {
        Ok(order) => Ok(order),
        Err(ChangeError::Denied(Hidden::Shown(e))) => Err(EditFailure::Refused(e)),
        Err(ChangeError::Denied(Hidden::Hidden) | ChangeError::NotFound) => {
            Err(EditFailure::NotFound)
        }
        Err(e) => Err(EditFailure::Unavailable(e.to_string())),
    }
}
