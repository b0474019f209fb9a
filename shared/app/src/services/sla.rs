//! The SLA sweep: raises `OrderAtRisk` and `OrderSlaBreached` for orders
//! that passed the risk share (`OMS_SLA_RISK_PERCENT`) or the deadline of
//! the step they wait on (`OMS_SLA_ROUTE_SECS`, `OMS_SLA_SHIP_SECS`,
//! `OMS_SLA_DELIVER_SECS`, from placement).
//!
//! Every step's marks are fixed offsets from the placement time, so an
//! order crosses a mark when the sweep's clock passes `placedAt + offset`.
//! Each sweep looks only at the orders whose marks it passed since the
//! last one — for each step and mark, the slice of the day index placed
//! between `last − offset` and `now − offset` — reads them, and raises the
//! alert on those still waiting on that step. The sweep's position is an
//! item of the store (`SLA` / `SWEEP`), moved on under a condition, so a
//! restart goes on where it stopped and two sweepers never both move it.
//! An order is read at most twice per step (risk, deadline), whatever its
//! life: cheaper than a timer per order per step, which SQS could only
//! hold 15 minutes at a time.
//!
//! A promised delivery (`promise` chosen at checkout) is its order's
//! delivery deadline: such orders sit in the sparse due index (`byDue`,
//! partition `PROMISE`) at their next mark — at risk, then due — and the
//! sweep reads the ones whose mark passed.
//!
//! The same sweep cancels pickups not collected within
//! `OMS_PICKUP_HOLD_SECS`: they are the oldest entries of the sparse pickup
//! index (`byDue`, keyed by when they were set aside), so it reads only
//! those due.

use crate::Deps;
use crate::change::{ChangeError, change_order};
use crate::services::search;
use crate::store::{Attrs, Cond, Key, Read, StoreError, Value, Write};
use oms_domain::access::Caller;
use oms_domain::order::Refusal;
use oms_domain::search::{OrderQuery, Position, SlaState, SlaStep};
use oms_domain::time::Timestamp;
use tracing::instrument;

/// Without a position (the first sweep), the sweep looks back this far.
const FIRST_LOOK_BACK_MS: u64 = 3_600_000;

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Orders read.
    pub examined: usize,
    /// Alerts raised.
    pub raised: usize,
    /// Pickups not collected in time, cancelled.
    pub expired: usize,
}

/// Most uncollected pickups one sweep cancels (the rest, the next).
const PICKUPS_PER_SWEEP: usize = 200;

/// Raises the alerts of promised deliveries whose next mark (at risk,
/// then due) passed: the due index holds each at its next mark.
async fn promises_due(deps: &Deps, now: Timestamp) -> Result<usize, StoreError> {
    let query = crate::store::Query {
        index: Some(crate::store::BY_DUE),
        to: Some(format!("{:013}#\u{7f}", now.millis())),
        limit: Some(PICKUPS_PER_SWEEP),
        ..crate::store::Query::partition(crate::repo::PROMISE_PARTITION)
    };
    let mut raised = 0;
    for (sk, _) in deps.items.query(&query).await? {
        if let Some(order_id) = sk
            .split_once('#')
            .and_then(|(_, id)| oms_domain::ids::OrderId::parse(id).ok())
            && raise(deps, &order_id).await?
        {
            raised += 1;
        }
    }
    Ok(raised)
}

/// Cancels the pickups set aside longer than `OMS_PICKUP_HOLD_SECS` ago,
/// found in the sparse pickup index (oldest first).
async fn expire_pickups(deps: &Deps, now: Timestamp) -> Result<usize, StoreError> {
    let hold = deps.config.pickup_hold_ms;
    let cutoff = now.millis().saturating_sub(hold);
    let query = crate::store::Query {
        index: Some(crate::store::BY_DUE),
        to: Some(format!("{cutoff:013}#\u{7f}")),
        limit: Some(PICKUPS_PER_SWEEP),
        ..crate::store::Query::partition(crate::repo::PICKUP_PARTITION)
    };
    let mut expired = 0;
    for (sk, _) in deps.items.query(&query).await? {
        let Some(order_id) = sk
            .split_once('#')
            .and_then(|(_, id)| oms_domain::ids::OrderId::parse(id).ok())
        else {
            continue;
        };
        let trigger = format!("pickup-sweep:{}", now.millis());
        match change_order(deps, &order_id, "sla:pickup", &trigger, |order, cause| {
            order.pickup_not_collected(hold, cause)
        })
        .await
        {
            Ok(_) => expired += 1,
            Err(ChangeError::Denied(_) | ChangeError::NotFound) => {}
            Err(ChangeError::Store(e)) => return Err(e),
            Err(e) => return Err(StoreError::Unavailable(e.to_string())),
        }
    }
    Ok(expired)
}

