//! Repositories: the domain's view of storage, written once over [`Items`].
//!
//! Single-table key design (DynamoDB table `oms`, keys `pk`/`sk`):
//!
//! | item | pk | sk | attributes |
//! |---|---|---|---|
//! | order | `ORDER#{orderId}` | `ORDER` | `doc` (deflated JSON), `outbox` (deflated JSON of the latest change's events, when it has any), `version`, `status` |
//! | idempotency claim | `CLAIM#{scope}` | `CLAIM` | `orderId`, `fingerprint`, `expiresAt`? (TTL) |
//! | network stock | `SKU#{sku}` | `NETWORK` | `available` |
//! | location stock | `SKU#{sku}` | `LOC#{locationId}` | `onHand`, `reserved`, `available` |
//! | location | `LOCATION` | `{locationId}` | `doc` (JSON) |
//!
//! Stock: a location's `available` is `onHand − reserved`; the network's
//! `available` is what may still be reserved — every location's available
//! less the reservations not yet allocated. Reserving takes from the
//! network; allocating moves units to a location's `reserved` (the network
//! does not move); shipping takes them off the location's `onHand` and
//! `reserved` (availability does not move, so neither does the network);
//! a release, a restock or more stock puts them back. The network's
//! `onHand` and `reserved` are derived when read: onHand = Σ locations,
//! reserved = onHand − available.
//!
//! Access patterns: an order by id (get); a claim by key (get, conditional
//! put); all stock of a sku, network and per location (one query); all
//! locations (one query); reservation, allocation and release as one
//! transaction with a condition per counter.

use crate::store::{Attrs, Cond, Items, Key, StoreError, Value, Write};
use oms_domain::ids::{LocationId, OrderId, Sku};
use oms_domain::intake::{Claim, ClaimKind};
use oms_domain::inventory::{Allocation, Counters, LineQty, Location, StockMove, StockView};
use oms_domain::order::Order;
use std::collections::BTreeMap;
use std::sync::Arc;

const NETWORK: &str = "NETWORK";
const LOCATIONS_PK: &str = "LOCATION";

fn order_key(id: &OrderId) -> Key {
    Key::new(format!("ORDER#{id}"), "ORDER")
}
fn claim_key(kind: &ClaimKind) -> Key {
    let scope = match kind {
        ClaimKind::IdempotencyKey(key) => format!("key#{}", key.as_str()),
        ClaimKind::ExternalId {
            channel,
            external_id,
        } => format!("ext#{channel}#{external_id}"),
    };
    Key::new(format!("CLAIM#{scope}"), "CLAIM")
}
fn stock_pk(sku: &Sku) -> String {
    format!("SKU#{sku}")
}
fn location_sk(loc: &LocationId) -> String {
    format!("LOC#{loc}")
}

fn s(v: impl Into<String>) -> Value {
    Value::S(v.into())
}
fn n(v: u64) -> Value {
    Value::N(i64::try_from(v).unwrap_or(i64::MAX))
}
fn corrupt(what: &str) -> StoreError {
    StoreError::Unavailable(format!("stored {what} is unreadable"))
}
fn doc<T: serde::de::DeserializeOwned>(attrs: &Attrs, what: &str) -> Result<T, StoreError> {
    let v = attrs.get("doc").ok_or_else(|| corrupt(what))?;
    crate::outbox::unpack(v, what)
}
fn to_doc<T: serde::Serialize>(v: &T) -> Value {
    crate::outbox::pack(v)
}
/// A stock item's counters, and its stored `available`.
struct Stored {
    counters: Counters,
    available_attr: u64,
}

