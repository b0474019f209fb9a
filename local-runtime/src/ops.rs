//! The operator's command line: `oms orders list|show|export`, `oms kpis`,
//! `oms stock import` — a client of a running OMS (this process's or one on
//! AWS) over its API, by `--url` and `--token` (`OMS_URL`, `OMS_TOKEN`).
//! Without a token, an operator token is signed with `--data-dir`'s key,
//! as a local OMS accepts.

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// A client of the OMS API.
pub struct Client {
    url: String,
    token: String,
    http: reqwest::Client,
}

impl Client {
    pub fn new(url: &str, token: Option<String>, data_dir: &Path) -> anyhow::Result<Self> {
        let token = match token.filter(|t| !t.is_empty()) {
            Some(t) => t,
            None => crate::auth::Issuer::open(data_dir)?.mint(
                oms_domain::access::Role::Operator,
                "oms-cli",
                None,
                std::time::Duration::from_secs(3600),
            )?,
        };
        Ok(Self {
            url: url.trim_end_matches('/').to_owned(),
            token,
            http: reqwest::Client::new(),
        })
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, reqwest::header::HeaderMap, String)> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach the OMS at {}", self.url))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        Ok((status, headers, resp.text().await?))
    }

    /// A JSON answer, or the API's error as the command's error.
    async fn json(&self, path: &str) -> anyhow::Result<Value> {
        let (status, _, text) = self.send(reqwest::Method::GET, path, None).await?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if status != 200 {
            bail!("{status}: {}", error_text(&value));
        }
        Ok(value)
    }
}

fn error_text(v: &Value) -> String {
    match &v["error"] {
        Value::Object(e) => format!(
            "{} {}{}",
            e.get("code").and_then(Value::as_str).unwrap_or(""),
            e.get("message").and_then(Value::as_str).unwrap_or(""),
            e.get("field")
                .and_then(Value::as_str)
                .map(|f| format!(" ({f})"))
                .unwrap_or_default()
        ),
        _ => v.to_string(),
    }
}

/// A query string from the filters given.
pub fn query(pairs: &[(&str, Option<String>)]) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if let Some(v) = v {
            q.append_pair(k, v);
        }
    }
    let q = q.finish();
    if q.is_empty() { q } else { format!("?{q}") }
}

/// `oms orders list`: a table of the orders found, every page when `all`.
pub async fn list(client: &Client, filters: String, all: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<40} {:<18} {:<10} {:<14} {:>6} {:>12} {:<24}",
        "ORDER", "STATUS", "CHANNEL", "CUSTOMER", "UNITS", "TOTAL", "PLACED"
    )?;
    let mut path = format!("/orders{filters}");
    let mut shown = 0;
    loop {
        let page = client.json(&path).await?;
        for o in page["orders"].as_array().into_iter().flatten() {
            let s = |k: &str| o[k].as_str().unwrap_or("").to_owned();
            let mut status = s("status");
            if o["atRisk"] == true {
                status.push_str(" (at risk)");
            }
            writeln!(
                out,
                "{:<40} {:<18} {:<10} {:<14} {:>6} {:>12} {:<24}",
                s("orderId"),
                status,
                s("channel"),
                s("customerId"),
                o["units"],
                format!("{} {}", o["total"], s("currency")),
                s("createdAt"),
            )?;
            shown += 1;
        }
        match page["nextCursor"].as_str() {
            Some(c) if all => {
                let sep = if filters.is_empty() { '?' } else { '&' };
                path = format!("/orders{filters}{sep}cursor={c}");
            }
            Some(c) => {
                writeln!(out, "… more: add --all, or --cursor {c}")?;
                break;
            }
            None => break,
        }
    }
    writeln!(out, "{shown} order(s)")?;
    Ok(())
}

/// `oms orders show ID`: the order, and its history as a timeline.
pub async fn show(client: &Client, id: &str) -> anyhow::Result<()> {
    let o = client.json(&format!("/orders/{id}")).await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string_pretty(&o)?)?;
    writeln!(out, "\ntimeline:")?;
    for h in o["history"].as_array().into_iter().flatten() {
        let s = |k: &str| h[k].as_str().unwrap_or("").to_owned();
        writeln!(
            out,
            "  {}  {:<18} → {:<18} {:<24} by {}{}",
            s("at"),
            s("from"),
            s("to"),
            s("event"),
            s("actor"),
            h["detail"]
                .as_str()
                .map(|d| format!(" — {d}"))
                .unwrap_or_default()
        )?;
    }
    Ok(())
}

/// `oms orders export`: the CSV of order lines, every page, to stdout.
pub async fn export(client: &Client, window: String) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let mut cursor: Option<String> = None;
    let mut first = true;
    loop {
        let sep = if window.is_empty() { '?' } else { '&' };
        let path = match &cursor {
            Some(c) => format!("/reports/orders.csv{window}{sep}cursor={c}"),
            None => format!("/reports/orders.csv{window}"),
        };
        let (status, headers, text) = client.send(reqwest::Method::GET, &path, None).await?;
        if status != 200 {
            let v: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
            bail!("{status}: {}", error_text(&v));
        }
        // Every page starts with the header: keep the first only.
        let body = if first {
            text.as_str()
        } else {
            text.split_once('\n').map_or("", |(_, rest)| rest)
        };
        out.write_all(body.as_bytes())?;
        first = false;
        match headers.get("oms-next-cursor").and_then(|v| v.to_str().ok()) {
            Some(c) => cursor = Some(c.to_owned()),
            None => return Ok(()),
        }
    }
}

