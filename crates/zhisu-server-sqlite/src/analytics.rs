//! What the analyses read: facts and cells.

use std::collections::HashMap;

use super::*;

impl AnalyticsStore for SqliteStorage {
    fn visit_facts(
        &self,
        scope: &Scope,
        questionnaire_id: &str,
        visit: &mut dyn FnMut(&FactRow<'_>),
    ) -> Result<(), StorageError> {
        self.facts.visit(self, scope, questionnaire_id, visit)
    }

    fn visit_cells(
        &self,
        questionnaire_id: &str,
        visit: &mut dyn FnMut(&CellRow<'_>),
    ) -> Result<(), StorageError> {
        let conn = self.read_connection()?;
        let mut stmt = conn
            .prepare(
                "SELECT c.district, c.site_id, c.population, c.breakdown, c.key, c.n, c.successes,
                 s.stratum, s.weight
             FROM literacy_cell c LEFT JOIN site s ON s.district = c.district AND s.id = c.site_id
             WHERE c.questionnaire_id = ?1 AND c.n > 0",
            )
            .map_err(db)?;
        let mut rows = stmt.query([questionnaire_id]).map_err(db)?;
        while let Some(r) = rows.next().map_err(db)? {
            let text =
                |i: usize| -> rusqlite::Result<&str> { r.get_ref(i)?.as_str().map_err(Into::into) };
            visit(&CellRow {
                district: zhisu_server_storage::cells::none_if_empty(text(0).map_err(db)?),
                site_id: zhisu_server_storage::cells::none_if_empty(text(1).map_err(db)?),
                population: zhisu_server_storage::cells::none_if_empty(text(2).map_err(db)?),
                breakdown: text(3).map_err(db)?,
                key: text(4).map_err(db)?,
                n: r.get::<_, i64>(5).map_err(db)?.max(0) as u64,
                successes: r.get::<_, i64>(6).map_err(db)?.max(0) as u64,
                stratum: match r.get_ref(7).map_err(db)? {
                    rusqlite::types::ValueRef::Null => None,
                    v => Some(v.as_str().map_err(rusqlite::Error::from).map_err(db)?),
                },
                weight: r.get(8).map_err(db)?,
            });
        }
        Ok(())
    }

    fn visit_item_cells(
        &self,
        questionnaire_id: &str,
        visit: &mut dyn FnMut(&ItemCellRow<'_>),
    ) -> Result<(), StorageError> {
        let conn = self.read_connection()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT questionnaire_version, district, site_id, population, asked, correct
                 FROM item_cell WHERE questionnaire_id = ?1",
            )
            .map_err(db)?;
        let mut rows = stmt.query([questionnaire_id]).map_err(db)?;
        let (mut asked, mut correct) = (Vec::new(), Vec::new());
        while let Some(r) = rows.next().map_err(db)? {
            let text =
                |i: usize| -> rusqlite::Result<&str> { r.get_ref(i)?.as_str().map_err(Into::into) };
            zhisu_server_storage::cells::read_counts(text(4).map_err(db)?, &mut asked);
            zhisu_server_storage::cells::read_counts(text(5).map_err(db)?, &mut correct);
            visit(&ItemCellRow {
                questionnaire_version: text(0).map_err(db)?,
                district: zhisu_server_storage::cells::none_if_empty(text(1).map_err(db)?),
                site_id: zhisu_server_storage::cells::none_if_empty(text(2).map_err(db)?),
                population: zhisu_server_storage::cells::none_if_empty(text(3).map_err(db)?),
                asked: &asked,
                correct: &correct,
            });
        }
        Ok(())
    }

    fn visit_facts_with_round(
        &self,
        questionnaire_id: &str,
        visit: &mut dyn FnMut(Option<&str>, &FactRow<'_>),
    ) -> Result<(), StorageError> {
        // a device's round changes without moving the facts generation: joined here, fresh
        let rounds: HashMap<String, String> = {
            let conn = self.read();
            let mut stmt = conn
                .prepare_cached("SELECT id, round FROM device")
                .map_err(db)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(db)?;
            rows.collect::<Result<_, _>>().map_err(db)?
        };
        self.facts
            .visit_with_round(self, questionnaire_id, &rounds, visit)
    }

    fn rebuild_cells(&self, audit: &AuditEntry) -> Result<(), StorageError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        rebuild_cells(&tx)?;
        insert_audit(&tx, audit)?;
        tx.commit().map_err(db)?;
        Ok(())
    }

    fn progress(&self, scope: &Scope) -> Result<Vec<ProgressCell>, StorageError> {
        let (condition, value) = scope_condition(scope, "")?;
        let conn = self.read_connection()?;
        let mut stmt = conn
            .prepare(&format!(
                "SELECT district, site_id, population, day, n FROM progress_cell
             WHERE n > 0 AND {condition} ORDER BY 1, 2, 3, 4"
            ))
            .map_err(db)?;
        let none = |s: String| (!s.is_empty()).then_some(s);
        let rows = stmt
            .query_map(rusqlite::named_params! { ":scope": value }, |r| {
                Ok(ProgressCell {
                    district: none(r.get(0)?),
                    site_id: none(r.get(1)?),
                    population: none(r.get(2)?),
                    day: r.get(3)?,
                    count: r.get::<_, i64>(4)? as u64,
                })
            })
            .map_err(db)?;
        rows.collect::<Result<_, _>>().map_err(db)
    }

    fn slot_starts(
        &self,
        scope: &Scope,
    ) -> Result<Vec<zhisu_server_storage::InterviewStart>, StorageError> {
        let (condition, value) = scope_condition(scope, "i.")?;
        let conn = self.read_connection()?;
        let mut stmt = conn
            .prepare(&format!(
                "SELECT i.district, i.site_id, i.started_at, i.utc_offset_minutes
             FROM interview i JOIN site s ON s.district = i.district AND s.id = i.site_id
             WHERE s.time_slots IS NOT NULL AND i.qc_status != 'rejected' AND {condition}"
            ))
            .map_err(db)?;
        let rows = stmt
            .query_map(rusqlite::named_params! { ":scope": value }, |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i32>(3)?,
                ))
            })
            .map_err(db)?;
        rows.map(|row| {
            let (district, site_id, started_at, utc_offset_minutes) = row.map_err(db)?;
            Ok(zhisu_server_storage::InterviewStart {
                district,
                site_id,
                started_at: parse_time(&started_at)?,
                utc_offset_minutes,
            })
        })
        .collect()
    }
}

