//! Service-level alerts: the SLA sweep finds an order past the risk share
//! (or the deadline) of the step it waits on and raises it once per step
//! and level.

use super::{Change, Order, Outcome, Refusal};
use crate::events::EventData;
use crate::order::Cause;
use crate::search::{Sla, SlaAlert, SlaState};

impl Order {
    /// Raises `OrderAtRisk` or `OrderSlaBreached` if the order, at the
    /// cause's time, is past the risk share or the deadline of the step it
    /// waits on and that alert was not raised yet. Nothing else changes.
    pub fn raise_sla_alert(&mut self, sla: &Sla, cause: &Cause) -> Result<Outcome, Refusal> {
        let (step, breached) = match sla.state(self, cause.at) {
            SlaState::OnTrack => return Err(Refusal::Duplicate),
            SlaState::AtRisk(step) => (step, false),
            SlaState::Breached(step) => (step, true),
        };
        if let Some(a) = &self.sla_alert
            && a.step == step
            && (a.breached || !breached)
        {
            return Err(Refusal::Duplicate);
        }
        let due_at = sla.deadline_of(self, step);
        self.sla_alert = Some(SlaAlert {
            step,
            breached,
            due_at,
            at: cause.at,
        });
        let (event, data) = if breached {
            (
                "OrderSlaBreached",
                EventData::OrderSlaBreached { step, due_at },
            )
        } else {
            ("OrderAtRisk", EventData::OrderAtRisk { step, due_at })
        };
        let mut change = Change::new(None);
        let detail = format!("{step:?} due {}", due_at.to_rfc3339());
        change.step(self, event, cause, Some(detail), vec![data]);
        Ok(change.finish(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::tests::*;
    use crate::search::SlaStep;

    #[test]
    fn an_order_that_waits_too_long_is_flagged_once_per_level() {
        let sla = Sla {
            route_secs: 100,
            ship_secs: 1000,
            deliver_secs: 10_000,
            risk_percent: 50,
        };
        let mut order = Order::place(
            crate::ids::OrderId::parse("ord_sla").unwrap(),
            sample_new_order(&[("A", 1)]),
            None,
            &cause(1),
        )
        .0;
        let placed = order.created_at;
        let at = |secs: u64| Cause {
            actor: "sla".into(),
            trigger: format!("sweep-{secs}"),
            at: placed.plus_millis(secs * 1000),
        };
        let early = at(10);
        assert_eq!(
            order.raise_sla_alert(&sla, &early),
            Err(Refusal::Duplicate),
            "on track"
        );
        let risk = at(60);
        let out = order.raise_sla_alert(&sla, &risk).unwrap();
        assert_eq!(out.events[0].type_name(), "OrderAtRisk");
        assert_eq!(order.sla_alert.unwrap().step, SlaStep::Route);
        assert_eq!(
            order.raise_sla_alert(&sla, &at(70)),
            Err(Refusal::Duplicate),
            "once per level"
        );
        let late = at(120);
        let out = order.raise_sla_alert(&sla, &late).unwrap();
        assert_eq!(out.events[0].type_name(), "OrderSlaBreached");
        assert!(order.sla_alert.unwrap().breached);
        assert_eq!(order.sla_alert.unwrap().due_at, placed.plus_millis(100_000));
    }
}
