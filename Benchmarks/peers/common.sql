-- What both DuckDB peers share (Benchmarks/peers/duckdb_run.py runs it before either script):
-- the timestamp macros, the clients and events of the export, and the attachment windows.

SET TimeZone = 'UTC';

-- Microseconds since the epoch (UTC) of a timestamp in any accepted form; forms without an offset
-- are read at +03:00.
CREATE OR REPLACE TEMP MACRO utc_us(ts) AS CASE
    WHEN ts IS NULL OR ts = '' THEN NULL
    WHEN regexp_full_match(ts, '-?[0-9]+') THEN CAST(ts AS BIGINT) * 1000000
    WHEN suffix(ts, 'Z') OR regexp_matches(ts, '[+-][0-9][0-9]:?[0-9][0-9]$')
        THEN epoch_us(CAST(ts AS TIMESTAMPTZ))
    WHEN substr(ts, 3, 1) = '.'
        THEN epoch_us(strptime(ts, '%d.%m.%Y %H:%M:%S')) - 10800000000
    ELSE epoch_us(CAST(ts AS TIMESTAMP)) - 10800000000
END;

-- The Moscow calendar day of an instant.
CREATE OR REPLACE TEMP MACRO moscow_day(us) AS
    DATE '1970-01-01' + CAST(floor((us + 10800000000) / 86400000000) AS INTEGER);

CREATE OR REPLACE TEMP TABLE clients AS
SELECT client_id, coalesce(nullif(partner_id, ''), 'default') AS partner_id,
       CAST(nullif(balance, '') AS DECIMAL(18,6)) AS balance, utc_us(balance_at) AS balance_at_us
FROM read_csv('clients.csv', header = true, auto_detect = false, delim = ',', quote = '"',
              columns = {'client_id': 'VARCHAR', 'name': 'VARCHAR', 'email': 'VARCHAR',
                         'phone': 'VARCHAR', 'partner_id': 'VARCHAR', 'balance': 'VARCHAR',
                         'balance_at': 'VARCHAR'});

CREATE OR REPLACE TEMP TABLE events AS
SELECT client_id, utc_us("timestamp") AS us, "type"
FROM read_csv('events.csv', header = true, auto_detect = false, delim = ',', quote = '"',
              columns = {'client_id': 'VARCHAR', 'timestamp': 'VARCHAR', 'type': 'VARCHAR'});

-- Attachment windows: each `confirmed` to the client's next `removed` (NULL: still attached).
CREATE OR REPLACE TEMP TABLE windows AS
SELECT c.client_id, c.us AS w0,
       (SELECT min(r.us) FROM events r
        WHERE r.client_id = c.client_id AND r."type" = 'removed' AND r.us > c.us) AS w1
FROM events c
WHERE c."type" = 'confirmed';

