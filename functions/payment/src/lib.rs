//! payment: the payment provider's facts (`PaymentConfirmed`,
//! `PaymentFailed` from `partner.payments`) and the OMS's payment-window
//! timer, applied to orders by `oms_app::services::facts`. The money rules
//! (capture, hold on a mismatch, refund what arrives after the order ended,
//! never refund more than was captured) live in the domain.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::Error;
use oms_app::Deps;
use oms_app::services::facts;
use oms_app::wiring::Function;

#[tracing::instrument(skip_all, fields(records = event.records.len()))]
pub async fn handle(deps: &Deps, event: SqsEvent) -> Result<SqsBatchResponse, Error> {
    let on_event = |ev| facts::on_event(deps, Function::Payment, ev);
    Ok(oms_aws::sqs::process_batch(event, on_event).await)
}
