//! An interview's site in the sample plan. A site belongs to one district of the plan, not to
//! the device that names it: ingest looks the site up by its id across the plan, so an
//! interview counts where its site is, with that site's stratum and weight, whichever tablet
//! sent it. What does not fit is flagged for review, never refused (a refused interview is
//! lost: the tablet marks it rejected and never sends it again) and never silently unweighted.

use zhisu_core::QcFlag;
use zhisu_protocol::Site;

use crate::storage::Accepted;
use crate::{Device, ServerState, StorageError};

/// How far from its site's position an interview may be recorded before it is flagged.
pub const MAX_DISTANCE_FROM_SITE_M: f64 = 2_000.0;

/// Places each accepted interview's site in the sample plan and flags what does not fit:
///
/// - a site of the device's own district: counted there, as always;
/// - a site of exactly one other district: counted for that district
///   ([`Accepted::site_district`]), flagged [`QcFlag::SiteInOtherDistrict`] (a backup, which has
///   no device, is counted for the site's district without a flag);
/// - a site the plan does not list (or, in a database from before site ids were unique across
///   districts, lists in several other districts): flagged [`QcFlag::SiteNotInPlan`] and counted
///   for the device's district; it has no weight until the plan lists the site, and the report
///   says how many such interviews it holds.
///
/// Then flags interviews recorded far from their site's position ([`QcFlag::FarFromSite`]).
pub fn place_in_plan(
    state: &ServerState,
    device: Option<&Device>,
    accepted: &mut [Accepted],
) -> Result<(), StorageError> {
    if !accepted.iter().any(|a| a.interview.site_id.is_some()) {
        return Ok(());
    }
    let own = match device {
        Some(d) => state.storage.sites(&d.district)?,
        None => Vec::new(),
    };
    // read only when an interview names a site outside the device's district
    let mut whole_plan: Option<Vec<Site>> = None;
    for a in accepted.iter_mut() {
        let Some(site_id) = a.interview.site_id.clone() else {
            continue;
        };
        let site = match own.iter().find(|s| s.id == site_id) {
            Some(site) => Some(site.clone()),
            None => {
                let plan = match &whole_plan {
                    Some(plan) => plan,
                    None => whole_plan.insert(state.storage.all_sites()?),
                };
                let elsewhere: Vec<&Site> = plan
                    .iter()
                    .filter(|s| s.id == site_id && device.is_none_or(|d| s.district != d.district))
                    .collect();
                match elsewhere.as_slice() {
                    [site] => {
                        a.site_district = Some(site.district.clone());
                        if let Some(d) = device {
                            a.facts.qc_flags.push(QcFlag::SiteInOtherDistrict {
                                site_id: site_id.clone(),
                                site_district: site.district.clone(),
                                device_district: d.district.clone(),
                            });
                        }
                        Some((*site).clone())
                    }
                    _ => {
                        a.facts.qc_flags.push(QcFlag::SiteNotInPlan { site_id });
                        None
                    }
                }
            }
        };
        flag_far_from_site(a, site.as_ref());
    }
    Ok(())
}

/// Adds the "far from the site" flag when the interview's recorded position (from the
/// device's paradata) is far from its site's position in the sample plan.
fn flag_far_from_site(a: &mut Accepted, site: Option<&Site>) {
    let (Some(site), Some(paradata)) = (site, &a.interview.paradata) else {
        return;
    };
    if let (Some(lat), Some(lon)) = (site.latitude, site.longitude) {
        if let Some(flag) =
            zhisu_core::location_flag(paradata, (lat, lon), MAX_DISTANCE_FROM_SITE_M)
        {
            a.facts.qc_flags.push(flag);
        }
    }
}
