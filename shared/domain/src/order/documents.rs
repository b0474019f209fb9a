//! Invoices and credit notes.
//!
//! An **invoice** is due for every shipment once its units left the
//! location (`SHIPPED` or `DELIVERED`): the units shipped at what the order
//! charged for them — each line's amount, discount and tax shared among its
//! units the way returns share them (the `k` units after `n` of `q` take
//! `⌊x × (n + k) / q⌋ − ⌊x × n / q⌋` of each amount `x`, so a line invoiced
//! in full is invoiced exactly) — and the shipping charge on the order's
//! first invoice. A **credit note** is due for every refund made once the
//! order was invoiced (a refund before that gives back money for goods
//! never invoiced: there is nothing to credit); its tax is the refund's
//! share of the order's tax.
//!
//! Each document has a number in its series with no gaps: invoices in the
//! series of the location that shipped (`INV-{locationId}`), credit notes
//! in the series of the order's first invoice's location
//! (`CN-{locationId}`). The domain says what is due
//! ([`Order::documents_due`]); the application takes the series' next
//! numbers in the same commit that records them ([`Order::issue`]), so a
//! number is used exactly when its document exists.

use super::{Order, OrderLine};
use crate::ids::{CustomerId, LocationId, OrderId, Sku};
use crate::money::{Currency, Money};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DocumentKind {
    Invoice,
    CreditNote,
}

/// A document as the order lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentRef {
    pub kind: DocumentKind,
    pub number: String,
    /// The shipment (invoice) or refund (credit note) it documents.
    pub source: String,
    pub issued_at: Timestamp,
    /// Minor units of the order's currency.
    pub total: i64,
}

/// A line of a document; amounts in minor units of its currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentLine {
    pub sku: Sku,
    pub description: String,
    pub quantity: u32,
    pub unit_price: i64,
    /// Quantity × unit price.
    pub amount: i64,
    pub discount: i64,
    pub tax_rate_basis_points: u32,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tax_included: bool,
    pub tax: i64,
    /// What the line costs: amount − discount (+ tax when not included).
    pub total: i64,
}

/// Tax of one rate, summed over the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaxLine {
    pub rate_basis_points: u32,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inclusive: bool,
    /// The amount taxed at that rate.
    pub base: i64,
    pub tax: i64,
}

/// Who bought.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Buyer {
    pub customer_id: CustomerId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub address: super::Address,
}

/// An invoice or credit note, numbered; amounts in minor units of
/// `currency`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    pub kind: DocumentKind,
    pub number: String,
    pub series: String,
    /// Its place in the series, from 1, without gaps.
    pub sequence: u64,
    pub issued_at: Timestamp,
    pub order_id: OrderId,
    /// The seller's name (`OMS_SELLER_NAME`).
    pub seller: String,
    pub buyer: Buyer,
    /// The location that shipped (credit notes: their series').
    pub location_id: LocationId,
    /// The shipment or refund it documents.
    pub source: String,
    /// Credit notes: why the money went back, and the order's invoices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub corrects: Vec<String>,
    pub currency: Currency,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<DocumentLine>,
    /// Delivery, after its discount (its tax is in `tax`).
    pub shipping: i64,
    pub subtotal: i64,
    pub discount: i64,
    pub tax: i64,
    pub tax_lines: Vec<TaxLine>,
    pub total: i64,
}

/// `GET /orders/{orderId}/invoices`: its invoices and credit notes, in
/// the order they were issued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DocumentList {
    pub documents: Vec<Document>,
}

/// A document that is due and has no number yet.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentDraft {
    pub kind: DocumentKind,
    /// The series it takes its number from.
    pub series: String,
    pub(crate) document: Document,
}

impl DocumentDraft {
    /// The skus of its lines.
    pub fn skus(&self) -> impl Iterator<Item = &Sku> {
        self.document.lines.iter().map(|l| &l.sku)
    }

    /// Describes its lines by the products' names (the sku otherwise).
    pub fn describe(&mut self, names: &BTreeMap<Sku, String>) {
        for l in &mut self.document.lines {
            if let Some(name) = names.get(&l.sku) {
                l.description = name.clone();
            }
        }
    }

    /// The document with the `sequence`-th number of its series.
    pub fn numbered(&self, sequence: u64) -> Document {
        let mut d = self.document.clone();
        d.sequence = sequence;
        d.number = format!("{}-{sequence:06}", self.series);
        d
    }
}

/// `⌊x × upto / q⌋ − ⌊x × from / q⌋`: the share of `x` of units `from..upto`
/// of `q` (see the module).
fn part(x: i64, from: u32, upto: u32, q: u32) -> i64 {
    if q == 0 {
        return 0;
    }
    let at = |n: u32| i128::from(x) * i128::from(n.min(q)) / i128::from(q);
    i64::try_from(at(upto) - at(from)).unwrap_or(0)
}

