//! Changing an order, the same way in every service: load it, let the
//! domain decide (a pure method of the aggregate), commit the new state with
//! its stock moves and its events (the outbox) under the version read. When
//! someone else saved the order in between, read again and decide again.
//! The events are delivered after the commit by the relay, never by the
//! service: nothing committed is lost, nothing uncommitted is sent.
//!
//! Facts from the bus are applied at most once per event id; a fact the
//! domain refuses is recorded in the order's history, never applied.

use crate::Deps;
use crate::inbound::BusEvent;
use crate::ports::PublishError;
use crate::repo::{InventoryRepo, SaveError};
use crate::store::{Read, StoreError};
use oms_domain::ids::OrderId;
use oms_domain::kpi::Contribution;
use oms_domain::order::{Cause, Order, Outcome, Refusal};
use std::future::Future;

/// Reads and decisions after a concurrent change to the same order.
pub const ATTEMPTS: usize = 8;

/// Why a change was not made.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError<E> {
    #[error("the order does not exist")]
    NotFound,
    /// The domain said no.
    #[error("refused by the order")]
    Denied(E),
    /// The stock condition of write `index` of the change's stock writes
    /// did not hold (not enough available): nothing was written.
    #[error("stock condition {index} failed")]
    StockShort { index: usize },
    /// Others kept changing the order: try again later.
    #[error("the order kept changing")]
    Contended,
    #[error(transparent)]
    Store(StoreError),
}

impl<E> From<StoreError> for ChangeError<E> {
    fn from(e: StoreError) -> Self {
        ChangeError::Store(e)
    }
}

/// What a failed stock condition means to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnStockShort {
    /// Give up and say which condition failed (reservation: reject).
    Report,
    /// Read again and decide again (routing: another plan).
    Retry,
}

/// Loads the order, lets `decide` change it and commits the change with its
/// stock moves and events. Returns the saved order.
pub async fn change_order<E, F>(
    deps: &Deps,
    order_id: &OrderId,
    actor: &str,
    trigger: &str,
    decide: F,
) -> Result<Order, ChangeError<E>>
where
    F: Fn(&mut Order, &Cause) -> Result<Outcome, E>,
{
    change_order_with(
        deps,
        order_id,
        actor,
        trigger,
        OnStockShort::Report,
        |_| std::future::ready(Ok(())),
        |order, cause, ()| decide(order, cause),
    )
    .await
}

/// [`change_order`] for a decision that needs more than the order:
/// `prepare` reads it (again on every attempt), `decide` uses it.
pub async fn change_order_with<E, P, Prep, Fut, Dec>(
    deps: &Deps,
    order_id: &OrderId,
    actor: &str,
    trigger: &str,
    on_short: OnStockShort,
    prepare: Prep,
    decide: Dec,
) -> Result<Order, ChangeError<E>>
where
    Prep: Fn(&Order) -> Fut,
    Fut: Future<Output = Result<P, StoreError>>,
    Dec: Fn(&mut Order, &Cause, P) -> Result<Outcome, E>,
{
    let orders = deps.orders();
    // The first read may be stale (it costs half): whatever it leads to is
    // either saved under its version — so it was the latest — or read
    // again strongly: a save that finds a newer version, an order not
    // found yet, a refusal by a version that may be behind.
    for attempt in 0..ATTEMPTS {
        let fresh = attempt > 0;
        let read = if fresh { Read::Strong } else { Read::Eventual };
        let Some(mut order) = orders.read(order_id, read).await? else {
            if fresh {
                return Err(ChangeError::NotFound);
            }
            continue;
        };
        let input = prepare(&order).await?;
        let cause = deps.cause(actor, trigger);
        let before = Contribution::of(&order, &deps.config.sla);
        let was = order.account_id.is_some().then(|| order.clone());
        let outcome = match decide(&mut order, &cause, input) {
            Ok(outcome) => outcome,
            Err(_) if !fresh => continue,
            Err(why) => return Err(ChangeError::Denied(why)),
        };
        let (stock, mut adds) = InventoryRepo::now_and_later(&outcome.stock);
        adds.extend(crate::repo::balance_addition(was.as_ref(), &order));
        let kpi = Contribution::delta(&before, &Contribution::of(&order, &deps.config.sla));
        // The decision stands while only a document's number was taken in
        // between: number again (from the series as read now) and save.
        let decided = order.clone();
        let mut saved = Err(SaveError::Stale);
        // Documents due: this process numbers one change at a time.
        let _numbering = if order
            .documents_due(&deps.config.seller, cause.at)
            .is_empty()
        {
            None
        } else {
            Some(deps.numbering.lock().await)
        };
        for _ in 0..ATTEMPTS {
            let mut writes = stock.clone();
            let (docs, numbered) = number_documents(deps, &mut order, &cause).await?;
            writes.extend(docs);
            saved = orders
                .save(&mut order, writes, kpi.as_ref(), adds.clone())
                .await;
            match &saved {
                Err(SaveError::Condition(index)) if *index >= stock.len() => {
                    // Another process numbered in between: read the series.
                    deps.series_moved(numbered.iter().map(|(s, _)| s.as_str()));
                    order = decided.clone();
                }
                Ok(()) => {
                    for (series, last) in &numbered {
                        deps.series_at(series, *last);
                    }
                    break;
                }
                _ => break,
            }
        }
        match saved {
            Ok(()) => return Ok(order),
            Err(SaveError::Stale) => continue,
            Err(SaveError::Condition(index)) if index >= stock.len() => continue,
            Err(SaveError::Condition(_)) if on_short == OnStockShort::Retry || !fresh => continue,
            Err(SaveError::Condition(index)) => return Err(ChangeError::StockShort { index }),
            Err(SaveError::Store(e)) => return Err(e.into()),
        }
    }
    Err(ChangeError::Contended)
}

