#!/usr/bin/env node
/*
 * duckdb_liaocheng.mjs - the computation of `hmb adjudicate` for a plan shaped
 * like plans/liaocheng-2024.json, done in SQL by DuckDB (@duckdb/node-api),
 * as the yardstick of the end-to-end benchmark (bench/cli_vs_duckdb.sh).
 *
 * Usage:
 *   node bench/duckdb_liaocheng.mjs --plan plans/liaocheng-2024.json \
 *     --settlements S.csv [--details D.csv] [--out R.csv] [--summary-json F]
 *     [--threads N] [--print-sql]
 *
 * The SQL is generated from the plan: each responsibility's `when.med_type`,
 * `sources` (component, lines in/except lists), deductible, ratio and cap;
 * the lists are read from the files the plan names ('*' = prefix). Anything
 * else in a responsibility is refused. Semantics, all in integers (fen, and
 * bpfen = 1/10000 fen; HUGEINT where a product can leave BIGINT):
 *   - parts of what the person bore: excess = max(0, fund - inscp),
 *     inscp_selfpay = max(0, inscp - fund); the excess is taken from
 *     preselfpay_amt, then overlmt_selfpay, then fulamt_ownpay_amt;
 *   - a detail line's parts: fulamt_ownpay_amt, overlmt_amt, preselfpay_amt
 *     (x 10000) and floor(line.inscp x 10000 x inscp_selfpay / setl.inscp);
 *   - "in [L]" = min(lines in L, setl part); "except [L]" = max(0, setl part
 *     - lines in L); psn_part_amt = the four parts, each filtered;
 *   - per person and responsibility the cumulative eligible E in order of
 *     (setl_time, row in the file); P(E) = min(cap, (max(0, E - D) x ratio_bp
 *     + 5 x 10^7) div 10^8); payout = P(after) - P(before).
 * Rows whose eligible amounts are all zero neither change a cumulative nor
 * pay, so only the others go through the window (an exact shortcut).
 *
 * Writes one row per settlement (setl_id,psn_no,eligible,payout,<one column
 * per responsibility>) and prints
 *   settlements=N eligible=X.XX paid=Y.YY people_paid=K
 * then the wall-clock time of the whole run (read, compute, write).
 *
 * The plan's SQL is made by bench/duckdb_plan_sql.mjs (shared with
 * bench/duckdb_backtest.mjs).
 */
import { writeFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { PlanSqlError, buildSql, loadPlan, parseBenchArgs } from './duckdb_plan_sql.mjs';

function die(msg) {
  process.stderr.write(`duckdb_liaocheng: ${msg}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  return parseBenchArgs(argv, {
    extra: { '--out': 'out' },
    required: ['plan', 'settlements'],
    usage: 'usage: --plan P --settlements S [--details D] [--out R] [--summary-json F] [--threads N] [--print-sql]',
    missing: '--plan and --settlements are required',
    die,
  });
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const t0 = process.hrtime.bigint();
  const plan = loadPlan(a.plan);
  const { stmts, summary } = buildSql(a, plan);
  if (a.printSql) {
    process.stdout.write(stmts.concat([summary]).join(';\n\n') + ';\n');
    return;
  }
  const opts = {};
  if (a.threads) opts.threads = a.threads;
  const instance = await DuckDBInstance.create(':memory:', opts);
  const conn = await instance.connect();
  const steps = [];
  for (const sql of stmts) {
    const s0 = process.hrtime.bigint();
    await conn.run(sql);
    steps.push(Number(process.hrtime.bigint() - s0) / 1e9);
  }
  const reader = await conn.runAndReadAll(summary);
  const row = reader.getRowObjectsJson()[0];
  const res = {
    settlements: Number(row.settlements),
    eligible: String(row.eligible),
    paid: String(row.paid),
    people_paid: Number(row.people_paid),
  };
  const info = (await conn.runAndReadAll("SELECT version() AS v, current_setting('threads') AS t")).getRowObjectsJson()[0];
  conn.disconnectSync();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (a.summaryJson) writeFileSync(a.summaryJson, JSON.stringify(res) + '\n');
  process.stdout.write(`settlements=${res.settlements} eligible=${res.eligible} paid=${res.paid} people_paid=${res.people_paid}\n`);
  process.stderr.write(`duckdb_liaocheng: DuckDB ${info.v} threads=${info.t} `
    + `steps=${steps.map((x) => x.toFixed(2)).join('+')} s; total ${secs.toFixed(2)} s\n`);
}

main().catch((e) => die(e instanceof PlanSqlError ? e.message : e && e.stack ? e.stack : String(e)));
