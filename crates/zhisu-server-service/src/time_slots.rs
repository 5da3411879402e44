//! Time-slot quotas for travel peaks (issue 15, intercept surveys at stations): a site of the
//! sample plan may want a number of interviews in a window of days and hours
//! ([`zhisu_protocol::TimeSlot`], e.g. the Spring Festival peak days from 06:00 to 10:00). Per
//! slot of every site in the viewer's scope: its target and the interviews done in it.
//!
//! An interview is in a slot when its **local start** is (`started_at` moved by the device's
//! `utc_offset_minutes`; the rule is [`zhisu_protocol::TimeSlot::contains`], which the tablet
//! uses too): the peak is when the traveller was approached. Every questionnaire and
//! population counts (a slot's target is for the site), rejected interviews do not, as in the
//! progress view; a department viewer sees the interviews of their populations only.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use zhisu_protocol::TimeSlot;

use crate::storage::{Scope, Storage};
use crate::StorageError;

/// One slot of one site, with the interviews done in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlotProgress {
    pub district: String,
    pub site_id: String,
    pub site_name: String,
    pub slot: TimeSlot,
    pub done: u64,
}

/// Every time slot of the sites `scope` may see (a district's own, or every district's), in
/// the order of districts, sites and the plan's slots, with what was done in each.
pub fn slot_progress(
    storage: &dyn Storage,
    scope: &Scope,
) -> Result<Vec<SlotProgress>, StorageError> {
    let sites = match scope {
        Scope::District(district) => storage.sites(district)?,
        Scope::All | Scope::Populations(_) => storage.all_sites()?,
    };
    if sites.iter().all(|s| s.time_slots.is_empty()) {
        return Ok(Vec::new());
    }
    let starts = storage.slot_starts(scope)?;
    let mut at_site: HashMap<(&str, &str), Vec<_>> = HashMap::new();
    for start in &starts {
        at_site
            .entry((start.district.as_str(), start.site_id.as_str()))
            .or_default()
            .push((start.started_at, start.utc_offset_minutes));
    }
    let mut out = Vec::new();
    for site in &sites {
        let here = at_site
            .get(&(site.district.as_str(), site.id.as_str()))
            .map_or(&[][..], Vec::as_slice);
        for slot in &site.time_slots {
            out.push(SlotProgress {
                district: site.district.clone(),
                site_id: site.id.clone(),
                site_name: site.name.clone(),
                done: here
                    .iter()
                    .filter(|(at, offset)| slot.contains(*at, *offset))
                    .count() as u64,
                slot: slot.clone(),
            });
        }
    }
    Ok(out)
}