fn position_key() -> Key {
    Key::new("SLA", "SWEEP")
}

/// Sweeps the marks passed since the last sweep; returns what it did.
#[instrument(skip(deps))]
pub async fn sweep(deps: &Deps) -> Result<Swept, StoreError> {
    let now = deps.clock.now();
    let stored = deps.items.get(&position_key(), Read::Strong).await?;
    let last = stored
        .as_ref()
        .and_then(|a| a.get("until"))
        .and_then(Value::as_n)
        .map(|ms| Timestamp::from_millis(ms.max(0) as u64))
        .unwrap_or(Timestamp::from_millis(
            now.millis().saturating_sub(FIRST_LOOK_BACK_MS),
        ));
    if now <= last {
        return Ok(Swept::default());
    }
    let sla = deps.config.sla;
    let sweeper = Caller::operator("sla-sweep");
    let mut swept = Swept::default();
    for step in SlaStep::ALL {
        for breached in [false, true] {
            let offset = sla.mark_ms(step, breached);
            // Placed so that the mark fell in (last, now].
            let from = Timestamp::from_millis(last.millis().saturating_sub(offset) + 1);
            let to = Timestamp::from_millis(now.millis().saturating_sub(offset));
            if to < from {
                continue;
            }
            let mut query = OrderQuery {
                from: Some(from),
                to: Some(to),
                limit: oms_domain::search::MAX_LIMIT,
                ..OrderQuery::default()
            };
            loop {
                let page = search::orders(deps, &sweeper, query.clone()).await?;
                for o in &page.orders {
                    swept.examined += 1;
                    let waits_here = matches!(
                        o.sla,
                        Some(SlaState::AtRisk(s) | SlaState::Breached(s)) if s == step
                    );
                    if waits_here && raise(deps, &o.order_id).await? {
                        swept.raised += 1;
                    }
                }
                match page.next_cursor.as_deref().and_then(Position::from_cursor) {
                    Some(after) => query.after = Some(after),
                    None => break,
                }
            }
        }
    }
    swept.expired = expire_pickups(deps, now).await?;
    swept.raised += promises_due(deps, now).await?;
    let mut attrs = Attrs::new();
    attrs.insert("until".into(), Value::N(now.millis() as i64));
    let when = match stored.as_ref().and_then(|a| a.get("until")) {
        Some(v) => vec![Cond::Eq("until".into(), v.clone())],
        None => vec![Cond::NotExists],
    };
    match deps
        .items
        .write(vec![Write::Put {
            key: position_key(),
            attrs,
            when,
        }])
        .await
    {
        // Another sweeper moved it first: its alerts are the same ones.
        Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(swept),
        Err(e) => Err(e),
    }
}

/// Raises the order's alert if it is still due; whether it was raised.
async fn raise(deps: &Deps, order_id: &oms_domain::ids::OrderId) -> Result<bool, StoreError> {
    let sla = deps.config.sla;
    let trigger = format!("sla-sweep:{}", deps.clock.now().millis());
    match change_order(deps, order_id, "sla", &trigger, |order, cause| {
        order.raise_sla_alert(&sla, cause)
    })
    .await
    {
        Ok(_) => Ok(true),
        Err(ChangeError::Denied(Refusal::Duplicate) | ChangeError::NotFound) => Ok(false),
        Err(ChangeError::Denied(Refusal::Refused(why))) => {
            tracing::warn!(%why, "alert not raised");
            Ok(false)
        }
        Err(ChangeError::Store(e)) => Err(e),
        Err(e) => Err(StoreError::Unavailable(e.to_string())),
    }
}
