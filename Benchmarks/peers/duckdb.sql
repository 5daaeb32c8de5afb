-- The aggregates of `balance-report render --period 2024` computed by DuckDB, a peer to time the
-- product against (Benchmarks/peers.sh runs it; see docs/performance.md).
--
-- Run in a folder holding the generated export (clients.csv, events.csv, transactions.csv, as
-- written by Benchmarks/generate.py) and an empty out/ folder:
--
--     python3 Benchmarks/peers/duckdb_run.py DATA_DIR OUT_DIR       (what peers.sh times)
--
-- It writes three CSV files, one row per client (and partner_id as a column instead of a folder
-- per partner):
--   out/services.csv   partner_id,client_id,service,charged,refunded,net      (as P/services.csv)
--   out/daily.csv      partner_id,client_id,date,service,net                  (as P/daily.csv)
--   out/balances.csv   partner_id,client_id,opening_balance,topups,charges,refunds,closing_balance
--                      (the money columns of P/snapshot.csv)
-- with the product's rules for what a partner sees: the period [2024-01-01, 2025-01-01) Moscow
-- time, intersected with the attachment windows (a `confirmed` event, inclusive, to the client's
-- next `removed`, exclusive); balances as B + net(before T) - net(before Tb) with the client's
-- checkpoint, at the start of the first and the end of the last visible interval. Timestamps in
-- every form the generator writes; amounts as exact decimals.
--
-- What it does NOT do, and the product does: validation and rejection of bad records with their
-- line, duplicate ids, the client state machine (it trusts the generated events to be legal),
-- clients listed without visible money, per-transaction detail with running balances, the run
-- summary and its reconciliation, and every HTML page. So it is a lower bound for the same sums,
-- not the same work.

-- Macros, clients, events and the attachment windows: common.sql (run first).

CREATE OR REPLACE TEMP TABLE period AS
SELECT epoch_us(TIMESTAMPTZ '2024-01-01 00:00:00+03:00') AS p0,
       epoch_us(TIMESTAMPTZ '2025-01-01 00:00:00+03:00') AS p1;

CREATE OR REPLACE TEMP TABLE tx AS
SELECT id, utc_us("timestamp") AS us, client_id, "type", service, amount,
       CASE "type" WHEN 'charge' THEN -amount ELSE amount END AS signed
FROM read_csv('transactions.csv', header = true, auto_detect = false, delim = ',', quote = '"',
              columns = {'id': 'VARCHAR', 'timestamp': 'VARCHAR', 'client_id': 'VARCHAR',
                         'type': 'VARCHAR', 'service': 'VARCHAR', 'amount': 'DECIMAL(18,6)',
                         'currency': 'VARCHAR', 'description': 'VARCHAR'});

-- Visible intervals: the windows cut to the period.
CREATE OR REPLACE TEMP TABLE visible AS
SELECT w.client_id, greatest(w.w0, p.p0) AS v0, least(coalesce(w.w1, p.p1), p.p1) AS v1
FROM windows w, period p
WHERE w.client_id IN (SELECT client_id FROM clients)
  AND w.w0 < p.p1 AND (w.w1 IS NULL OR w.w1 > p.p0);

-- The transactions a partner sees.
CREATE OR REPLACE TEMP TABLE seen AS
SELECT t.* FROM tx t JOIN visible v ON t.client_id = v.client_id AND t.us >= v.v0 AND t.us < v.v1;

COPY (
    SELECT c.partner_id, s.client_id, s.service,
           coalesce(sum(s.amount) FILTER (WHERE s."type" = 'charge'), 0) AS charged,
           coalesce(sum(s.amount) FILTER (WHERE s."type" = 'refund'), 0) AS refunded,
           sum(-s.signed) AS net
    FROM seen s JOIN clients c USING (client_id)
    WHERE s."type" IN ('charge', 'refund')
    GROUP BY ALL
    ORDER BY c.partner_id, s.client_id, s.service
) TO 'out/services.csv' (HEADER);

COPY (
    SELECT c.partner_id, s.client_id, moscow_day(s.us) AS date, s.service,
           sum(-s.signed) AS net
    FROM seen s JOIN clients c USING (client_id)
    WHERE s."type" IN ('charge', 'refund')
    GROUP BY ALL
    ORDER BY c.partner_id, s.client_id, date, s.service
) TO 'out/daily.csv' (HEADER);

COPY (
    WITH bounds AS (
        SELECT client_id, min(v0) AS t_open, max(v1) AS t_close FROM visible GROUP BY client_id
    ), movement AS (
        SELECT client_id,
               coalesce(sum(amount) FILTER (WHERE "type" = 'topup'), 0) AS topups,
               coalesce(sum(amount) FILTER (WHERE "type" = 'charge'), 0) AS charges,
               coalesce(sum(amount) FILTER (WHERE "type" = 'refund'), 0) AS refunds
        FROM seen GROUP BY client_id
    ), balances AS (
        SELECT b.client_id,
               coalesce(sum(t.signed) FILTER (WHERE t.us < b.t_open), 0) AS net_before_open,
               coalesce(sum(t.signed) FILTER (WHERE t.us < b.t_close), 0) AS net_before_close,
               coalesce(sum(t.signed) FILTER (WHERE t.us < c.balance_at_us), 0) AS net_before_checkpoint
        FROM bounds b JOIN clients c USING (client_id) LEFT JOIN tx t USING (client_id)
        GROUP BY b.client_id
    )
    SELECT c.partner_id, c.client_id,
           coalesce(c.balance, 0) + n.net_before_open - n.net_before_checkpoint AS opening_balance,
           coalesce(m.topups, 0) AS topups, coalesce(m.charges, 0) AS charges,
           coalesce(m.refunds, 0) AS refunds,
           coalesce(c.balance, 0) + n.net_before_close - n.net_before_checkpoint AS closing_balance
    FROM balances n JOIN clients c USING (client_id) LEFT JOIN movement m USING (client_id)
    ORDER BY c.partner_id, c.client_id
) TO 'out/balances.csv' (HEADER);
