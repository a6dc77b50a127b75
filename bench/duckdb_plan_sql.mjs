/*
 * duckdb_plan_sql.mjs - the SQL of a plan shaped like
 * plans/liaocheng-2024.json, shared by bench/duckdb_liaocheng.mjs (the
 * computation of `hmb adjudicate`) and bench/duckdb_backtest.mjs (the
 * totals of `hmb backtest`). See duckdb_liaocheng.mjs for the semantics.
 *
 *   loadPlan(path)      the plan's responsibilities and lists; throws
 *                       PlanSqlError for anything the SQL does not implement
 *   buildSql(a, plan)   { stmts, summary, nresp }: statements creating the
 *                       temp tables setl, lines, elig (e0.. eligible bpfen per
 *                       responsibility, one row per settlement) and pay (p0..
 *                       payout fen, only rows with an eligible amount), the
 *                       COPY of the result rows when a.out is set, and the
 *                       summary query. a.settlements, a.details (optional);
 *                       a.enrolled (optional): the name of a table with a
 *                       psn_no column; elig, pay and the summary then hold
 *                       only the settlements of those people (hmb backtest
 *                       skips the others; a person's payouts depend on their
 *                       own settlements only).
 *
 * Errors the caller should report as plain messages are PlanSqlError.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/*
 * The command line of a DuckDB bench script: "--name value" options (the
 * common ones, plus `extra` mapping names to keys), --print-sql, and
 * --threads checked. die(msg) is called on a bad line and must not return;
 * `usage` is its message for an unknown option, `missing` for a missing
 * one of `required`.
 */
export function parseBenchArgs(argv, { extra = {}, required, usage, missing, die }) {
  const a = { threads: null, printSql: false };
  const names = {
    '--plan': 'plan', '--settlements': 'settlements', '--details': 'details',
    '--summary-json': 'summaryJson', '--threads': 'threads', ...extra,
  };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--print-sql') { a.printSql = true; continue; }
    const k = names[argv[i]];
    if (!k || i + 1 >= argv.length) die(usage);
    a[k] = argv[++i];
  }
  if (required.some((k) => !a[k])) die(missing);
  if (a.threads !== null && !/^[1-9][0-9]{0,3}$/.test(a.threads)) die('--threads wants a positive integer');
  return a;
}

export class PlanSqlError extends Error {}

function die(msg) {
  throw new PlanSqlError(msg);
}

/* Decimal yuan with at most two decimals -> BigInt fen. */
export function fen(text) {
  const m = /^([0-9]+)(?:\.([0-9]{1,2}))?$/.exec(String(text));
  if (!m) die(`bad amount ${JSON.stringify(text)}`);
  return BigInt(m[1]) * 100n + BigInt((m[2] || '').padEnd(2, '0'));
}

/* "80%" -> 8000n basis points. */
export function ratioBp(text) {
  const m = /^([0-9]+)(?:\.([0-9]{1,2}))?%$/.exec(String(text));
  if (!m) die(`bad ratio ${JSON.stringify(text)}`);
  return BigInt(m[1]) * 100n + BigInt((m[2] || '').padEnd(2, '0'));
}

export const sqlStr = (s) => `'${String(s).replaceAll("'", "''")}'`;
export const sqlIdent = (s) => `"${String(s).replaceAll('"', '""')}"`;

export function loadList(path) {
  const prefixes = [];
  const exact = [];
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const code = raw.split('#')[0].split('\t')[0].trim();
    if (!code) continue;
    if (code.endsWith('*')) prefixes.push(code.slice(0, -1));
    else exact.push(code);
  }
  return { prefixes, exact };
}

/* Settlement parts by component: index into [ful, ovl, pre, ins]. */
const COMPONENTS = {
  fulamt_ownpay_amt: ['ful'],
  overlmt_selfpay: ['ovl'],
  preselfpay_amt: ['pre'],
  inscp_selfpay: ['ins'],
  psn_part_amt: ['ful', 'ovl', 'pre', 'ins'],
};