/// Issues the invoices and credit notes the change made due (see
/// `oms_domain::order::documents`), numbered after the last of their series
/// as read now, and returns the writes that store them — in the change's
/// commit, on the condition that their numbers are still free: a number is
/// taken exactly when its document is stored, and a series that moved in
/// between fails the commit (and the change is made again).
/// Also returns each series with the last number it now takes.
async fn number_documents(
    deps: &Deps,
    order: &mut Order,
    cause: &Cause,
) -> Result<(Vec<crate::store::Write>, Vec<(String, u64)>), StoreError> {
    let mut due = order.documents_due(&deps.config.seller, cause.at);
    if due.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let skus: Vec<_> = due.iter().flat_map(|d| d.skus().cloned()).collect();
    let names = deps
        .products_of(&skus)
        .await?
        .into_iter()
        .map(|(sku, p)| (sku, p.name))
        .collect();
    let orders = deps.orders();
    // (series, last number read, numbers taken now)
    let mut series: Vec<(String, u64, u64)> = Vec::new();
    let mut documents = Vec::with_capacity(due.len());
    for draft in &mut due {
        draft.describe(&names);
        let at = match series.iter().position(|(s, ..)| *s == draft.series) {
            Some(at) => at,
            None => {
                // The last number this process took, if it knows it (a
                // series mostly grows here); else the store's.
                let last = match deps.series_known(&draft.series) {
                    Some(n) => n,
                    None => orders.last_number(&draft.series).await?,
                };
                series.push((draft.series.clone(), last, 0));
                series.len() - 1
            }
        };
        let (_, last, taken) = &mut series[at];
        *taken += 1;
        documents.push(draft.numbered(*last + *taken));
    }
    order.issue(&documents);
    let numbered = series
        .into_iter()
        .map(|(s, last, taken)| (s, last + taken))
        .collect();
    Ok((
        crate::repo::OrderRepo::document_writes(&documents),
        numbered,
    ))
}

/// What became of a message a function was given.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// A dependency failed or the order kept changing: deliver it again
    /// later (and, after the queue's receive limit, to its dead-letter
    /// queue).
    #[error("transient: {0}")]
    Retry(String),
}

impl From<StoreError> for StepError {
    fn from(e: StoreError) -> Self {
        StepError::Retry(e.to_string())
    }
}
impl From<PublishError> for StepError {
    fn from(e: PublishError) -> Self {
        StepError::Retry(e.to_string())
    }
}

/// Ends a pipeline step (a reaction to one of the OMS's own events) whose
/// change was not made: the order moved on (a duplicate delivery, or a
/// cancellation in between) or does not exist — nothing to do; the events
/// of the change that moved it were committed with it. Transient failures
/// are retried.
pub fn settle_step<E: std::fmt::Display>(error: ChangeError<E>) -> Result<(), StepError> {
    match error {
        ChangeError::NotFound => {
            tracing::warn!("event for an unknown order; ignored");
            Ok(())
        }
        ChangeError::Denied(why) => {
            tracing::debug!(%why, "the order moved on");
            Ok(())
        }
        e @ (ChangeError::StockShort { .. } | ChangeError::Contended | ChangeError::Store(_)) => {
            Err(StepError::Retry(e.to_string()))
        }
    }
}

/// Applies a fact that arrived on the bus (a partner's or the OMS's own):
/// at most once per event id; refused facts go into the history.
pub async fn apply_fact<F>(
    deps: &Deps,
    event: &BusEvent,
    order_id: &OrderId,
    actor: &str,
    decide: F,
) -> Result<(), StepError>
where
    F: Fn(&mut Order, &Cause) -> Result<Outcome, Refusal>,
{
    let trigger = event.id.as_str();
    let result = change_order(deps, order_id, actor, trigger, |order, cause| {
        if order.has_seen(trigger) {
            return Err(Refusal::Duplicate);
        }
        decide(order, cause)
    })
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(ChangeError::Denied(Refusal::Duplicate)) => Ok(()),
        Err(ChangeError::Denied(Refusal::Refused(why))) => {
            tracing::warn!(%why, "fact refused");
            record_refusal(deps, event, order_id, &why).await
        }
        Err(ChangeError::NotFound) => {
            tracing::warn!("fact for an unknown order; ignored");
            Ok(())
        }
        Err(e) => Err(StepError::Retry(e.to_string())),
    }
}

/// Writes a refused fact into the order's history (once per event id).
pub async fn record_refusal(
    deps: &Deps,
    event: &BusEvent,
    order_id: &OrderId,
    why: &str,
) -> Result<(), StepError> {
    let trigger = event.id.as_str();
    let actor = format!("source:{}", event.source);
    let result = change_order(deps, order_id, &actor, trigger, |order, cause| {
        if order.has_seen(trigger) {
            return Err(());
        }
        order.refuse(&event.detail_type, why, cause);
        Ok(Outcome::default())
    })
    .await;
    match result {
        Ok(_) | Err(ChangeError::Denied(())) | Err(ChangeError::NotFound) => Ok(()),
        Err(e) => Err(StepError::Retry(e.to_string())),
    }
}