fn text<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<&'r str>> {
    match r.get_ref(i)? {
        rusqlite::types::ValueRef::Null => Ok(None),
        v => v.as_str().map(Some).map_err(Into::into),
    }
}

/// The facts of a row whose first 19 columns are those of `visit_facts`, and whose 21st is the
/// travel direction (the 20th is the device).
fn fact_row<'r>(r: &'r rusqlite::Row<'_>) -> Result<FactRow<'r>, StorageError> {
    Ok(FactRow {
        questionnaire_version: text(r, 0).map_err(db)?.unwrap_or(""),
        district: text(r, 1).map_err(db)?,
        site_id: text(r, 2).map_err(db)?,
        population: text(r, 3).map_err(db)?,
        industry: text(r, 4).map_err(db)?,
        sex: text(r, 5).map_err(db)?,
        education: text(r, 6).map_err(db)?,
        age: r.get(7).map_err(db)?,
        has_literacy: r.get(8).map_err(db)?,
        dimension_literacy: r.get::<_, Option<i64>>(9).map_err(db)?.unwrap_or(0),
        items_correct: text(r, 10).map_err(db)?.unwrap_or(""),
        stratum: text(r, 11).map_err(db)?,
        weight: r.get(12).map_err(db)?,
        more: [
            text(r, 13).map_err(db)?,
            text(r, 14).map_err(db)?,
            text(r, 15).map_err(db)?,
            text(r, 16).map_err(db)?,
            text(r, 20).map_err(db)?,
        ],
        modules: text(r, 17).map_err(db)?.unwrap_or(""),
        measures: text(r, 18).map_err(db)?.unwrap_or(""),
    })
}

impl zhisu_server_storage::facts_cache::FactsSource for SqliteStorage {
    fn facts_generation(&self) -> Result<i64, StorageError> {
        self.read()
            .prepare_cached("SELECT n FROM facts_generation")
            .and_then(|mut stmt| stmt.query_row([], |r| r.get(0)))
            .map_err(db)
    }

    fn scan_facts(
        &self,
        questionnaire_id: &str,
        visit: &mut dyn FnMut(Option<&str>, &FactRow<'_>),
    ) -> Result<(), StorageError> {
        let conn = self.read_connection()?;
        let mut stmt = conn
            .prepare(
                "SELECT i.questionnaire_version, i.district, i.site_id, i.population, i.industry, i.sex,
                 i.education, i.age, i.has_literacy, i.dimension_literacy, i.items_correct,
                 s.stratum, s.weight, i.employer_size, i.ownership, i.employment_form, i.migrant,
                 i.modules, i.measures, i.device_id, i.travel_direction
             FROM interview i LEFT JOIN site s ON s.district = i.district AND s.id = i.site_id
             WHERE i.questionnaire_id = ?1 AND i.qc_status != 'rejected'
                 AND i.items_correct IS NOT NULL",
            )
            .map_err(db)?;
        let mut rows = stmt.query([questionnaire_id]).map_err(db)?;
        while let Some(r) = rows.next().map_err(db)? {
            visit(text(r, 19).map_err(db)?, &fact_row(r)?);
        }
        Ok(())
    }
}
