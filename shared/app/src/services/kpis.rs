//! KPIs and reports (`GET /kpis`, `GET /reports/top`) from the sums of the
//! KPI projection (see [`crate::kpi`]) — a few items per hour of the
//! window, never the orders — and the CSV export of order lines
//! (`GET /reports/orders.csv`), which pages through the search index.

use crate::Deps;
use crate::kpi::{hours, read_cells, read_totals};
use crate::services::search;
use crate::store::StoreError;
use oms_domain::access::Caller;
use oms_domain::kpi::{Kpis, Report, ReportQuery, Window, report_figures, rows, sum_cells, top};
use oms_domain::order::Order;
use oms_domain::search::{OrderQuery, Position};
use tracing::instrument;

/// The figures of the orders placed in the window.
#[instrument(skip(deps))]
pub async fn kpis(deps: &Deps, window: Window) -> Result<Kpis, StoreError> {
    let totals = read_totals(
        &*deps.items,
        hours(window.from.millis(), window.to.millis()),
    )
    .await?;
    let sum = sum_cells(totals.iter().map(|(_, c)| c));
    Ok(Kpis::from_totals(window.from, window.to, &sum))
}

/// The top rows of a report.
#[instrument(skip(deps))]
pub async fn report(deps: &Deps, q: ReportQuery) -> Result<Report, StoreError> {
    let (from, to) = (q.window.from.millis(), q.window.to.millis());
    let (totals, cells) = match q.by.cell_prefix() {
        Some(prefix) => (
            Vec::new(),
            read_cells(&*deps.items, hours(from, to), prefix).await?,
        ),
        None => (
            read_totals(&*deps.items, hours(from, to)).await?,
            Vec::new(),
        ),
    };
    let figures = report_figures(q.by, &totals, &cells);
    Ok(Report {
        by: q.by.name().to_owned(),
        metric: q.metric.name().to_owned(),
        from: q.window.from,
        to: q.window.to,
        rows: match q.by {
            // A time series: every hour, oldest first.
            oms_domain::kpi::ReportBy::Hour => rows(figures),
            _ => top(rows(figures), &q.metric, q.limit),
        },
    })
}

/// Orders per CSV page.
pub const EXPORT_PAGE_ORDERS: usize = 2_000;

/// The CSV header of the export.
pub const CSV_HEADER: &str = "orderId,placedAt,status,channel,externalId,customerId,shipToCountry,currency,lineNo,sku,quantity,unitPrice,lineTotal,orderTotal\n";

fn csv_failed(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("csv: {e}"))
}

/// One page of the export of order lines placed in the window (newest
/// first), and the cursor of the next page if there is one.
#[instrument(skip(deps, caller))]
pub async fn export(
    deps: &Deps,
    caller: &Caller,
    window: Window,
    after: Option<Position>,
) -> Result<(String, Option<String>), StoreError> {
    let mut csv = csv::Writer::from_writer(CSV_HEADER.as_bytes().to_vec());
    let mut query = OrderQuery {
        from: Some(window.from),
        to: Some(oms_domain::time::Timestamp::from_millis(
            window.to.millis().saturating_sub(1),
        )),
        limit: oms_domain::search::MAX_LIMIT,
        after,
        ..OrderQuery::default()
    };
    let mut listed = 0;
    loop {
        let page = search::orders(deps, caller, query.clone()).await?;
        for summary in &page.orders {
            if let Some(order) = deps.orders().get(&summary.order_id).await? {
                write_lines(&mut csv, &order).map_err(csv_failed)?;
            }
        }
        listed += page.orders.len();
        match page.next_cursor {
            Some(cursor) if listed < EXPORT_PAGE_ORDERS => {
                query.after = Position::from_cursor(&cursor);
            }
            next => {
                let bytes = csv.into_inner().map_err(|e| csv_failed(e.into_error()))?;
                return Ok((String::from_utf8_lossy(&bytes).into_owned(), next));
            }
        }
    }
}

fn write_lines(csv: &mut csv::Writer<Vec<u8>>, o: &Order) -> Result<(), csv::Error> {
    let external = o
        .external_id
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    for l in &o.lines {
        csv.write_record([
            o.order_id.as_str(),
            &o.created_at.to_rfc3339(),
            o.status.as_str(),
            &o.channel.to_string(),
            &external,
            &o.customer.id.to_string(),
            &o.ship_to.country,
            o.currency.as_str(),
            &l.line_no.to_string(),
            &l.sku.to_string(),
            &l.quantity.get().to_string(),
            &l.unit_price.amount.to_string(),
            &l.line_total.amount.to_string(),
            &o.total.amount.to_string(),
        ])?;
    }
    Ok(())
}
