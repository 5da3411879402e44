//! The literacy, progress and item cells, changed in the transaction of every write they count.

use super::*;

/// The columns of an interview the cells count (`zhisu_server_storage::cells::Counted`), in that order, and
/// which interviews they count: those not rejected (the literacy cells only those among them
/// with their facts, as `visit_facts`).
pub(crate) const COUNTED_COLUMNS: &str =
    "questionnaire_id, district, site_id, population, industry, sex,
    education, age, has_literacy, dimension_literacy, completed_at, utc_offset_minutes,
    items_correct IS NOT NULL, received_at, questionnaire_version, items_correct";

pub(crate) const COUNTED_CONDITION: &str = "qc_status <> 'rejected'";

pub(crate) fn counted_from(r: &postgres::Row) -> Counted {
    Counted {
        day: zhisu_server_storage::cells::local_day(r.get(10), r.get(11), r.get(13)),
        has_facts: r.get(12),
        questionnaire_id: r.get(0),
        district: r.get(1),
        site_id: r.get(2),
        population: r.get(3),
        industry: r.get(4),
        sex: r.get(5),
        education: r.get(6),
        age: r.get::<_, Option<i32>>(7).map(i64::from),
        has_literacy: r.get(8),
        dimension_literacy: r.get::<_, Option<i32>>(9).map_or(0, i64::from),
        questionnaire_version: r.get(14),
        items_correct: r.get::<_, Option<String>>(15).unwrap_or_default(),
    }
}

/// What the cells count of one interview: `None` when they do not count it. The row is locked
/// until the transaction ends whether or not it is counted (a rejected one too), so two
/// decisions on one interview are read and applied one after the other, never both from the
/// same "before".
pub(crate) fn counted_interview(
    tx: &mut postgres::Transaction<'_>,
    id: Uuid,
) -> Result<Option<Counted>, StorageError> {
    let row = tx
        .query_opt(
            &format!(
                "SELECT {COUNTED_COLUMNS}, {COUNTED_CONDITION} FROM interview WHERE id = $1
             FOR UPDATE"
            ),
            &[&id],
        )
        .map_err(db)?;
    Ok(row
        .filter(|r| r.get::<_, bool>(r.len() - 1)) // the condition, after the counted columns
        .as_ref()
        .map(counted_from))
}

/// Applies the changes with one multi-row upsert, in key order (concurrent batches lock the
/// cells in the same order, so they wait for each other but cannot deadlock).
pub(crate) fn apply_cells(
    tx: &mut postgres::Transaction<'_>,
    changes: &CellChanges,
) -> Result<(), StorageError> {
    let mut columns: [Vec<&str>; 6] = Default::default();
    let (mut n, mut successes) = (Vec::new(), Vec::new());
    for (k, dn, ds) in changes.iter() {
        for (column, value) in columns.iter_mut().zip([
            k.questionnaire_id,
            k.district,
            k.site_id,
            k.population,
            k.breakdown,
            k.key,
        ]) {
            column.push(value);
        }
        n.push(dn);
        successes.push(ds);
    }
    let mut progress: [Vec<&str>; 4] = Default::default();
    let mut progress_n = Vec::new();
    for (k, dn) in changes.progress() {
        for (column, value) in progress
            .iter_mut()
            .zip([k.district, k.site_id, k.population, k.day])
        {
            column.push(value);
        }
        progress_n.push(dn);
    }
    let mut items: [Vec<&str>; 5] = Default::default();
    let (mut asked, mut correct) = (Vec::new(), Vec::new());
    for (k, counts) in changes.items() {
        for (column, value) in items.iter_mut().zip([
            k.questionnaire_id,
            k.questionnaire_version,
            k.district,
            k.site_id,
            k.population,
        ]) {
            column.push(value);
        }
        asked.push(zhisu_server_storage::cells::counts_text(
            counts.iter().map(|c| c.0),
        ));
        correct.push(zhisu_server_storage::cells::counts_text(
            counts.iter().map(|c| c.1),
        ));
    }
    if progress_n.is_empty() && n.is_empty() && asked.is_empty() {
        return Ok(());
    }
    // one statement, one round trip: progress cells, item cells, then literacy cells, each in
    // key order (every writer takes them in this order)
    let [pd, psite, pp, pday] = &progress;
    let [q, d, site, p, b, key] = &columns;
    let [iq, iv, id, isite, ip] = &items;
    tx.execute(
        "WITH progress AS (
             INSERT INTO progress_cell (district, site_id, population, day, n)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[])
             ON CONFLICT (district, site_id, population, day)
             DO UPDATE SET n = progress_cell.n + excluded.n
         ), items AS (
             -- a count per scored item: the changes (as text, '3,0,12') added item by item
             INSERT INTO item_cell (questionnaire_id, questionnaire_version, district, site_id,
                 population, asked, correct)
             SELECT q, v, d, s, p, string_to_array(a, ',')::int8[], string_to_array(c, ',')::int8[]
             FROM unnest($14::text[], $15::text[], $16::text[], $17::text[], $18::text[],
                 $19::text[], $20::text[]) AS t(q, v, d, s, p, a, c)
             ON CONFLICT (questionnaire_id, questionnaire_version, district, site_id, population)
             DO UPDATE SET
                 asked = (SELECT array_agg(coalesce(x, 0) + coalesce(y, 0) ORDER BY n)
                     FROM unnest(item_cell.asked, excluded.asked) WITH ORDINALITY AS u(x, y, n)),
                 correct = (SELECT array_agg(coalesce(x, 0) + coalesce(y, 0) ORDER BY n)
                     FROM unnest(item_cell.correct, excluded.correct) WITH ORDINALITY AS u(x, y, n))
         )
         INSERT INTO literacy_cell (questionnaire_id, district, site_id, population, breakdown, key,
             n, successes)
         SELECT * FROM unnest($6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
             $11::text[], $12::int8[], $13::int8[])
         ON CONFLICT (questionnaire_id, district, site_id, population, breakdown, key)
         DO UPDATE SET n = literacy_cell.n + excluded.n,
             successes = literacy_cell.successes + excluded.successes",
        &[
            pd,
            psite,
            pp,
            pday,
            &progress_n,
            q,
            d,
            site,
            p,
            b,
            key,
            &n,
            &successes,
            iq,
            iv,
            id,
            isite,
            ip,
            &asked,
            &correct,
        ],
    )
    .map_err(db)?;
    Ok(())
}

pub(crate) fn rebuild_cells(tx: &mut postgres::Transaction<'_>) -> Result<(), StorageError> {
    // in the order every writer takes them (`apply_cells`: progress, items, then literacy)
    tx.batch_execute("LOCK TABLE progress_cell, item_cell, literacy_cell IN EXCLUSIVE MODE")
        .map_err(db)?;
    let mut changes = CellChanges::new();
    {
        let mut rows = tx
            .query_raw(
                &format!("SELECT {COUNTED_COLUMNS} FROM interview WHERE {COUNTED_CONDITION}"),
                std::iter::empty::<&str>(),
            )
            .map_err(db)?;
        use postgres::fallible_iterator::FallibleIterator;
        while let Some(r) = rows.next().map_err(db)? {
            changes.add(&counted_from(&r), 1);
        }
    }
    tx.batch_execute(
        "DELETE FROM literacy_cell; DELETE FROM progress_cell; DELETE FROM item_cell;",
    )
    .map_err(db)?;
    apply_cells(tx, &changes)
}