export function loadPlan(path) {
  const plan = JSON.parse(readFileSync(path, 'utf8'));
  const base = dirname(resolve(path));
  const listNames = Object.keys(plan.lists || {});
  const lists = listNames.map((n) => loadList(join(base, plan.lists[n].file)));
  const bit = Object.fromEntries(listNames.map((n, i) => [n, 1 << i]));
  const allowed = new Set(['id', 'name', 'note', 'when', 'sources', 'deductible', 'ratio', 'cap']);
  const resps = plan.responsibilities.map((r) => {
    for (const k of Object.keys(r)) if (!allowed.has(k)) die(`responsibility ${r.id}: unsupported key ${k}`);
    const when = r.when || {};
    for (const k of Object.keys(when)) if (k !== 'med_type') die(`responsibility ${r.id}: unsupported when.${k}`);
    const sources = [];
    for (const s of r.sources) {
      const parts = COMPONENTS[s.component];
      if (!parts) die(`responsibility ${r.id}: unsupported component ${s.component}`);
      let mode = null;
      let mask = 0;
      if (s.lines) {
        const keys = Object.keys(s.lines);
        if (keys.length !== 1 || (keys[0] !== 'in' && keys[0] !== 'except')) die(`responsibility ${r.id}: unsupported lines filter`);
        mode = keys[0];
        for (const n of s.lines[mode]) {
          if (!(n in bit)) die(`responsibility ${r.id}: unknown list ${n}`);
          mask |= bit[n];
        }
      }
      for (const p of parts) sources.push({ part: p, mode, mask });
    }
    return {
      id: r.id,
      medTypes: when.med_type ? when.med_type.map((m) => Number.parseInt(m, 10)) : null,
      sources,
      ded: fen(r.deductible) * 10000n,
      ratio: ratioBp(r.ratio),
      cap: r.cap !== undefined ? fen(r.cap) : null,
    };
  });
  return { listNames, lists, resps };
}

const MONEY_COLS = [
  'medfee_sumamt', 'fulamt_ownpay_amt', 'overlmt_selfpay', 'preselfpay_amt', 'inscp_scp_amt',
  'act_pay_dedc', 'hifp_pay', 'hifmi_pay', 'hifob_pay', 'maf_pay', 'fund_pay_sumamt',
  'psn_part_amt', 'acct_pay', 'psn_cash_pay',
];
const DETAIL_MONEY = ['det_item_fee_sumamt', 'fulamt_ownpay_amt', 'overlmt_amt', 'preselfpay_amt', 'inscp_scp_amt'];

/* DECIMAL(15,2) (amounts up to 10^13 yuan, beyond hmb's limit of 10^12)
 * times DECIMAL(3,0) 100 is DECIMAL(18,2), still 64-bit: exact fen. */
export const toFen = (c) => `CAST(${sqlIdent(c)} * CAST(100 AS DECIMAL(3,0)) AS BIGINT)`;
/* fen (>= 0) -> DECIMAL(20,2) text "1234.50" */
export const money = (e, w = 18) => `(CAST(${e} AS DECIMAL(${w},0)) * CAST(0.01 AS DECIMAL(2,2)))`;