fn series(kind: DocumentKind, location: &LocationId) -> String {
    match kind {
        DocumentKind::Invoice => format!("INV-{location}"),
        DocumentKind::CreditNote => format!("CN-{location}"),
    }
}

fn tax_lines(lines: &[(u32, bool, i64, i64)]) -> Vec<TaxLine> {
    let mut by_rate: BTreeMap<(u32, bool), (i64, i64)> = BTreeMap::new();
    for (rate, inclusive, base, tax) in lines {
        if *rate == 0 && *tax == 0 {
            continue;
        }
        let e = by_rate.entry((*rate, *inclusive)).or_default();
        e.0 += base;
        e.1 += tax;
    }
    by_rate
        .into_iter()
        .map(|((rate_basis_points, inclusive), (base, tax))| TaxLine {
            rate_basis_points,
            inclusive,
            base,
            tax,
        })
        .collect()
}

impl Order {
    fn invoiced(&self) -> impl Iterator<Item = &DocumentRef> {
        self.documents
            .iter()
            .filter(|d| d.kind == DocumentKind::Invoice)
    }

    /// The invoice of a shipment, if issued.
    fn invoice_of(&self, shipment: &super::Shipment) -> Option<&DocumentRef> {
        let source = shipment.shipment_id.as_str();
        self.invoiced().find(|d| d.source == source)
    }

    /// The order has an invoice: a refund from now on is credited.
    pub(crate) fn is_invoiced(&self) -> bool {
        self.invoiced().next().is_some()
    }

    /// The documents due and not yet issued: an invoice per shipment that
    /// left, a credit note per refund made once invoiced.
    pub fn documents_due(&self, seller: &str, at: Timestamp) -> Vec<DocumentDraft> {
        let mut due = Vec::new();
        // Units of each sku invoiced so far (an invoice covers its
        // shipment's lines), as the drafts add to them.
        let mut invoiced: BTreeMap<Sku, u32> = BTreeMap::new();
        for l in self
            .shipments
            .iter()
            .filter(|s| self.invoice_of(s).is_some())
            .flat_map(|s| &s.lines)
        {
            *invoiced.entry(l.sku.clone()).or_default() += l.quantity.get();
        }
        let mut first = !self.is_invoiced();
        for s in self.shipments.iter().filter(|s| s.has_shipped()) {
            if self.invoice_of(s).is_some() {
                continue;
            }
            due.push(self.invoice_draft(s, &mut invoiced, first, seller, at));
            first = false;
        }
        let credit_location = self
            .shipments
            .iter()
            .find(|s| self.invoice_of(s).is_some())
            .map(|s| s.location_id.clone())
            .or_else(|| due.first().map(|d| d.document.location_id.clone()));
        if let Some(location) = credit_location {
            for r in self
                .payments
                .iter()
                .flat_map(|p| &p.refunds)
                .filter(|r| r.credit_note)
            {
                let issued = self
                    .documents
                    .iter()
                    .any(|d| d.kind == DocumentKind::CreditNote && d.source == r.refund_id);
                if !issued {
                    due.push(self.credit_draft(r, &location, seller, at));
                }
            }
        }
        due
    }

    fn buyer(&self) -> Buyer {
        Buyer {
            customer_id: self.customer.id.clone(),
            email: self.customer.email.clone(),
            address: self.ship_to.clone(),
        }
    }

    fn blank(
        &self,
        kind: DocumentKind,
        location: &LocationId,
        seller: &str,
        at: Timestamp,
    ) -> Document {
        Document {
            kind,
            number: String::new(),
            series: series(kind, location),
            sequence: 0,
            issued_at: at,
            order_id: self.order_id.clone(),
            seller: seller.to_owned(),
            buyer: self.buyer(),
            location_id: location.clone(),
            source: String::new(),
            reason: None,
            corrects: Vec::new(),
            currency: self.currency,
            lines: Vec::new(),
            shipping: 0,
            subtotal: 0,
            discount: 0,
            tax: 0,
            tax_lines: Vec::new(),
            total: 0,
        }
    }

