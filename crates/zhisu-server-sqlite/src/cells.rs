//! The literacy, progress and item cells, changed in the transaction of every write they count.

use super::*;

/// The columns of an interview the cells count (`zhisu_server_storage::cells::Counted`), in that order.
pub(crate) const COUNTED_COLUMNS: &str =
    "questionnaire_id, district, site_id, population, industry, sex,
    education, age, has_literacy, dimension_literacy, completed_at, utc_offset_minutes,
    items_correct IS NOT NULL, received_at, questionnaire_version, items_correct";

/// Which interviews the cells count: those not rejected in review (the literacy cells only
/// those among them with their facts, as `visit_facts`).
pub(crate) const COUNTED_CONDITION: &str = "qc_status != 'rejected'";

pub(crate) fn counted_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<Counted> {
    let time = |column: usize| -> rusqlite::Result<DateTime<Utc>> {
        let text: String = r.get(column)?;
        crate::rows::parse_time(&text).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                column,
                rusqlite::types::Type::Text,
                Box::new(e),
            )
        })
    };
    Ok(Counted {
        day: zhisu_server_storage::cells::local_day(time(10)?, r.get(11)?, time(13)?),
        has_facts: r.get(12)?,
        questionnaire_id: r.get(0)?,
        district: r.get(1)?,
        site_id: r.get(2)?,
        population: r.get(3)?,
        industry: r.get(4)?,
        sex: r.get(5)?,
        education: r.get(6)?,
        age: r.get(7)?,
        has_literacy: r.get(8)?,
        dimension_literacy: r.get::<_, Option<i64>>(9)?.unwrap_or(0),
        questionnaire_version: r.get(14)?,
        items_correct: r.get::<_, Option<String>>(15)?.unwrap_or_default(),
    })
}

/// What the cells count of one interview: `None` when they do not count it (rejected, no
/// facts, no such interview).
pub(crate) fn counted_interview(
    conn: &Connection,
    id: &str,
) -> Result<Option<Counted>, StorageError> {
    conn.prepare_cached(&format!(
        "SELECT {COUNTED_COLUMNS} FROM interview WHERE id = ?1 AND {COUNTED_CONDITION}"
    ))
    .map_err(db)?
    .query_row([id], counted_from)
    .optional()
    .map_err(db)
}

pub(crate) fn apply_cells(conn: &Connection, changes: &CellChanges) -> Result<(), StorageError> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut progress = conn
        .prepare_cached(
            "INSERT INTO progress_cell (district, site_id, population, day, n)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (district, site_id, population, day) DO UPDATE SET n = n + excluded.n",
        )
        .map_err(db)?;
    for (k, n) in changes.progress() {
        progress
            .execute(params![k.district, k.site_id, k.population, k.day, n])
            .map_err(db)?;
    }
    let mut upsert = conn.prepare_cached(
        "INSERT INTO literacy_cell (questionnaire_id, district, site_id, population, breakdown, key,
             n, successes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (questionnaire_id, district, site_id, population, breakdown, key)
         DO UPDATE SET n = n + excluded.n, successes = successes + excluded.successes",
    ).map_err(db)?;
    for (k, n, successes) in changes.iter() {
        upsert
            .execute(params![
                k.questionnaire_id,
                k.district,
                k.site_id,
                k.population,
                k.breakdown,
                k.key,
                n,
                successes
            ])
            .map_err(db)?;
    }
    // item cells: each changed cell's counts read, added to and written back (the writer holds
    // the database, so nothing changes in between)
    let mut read = conn
        .prepare_cached(
            "SELECT asked, correct FROM item_cell WHERE questionnaire_id = ?1
                 AND questionnaire_version = ?2 AND district = ?3 AND site_id = ?4
                 AND population = ?5",
        )
        .map_err(db)?;
    let mut write = conn
        .prepare_cached(
            "INSERT OR REPLACE INTO item_cell (questionnaire_id, questionnaire_version, district,
                 site_id, population, asked, correct)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(db)?;
    let (mut stored, mut asked, mut correct) = (Vec::new(), Vec::new(), Vec::new());
    for (k, changes) in changes.items() {
        let key = params![
            k.questionnaire_id,
            k.questionnaire_version,
            k.district,
            k.site_id,
            k.population
        ];
        let old: Option<(String, String)> = read
            .query_row(key, |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(db)?;
        asked.clear();
        correct.clear();
        if let Some((a, c)) = old {
            for (text, into) in [(a, &mut asked), (c, &mut correct)] {
                zhisu_server_storage::cells::read_counts(&text, &mut stored);
                into.extend(stored.iter().map(|&n| n as i64));
            }
        }
        zhisu_server_storage::cells::add_counts(&mut asked, &mut correct, changes);
        write
            .execute(params![
                k.questionnaire_id,
                k.questionnaire_version,
                k.district,
                k.site_id,
                k.population,
                zhisu_server_storage::cells::counts_text(asked.iter().copied()),
                zhisu_server_storage::cells::counts_text(correct.iter().copied()),
            ])
            .map_err(db)?;
    }
    Ok(())
}

pub(crate) fn rebuild_cells(conn: &Connection) -> Result<(), StorageError> {
    let mut changes = CellChanges::new();
    {
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {COUNTED_COLUMNS} FROM interview WHERE {COUNTED_CONDITION}"
            ))
            .map_err(db)?;
        let mut rows = stmt.query([]).map_err(db)?;
        while let Some(r) = rows.next().map_err(db)? {
            changes.add(&counted_from(r).map_err(db)?, 1);
        }
    }
    conn.execute_batch(
        "DELETE FROM literacy_cell; DELETE FROM progress_cell; DELETE FROM item_cell;",
    )
    .map_err(db)?;
    apply_cells(conn, &changes)
}