export function buildSql(a, plan) {
  const { lists, resps } = plan;
  const stmts = [];
  const setlColumns = {
    setl_id: 'VARCHAR', mdtrt_id: 'VARCHAR', psn_no: 'VARCHAR', insutype: 'INTEGER',
    psn_type: 'INTEGER', med_type: 'INTEGER', setl_time: 'TIMESTAMP',
  };
  for (const c of MONEY_COLS) setlColumns[c] = 'DECIMAL(15,2)';
  const colSpec = (o) => `{${Object.entries(o).map(([k, v]) => `${sqlStr(k)}: ${sqlStr(v)}`).join(', ')}}`;
  const csvOpts = "header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"'";

  /* 1. settlements with their parts; rowid keeps the order of the file
   * (insertion order is preserved, the default). */
  stmts.push(`CREATE TEMP TABLE setl AS
SELECT setl_id, psn_no, med_type, setl_time, ins_scp,
  ful - least(ful, exc3) AS ful, ovl - least(ovl, exc2) AS ovl, pre - least(pre, exc1) AS pre, ins
FROM (
  SELECT *, exc2 - least(ovl, exc2) AS exc3
  FROM (
    SELECT *, exc1 - least(pre, exc1) AS exc2
    FROM (
      SELECT setl_id, psn_no, med_type, setl_time,
        ${toFen('fulamt_ownpay_amt')} AS ful, ${toFen('overlmt_selfpay')} AS ovl,
        ${toFen('preselfpay_amt')} AS pre, ${toFen('inscp_scp_amt')} AS ins_scp,
        greatest(${toFen('fund_pay_sumamt')} - ${toFen('inscp_scp_amt')}, 0) AS exc1,
        greatest(${toFen('inscp_scp_amt')} - ${toFen('fund_pay_sumamt')}, 0) AS ins
      FROM read_csv(${sqlStr(a.settlements)}, ${csvOpts}, columns = ${colSpec(setlColumns)})
    )
  )
)`);

  /* 2. detail lines in at least one list, with their list mask; the lines of
   * no list count in no filter. */
  const masks = [...new Set(resps.flatMap((r) => r.sources.filter((s) => s.mode).map((s) => `${s.part}_${s.mask}`)))];
  const haveLines = a.details && masks.length > 0;
  if (haveLines) {
    const maskExpr = lists.map((l, i) => {
      const conds = [
        ...l.prefixes.map((p) => `starts_with(med_list_codg, ${sqlStr(p)})`),
        ...l.exact.map((e) => `med_list_codg = ${sqlStr(e)}`),
      ];
      return conds.length ? `(CASE WHEN ${conds.join(' OR ')} THEN ${1 << i} ELSE 0 END)` : '0';
    }).join(' + ') || '0';
    const detColumns = { setl_id: 'VARCHAR', med_list_codg: 'VARCHAR', chrgitm_lv: 'VARCHAR' };
    for (const c of DETAIL_MONEY) detColumns[c] = 'DECIMAL(15,2)';
    detColumns.cnt = 'VARCHAR';
    /* per settlement and (part, mask): the sum over its lines in any list of
     * the mask, in bpfen; the inscp_selfpay share floors per line. */
    const partExpr = {
      ful: 'd.ful * 10000', ovl: 'd.ovl * 10000', pre: 'd.pre * 10000',
      ins: 'CASE WHEN s.ins_scp > 0 THEN (CAST(d.ins AS HUGEINT) * 10000 * s.ins) // s.ins_scp ELSE 0 END',
    };
    const aggs = masks.map((k) => {
      const [part, mask] = k.split('_');
      return `sum(CASE WHEN (d.mask & ${mask}) <> 0 THEN ${partExpr[part]} ELSE 0 END) AS l_${k}`;
    });
    stmts.push(`CREATE TEMP TABLE lines AS
SELECT d.setl_id, ${aggs.join(',\n  ')}
FROM (
  SELECT setl_id, mask, ${toFen('fulamt_ownpay_amt')} AS ful, ${toFen('overlmt_amt')} AS ovl,
    ${toFen('preselfpay_amt')} AS pre, ${toFen('inscp_scp_amt')} AS ins
  FROM (SELECT *, ${maskExpr} AS mask
        FROM read_csv(${sqlStr(a.details)}, ${csvOpts}, columns = ${colSpec(detColumns)}))
  WHERE mask <> 0
) d JOIN setl s ON s.setl_id = d.setl_id
GROUP BY d.setl_id`);
  }

  /* 3. eligible amounts per settlement and responsibility (bpfen). BIGINT is
   * enough: every part of a settlement is at most its psn_part_amt, at most
   * hmb's limit of 10^14 fen, and so at most 10^18 bpfen; the cumulative
   * sums below are HUGEINT (DuckDB's sum of BIGINT). */
  const eExprs = resps.map((r, k) => {
    const terms = r.sources.map((s) => {
      const whole = `(s.${s.part} * 10000)`;
      if (!s.mode) return whole;
      const l = haveLines ? `coalesce(l.l_${s.part}_${s.mask}, 0)` : '0';
      return s.mode === 'in' ? `least(${l}, ${whole})` : `greatest(${whole} - ${l}, 0)`;
    });
    const sum = terms.join(' + ');
    const cond = r.medTypes ? `CASE WHEN s.med_type IN (${r.medTypes.join(', ')}) THEN ${sum} ELSE 0 END` : sum;
    return `CAST(${cond} AS BIGINT) AS e${k}`;
  });
  /* only the enrolled (a.enrolled): filtering here rather than while reading
   * the settlements was faster in DuckDB 1.5.6 (1M rows: 0.65 s against
   * 0.74 s for the two steps) */
  const enrolled = a.enrolled ? `\nWHERE s.psn_no IN (SELECT psn_no FROM ${sqlIdent(a.enrolled)})` : '';
  stmts.push(`CREATE TEMP TABLE elig AS
SELECT s.rowid AS rn, s.setl_id, s.psn_no, s.setl_time,
  ${eExprs.join(',\n  ')}
FROM setl s${haveLines ? ' LEFT JOIN lines l ON l.setl_id = s.setl_id' : ''}${enrolled}`);

  /* 4. cumulative amounts per person in the year's order, payouts */
  const P = (r, x) => {
    const raw = `((greatest(${x} - ${r.ded}, 0) * ${r.ratio} + 50000000) // 100000000)`;
    return r.cap !== null ? `least(${raw}, ${r.cap})` : raw;
  };
  const anyPos = resps.map((_, k) => `e${k} <> 0`).join(' OR ');
  stmts.push(`CREATE TEMP TABLE pay AS
SELECT rn, psn_no, ${resps.map((r, k) => `CAST(${P(r, `a${k}`)} - ${P(r, `a${k} - e${k}`)} AS BIGINT) AS p${k}`).join(',\n  ')}
FROM (
  SELECT rn, psn_no, ${resps.map((_, k) => `e${k}, sum(e${k}) OVER w AS a${k}`).join(', ')}
  FROM elig
  WHERE ${anyPos}
  WINDOW w AS (PARTITION BY psn_no ORDER BY setl_time, rn ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)`);

  /* 5. one row per settlement, straight from the join to the file */
  const eligSum = resps.map((_, k) => `e.e${k}`).join(' + ');
  const paySum = resps.map((_, k) => `coalesce(p.p${k}, 0)`).join(' + ');
  if (a.out) {
    stmts.push(`COPY (
SELECT e.setl_id, e.psn_no, ${money(`(${eligSum} + 5000) // 10000`)} AS eligible,
  ${money(paySum)} AS payout,
  ${resps.map((r, k) => `${money(`coalesce(p.p${k}, 0)`)} AS ${sqlIdent(r.id)}`).join(', ')}
FROM elig e LEFT JOIN pay p ON p.rn = e.rn
) TO ${sqlStr(a.out)} (FORMAT csv, HEADER true, DELIMITER ',')`);
  }
  /* the summary: eligible is the sum of the rounded per-settlement amounts;
   * rows outside pay paid nothing */
  const sumPay = resps.map((_, k) => `p${k}`).join(' + ');
  const sumElig = resps.map((_, k) => `e${k}`).join(' + ');
  const summary = `SELECT
  (SELECT count(*) FROM elig) AS settlements,
  (SELECT CAST(${money(`coalesce(sum((${sumElig} + 5000) // 10000), 0)`, 36)} AS VARCHAR) FROM elig) AS eligible,
  (SELECT CAST(${money(`coalesce(sum(${sumPay}), 0)`, 36)} AS VARCHAR) FROM pay) AS paid,
  (SELECT count(*) FROM (SELECT psn_no FROM pay GROUP BY psn_no HAVING sum(${sumPay}) > 0)) AS people_paid`;
  return { stmts, summary, nresp: resps.length };
}