/// `oms kpis`: the figures, one per line.
pub async fn kpis(client: &Client, window: String) -> anyhow::Result<()> {
    let k = client.json(&format!("/kpis{window}")).await?;
    let mut out = std::io::stdout().lock();
    let rate = |v: &Value| {
        v.as_f64()
            .map(|r| format!("{:.1}%", r * 100.0))
            .unwrap_or_else(|| "—".into())
    };
    writeln!(
        out,
        "window            {} → {}",
        k["from"].as_str().unwrap_or(""),
        k["to"].as_str().unwrap_or("")
    )?;
    writeln!(out, "orders            {}", k["orders"])?;
    writeln!(out, "units             {}", k["units"])?;
    for (cur, amount) in k["revenue"].as_object().into_iter().flatten() {
        writeln!(out, "revenue {cur}       {amount}")?;
    }
    for (name, key) in [
        ("fill rate", "fillRate"),
        ("rejection rate", "rejectionRate"),
        ("cancellation rate", "cancellationRate"),
        ("return rate", "returnRate"),
        ("on-time ship rate", "onTimeShipRate"),
        ("perfect orders", "perfectOrderRate"),
    ] {
        writeln!(out, "{name:<18}{}", rate(&k[key]))?;
    }
    for (step, p) in k["durations"].as_object().into_iter().flatten() {
        writeln!(
            out,
            "to {step:<15}p50 {}s  p90 {}s  ({} orders)",
            p["p50"], p["p90"], p["count"]
        )?;
    }
    let backlog: BTreeMap<String, Value> =
        serde_json::from_value(k["backlog"].clone()).unwrap_or_default();
    let backlog: Vec<String> = backlog.iter().map(|(s, n)| format!("{s} {n}")).collect();
    writeln!(
        out,
        "backlog           {}",
        if backlog.is_empty() {
            "none".to_owned()
        } else {
            backlog.join(", ")
        }
    )?;
    Ok(())
}

/// A stock row read: sku, location, the body to send.
type StockRow = (String, String, Value);

/// Stock rows sent at once.
const IMPORT_IN_FLIGHT: usize = 16;

/// `oms stock import FILE.csv`: `sku,locationId,onHand` rows (a header
/// row is skipped), each set with `PUT /inventory/{sku}/{locationId}`;
/// a progress bar, then the rows accepted and the ones refused, with why.
pub async fn import_stock(client: &Client, file: &Path) -> anyhow::Result<()> {
    use futures::StreamExt;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    let mut rows: Vec<(usize, Result<StockRow, String>)> = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                rows.push((line, Err(format!("unreadable: {e}"))));
                continue;
            }
        };
        let field = |n: usize| record.get(n).unwrap_or("").to_owned();
        if line == 1 && field(0).eq_ignore_ascii_case("sku") {
            continue;
        }
        if record.len() != 3 {
            rows.push((
                line,
                Err(format!(
                    "expected sku,locationId,onHand; got {} fields",
                    record.len()
                )),
            ));
            continue;
        }
        let parsed = match field(2).parse::<i64>() {
            Ok(n) => Ok((field(0), field(1), serde_json::json!({ "onHand": n }))),
            Err(_) => Err(format!("onHand {:?} is not a whole number", field(2))),
        };
        rows.push((line, parsed));
    }
    let bar = ProgressBar::new(rows.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let results: Vec<(usize, Result<(), String>)> = futures::stream::iter(rows)
        .map(|(line, row)| {
            let bar = bar.clone();
            async move {
                let result = match row {
                    Err(e) => Err(e),
                    Ok((sku, loc, body)) => {
                        let path = format!("/inventory/{}/{}", utf8_path(&sku), utf8_path(&loc));
                        match client.send(reqwest::Method::PUT, &path, Some(body)).await {
                            Ok((200, _, _)) => Ok(()),
                            Ok((status, _, text)) => {
                                let v: Value =
                                    serde_json::from_str(&text).unwrap_or(Value::String(text));
                                Err(format!("{status} {}", error_text(&v)))
                            }
                            Err(e) => Err(e.to_string()),
                        }
                    }
                };
                bar.inc(1);
                (line, result)
            }
        })
        .buffer_unordered(IMPORT_IN_FLIGHT)
        .collect()
        .await;
    bar.finish_and_clear();
    let mut refused: Vec<(usize, String)> = results
        .into_iter()
        .filter_map(|(line, r)| r.err().map(|e| (line, e)))
        .collect();
    refused.sort();
    let total = bar.length().unwrap_or(0) as usize;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} row(s) accepted, {} refused",
        total - refused.len(),
        refused.len()
    )?;
    for (line, why) in &refused {
        writeln!(out, "  line {line}: {why}")?;
    }
    Ok(())
}

/// A path segment, percent-encoded.
fn utf8_path(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
