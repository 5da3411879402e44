//! Counters in the Prometheus text format (`GET /metrics`): requests by route and status, and what
//! happened to uploaded interviews. No dependency: a few atomics and one small map.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use zhisu_protocol::ReceiptStatus;

#[derive(Default)]
pub struct Metrics {
    /// (route template, method, status) → count
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    receipts: [AtomicU64; 4],
    enrolments: AtomicU64,
}

impl Metrics {
    pub fn request(&self, route: &str, method: &str, status: u16) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((route.to_string(), method.to_string(), status))
            .or_insert(0) += 1;
    }

    pub fn receipt(&self, status: ReceiptStatus) {
        let index = match status {
            ReceiptStatus::Stored => 0,
            ReceiptStatus::AlreadyStored => 1,
            ReceiptStatus::Conflict => 2,
            ReceiptStatus::Rejected => 3,
        };
        self.receipts[index].fetch_add(1, Ordering::Relaxed);
    }

    pub fn enrolment(&self) {
        self.enrolments.fetch_add(1, Ordering::Relaxed);
    }

    /// The exposition text; `stored_interviews` is read from the database at scrape time.
    pub fn render(&self, stored_interviews: u64) -> String {
        let mut out = String::new();
        out.push_str("# HELP zhisu_http_requests_total HTTP requests by route template, method and status.\n");
        out.push_str("# TYPE zhisu_http_requests_total counter\n");
        for ((route, method, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "zhisu_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                route // our own route templates: no quotes or backslashes to escape
            );
        }
        out.push_str(
            "# HELP zhisu_interview_receipts_total Receipts given for uploaded interviews.\n",
        );
        out.push_str("# TYPE zhisu_interview_receipts_total counter\n");
        for (name, counter) in ["stored", "already_stored", "conflict", "rejected"]
            .iter()
            .zip(&self.receipts)
        {
            let _ = writeln!(
                out,
                "zhisu_interview_receipts_total{{status=\"{name}\"}} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP zhisu_enrolments_total Devices enrolled since the server started.\n");
        out.push_str("# TYPE zhisu_enrolments_total counter\n");
        let _ = writeln!(
            out,
            "zhisu_enrolments_total {}",
            self.enrolments.load(Ordering::Relaxed)
        );
        out.push_str("# HELP zhisu_interviews_stored Interviews held by the server.\n");
        out.push_str("# TYPE zhisu_interviews_stored gauge\n");
        let _ = writeln!(out, "zhisu_interviews_stored {stored_interviews}");
        out
    }
}
