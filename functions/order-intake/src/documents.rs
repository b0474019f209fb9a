//! `GET /orders/{orderId}/invoices` and `GET /invoices/{number}` (JSON, or
//! a printable page for `{number}.html`): invoices and credit notes.

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, Response};
use oms_app::Deps;
use oms_app::services::intake;
use oms_aws::http::{ApiError, caller, json};
use oms_domain::money::Money;
use oms_domain::order::{Document, DocumentKind, DocumentList};
use serde::Serialize;

const TEMPLATE: &str = include_str!("../templates/document.html");

pub async fn of_order(deps: &Deps, id: &str, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(req, &deps.config)?;
    let order_id = super::order_id(id)?;
    let documents = intake::documents(deps, &caller, &order_id)
        .await?
        .ok_or_else(|| super::not_found(id))?;
    Ok(json(StatusCode::OK, &DocumentList { documents }))
}

pub async fn one(deps: &Deps, number: &str, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(req, &deps.config)?;
    let (number, html) = match number.strip_suffix(".html") {
        Some(n) => (n, true),
        None => (number, false),
    };
    let not_found = || ApiError::not_found(format!("document {number} does not exist"));
    let document = intake::document(deps, &caller, number)
        .await?
        .ok_or_else(not_found)?;
    if !html {
        return Ok(json(StatusCode::OK, &document));
    }
    let page = render(&document).map_err(|e| ApiError::unavailable(e.to_string()))?;
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(Body::Text(page))
        .map_err(|e| ApiError::unavailable(e.to_string()))
}

#[derive(Serialize)]
struct LineView {
    description: String,
    sku: String,
    quantity: u32,
    unit_price: String,
    discount: String,
    tax: String,
    total: String,
}

#[derive(Serialize)]
struct TaxView {
    rate: String,
    base: String,
    tax: String,
}

/// The page of a document: every amount written with its currency's digits.
fn render(d: &Document) -> Result<String, minijinja::Error> {
    let money = |amount: i64| {
        let s = Money::new(amount, d.currency).to_string();
        s.split_once(' ').map_or(s.clone(), |(_, a)| a.to_owned())
    };
    let percent = |bp: u32| {
        let whole = bp / 100;
        match bp % 100 {
            0 => format!("{whole} %"),
            frac => format!("{whole}.{frac:02} %"),
        }
    };
    let lines: Vec<LineView> = d
        .lines
        .iter()
        .map(|l| LineView {
            description: l.description.clone(),
            sku: l.sku.to_string(),
            quantity: l.quantity,
            unit_price: money(l.unit_price),
            discount: money(l.discount),
            tax: format!(
                "{} ({}{})",
                money(l.tax),
                percent(l.tax_rate_basis_points),
                if l.tax_included { " incl." } else { "" }
            ),
            total: money(l.total),
        })
        .collect();
    let tax_lines: Vec<TaxView> = d
        .tax_lines
        .iter()
        .map(|t| TaxView {
            rate: format!(
                "{}{}",
                percent(t.rate_basis_points),
                if t.inclusive { " incl." } else { "" }
            ),
            base: money(t.base),
            tax: money(t.tax),
        })
        .collect();
    let mut totals = vec![("Subtotal", money(d.subtotal))];
    if d.discount != 0 {
        totals.push(("Discount", format!("−{}", money(d.discount))));
    }
    if d.shipping != 0 {
        totals.push(("Shipping", money(d.shipping)));
    }
    totals.push(("Tax", money(d.tax)));
    let a = &d.buyer.address;
    let mut address = vec![a.line1.clone()];
    address.extend(a.line2.clone());
    address.push(
        [
            a.postal_code.as_deref(),
            Some(a.city.as_str()),
            a.region.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" "),
    );
    address.push(a.country.clone());
    let (title, source_label) = match d.kind {
        DocumentKind::Invoice => ("Invoice", "shipment"),
        DocumentKind::CreditNote => ("Credit note", "refund"),
    };
    let mut env = minijinja::Environment::new();
    env.add_template("document.html", TEMPLATE)?;
    env.get_template("document.html")?
        .render(minijinja::context! {
            title,
            number => d.number.clone(),
            seller => d.seller.clone(),
            location => d.location_id.to_string(),
            buyer => d.buyer.customer_id.to_string(),
            email => d.buyer.email.clone(),
            address => minijinja::value::Serde(&address),
            issued_at => d.issued_at.to_rfc3339(),
            order_id => d.order_id.to_string(),
            source_label,
            source => d.source.clone(),
            reason => d.reason.clone(),
            corrects => d.corrects.join(", "),
            lines => minijinja::value::Serde(&lines),
            tax_lines => minijinja::value::Serde(&tax_lines),
            totals => minijinja::value::Serde(&totals),
            total => money(d.total),
            currency => d.currency.to_string(),
        })
}