    fn invoice_draft(
        &self,
        shipment: &super::Shipment,
        invoiced: &mut BTreeMap<Sku, u32>,
        with_shipping: bool,
        seller: &str,
        at: Timestamp,
    ) -> DocumentDraft {
        let mut doc = self.blank(DocumentKind::Invoice, &shipment.location_id, seller, at);
        doc.source = shipment.shipment_id.to_string();
        let mut taxed = Vec::new();
        let mut shipped: BTreeMap<&Sku, u32> = BTreeMap::new();
        for l in &shipment.lines {
            *shipped.entry(&l.sku).or_default() += l.quantity.get();
        }
        for (sku, k) in shipped {
            let Some(line) = self.lines.iter().find(|l| &l.sku == sku) else {
                continue;
            };
            let before = invoiced.entry(sku.clone()).or_default();
            doc.lines.push(invoice_line(line, *before, k));
            *before += k;
        }
        for l in &doc.lines {
            taxed.push((
                l.tax_rate_basis_points,
                l.tax_included,
                l.amount - l.discount,
                l.tax,
            ));
        }
        if with_shipping {
            let s = &self.shipping;
            doc.shipping = s.amount.amount - s.discount.amount;
            doc.tax += s.tax.amount;
            taxed.push((
                s.tax_rate_basis_points,
                s.tax_included,
                doc.shipping,
                s.tax.amount,
            ));
            doc.total += s.payable().amount;
        }
        doc.subtotal = doc.lines.iter().map(|l| l.amount).sum();
        doc.discount = doc.lines.iter().map(|l| l.discount).sum();
        doc.tax += doc.lines.iter().map(|l| l.tax).sum::<i64>();
        doc.total += doc.lines.iter().map(|l| l.total).sum::<i64>();
        doc.tax_lines = tax_lines(&taxed);
        DocumentDraft {
            kind: DocumentKind::Invoice,
            series: doc.series.clone(),
            document: doc,
        }
    }

    fn credit_draft(
        &self,
        refund: &super::Refund,
        location: &LocationId,
        seller: &str,
        at: Timestamp,
    ) -> DocumentDraft {
        let mut doc = self.blank(DocumentKind::CreditNote, location, seller, at);
        doc.source = refund.refund_id.clone();
        doc.reason = Some(refund.reason.clone());
        doc.corrects = self.invoiced().map(|d| d.number.clone()).collect();
        let totals = crate::pricing::Totals::of(&self.lines, &self.shipping);
        // The refund's share of the order's tax, by the rounding rule.
        let tax = if self.total.is_positive() {
            refund
                .amount
                .scaled(totals.tax.amount, self.total.amount)
                .map(|m| m.amount)
                .unwrap_or(0)
                .min(refund.amount.amount)
        } else {
            0
        };
        doc.total = refund.amount.amount;
        doc.tax = tax;
        doc.subtotal = refund.amount.amount - tax;
        DocumentDraft {
            kind: DocumentKind::CreditNote,
            series: doc.series.clone(),
            document: doc,
        }
    }

    /// What the shipment at `index`, which just left, is worth: what its
    /// invoice will total (its units' share of their lines after earlier
    /// shipments', and the shipping charge if it is the first to leave).
    pub(crate) fn shipment_value(&self, index: usize) -> Money {
        let shipment = &self.shipments[index];
        let mut before: BTreeMap<&Sku, u32> = BTreeMap::new();
        for (i, s) in self.shipments.iter().enumerate() {
            if i != index && s.has_shipped() {
                for l in &s.lines {
                    *before.entry(&l.sku).or_default() += l.quantity.get();
                }
            }
        }
        let first = !self
            .shipments
            .iter()
            .enumerate()
            .any(|(i, s)| i != index && s.has_shipped());
        let mut shipped: BTreeMap<&Sku, u32> = BTreeMap::new();
        for l in &shipment.lines {
            *shipped.entry(&l.sku).or_default() += l.quantity.get();
        }
        let mut total = 0;
        for (sku, k) in shipped {
            if let Some(line) = self.lines.iter().find(|l| &l.sku == sku) {
                let earlier = before.get(sku).copied().unwrap_or(0);
                total += invoice_line(line, earlier, k).total;
            }
        }
        if first {
            total += self.shipping.payable().amount;
        }
        Money::new(total, self.currency)
    }

    /// Records numbered documents (from [`Order::documents_due`]).
    pub fn issue(&mut self, documents: &[Document]) {
        for d in documents {
            self.documents.push(DocumentRef {
                kind: d.kind,
                number: d.number.clone(),
                source: d.source.clone(),
                issued_at: d.issued_at,
                total: d.total,
            });
        }
    }
}

/// `k` units of `line` after `before` were invoiced.
fn invoice_line(line: &OrderLine, before: u32, k: u32) -> DocumentLine {
    let q = line.quantity.get();
    let upto = (before + k).min(q);
    let amount = part(line.line_total.amount, before, upto, q);
    let discount = part(line.discount.amount, before, upto, q);
    let tax = part(line.tax.amount, before, upto, q);
    let quantity = upto.saturating_sub(before);
    DocumentLine {
        sku: line.sku.clone(),
        description: line.sku.to_string(),
        quantity,
        unit_price: line.unit_price.amount,
        amount,
        discount,
        tax_rate_basis_points: line.tax_rate_basis_points,
        tax_included: line.tax_included,
        tax,
        total: amount - discount + if line.tax_included { 0 } else { tax },
    }
}

/// What an order's documents add up to: invoiced less credited.
pub fn net_invoiced(documents: &[DocumentRef], currency: Currency) -> Money {
    let amount = documents
        .iter()
        .map(|d| match d.kind {
            DocumentKind::Invoice => d.total,
            DocumentKind::CreditNote => -d.total,
        })
        .sum();
    Money::new(amount, currency)
}
