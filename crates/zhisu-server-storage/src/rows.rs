//! What both backends need to turn rows into the stored types and back, kept once.

use uuid::Uuid;
use zhisu_protocol::Receipt;

use crate::{Accepted, Role, StorageError};

pub fn role_columns(role: &crate::Role) -> (&'static str, Option<&str>, String) {
    let populations = match role {
        crate::Role::DepartmentViewer { populations } => populations.clone(),
        _ => Vec::new(),
    };
    (
        role.name(),
        role.district(),
        serde_json::to_string(&populations).expect("a list of strings serialises"),
    )
}

pub fn role_from(
    name: &str,
    district: Option<String>,
    populations: &str,
) -> Result<crate::Role, StorageError> {
    let need =
        |d: Option<String>| d.ok_or_else(|| corrupt(format!("role {name} without a district")));
    Ok(match name {
        "city_admin" => Role::CityAdmin,
        "district_admin" => Role::DistrictAdmin {
            district: need(district)?,
        },
        "supervisor" => Role::Supervisor {
            district: need(district)?,
        },
        "department_viewer" => Role::DepartmentViewer {
            populations: serde_json::from_str(populations).map_err(corrupt)?,
        },
        other => return Err(corrupt(format!("unknown role {other}"))),
    })
}

pub fn corrupt(e: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(e.to_string())
}

/// A receipt for `status`, with the code and message a conflict carries.
pub fn receipt(interview_id: Uuid, status: zhisu_protocol::ReceiptStatus) -> Receipt {
    let conflict = status == zhisu_protocol::ReceiptStatus::Conflict;
    Receipt {
        interview_id,
        status,
        code: conflict.then(|| zhisu_protocol::codes::DIFFERENT_CONTENT.to_string()),
        message: conflict.then(|| {
            "the server already holds an interview with this id and different answers; the stored one is kept"
                .to_string()
        }),
    }
}

/// The order to write a batch in: by interview id (stable, so a repeated id keeps its order).
/// Concurrent batches then take row locks in the same order and cannot deadlock.
pub fn lock_order(accepted: &[Accepted]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..accepted.len()).collect();
    order.sort_by_key(|&i| accepted[i].interview.id);
    order
}