fn counters(attrs: &Attrs) -> Stored {
    let get = |k: &str| attrs.get(k).and_then(Value::as_n).unwrap_or(0).max(0) as u64;
    Stored {
        counters: Counters {
            on_hand: get("onHand"),
            reserved: get("reserved"),
        },
        available_attr: get("available"),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    New,
    /// A claim was already taken by this order.
    Existing {
        order_id: OrderId,
        same_request: bool,
        /// The claim that was taken.
        kind: ClaimKind,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaveError {
    /// Someone saved the order since it was read: reload and decide again.
    #[error("order changed since it was read")]
    Stale,
    /// The condition of extra write `index` failed (e.g. stock too low).
    #[error("condition of write {0} failed")]
    Condition(usize),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone)]
pub struct OrderRepo {
    items: Arc<dyn Items>,
}

impl OrderRepo {
    pub fn new(items: Arc<dyn Items>) -> Self {
        Self { items }
    }

    pub async fn get(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        let Some(attrs) = self.items.get(&order_key(id)).await? else {
            return Ok(None);
        };
        let mut order: Order = doc(&attrs, "order")?;
        order.outbox = crate::outbox::events_of(&attrs)?;
        Ok(Some(order))
    }

    fn put(order: &Order, when: Vec<Cond>) -> Write {
        let mut attrs = Attrs::new();
        attrs.insert("doc".into(), crate::outbox::pack(order));
        if !order.outbox.is_empty() {
            attrs.insert(
                crate::outbox::ATTR.into(),
                crate::outbox::pack(&order.outbox),
            );
        }
        attrs.insert("version".into(), n(order.version));
        attrs.insert("status".into(), s(order.status.as_str()));
        Write::Put {
            key: order_key(&order.order_id),
            attrs,
            when,
        }
    }

    /// Stores a new order together with its claims, atomically: either the
    /// order and every claim are written, or a claim was taken and nothing is.
    pub async fn create(&self, order: &mut Order, claims: &[Claim]) -> Result<Created, StoreError> {
        order.version = 1;
        let mut writes = vec![Self::put(order, vec![Cond::NotExists])];
        for c in claims {
            let mut attrs = Attrs::new();
            attrs.insert("orderId".into(), s(order.order_id.as_str()));
            attrs.insert("fingerprint".into(), s(&c.fingerprint));
            if let Some(t) = c.expires_at {
                attrs.insert("expiresAt".into(), n(t));
            }
            writes.push(Write::Put {
                key: claim_key(&c.kind),
                attrs,
                when: vec![Cond::NotExists],
            });
        }
        match self.items.write(writes).await {
            Ok(()) => Ok(Created::New),
            Err(StoreError::ConditionFailed { index }) if index >= 1 => {
                let claim = &claims[index - 1];
                let taken = self
                    .items
                    .get(&claim_key(&claim.kind))
                    .await?
                    .ok_or_else(|| StoreError::Unavailable("claim vanished; retry".into()))?;
                let order_id = taken
                    .get("orderId")
                    .and_then(Value::as_s)
                    .and_then(|s| OrderId::parse(s).ok())
                    .ok_or_else(|| corrupt("claim"))?;
                let same_request =
                    taken.get("fingerprint").and_then(Value::as_s) == Some(&claim.fingerprint);
                Ok(Created::Existing {
                    order_id,
                    same_request,
                    kind: claim.kind.clone(),
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Saves a changed order if nobody else did since it was read, together
    /// with `extra` writes (stock moves) in the same atomic commit.
    pub async fn save(&self, order: &mut Order, extra: Vec<Write>) -> Result<(), SaveError> {
        let read_version = order.version;
        order.version += 1;
        let mut writes = vec![Self::put(
            order,
            vec![Cond::Eq("version".into(), n(read_version))],
        )];
        writes.extend(extra);
        let result = self.items.write(writes).await;
        if result.is_err() {
            order.version = read_version;
        }
        match result {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed { index: 0 }) => Err(SaveError::Stale),
            Err(StoreError::ConditionFailed { index }) => Err(SaveError::Condition(index - 1)),
            Err(e) => Err(SaveError::Store(e)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StockError {
    #[error("location {0} is not registered")]
    UnknownLocation(LocationId),
    #[error("{reserved} units are reserved for orders; onHand cannot go below that")]
    BelowReserved { reserved: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone)]
pub struct InventoryRepo {
    items: Arc<dyn Items>,
}

impl InventoryRepo {
    pub fn new(items: Arc<dyn Items>) -> Self {
        Self { items }
    }

    /// Creates or replaces a location; `true` when it is new.
    pub async fn put_location(&self, loc: &Location) -> Result<bool, StoreError> {
        let key = Key::new(LOCATIONS_PK, loc.location_id.as_str());
        let existed = self.items.get(&key).await?.is_some();
        let mut attrs = Attrs::new();
        attrs.insert("doc".into(), to_doc(loc));
        self.items
            .write(vec![Write::Put {
                key,
                attrs,
                when: vec![],
            }])
            .await?;
        Ok(!existed)
    }

    pub async fn locations(&self) -> Result<Vec<Location>, StoreError> {
        self.items
            .query(LOCATIONS_PK)
            .await?
            .iter()
            .map(|(_, a)| doc(a, "location"))
            .collect()
    }

    pub async fn location(&self, id: &LocationId) -> Result<Option<Location>, StoreError> {
        match self.items.get(&Key::new(LOCATIONS_PK, id.as_str())).await? {
            Some(a) => Ok(Some(doc(&a, "location")?)),
            None => Ok(None),
        }
    }

    /// Network counters and every location's counters for a sku.
    pub async fn levels(&self, sku: &Sku) -> Result<StockView, StoreError> {
        let mut network_available = 0u64;
        let mut locations = Vec::new();
        for (sk, attrs) in self.items.query(&stock_pk(sku)).await? {
            if sk == NETWORK {
                network_available = counters(&attrs).available_attr;
            } else if let Some(loc) = sk
                .strip_prefix("LOC#")
                .and_then(|l| LocationId::parse(l).ok())
            {
                locations.push((loc, counters(&attrs).counters));
            }
        }
        let on_hand: u64 = locations.iter().map(|(_, c)| c.on_hand).sum();
        let network = Counters {
            on_hand,
            reserved: on_hand.saturating_sub(network_available),
        };
        Ok(StockView::new(sku.clone(), network, locations))
    }

    /// Sets the units on hand at a location; the network counters move by
    /// the same delta in the same commit. Refuses to go below what is reserved.
    pub async fn set_on_hand(
        &self,
        sku: &Sku,
        loc: &LocationId,
        on_hand: u64,
    ) -> Result<StockView, StockError> {
        if self.location(loc).await?.is_none() {
            return Err(StockError::UnknownLocation(loc.clone()));
        }
        let key = Key::new(stock_pk(sku), location_sk(loc));
        // Optimistic: read the location counters, write on the condition
        // that they did not move; retry when a reservation raced us.
        for _ in 0..16 {
            let current = self.items.get(&key).await?;
            let old = current
                .as_ref()
                .map(|a| counters(a).counters)
                .unwrap_or_default();
            if on_hand < old.reserved {
                return Err(StockError::BelowReserved {
                    reserved: old.reserved,
                });
            }
            let when = match &current {
                Some(_) => vec![
                    Cond::Eq("onHand".into(), n(old.on_hand)),
                    Cond::Eq("reserved".into(), n(old.reserved)),
                ],
                None => vec![Cond::NotExists],
            };
            let mut attrs = Attrs::new();
            attrs.insert("onHand".into(), n(on_hand));
            attrs.insert("reserved".into(), n(old.reserved));
            attrs.insert("available".into(), n(on_hand - old.reserved));
            let mut writes = vec![Write::Put {
                key: key.clone(),
                attrs,
                when,
            }];
            let delta = on_hand as i64 - old.on_hand as i64;
            if delta != 0 {
                writes.push(Write::Update {
                    key: Key::new(stock_pk(sku), NETWORK),
                    set: vec![],
                    add: vec![("available".into(), delta)],
                    when: if delta < 0 {
                        vec![Cond::AtLeast("available".into(), -delta)]
                    } else {
                        vec![]
                    },
                });
            }
            match self.items.write(writes).await {
                Ok(()) => return Ok(self.levels(sku).await?),
                Err(StoreError::ConditionFailed { index: 0 }) => continue,
                Err(StoreError::ConditionFailed { .. }) => {
                    let network = self.levels(sku).await?;
                    return Err(StockError::BelowReserved {
                        reserved: network.reserved,
                    });
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Unavailable("stock keeps changing; retry".into()).into())
    }

    /// Writes that take `demand` from the network counters, each on the
    /// condition that enough is available. Write `i` is for `demand[i]`.
    pub fn reserve_writes(demand: &[LineQty]) -> Vec<Write> {
        demand
            .iter()
            .map(|l| {
                let q = l.quantity.units();
                Write::Update {
                    key: Key::new(stock_pk(&l.sku), NETWORK),
                    set: vec![],
                    add: vec![("available".into(), -q)],
                    when: vec![Cond::AtLeast("available".into(), q)],
                }
            })
            .collect()
    }

    /// Writes that move allocated units onto location counters, each on the
    /// condition that the location still has them free.
    pub fn allocate_writes(allocations: &[Allocation]) -> Vec<Write> {
        merge(allocations)
            .into_iter()
            .map(|((sku, loc), q)| Write::Update {
                key: Key::new(stock_pk(&sku), location_sk(&loc)),
                set: vec![],
                add: vec![("reserved".into(), q), ("available".into(), -q)],
                when: vec![Cond::AtLeast("available".into(), q)],
            })
            .collect()
    }

    /// Writes that give back a reservation and its allocations.
    pub fn release_writes(demand: &[LineQty], allocations: &[Allocation]) -> Vec<Write> {
        let network = demand.iter().map(|l| Write::Update {
            key: Key::new(stock_pk(&l.sku), NETWORK),
            set: vec![],
            add: vec![("available".into(), l.quantity.units())],
            when: vec![],
        });
        let located = merge(allocations)
            .into_iter()
            .map(|((sku, loc), q)| Write::Update {
                key: Key::new(stock_pk(&sku), location_sk(&loc)),
                set: vec![],
                add: vec![("reserved".into(), -q), ("available".into(), q)],
                when: vec![Cond::AtLeast("reserved".into(), q)],
            });
        network.chain(located).collect()
    }
}

impl InventoryRepo {
    /// The writes for a change's stock moves, one per item: moves touching
    /// the same counter are merged (a transaction may name an item once).
    pub fn writes(moves: &[StockMove]) -> Vec<Write> {
        let mut all = Vec::new();
        for m in moves {
            all.extend(match m {
                StockMove::Reserve(demand) => Self::reserve_writes(demand),
                StockMove::Allocate(allocations) => Self::allocate_writes(allocations),
                StockMove::Release { network, located } => Self::release_writes(network, located),
                // Availability does not move: the network item neither.
                StockMove::Ship { location_id, lines } => lines
                    .iter()
                    .map(|l| {
                        let q = l.quantity.units();
                        Write::Update {
                            key: Key::new(stock_pk(&l.sku), location_sk(location_id)),
                            set: vec![],
                            add: vec![("onHand".into(), -q), ("reserved".into(), -q)],
                            when: vec![Cond::AtLeast("reserved".into(), q)],
                        }
                    })
                    .collect(),
                StockMove::Restock { location_id, lines } => lines
                    .iter()
                    .flat_map(|l| {
                        let q = l.quantity.units();
                        let on_shelf = Write::Update {
                            key: Key::new(stock_pk(&l.sku), location_sk(location_id)),
                            set: vec![],
                            add: vec![
                                ("onHand".into(), q),
                                ("available".into(), q),
                                ("reserved".into(), 0),
                            ],
                            when: vec![],
                        };
                        let network = Write::Update {
                            key: Key::new(stock_pk(&l.sku), NETWORK.to_owned()),
                            set: vec![],
                            add: vec![("available".into(), q)],
                            when: vec![],
                        };
                        [on_shelf, network]
                    })
                    .collect(),
            });
        }
        merge_writes(all)
    }
}

/// Folds updates of the same item into one: deltas add up, and so do the
/// floors of `AtLeast` conditions on the same attribute.
fn merge_writes(writes: Vec<Write>) -> Vec<Write> {
    let mut out: Vec<Write> = Vec::with_capacity(writes.len());
    for w in writes {
        let Write::Update { key, add, when, .. } = &w else {
            out.push(w);
            continue;
        };
        let same = out.iter_mut().find(|o| o.key() == key);
        match same {
            Some(Write::Update {
                add: into_add,
                when: into_when,
                ..
            }) => {
                for (name, d) in add {
                    match into_add.iter_mut().find(|(n, _)| n == name) {
                        Some((_, total)) => *total += d,
                        None => into_add.push((name.clone(), *d)),
                    }
                }
                for c in when {
                    match (c, into_when.iter_mut().find(|x| matches!((x, c), (Cond::AtLeast(a, _), Cond::AtLeast(b, _)) if a == b))) {
                        (Cond::AtLeast(_, n), Some(Cond::AtLeast(_, total))) => *total += n,
                        _ => into_when.push(c.clone()),
                    }
                }
            }
            _ => out.push(w),
        }
    }
    out
}

fn merge(allocations: &[Allocation]) -> BTreeMap<(Sku, LocationId), i64> {
    let mut by_key = BTreeMap::new();
    for a in allocations {
        *by_key
            .entry((a.sku.clone(), a.location_id.clone()))
            .or_insert(0) += a.quantity.units();
    }
    by_key
}
