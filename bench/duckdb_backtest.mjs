#!/usr/bin/env node
/*
 * duckdb_backtest.mjs - the totals of `hmb backtest` for one plan shaped like
 * plans/liaocheng-2024.json, done in SQL by DuckDB (@duckdb/node-api), as the
 * yardstick of bench/backtest_vs_duckdb.sh.
 *
 * Usage:
 *   node bench/duckdb_backtest.mjs --plan plans/liaocheng-2024.json \
 *     --settlements S.csv [--details D.csv] --people P.csv
 *     [--summary-json F] [--threads N] [--print-sql]
 *
 * The payouts are those of bench/duckdb_liaocheng.mjs (the same SQL, made by
 * bench/duckdb_plan_sql.mjs), restricted to the settlements of the people in
 * --people (hmb backtest skips the rows of anyone not enrolled). Then, all in
 * integers:
 *   - people: the rows of --people (a repeated psn_no is refused);
 *   - premium income: the sum of each person's premium under the plan's
 *     premiums.bands: one band without ages (a flat premium), or bands with
 *     age_min and/or age_max, the first that holds for the age at the plan's
 *     age basis (coverage start, or end with age_basis "coverage_end"):
 *     completed years from brdy (YYYY-MM-DD or YYYYMMDD) as date_age_on()
 *     counts them, below 0 counted as 0, an empty brdy as age 0 (as
 *     src/cli/cmd_backtest.c passes an unknown age to plan_premium()).
 *     premiums.groups is refused (the people file's groups would choose it);
 *   - settlements: the settlements of the enrolled;
 *   - paid: the sum of their payouts; beneficiaries: people whose year's
 *     payout is above 0 (also per responsibility);
 *   - loss ratio in basis points = paid x 10000 / premium, rounded half away
 *     from zero: sign(paid) x ((|paid| x 20000 + premium) div (2 x premium)),
 *     -1 without premium, clamped to int32 (src/domain/backtest.c share_bp);
 *   - eligible: the sum of the settlements' eligible amounts rounded half up
 *     to the fen, as in hmb adjudicate.
 *
 * Prints
 *   people=N settlements=N premium=X.XX paid=Y.YY loss_ratio_bp=K beneficiaries=N
 * and writes with --summary-json every total, amounts in fen as decimal
 * strings: {people, settlements, premium_fen, paid_fen, loss_ratio_bp,
 * beneficiaries, eligible_fen, by_responsibility: {id: {paid_fen,
 * beneficiaries}}}. The time on stderr is the whole run's wall clock.
 */
import { closeSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { PlanSqlError, buildSql, fen, loadPlan, parseBenchArgs, sqlIdent, sqlStr } from './duckdb_plan_sql.mjs';

function die(msg) {
  process.stderr.write(`duckdb_backtest: ${msg}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  return parseBenchArgs(argv, {
    extra: { '--people': 'people' },
    required: ['plan', 'settlements', 'people'],
    usage: 'usage: --plan P --settlements S [--details D] --people P [--summary-json F] [--threads N] [--print-sql]',
    missing: '--plan, --settlements and --people are required',
    die,
  });
}

/* The header of a CSV file: its column names (plain, unquoted). */
function csvHeader(path) {
  const fd = openSync(path, 'r');
  const b = Buffer.alloc(65536);
  const n = readSync(fd, b, 0, b.length, 0);
  closeSync(fd);
  let line = b.subarray(0, n).toString('utf8');
  const nl = line.indexOf('\n');
  if (nl < 0) die(`${path}: no header line`);
  line = line.slice(0, nl).replace(/\r$/, '').replace(/^\uFEFF/, '');
  const cols = line.split(',');
  for (const c of cols) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(c)) die(`${path}: unsupported column name ${JSON.stringify(c)}`);
  return cols;
}

const comment = (k) => k === 'comment' || k.startsWith('x_') || k.endsWith('_comment');

/* "2024-01-01" -> [2024, 1, 1] */
function ymd(text, what) {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(String(text));
  if (!m) die(`plan: bad date ${what} ${JSON.stringify(text)}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/*
 * The SQL expression of a person's premium in fen over a row with a brdy
 * column, and whether it needs brdy at all. Refuses what hmb's
 * plan_premium() would decide from other data (premium groups).
 */
function premiumSql(planPath) {
  const plan = JSON.parse(readFileSync(planPath, 'utf8'));
  const pr = plan.premiums;
  if (!pr || typeof pr !== 'object') die('plan: no premiums');
  for (const k of Object.keys(pr)) {
    if (k === 'groups' && Array.isArray(pr.groups) && pr.groups.length === 0) continue;
    if (k === 'groups') die('plan: premiums.groups is not implemented (a person\'s groups would choose the premium)');
    if (k !== 'age_basis' && k !== 'bands' && !comment(k)) die(`plan: unsupported premiums.${k}`);
  }
  const bands = pr.bands;
  if (!Array.isArray(bands) || bands.length === 0) die('plan: premiums.bands missing or empty');
  const parsed = bands.map((b, i) => {
    for (const k of Object.keys(b)) {
      if (!['amount', 'age_min', 'age_max', 'expected_share'].includes(k) && !comment(k)) die(`plan: unsupported premiums.bands[${i}].${k}`);
    }
    const age = (k) => {
      if (b[k] === undefined) return null;
      if (!Number.isInteger(b[k]) || b[k] < 0 || b[k] > 150) die(`plan: premiums.bands[${i}].${k} must be an integer 0..150`);
      return b[k];
    };
    if (b.amount === undefined) die(`plan: premiums.bands[${i}].amount missing`);
    return { min: age('age_min'), max: age('age_max'), amount: fen(b.amount) };
  });
  const flat = parsed.length === 1 && parsed[0].min === null && parsed[0].max === null;
  if (!flat && parsed.some((b) => b.min === null && b.max === null)) {
    die('plan: premiums.bands must be one flat band or bands with age_min/age_max');
  }
  if (flat) return { expr: `CAST(${parsed[0].amount} AS BIGINT)`, needsBrdy: false };
  const basis = pr.age_basis === undefined ? 'coverage_start' : pr.age_basis;
  if (basis !== 'coverage_start' && basis !== 'coverage_end') die(`plan: bad premiums.age_basis ${JSON.stringify(basis)}`);
  const [oy, om, od] = ymd(plan.coverage && (basis === 'coverage_end' ? plan.coverage.end : plan.coverage.start), basis);
  const whens = parsed.map((b) => {
    const c = [];
    if (b.min !== null) c.push(`age >= ${b.min}`);
    if (b.max !== null) c.push(`age <= ${b.max}`);
    return `WHEN ${c.join(' AND ')} THEN CAST(${b.amount} AS BIGINT)`;
  });
  /* date_age_on(): completed years on the basis day; enroll_age(): at least
   * 0; unknown (empty brdy): 0 */
  const age = `CASE WHEN coalesce(brdy, '') = '' THEN 0 ELSE greatest(0, ${oy} - b_y
      - CASE WHEN ${om} < b_m OR (${om} = b_m AND ${od} < b_d) THEN 1 ELSE 0 END) END`;
  return {
    expr: `CASE ${whens.join(' ')} ELSE NULL END`,
    age,
    needsBrdy: true,
  };
}

function buildBacktestSql(a) {
  const prem = premiumSql(a.plan);
  const cols = csvHeader(a.people);
  if (!cols.includes('psn_no')) die(`${a.people}: no psn_no column`);
  if (prem.needsBrdy && !cols.includes('brdy')) die(`${a.people}: no brdy column (the plan's premium depends on age)`);
  const colSpec = `{${cols.map((c) => `${sqlStr(c)}: 'VARCHAR'`).join(', ')}}`;
  const src = `read_csv(${sqlStr(a.people)}, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', columns = ${colSpec})`;
  let people;
  if (!prem.needsBrdy) {
    people = `CREATE TEMP TABLE people AS
SELECT psn_no, ${prem.expr} AS premium
FROM ${src}`;
  } else {
    /* brdy: YYYY-MM-DD or YYYYMMDD (date_parse()) */
    people = `CREATE TEMP TABLE people AS
SELECT psn_no, ${prem.expr} AS premium
FROM (
  SELECT psn_no, ${prem.age} AS age
  FROM (
    SELECT psn_no, brdy,
      CAST(substr(brdy, 1, 4) AS INTEGER) AS b_y,
      CAST(CASE WHEN length(brdy) = 10 THEN substr(brdy, 6, 2) ELSE substr(brdy, 5, 2) END AS INTEGER) AS b_m,
      CAST(CASE WHEN length(brdy) = 10 THEN substr(brdy, 9, 2) ELSE substr(brdy, 7, 2) END AS INTEGER) AS b_d
    FROM ${src}
  )
)`;
  }
  const plan = loadPlan(a.plan);
  const { stmts, nresp } = buildSql({ settlements: a.settlements, details: a.details, enrolled: 'people' }, plan);
  const ids = plan.resps.map((r) => r.id);
  const pk = [...Array(nresp).keys()];
  const sumPay = pk.map((k) => `p${k}`).join(' + ');
  const sumElig = pk.map((k) => `e${k}`).join(' + ');
  const check = `SELECT count(*) AS n, count(DISTINCT psn_no) AS distinct_n,
  count(*) FILTER (WHERE psn_no IS NULL) AS no_id, count(*) FILTER (WHERE premium IS NULL) AS no_premium
FROM people`;
  const summary = `SELECT *,
  CASE WHEN premium <= 0 THEN -1
       ELSE CAST(greatest(-2147483647, least(2147483647,
              sign(paid) * ((abs(paid) * 20000 + premium) // (2 * premium)))) AS INTEGER) END AS loss_ratio_bp
FROM (SELECT
  (SELECT count(*) FROM people) AS people,
  (SELECT CAST(coalesce(sum(premium), 0) AS HUGEINT) FROM people) AS premium,
  (SELECT count(*) FROM elig) AS settlements,
  (SELECT CAST(coalesce(sum((${sumElig} + 5000) // 10000), 0) AS HUGEINT) FROM elig) AS eligible,
  (SELECT CAST(coalesce(sum(${sumPay}), 0) AS HUGEINT) FROM pay) AS paid,
  (SELECT count(*) FROM (SELECT psn_no FROM pay GROUP BY psn_no HAVING sum(${sumPay}) > 0)) AS beneficiaries,
  ${pk.map((k) => `(SELECT CAST(coalesce(sum(p${k}), 0) AS HUGEINT) FROM pay) AS ${sqlIdent(`paid_${k}`)},
  (SELECT count(*) FROM (SELECT psn_no FROM pay GROUP BY psn_no HAVING sum(p${k}) > 0)) AS ${sqlIdent(`ben_${k}`)}`).join(',\n  ')})`;
  return { stmts: [people, ...stmts], check, summary, ids };
}

/* fen (BigInt or its text) -> "1234.50" */
function yuan(v) {
  const x = BigInt(v);
  const s = x < 0n ? '-' : '';
  const a = x < 0n ? -x : x;
  return `${s}${a / 100n}.${String(a % 100n).padStart(2, '0')}`;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const t0 = process.hrtime.bigint();
  const { stmts, check, summary, ids } = buildBacktestSql(a);
  if (a.printSql) {
    process.stdout.write(stmts.concat([check, summary]).join(';\n\n') + ';\n');
    return;
  }
  const opts = {};
  if (a.threads) opts.threads = a.threads;
  const instance = await DuckDBInstance.create(':memory:', opts);
  const conn = await instance.connect();
  const steps = [];
  for (const [i, sql] of stmts.entries()) {
    const s0 = process.hrtime.bigint();
    await conn.run(sql);
    steps.push(Number(process.hrtime.bigint() - s0) / 1e9);
    if (i === 0) {
      const c = (await conn.runAndReadAll(check)).getRowObjectsJson()[0];
      if (Number(c.no_id)) die(`${a.people}: ${c.no_id} rows without psn_no`);
      if (c.n !== c.distinct_n) die(`${a.people}: repeated psn_no (${c.n} rows, ${c.distinct_n} people)`);
      if (Number(c.no_premium)) die(`${a.people}: ${c.no_premium} people in no premium band`);
    }
  }
  const row = (await conn.runAndReadAll(summary)).getRowObjectsJson()[0];
  const info = (await conn.runAndReadAll("SELECT version() AS v, current_setting('threads') AS t")).getRowObjectsJson()[0];
  conn.disconnectSync();
  const res = {
    people: Number(row.people),
    settlements: Number(row.settlements),
    premium_fen: String(row.premium),
    paid_fen: String(row.paid),
    loss_ratio_bp: Number(row.loss_ratio_bp),
    beneficiaries: Number(row.beneficiaries),
    eligible_fen: String(row.eligible),
    by_responsibility: Object.fromEntries(ids.map((id, k) => [id, {
      paid_fen: String(row[`paid_${k}`]),
      beneficiaries: Number(row[`ben_${k}`]),
    }])),
  };
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (a.summaryJson) writeFileSync(a.summaryJson, JSON.stringify(res) + '\n');
  process.stdout.write(`people=${res.people} settlements=${res.settlements} premium=${yuan(res.premium_fen)} `
    + `paid=${yuan(res.paid_fen)} loss_ratio_bp=${res.loss_ratio_bp} beneficiaries=${res.beneficiaries}\n`);
  process.stderr.write(`duckdb_backtest: DuckDB ${info.v} threads=${info.t} `
    + `steps=${steps.map((x) => x.toFixed(2)).join('+')} s; total ${secs.toFixed(2)} s\n`);
}

main().catch((e) => die(e instanceof PlanSqlError ? e.message : e && e.stack ? e.stack : String(e)));
