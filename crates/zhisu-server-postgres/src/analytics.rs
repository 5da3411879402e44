//! What the analyses read: facts and cells.

use super::*;

impl AnalyticsStore for PostgresStorage {
    fn visit_facts(
        &self,
        scope: &Scope,
        questionnaire_id: &str,
        visit: &mut dyn FnMut(&FactRow<'_>),
    ) -> Result<(), StorageError> {
        self.facts.visit(self, scope, questionnaire_id, visit)
    }

    fn visit_facts_with_round(
        &self,
        questionnaire_id: &str,
        visit: &mut dyn FnMut(Option<&str>, &FactRow<'_>),
    ) -> Result<(), StorageError> {
        // a device's round changes without moving the facts generation: joined here, fresh
        let rounds: std::collections::HashMap<String, String> = self
            .pool
            .get()
            .map_err(unavailable)?
            .query("SELECT id::text, round FROM device", &[])
            .map_err(db)?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        self.facts
            .visit_with_round(self, questionnaire_id, &rounds, visit)
    }

    fn visit_cells(
        &self,
        questionnaire_id: &str,
        visit: &mut dyn FnMut(&CellRow<'_>),
    ) -> Result<(), StorageError> {
        let mut client = self.pool.get().map_err(unavailable)?;
        let mut rows = client
            .query_raw(
                "SELECT c.district, c.site_id, c.population, c.breakdown, c.key, c.n, c.successes,
                 s.stratum, s.weight
             FROM literacy_cell c LEFT JOIN site s ON s.district = c.district AND s.id = c.site_id
             WHERE c.questionnaire_id = $1 AND c.n > 0",
                [questionnaire_id],
            )
            .map_err(db)?;
        use postgres::fallible_iterator::FallibleIterator;
        while let Some(r) = rows.next().map_err(db)? {
            visit(&CellRow {
                district: zhisu_server_storage::cells::none_if_empty(r.get(0)),
                site_id: zhisu_server_storage::cells::none_if_empty(r.get(1)),
                population: zhisu_server_storage::cells::none_if_empty(r.get(2)),
                breakdown: r.get(3),
                key: r.get(4),
                n: r.get::<_, i64>(5).max(0) as u64,
                successes: r.get::<_, i64>(6).max(0) as u64,
                stratum: r.get(7),
                weight: r.get(8),
            });
        }
        Ok(())
    }

    fn visit_item_cells(
        &self,
        questionnaire_id: &str,
        visit: &mut dyn FnMut(&ItemCellRow<'_>),
    ) -> Result<(), StorageError> {
        let mut client = self.pool.get().map_err(unavailable)?;
        let mut rows = client
            .query_raw(
                "SELECT questionnaire_version, district, site_id, population, asked, correct
                 FROM item_cell WHERE questionnaire_id = $1",
                [questionnaire_id],
            )
            .map_err(db)?;
        use postgres::fallible_iterator::FallibleIterator;
        let counts = |stored: Vec<Option<i64>>| -> Vec<u64> {
            stored
                .into_iter()
                .take(zhisu_server_storage::cells::MAX_ITEMS)
                .map(|n| n.unwrap_or(0).max(0) as u64)
                .collect()
        };
        while let Some(r) = rows.next().map_err(db)? {
            let asked = counts(r.get(4));
            let correct = counts(r.get(5));
            visit(&ItemCellRow {
                questionnaire_version: r.get(0),
                district: zhisu_server_storage::cells::none_if_empty(r.get(1)),
                site_id: zhisu_server_storage::cells::none_if_empty(r.get(2)),
                population: zhisu_server_storage::cells::none_if_empty(r.get(3)),
                asked: &asked,
                correct: &correct,
            });
        }
        Ok(())
    }

    fn rebuild_cells(&self, audit: &AuditEntry) -> Result<(), StorageError> {
        let mut client = self.pool.get().map_err(unavailable)?;
        let mut tx = client.transaction().map_err(db)?;
        rebuild_cells(&mut tx)?;
        insert_audit(&mut tx, audit)?;
        tx.commit().map_err(db)?;
        Ok(())
    }

    fn progress(&self, scope: &Scope) -> Result<Vec<ProgressCell>, StorageError> {
        let (condition, value) = scope_condition(scope, "", 1);
        let sql = format!(
            "SELECT district, site_id, population, day, n FROM progress_cell
             WHERE n > 0 AND {condition} ORDER BY 1, 2, 3, 4"
        );
        let rows = self
            .pool
            .get()
            .map_err(unavailable)?
            .query(&sql, &value.params())
            .map_err(db)?;
        let none = |s: String| (!s.is_empty()).then_some(s);
        Ok(rows
            .iter()
            .map(|r| ProgressCell {
                district: none(r.get(0)),
                site_id: none(r.get(1)),
                population: none(r.get(2)),
                day: r.get(3),
                count: r.get::<_, i64>(4) as u64,
            })
            .collect())
    }

    fn slot_starts(
        &self,
        scope: &Scope,
    ) -> Result<Vec<zhisu_server_storage::InterviewStart>, StorageError> {
        let (condition, value) = scope_condition(scope, "i.", 1);
        let sql = format!(
            "SELECT i.district, i.site_id, i.started_at, i.utc_offset_minutes
             FROM interview i JOIN site s ON s.district = i.district AND s.id = i.site_id
             WHERE s.time_slots IS NOT NULL AND i.qc_status <> 'rejected' AND {condition}"
        );
        let rows = self
            .pool
            .get()
            .map_err(unavailable)?
            .query(&sql, &value.params())
            .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| zhisu_server_storage::InterviewStart {
                district: r.get(0),
                site_id: r.get(1),
                started_at: r.get(2),
                utc_offset_minutes: r.get(3),
            })
            .collect())
    }
}

/// The facts of a row whose first 19 columns are those of `visit_facts`, and whose 21st is the
/// travel direction (the 20th is the device).
fn fact_row(r: &postgres::Row) -> FactRow<'_> {
    FactRow {
        questionnaire_version: r.get(0),
        district: r.get(1),
        site_id: r.get(2),
        population: r.get(3),
        industry: r.get(4),
        sex: r.get(5),
        education: r.get(6),
        age: r.get::<_, Option<i32>>(7).map(i64::from),
        has_literacy: r.get(8),
        dimension_literacy: r.get::<_, Option<i32>>(9).map_or(0, i64::from),
        items_correct: r.get::<_, Option<&str>>(10).unwrap_or(""),
        stratum: r.get(11),
        weight: r.get(12),
        more: [r.get(13), r.get(14), r.get(15), r.get(16), r.get(20)],
        modules: r.get::<_, Option<&str>>(17).unwrap_or(""),
        measures: r.get::<_, Option<&str>>(18).unwrap_or(""),
    }
}

impl zhisu_server_storage::facts_cache::FactsSource for PostgresStorage {
    fn facts_generation(&self) -> Result<i64, StorageError> {
        let mut client = self.pool.get().map_err(unavailable)?;
        let row = client
            .query_one("SELECT n FROM facts_generation", &[])
            .map_err(db)?;
        Ok(row.get(0))
    }

    fn scan_facts(
        &self,
        questionnaire_id: &str,
        visit: &mut dyn FnMut(Option<&str>, &FactRow<'_>),
    ) -> Result<(), StorageError> {
        let mut client = self.pool.get().map_err(unavailable)?;
        let mut rows = client
            .query_raw(
                "SELECT i.questionnaire_version, i.district, i.site_id, i.population, i.industry, i.sex,
                 i.education, i.age, i.has_literacy, i.dimension_literacy, i.items_correct,
                 s.stratum, s.weight, i.employer_size, i.ownership, i.employment_form, i.migrant,
                 i.modules, i.measures, i.device_id::text, i.travel_direction
             FROM interview i LEFT JOIN site s ON s.district = i.district AND s.id = i.site_id
             WHERE i.questionnaire_id = $1 AND i.qc_status <> 'rejected'
                 AND i.items_correct IS NOT NULL",
                [questionnaire_id],
            )
            .map_err(db)?;
        use postgres::fallible_iterator::FallibleIterator;
        while let Some(r) = rows.next().map_err(db)? {
            visit(r.get(19), &fact_row(&r));
        }
        Ok(())
    }
}
