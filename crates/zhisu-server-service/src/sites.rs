//! The sample plan's sites of each district (what a list must satisfy before it is stored) and
//! the settings of each round: administrative changes, each written with its audit entry in
//! one transaction.

use zhisu_protocol::{RoundSettings, Site};

use crate::{AuditEntry, Refusal, ServerState};

use zhisu_protocol::SITE_TYPES;

/// What is wrong with a district's list of sites, every problem at once (empty when it can be
/// stored): ids present and unique, a name, a known type, a usable weight, a position on Earth.
pub fn site_problems(sites: &[zhisu_protocol::Site]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, site) in sites.iter().enumerate() {
        let which = if site.id.trim().is_empty() {
            problems.push(format!("site {}: the id is empty", i + 1));
            format!("site {}", i + 1)
        } else {
            if !seen.insert(site.id.as_str()) {
                problems.push(format!("site {}: the id is listed twice", site.id));
            }
            format!("site {}", site.id)
        };
        if site.name.trim().is_empty() {
            problems.push(format!("{which}: the name is empty"));
        }
        if !SITE_TYPES.contains(&site.site_type.as_str()) {
            problems.push(format!(
                "{which}: site_type must be one of {}",
                SITE_TYPES.join(", ")
            ));
        }
        if let Some(w) = site.weight {
            if !(w.is_finite() && w > 0.0) {
                problems.push(format!("{which}: the weight must be a positive number"));
            }
        }
        if site.stratum.as_deref().is_some_and(|s| s.trim().is_empty()) {
            problems.push(format!("{which}: the stratum is empty"));
        }
        // time-slot quotas (issue #15): each must be able to hold interviews
        for slot in &site.time_slots {
            if let Err(e) = slot.check() {
                problems.push(format!("{which}: {e}"));
            }
        }
        match (site.latitude, site.longitude) {
            (Some(lat), Some(lon)) => {
                if !((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)) {
                    problems.push(format!("{which}: the position is not on Earth"));
                }
            }
            (None, None) => {}
            _ => problems.push(format!(
                "{which}: give both latitude and longitude, or neither"
            )),
        }
    }
    problems
}

/// Sites of `sites` whose id the plan already gives another district: a site belongs to one
/// district, so that an interview naming it counts in one place with one stratum and weight
/// (see [`crate::plan::place_in_plan`]).
pub fn sites_of_other_districts(district: &str, sites: &[Site], plan: &[Site]) -> Vec<String> {
    sites
        .iter()
        .filter_map(|site| {
            plan.iter()
                .find(|p| p.id == site.id && p.district != district)
                .map(|p| {
                    format!(
                        "site {}: the sample plan has it in district {} (a site belongs to one district: remove it there first)",
                        site.id, p.district
                    )
                })
        })
        .collect()
}

impl ServerState {
    /// Replaces the sites (and quotas) of `district`, every site checked first
    /// ([`site_problems`]); written with its audit entry in one transaction. Returns how many.
    pub fn replace_sites(
        &self,
        district: &str,
        mut sites: Vec<Site>,
        actor: &str,
    ) -> Result<usize, Refusal> {
        for site in &mut sites {
            site.district = district.to_string();
        }
        let mut problems = site_problems(&sites);
        problems.extend(sites_of_other_districts(
            district,
            &sites,
            &self.storage.all_sites()?,
        ));
        if !problems.is_empty() {
            return Err(Refusal::Invalid(format!(
                "the sites were not stored: {}",
                problems.join("; ")
            )));
        }
        let audit = AuditEntry::now(
            actor,
            "replace_sites",
            format!("{district}: {} sites", sites.len()),
        );
        self.storage.replace_sites(district, &sites, &audit)?;
        Ok(sites.len())
    }

    /// Sets a round's settings, delivered to its devices at their next sync.
    pub fn set_round_settings(
        &self,
        round: &str,
        settings: &RoundSettings,
        actor: &str,
    ) -> Result<(), Refusal> {
        let q = &settings.quality;
        if !(q.min_seconds_per_item.is_finite() && q.min_seconds_per_item >= 0.0) {
            return Err(Refusal::Invalid(
                "quality.min_seconds_per_item must be a number of seconds, 0 or more".into(),
            ));
        }
        match (settings.starts_on, settings.ends_on) {
            (Some(first), Some(last)) if last < first => {
                return Err(Refusal::Invalid(format!(
                    "the round ends ({last}) before it starts ({first})"
                )))
            }
            (Some(_), None) | (None, Some(_)) => {
                return Err(Refusal::Invalid(
                    "give both the first day (starts_on) and the last day (ends_on) of the round, or neither".into(),
                ))
            }
            _ => {}
        }
        if let Some(backcheck) = &settings.backcheck {
            self.check_backcheck_settings(round, backcheck)?;
        }
        let detail = format!(
            "round {round}: {}",
            serde_json::to_string(settings).unwrap_or_default()
        );
        let audit = AuditEntry::now(actor, "set_round_settings", detail);
        self.storage.set_round_settings(round, settings, &audit)?;
        Ok(())
    }
}
