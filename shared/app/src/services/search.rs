//! Order search (`GET /orders`): walks a search index newest first — the
//! customer's orders, or day by day — reads each order listed, keeps the
//! ones the query asks for, and stops at a full page or after examining
//! [`MAX_EXAMINED`] orders, handing out a cursor to go on.

use crate::Deps;
use crate::repo::Listing;
use crate::store::{Read, StoreError};
use futures::future::join_all;
use oms_domain::access::Caller;
use oms_domain::ids::OrderId;
use oms_domain::order::Order;
use oms_domain::search::{DAY_MS, OrderPage, OrderQuery, OrderSummary, PickListPage, Position};
use oms_domain::time::Timestamp;
use tracing::instrument;

/// Most orders one request reads before it answers with what it found
/// and a cursor (a selective filter over a long window takes several).
pub const MAX_EXAMINED: usize = 1_000;

/// Orders read per step.
const STEP: usize = 100;

/// The page of orders the query finds, as the caller may see them.
#[instrument(skip_all, fields(role = %caller.role))]
pub async fn orders(
    deps: &Deps,
    caller: &Caller,
    query: OrderQuery,
) -> Result<OrderPage, StoreError> {
    let query = query.scoped_to(caller);
    let now = deps.clock.now();
    let mut page = OrderPage {
        orders: Vec::new(),
        next_cursor: None,
    };
    if query.limit == 0 {
        return Ok(page);
    }
    let earliest = query.earliest(now);
    // The last time a 13-digit position holds (in the year 2286).
    let latest = query
        .to
        .unwrap_or(Timestamp::from_millis(9_999_999_999_999));
    let floor = Position::first_at(earliest);
    // Everything at or after `ceiling` has been looked at.
    let mut ceiling = match &query.after {
        Some(after) => after.clone(),
        None => Position::last_at(latest),
    };
    let listings: Vec<Listing> = match &query.customer_id {
        Some(c) => vec![Listing::Customer(c.clone())],
        None => days_back(ceiling.placed_at().min(now.plus_millis(DAY_MS)), earliest)
            .map(Listing::Day)
            .collect(),
    };
    let repo = deps.orders();
    let mut examined = 0;
    for listing in &listings {
        loop {
            let found = repo.list(listing, &floor, &ceiling, STEP + 1).await?;
            // The ceiling itself was the last one looked at.
            let found: Vec<(Position, OrderId)> =
                found.into_iter().filter(|(p, _)| *p < ceiling).collect();
            if found.is_empty() {
                break;
            }
            let batch = &found[..found.len().min(STEP)];
            let orders = read_all(deps, batch.iter().map(|(_, id)| id)).await?;
            for ((position, _), order) in batch.iter().zip(orders) {
                ceiling = position.clone();
                examined += 1;
                if let Some(order) = order
                    && caller.can_see(&order)
                    && query.matches(&order, &deps.config.sla, now)
                {
                    page.orders
                        .push(OrderSummary::of(&order, &deps.config.sla, now));
                }
                if page.orders.len() >= query.limit || examined >= MAX_EXAMINED {
                    page.next_cursor = Some(ceiling.cursor());
                    return Ok(page);
                }
            }
            if found.len() <= STEP {
                break;
            }
        }
    }
    Ok(page)
}

/// Each day (a time in it) from `latest`'s back to `earliest`'s.
fn days_back(latest: Timestamp, earliest: Timestamp) -> impl Iterator<Item = Timestamp> {
    let first_day = earliest.millis() / DAY_MS;
    let last_day = latest.millis().max(earliest.millis()) / DAY_MS;
    (first_day..=last_day)
        .rev()
        .map(|d| Timestamp::from_millis(d * DAY_MS))
}

/// The orders, read concurrently (each as fresh as an eventual read: a
/// listing is a moment behind anyway).
async fn read_all(
    deps: &Deps,
    ids: impl Iterator<Item = &OrderId>,
) -> Result<Vec<Option<Order>>, StoreError> {
    let repo = deps.orders();
    join_all(ids.map(|id| repo.read(id, Read::Eventual)))
        .await
        .into_iter()
        .collect()
}

/// The open pick lists of a location, newest order first (see
/// [`OrderQuery::open_pick_lists`]), found through the search index.
pub async fn pick_lists(
    deps: &Deps,
    location: &oms_domain::ids::LocationId,
    after: Option<Position>,
) -> Result<PickListPage, StoreError> {
    let query = OrderQuery::open_pick_lists(location.clone(), deps.clock.now(), after);
    let page = orders(deps, &Caller::operator("pick-lists"), query).await?;
    let found = read_all(deps, page.orders.iter().map(|o| &o.order_id)).await?;
    Ok(PickListPage {
        pick_lists: found
            .into_iter()
            .flatten()
            .filter_map(|o| o.pick_list(location))
            .collect(),
        next_cursor: page.next_cursor,
    })
}
